"""Which value of a statistics dimension is the source's own total.

When an answer carries a dimension the organisation does not map (sex, age, civil status) and
the user asks to sum over it, the source's own total is used where the answer carries one (it
is exact, and it includes what the parts leave out, such as an unknown sex), and the parts are
then left out, so nothing is counted twice. Where no total is in the answer the parts are
summed.

StatBank writes its totals as ``I alt`` / ``Total`` (codes ``TOT``, ``IALT``) and
``Alder i alt`` / ``Age, total``; SSB as ``I alt`` / ``Alle aldre`` / ``Begge kjønn`` (codes
such as ``999`` are not totals by themselves: only the label is trusted); Kolada's gender
``T`` is its total.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Whole codes that are totals in StatBank (TOT, IALT) and Kolada (T for gender).
TOTAL_CODES = frozenset({"tot", "ialt", "i_alt", "total", "alle", "t"})
_TOTAL_LABEL = re.compile(
    r"^(i alt|total|totalt|all|alle|begge kjonn|begge kon|bada konen|both sexes|"
    r"alle aldre|all ages|samtlige)$"
    r"|\bi alt$|, total$|\btotal$|\btotalt$|\bi alt\b"
)


def _plain(text: str) -> str:
    """Case-folded, accents and punctuation other than a comma removed, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    return " ".join(stripped.replace(".", " ").split())


def is_total(code: str, label: str | None = None) -> bool:
    """True when a category (its code, and its label when known) is the dimension's total."""
    if _plain(code).replace(" ", "_") in TOTAL_CODES:
        return True
    return any(bool(_TOTAL_LABEL.search(_plain(text))) for text in (label, code) if text)


def total_of(categories: Sequence[tuple[str, str | None]]) -> str | None:
    """The code of the one total among ``(code, label)`` categories, or None when there is none
    (or, ambiguously, more than one: then the parts are summed and the totals left out)."""
    totals = [code for code, label in categories if is_total(code, label)]
    return totals[0] if len(totals) == 1 else None


def parts_of(categories: Sequence[tuple[str, str | None]]) -> list[str]:
    """The codes to sum when there is no single total: every category that is not a total."""
    return [code for code, label in categories if not is_total(code, label)]
