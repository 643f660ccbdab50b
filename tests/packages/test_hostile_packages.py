"""Hostile package structure is refused at once, with a clear message and little memory: YAML
aliases beyond a few ("billion laughs"), nesting beyond a depth, a file beyond the size limit;
the same for JSON. ``pejling load --dry-run`` says so and writes nothing."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pejling.packages import formats
from pejling.packages.formats import MAX_ALIASES, MAX_DEPTH, PackageError, parse

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


def test_the_refusals_take_little_memory_in_a_process_of_their_own(tmp_path: Path) -> None:
    """A fresh interpreter parses the hostile files; its peak resident size stays small."""
    (tmp_path / "laughs.yaml").write_text(BILLION_LAUGHS)
    (tmp_path / "deep.json").write_text("[" * 1_000_000 + "]" * 1_000_000)
    script = (
        "import resource, sys\n"
        "from pejling.packages.formats import PackageError, parse\n"
        "for name, fmt in (('laughs.yaml', 'yaml'), ('deep.json', 'json')):\n"
        "    try:\n"
        "        parse(open(name).read(), fmt=fmt)\n"
        "    except PackageError as exc:\n"
        "        print(exc)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert "aliases" in lines[0] and "nested" in lines[1]
    peak_kib = int(lines[-1])
    # The interpreter with Django and the schema loaded, plus at most a few hundred MB (the
    # text of a million brackets is read whole), never the gigabytes of the expansion.
    assert peak_kib < 1024 * 1024, peak_kib
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 2 * 1024 * 1024
