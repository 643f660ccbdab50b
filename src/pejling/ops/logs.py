"""Logging for operations: JSON lines or human-readable text, and redaction.

``logging_config(fmt, level)`` is the ``LOGGING`` setting (``PEJLING_LOG_FORMAT`` chooses
``json`` — one JSON object per line on stdout, for a log collector — or ``text``, the default,
for people). Both pass every record through ``RedactingFilter``: passwords, tokens, secrets and
personal identity numbers (Swedish personnummer and samordningsnummer, Danish CPR, Norwegian
fødselsnummer and D-number) are replaced by ``[REDACTED]`` in the message, its arguments and
its extra fields, whichever logger wrote them.

Imported by the settings, so nothing here touches models or the app registry.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from pejling.core.request_context import current_request_id

REDACTED = "[REDACTED]"

# key=value, key: value, "key": "value" where the key names a secret.
_SECRET_PAIR = re.compile(
    r"""(?ix)
    (?P<key>["']?\b[\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key|authorization|
        cookie|sessionid|csrftoken)[\w-]*["']?)
    (?P<sep>\s*[:=]\s*["']?)
    (?P<value>(?:bearer\s+|basic\s+)?[^\s"'&,;}]+)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# Digits with date parts in front: YYYYMMDD-NNNN, YYMMDD-NNNN (±), DDMMYY-NNNN, DDMMYYNNNNN.
_TWELVE = re.compile(r"(?<![\d.])(\d{8})[-+ ]?(\d{4})(?![\d.])")
_TEN = re.compile(r"(?<![\d.])(\d{6})[-+ ]?(\d{4})(?![\d.])")
_ELEVEN = re.compile(r"(?<![\d.])(\d{6})(\d{5})(?![\d.])")


def _day_month(day: int, month: int) -> bool:
    # Samordningsnummer (SE) add 60 to the day, D-numbers (NO) add 40 to the day.
    return any(1 <= d <= 31 and 1 <= month <= 12 for d in (day, day - 40, day - 60))


def _is_yymmdd(six: str) -> bool:
    return _day_month(int(six[4:6]), int(six[2:4]))


def _is_ddmmyy(six: str) -> bool:
    return _day_month(int(six[0:2]), int(six[2:4]))


def _personal_twelve(m: re.Match[str]) -> str:
    eight = m.group(1)
    ok = eight[:2] in {"18", "19", "20"} and _is_yymmdd(eight[2:])
    return REDACTED if ok else m.group(0)


def _personal_ten(m: re.Match[str]) -> str:
    six = m.group(1)
    return REDACTED if _is_yymmdd(six) or _is_ddmmyy(six) else m.group(0)


def _personal_eleven(m: re.Match[str]) -> str:
    return REDACTED if _is_ddmmyy(m.group(1)) else m.group(0)


def redact(text: str) -> str:
    """``text`` without secrets and personal identity numbers."""
    text = _SECRET_PAIR.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _TWELVE.sub(_personal_twelve, text)
    text = _ELEVEN.sub(_personal_eleven, text)
    return _TEN.sub(_personal_ten, text)


_SECRET_KEY = re.compile(r"(?i)password|passwd|secret|token|api[_-]?key|authorization|cookie")


def redact_value(value: Any, key: str = "") -> Any:
    """A value from a log record or an error report with secrets and numbers taken out;
    dicts and lists are walked (a key naming a secret hides its whole value)."""
    if key and _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


# A request id as ``core/request_context.py`` makes one (``uuid4().hex``): about one in five
# holds a run of ten digits or more, which a number's pattern would take for a personal number
# and cut out of the id, so that the line could no longer be found by it.
_OWN_ID = re.compile(r"[0-9a-f]{32}")

# Attributes every LogRecord has; the rest are a caller's ``extra``.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class RedactingFilter(logging.Filter):
    """Takes secrets and personal numbers out of each record (message, arguments, extras),
    and notes the current request id on it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info:  # a traceback may quote values: write it out now, redacted
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name, value in list(vars(record).items()):
            if name == "request_id" and isinstance(value, str) and _OWN_ID.fullmatch(value):
                continue  # a request id of ours: hex, whose digit runs may look like a number
            if name not in _RECORD_ATTRIBUTES:
                setattr(record, name, redact_value(value, name))
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id()
        return True


class PejlingJsonFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request id and any extras."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault(
            "rename_fields", {"levelname": "level", "name": "logger", "exc_info": "error"}
        )
        super().__init__("{levelname}{name}{message}", *args, style="{", **kwargs)


class TextFormatter(logging.Formatter):
    """Readable lines; the request id in brackets when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", "")
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` setting. Request and job lines (loggers ``pejling.request`` and
    ``pejling.job``) are written at INFO whatever the root level, so they are always there."""
    formatter = "json" if fmt == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "pejling.ops.logs.RedactingFilter"}},
        "formatters": {
            "json": {"()": "pejling.ops.logs.PejlingJsonFormatter"},
            "text": {"()": "pejling.ops.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": formatter,
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "pejling.request": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "pejling.job": {"level": "INFO", "handlers": ["console"], "propagate": False},
            # A refused or failed request is already one request line; Django's own line
            # about it would only repeat it.
            "django.request": {"level": "ERROR"},
        },
    }
