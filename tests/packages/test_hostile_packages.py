"""Hostile package structure is refused at once, with a clear message and little memory: YAML
aliases beyond a few ("billion laughs"), nesting beyond a depth, a file beyond the size limit;
the same for JSON. ``pejling load --dry-run`` says so and writes nothing, in a process of its own
whose peak memory stays within a tight bound above the same command's on a one-line file."""

from __future__ import annotations

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


def _load_dry_run(path: Path) -> tuple[int, float, float, str]:
    """``pejling load --dry-run path`` in a process of its own (this checkout's code, this
    test's database settings): its exit code, peak resident size in MB (from ``wait4``: that
    child's alone, not the largest of every child this test process ever had), seconds and
    stderr. Killed after five minutes: a hang guard, not a time budget."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 (our own interpreter and command)
        [sys.executable, "-m", "pejling", "load", "--dry-run", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(300, child.kill)
    guard.start()
    try:
        assert child.stderr is not None
        err = child.stderr.read()
        _pid, status, usage = os.wait4(child.pid, 0)
    finally:
        guard.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, usage.ru_maxrss / 1024, time.perf_counter() - started, err


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
    code, baseline, seconds, err = _load_dry_run(small)
    assert code == 1 and "pejling-package/1" in err
    measured = {"baseline": (round(baseline), round(seconds, 1))}
    for name, (text, expected) in HOSTILE.items():
        path = tmp_path / name
        path.write_text(text())
        code, peak, seconds, err = _load_dry_run(path)
        measured[name] = (round(peak), round(seconds, 1))
        assert code == 1, (name, err[-500:])
        assert expected in err and "nothing was written" in err, (name, err[-500:])
        assert "Traceback" not in err
        assert peak - baseline < MEMORY_ABOVE_BASELINE_MB, (name, peak, baseline)
    print(f"peak MB and seconds of pejling load --dry-run: {measured}")
