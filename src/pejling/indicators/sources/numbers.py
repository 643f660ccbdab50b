"""Number parsing for values typed by people and values sent by APIs."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

# Characters people (and Excel in Nordic locales) put between digit groups.
_UNICODE_SPACES = ("\xa0", "\u202f", "\u2009")
_MINUS_SIGNS = ("\u2212", "\u2013")  # minus sign, en dash


class NumberError(ValueError):
    """Raised when text is not a finite decimal number."""


def _three_digit_group(text: str, sep: str) -> bool:
    """True when the single ``sep`` in ``text`` could be a thousands separator.

    That is: one to three digits (after an optional sign) before it and
    exactly three digits after it, as in ``1.234`` or ``-12,345``.
    """
    head, _, tail = text.partition(sep)
    head = head.lstrip("+-")
    return 1 <= len(head) <= 3 and head.isdigit() and len(tail) == 3 and tail.isdigit()


def _without_spaces(s: str) -> str:
    """``s`` without group spaces (ASCII, no-break or thin), Unicode minus signs made ``-``."""
    if not s.isascii():
        for space in _UNICODE_SPACES:
            if space in s:
                s = s.replace(space, "")
        for minus in _MINUS_SIGNS:
            if minus in s:
                s = s.replace(minus, "-")
    if " " in s:
        s = s.replace(" ", "")
    return s


def _with_decimal_point(s: str, decimal_comma: bool) -> str:
    """``s`` with thousands separators dropped and a decimal point (see :func:`parse_decimal`)."""
    if "," in s:
        if "." in s:
            if s.rfind(",") > s.rfind("."):
                return s.replace(".", "").replace(",", ".")
            return s.replace(",", "")
        if s.count(",") > 1:
            return s.replace(",", "")
        if decimal_comma or not _three_digit_group(s, ","):
            return s.replace(",", ".")
        return s.replace(",", "")
    if "." in s and (s.count(".") > 1 or (decimal_comma and _three_digit_group(s, "."))):
        return s.replace(".", "")
    return s


def parse_decimal(text: str, *, decimal_comma: bool = True) -> Decimal:
    """Parse a number as written in a Nordic or English spreadsheet.

    Accepts ``14,9``, ``14.9``, ``1 234,5`` (space, no-break or thin space as
    thousands separator), ``1.234,5``, ``1,234.5``, ``-3``, a Unicode minus sign and
    exponents such as ``1E+05``. When one separator occurs once and is
    followed by exactly three digits (``1.234`` or ``1,234``) it is ambiguous:
    ``decimal_comma`` decides. With ``decimal_comma=True`` (the Nordic
    default) ``1.234`` is 1234 and ``1,234`` is 1.234. NaN and infinities are
    refused.
    """
    s = _without_spaces(text.strip())
    if not s or "_" in s:
        raise NumberError(text)
    s = _with_decimal_point(s, decimal_comma)
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise NumberError(text) from None
    if not value.is_finite():
        raise NumberError(text)
    return value


def decimal_from_json(value: Any) -> Decimal | None:
    """Turn a JSON number into a Decimal; ``None`` stays ``None``.

    Floats go through ``repr`` so ``14.9`` becomes ``Decimal('14.9')`` and
    not the binary expansion. Strings are parsed with a decimal point. Raises
    :class:`NumberError` for booleans, other types and non-finite numbers.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise NumberError(repr(value))
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        return parse_decimal(value, decimal_comma=False)
    else:
        raise NumberError(repr(value))
    if not result.is_finite():
        raise NumberError(repr(value))
    return result
