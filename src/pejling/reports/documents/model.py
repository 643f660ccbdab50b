"""One document model for every kind of document: the builders gather the content once
(respecting what the reader may read), and the PDF, Word and Excel renderers draw it.

A document is a list of blocks. Table cells keep their type (numbers as numbers, dates as
dates) so Excel gets real numbers; the renderers format them in the document's language.
The whole document serialises to JSON: that is how a finalised report is frozen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import formats, translation
from django.utils.dateparse import parse_date, parse_datetime

Value = str | int | float | date | None


@dataclass
class Heading:
    level: int  # 1 chapter, 2 section, 3 sub-section
    text: str
    kind: str = "heading"


@dataclass
class Paragraph:
    text: str
    style: str = "normal"  # normal, lead, note
    kind: str = "paragraph"


@dataclass
class Markdown:
    """Formatted text written by people (an analysis, a section's text)."""

    source: str
    kind: str = "markdown"


@dataclass
class Facts:
    """Label–value pairs (a goal's status, value, target); ``status`` colours the badge."""

    items: list[tuple[str, Value]]
    status: str = ""
    status_label: str = ""
    kind: str = "facts"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Value]]
    sheet: str = ""  # the Excel sheet's name (short); the title when empty
    kind: str = "table"


@dataclass
class Figure:
    """A Vega-Lite chart (the web's own specification) with its data table."""

    number: int
    title: str
    description: str
    spec: dict[str, Any]
    rows: list[tuple[str, Value]]
    value_label: str
    kind: str = "figure"


@dataclass
class PageBreak:
    kind: str = "pagebreak"


Block = Heading | Paragraph | Markdown | Facts | Table | Figure | PageBreak
BLOCKS: dict[str, type] = {
    "heading": Heading,
    "paragraph": Paragraph,
    "markdown": Markdown,
    "facts": Facts,
    "table": Table,
    "figure": Figure,
    "pagebreak": PageBreak,
}


@dataclass
class Document:
    kind: str  # agreement, followup, strategy, report
    title: str
    subtitle: str
    language: str
    organisation: str
    generated_at: datetime
    blocks: list[Block] = field(default_factory=list)
    frozen_at: datetime | None = None
    filename_stem: str = "document"

    # Building -------------------------------------------------------------------------------

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def next_figure_number(self) -> int:
        return 1 + sum(1 for b in self.blocks if isinstance(b, Figure))

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def text(self) -> str:
        """Every word of the document, for searching and tests."""
        parts = [self.title, self.subtitle]
        for b in self.blocks:
            if isinstance(b, Heading | Paragraph):
                parts.append(b.text)
            elif isinstance(b, Markdown):
                parts.append(b.source)
            elif isinstance(b, Table):
                parts += [b.title, *b.columns, *(str(c) for r in b.rows for c in r)]
            elif isinstance(b, Facts):
                parts += [f"{k} {v}" for k, v in b.items]
        return "\n".join(parts)

    # JSON -----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "subtitle": self.subtitle,
            "language": self.language,
            "organisation": self.organisation,
            "generated_at": self.generated_at.isoformat(),
            "frozen_at": self.frozen_at.isoformat() if self.frozen_at else None,
            "filename_stem": self.filename_stem,
            "blocks": [_encode(asdict(b)) for b in self.blocks],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Document:
        blocks: list[Block] = []
        for raw in data["blocks"]:
            item = _decode(raw)
            block_type = BLOCKS[item["kind"]]
            if block_type is Facts:
                item["items"] = [tuple(i) for i in item["items"]]
            if block_type is Figure:
                item["rows"] = [tuple(r) for r in item["rows"]]
            blocks.append(block_type(**item))
        frozen = data.get("frozen_at")
        return cls(
            kind=data["kind"],
            title=data["title"],
            subtitle=data["subtitle"],
            language=data["language"],
            organisation=data["organisation"],
            generated_at=parse_datetime(data["generated_at"])
            or datetime.fromisoformat(data["generated_at"]),
            frozen_at=parse_datetime(frozen) if frozen else None,
            filename_stem=data.get("filename_stem", "document"),
            blocks=blocks,
        )


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return float(value)
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return parse_date(value["$date"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


# Formatting in the document's language -------------------------------------------------------


def format_number(value: float | int, language: str, decimals: int | None = None) -> str:
    """64,5 and 1 800 in Swedish; 64.5 and 1,800 in English."""
    if isinstance(value, float) and decimals is None:
        value = round(value, 1)
        if value.is_integer():
            value = int(value)
    with translation.override(language):
        return str(
            formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)
        )


def format_date(value: date, language: str, *, short: bool = False) -> str:
    with translation.override(language):
        return str(formats.date_format(value, "SHORT_DATE_FORMAT" if short else "DATE_FORMAT"))


def format_datetime(value: datetime, language: str) -> str:
    from django.utils.timezone import localtime

    with translation.override(language):
        return str(formats.date_format(localtime(value), "DATETIME_FORMAT"))


def format_value(value: Value, language: str, *, short: bool = False, empty: str = "–") -> str:
    """A cell or fact as text in ``language`` (tables use ``short`` dates)."""
    if value is None or value == "":
        return empty
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return format_number(value, language)
    if isinstance(value, date):
        return format_date(value, language, short=short)
    return str(value)


def is_numeric(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
