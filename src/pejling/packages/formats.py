"""Reading and writing package files: YAML and JSON of the same structure, the JSON Schema, and
the problems found in a file, each with its path (``strategies[1].elements[0].code``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

FORMAT = "pejling-package/1"
SCHEMA_PATH = Path(__file__).with_name("pejling-package.schema.json")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a package, and where it is in the file."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PackageError(Exception):
    """A package that cannot be loaded; ``problems`` lists everything found wrong with it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def path_text(parts: Any) -> str:
    """``["strategies", 1, "elements", 0]`` → ``strategies[1].elements[0]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# Reading ----------------------------------------------------------------------------------------


# Hostile structure is refused before it costs time or memory: a package is text of at most
# MAX_PACKAGE_BYTES, nested at most MAX_DEPTH deep (mappings and lists), and a YAML package
# repeats at most MAX_ALIASES anchored parts (``*name``; ten levels of nine aliases each, the
# "billion laughs", would otherwise expand to 9**10 items while being checked).
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 40
MAX_ALIASES = 20


class _Limited(Exception):
    """A limit of the reader crossed; the message says which."""


class _Loader(yaml.SafeLoader):
    """Safe YAML with dates kept as text (the schema checks them), duplicate keys refused, and
    at most :data:`MAX_DEPTH` levels and :data:`MAX_ALIASES` aliases."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _Limited(
                    f"line {mark.line + 1}: more than {MAX_ALIASES} aliases (*name); "
                    "write the repeated parts out"
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Limited(f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


# A string (the unrolled form: a repeated group per escape only, never per character, so a
# string of millions of characters takes no more memory than itself) or a bracket.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _json_depth_problem(text: str) -> str:
    """Where JSON text nests deeper than :data:`MAX_DEPTH` (strings skipped), or ""."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        found = match.group()
        if found in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                return f"line {line}: nested more than {MAX_DEPTH} levels deep"
        elif found in "]}":
            depth -= 1
    return ""


def size_problem(size: int) -> Problem | None:
    """A package too large to read, before it is read."""
    if size > MAX_PACKAGE_BYTES:
        limit = (
            f"{MAX_PACKAGE_BYTES // (1024 * 1024)} MB"
            if MAX_PACKAGE_BYTES >= 1024 * 1024
            else f"{MAX_PACKAGE_BYTES} bytes"
        )
        return Problem("", f"the file is larger than {limit}, the limit")
    return None


def parse(text: str, *, fmt: str = "yaml") -> Any:
    """Parse package text; a syntax error becomes a :class:`PackageError` with its line, and so
    does text beyond the reader's limits (size, depth, YAML aliases)."""
    too_large = size_problem(len(text.encode("utf-8", "surrogatepass")))
    if too_large is not None:
        raise PackageError([too_large])
    kind = "JSON" if fmt == "json" else "YAML"
    try:
        if fmt == "json":
            deep = _json_depth_problem(text)
            if deep:
                raise _Limited(deep)
            return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except _Limited as exc:
        where, _sep, what = str(exc).partition(": ")
        raise PackageError([Problem(where, f"refused {kind}: {what}")]) from None
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise PackageError([Problem("", f"refused {kind}: nested too deep")]) from None
    except json.JSONDecodeError as exc:
        raise PackageError([Problem(f"line {exc.lineno}", f"not valid JSON: {exc.msg}")]) from None
    except ValueError as exc:
        raise PackageError([Problem("", f"not valid JSON: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PackageError([Problem(where, f"not valid YAML: {problem}")]) from None


def format_for(filename: str) -> str:
    return "json" if filename.lower().endswith(".json") else "yaml"


# The schema -------------------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _file_order(data: Any, path: Any) -> list[int]:
    """Where ``path`` is in the file: the index of each list item and mapping key on the way."""
    order: list[int] = []
    for part in path:
        if isinstance(data, dict):
            keys = list(data)
            if part not in data:
                order.append(len(keys))
                break
            order.append(keys.index(part))
        elif isinstance(data, list) and isinstance(part, int):
            order.append(part)
        else:
            break
        data = data[part]
    return order


def schema_problems(data: Any) -> list[Problem]:
    """Every violation of the JSON Schema, in file order."""
    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(data), key=lambda e: _file_order(data, e.absolute_path))
    return [Problem(path_text(e.absolute_path) or "(top level)", e.message) for e in errors]


# Values -----------------------------------------------------------------------------------------


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal as the shortest plain text: ``Decimal("30.0000")`` → ``"30"``."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def fits(value: Decimal, *, max_digits: int, decimal_places: int) -> bool:
    """Whether ``value`` is stored exactly by a DecimalField of this size."""
    _sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    places = max(0, -exponent)
    whole = max(0, len(digits) + exponent)
    return places <= decimal_places and whole <= max_digits - decimal_places


# Writing ----------------------------------------------------------------------------------------


class FlowList(list[Any]):
    """A list written on one line in YAML (the rows of indicator values)."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow(dumper: yaml.SafeDumper, value: FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(FlowList, _represent_flow)

YAML_HEADER = "# Pejling package: load with `pejling load FILE`; see docs/packages.md.\n"


def render_yaml(data: dict[str, Any]) -> str:
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=4096,
    )
    return YAML_HEADER + body


def _json(value: Any, indent: int) -> str:
    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {_json(v, indent + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return json.dumps(value, ensure_ascii=False)
        rows = [f"{pad}{_json(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(rows) + "\n" + "  " * indent + "]"
    return json.dumps(value, ensure_ascii=False)


def render_json(data: dict[str, Any]) -> str:
    """Indented JSON with lists of plain values (value rows, goal references) on one line."""
    return _json(data, 0) + "\n"


def render(data: dict[str, Any], *, fmt: str = "yaml") -> str:
    return render_json(data) if fmt == "json" else render_yaml(data)
