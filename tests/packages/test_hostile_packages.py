"""Hostile package structure is refused at once, with a clear message and little memory: YAML
aliases beyond a few ("billion laughs"), nesting beyond a depth, a file beyond the size limit;
the same for JSON. ``pejling load --dry-run`` says so and writes nothing, in a process of its own
whose peak memory stays within a tight bound above the same command's on a one-line file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pejling.packages import formats
from pejling.packages.formats import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_PACKAGE_BYTES,
    PackageError,
    parse,
)

BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{chr(ord('a') + level)}: &{chr(ord('a') + level)} [{', '.join([f'*{chr(ord("a") + level - 1)}'] * 9)}]"
            for level in range(1, 10)
        ),
        "format: *j",
    ]
)


def problems(text: str, fmt: str = "yaml") -> list[str]:
    with pytest.raises(PackageError) as caught:
        parse(text, fmt=fmt)
    return [str(p) for p in caught.value.problems]


def test_the_billion_laughs_are_refused_naming_the_alias_limit() -> None:
    started = time.perf_counter()
    found = problems(BILLION_LAUGHS)
    assert time.perf_counter() - started < 1
    assert found == [
        f"line 4: refused YAML: more than {MAX_ALIASES} aliases (*name); write the repeated parts out"
    ]


def test_a_few_aliases_are_still_read() -> None:
    assert parse("a: &x [1, 2]\nb: *x\nc: *x\n") == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_yaml_is_refused_without_a_recursion_error(depth: int) -> None:
    found = problems("a: " + "[" * depth + "]" * depth)
    assert found == [f"line 1: refused YAML: nested more than {MAX_DEPTH} levels deep"]
    block = "".join(
        f"{'  ' * level}k{level}:\n" for level in range(depth if depth < 1000 else 1000)
    )
    assert "nested more than" in problems(block + "  " * 1000 + "x: 1\n")[0]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_json_is_refused_without_a_recursion_error(depth: int) -> None:
    found = problems('{"a": ' + "[" * depth + "]" * depth + "}", "json")
    assert found == [f"line 1: refused JSON: nested more than {MAX_DEPTH} levels deep"]


def test_brackets_inside_json_strings_do_not_count_as_depth() -> None:
    text = '{"a": "' + "[" * 1000 + '\\"{", "b": [[1]]}'
    assert parse(text, fmt="json") == {"a": "[" * 1000 + '"{', "b": [[1]]}


def test_a_package_beyond_the_size_limit_is_refused_before_parsing(monkeypatch) -> None:
    monkeypatch.setattr(formats, "MAX_PACKAGE_BYTES", 1000)
    assert problems("a: " + "x" * 1000) == ["the file is larger than 1000 bytes, the limit"]


def test_load_dry_run_refuses_the_billion_laughs_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    err = StringIO()
    with pytest.raises(CommandError, match="1 problem; nothing was written"):
        call_command("load", str(path), "--dry-run", stdout=StringIO(), stderr=err)
    assert "aliases" in err.getvalue()


def test_load_refuses_a_file_over_the_limit_without_reading_it_whole(
    tmp_path: Path, monkeypatch
) -> None:
    from pejling.packages.management.commands import load

    monkeypatch.setattr(load, "MAX_PACKAGE_BYTES", 100)
    monkeypatch.setattr(formats, "MAX_PACKAGE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 10_000)
    with pytest.raises(CommandError, match="larger than"):
        call_command("load", str(path), "--dry-run", stdout=StringIO(), stderr=StringIO())


# ``pejling load --dry-run PATH`` in a process of its own for each file, forked from one that
# has already started Pejling (Django set up, the command and the modules its system checks
# read imported): each case pays for its own command, not for starting Python and Django again (seconds a process on a busy machine).
# A forked child starts with its parent's resident memory, so every case, the baseline among
# them, is measured from the same start. Commands come on stdin as JSON lines, one answer
# (exit code, peak resident KB from ``wait4``: that child's alone) per line on stdout.
FORK_SERVER = """
import json, os, sys, time, traceback
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pejling.config.settings")
import django
django.setup()
from django.core import checks
from django.core.management import load_command_class
from pejling.__main__ import main
load_command_class("pejling.packages", "load")
checks.run_checks()  # imports what the command's own checks will read (URLs, views)
answers = sys.stdout
for line in sys.stdin:
    path, err_path = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        code = 0
        try:
            main(["pejling", "load", "--dry-run", path])
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _pid, status, usage = os.wait4(pid, 0)
    answers.write(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_maxrss]) + "\\n")
    answers.flush()
"""


class LoadDryRun:
    """``pejling load --dry-run path`` in a process of its own (this checkout's code, this
    test's database settings), forked from ``FORK_SERVER``. Killed after five minutes: a
    hang guard, not a time budget."""

    def __init__(self, tmp_path: Path) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.tmp_path = tmp_path
        self.server = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", FORK_SERVER],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.guard = threading.Timer(300, self.server.kill)
        self.guard.start()

    def __call__(self, path: Path) -> tuple[int, float, float, str]:
        """Exit code, peak resident size in MB, seconds and stderr of the command on ``path``."""
        assert self.server.stdin is not None and self.server.stdout is not None
        err_path = self.tmp_path / f"{path.name}.stderr"
        started = time.perf_counter()
        self.server.stdin.write(json.dumps([str(path), str(err_path)]) + "\n")
        self.server.stdin.flush()
        answer = self.server.stdout.readline()
        seconds = time.perf_counter() - started
        if not answer:
            self.close()
            raise AssertionError(f"the fork server stopped: {self.server.stderr.read()}")  # type: ignore[union-attr]
        code, peak_kb = json.loads(answer)
        return code, peak_kb / 1024, seconds, err_path.read_text()

    def close(self) -> None:
        self.guard.cancel()
        if self.server.poll() is None:
            self.server.kill()
        self.server.wait()
        for stream in (self.server.stdin, self.server.stdout, self.server.stderr):
            if stream is not None:
                stream.close()


# Hostile files beyond each limit, and one within the size limit that is costly to scan (a JSON
# string of 19 MB: the depth scan once took 2.3 GB and 17 s on it).
HOSTILE = {
    "laughs.yaml": (lambda: BILLION_LAUGHS, "aliases"),
    "deep.json": (lambda: "[" * 1_000_000 + "]" * 1_000_000, "nested more than"),
    "deep.yaml": (lambda: "a: " + "[" * 1_000_000 + "]" * 1_000_000, "nested more than"),
    "deep_block.yaml": (
        lambda: "".join(f"{'  ' * level}k{level}:\n" for level in range(1000)),
        "nested more than",
    ),
    "oversize.yaml": (lambda: "a: " + "x" * (MAX_PACKAGE_BYTES + 1024), "larger than"),
    "long_string.json": (
        lambda: '{"a": ' + "[" * 30 + "]" * 30 + ', "b": "' + "x" * (19 * 1024 * 1024) + '"}',
        "format",
    ),
}
# Above the same command refusing a one-line package (Django and every app loaded): the
# largest measured was 58 MB (the 19 MB string, read, decoded and parsed).
MEMORY_ABOVE_BASELINE_MB = 100


def test_load_dry_run_refuses_hostile_files_with_little_memory_in_a_process_of_its_own(
    tmp_path: Path,
) -> None:
    small = tmp_path / "small.yaml"
    small.write_text("format: nonsense\n")
    load_dry_run = LoadDryRun(tmp_path)
    try:
        code, baseline, seconds, err = load_dry_run(small)
        assert code == 1 and "pejling-package/1" in err, err[-500:]
        measured = {"baseline": (round(baseline), round(seconds, 1))}
        for name, (text, expected) in HOSTILE.items():
            path = tmp_path / name
            path.write_text(text())
            code, peak, seconds, err = load_dry_run(path)
            measured[name] = (round(peak), round(seconds, 1))
            assert code == 1, (name, err[-500:])
            assert expected in err and "nothing was written" in err, (name, err[-500:])
            assert "Traceback" not in err
            assert peak - baseline < MEMORY_ABOVE_BASELINE_MB, (name, peak, baseline)
    finally:
        load_dry_run.close()
    print(f"peak MB and seconds of pejling load --dry-run: {measured}")
