"""Logs: JSON lines or text, and no passwords, tokens or personal identity numbers in them."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from pejling.ops.logs import (
    REDACTED,
    PejlingJsonFormatter,
    RedactingFilter,
    TextFormatter,
    logging_config,
    redact,
)
from pejling.ops.sentry import scrub_event
from tests.ops.helpers import child_env

# Valid-looking numbers of each kind (test numbers, no real person).
PERSONAL = {
    "personnummer (SE, 12 digits)": "19811218-9876",
    "personnummer (SE, 10 digits)": "811218-9876",
    "personnummer (SE, no dash)": "198112189876",
    "samordningsnummer (SE)": "811278-9874",
    "CPR (DK)": "070761-4285",
    "CPR (DK, no dash)": "0707614285",
    "fødselsnummer (NO)": "01017012345",
    "D-nummer (NO)": "41017012345",
}
KEPT = ["epoch 1765000000", "rows 1234567890", "2026-12-07", "year 2027", "id 20261207", "12.50"]


@pytest.mark.parametrize("kind", PERSONAL)
def test_personal_numbers_are_redacted(kind: str) -> None:
    number = PERSONAL[kind]
    assert redact(f"looked up {number} in the register") == f"looked up {REDACTED} in the register"


@pytest.mark.parametrize("text", KEPT)
def test_other_numbers_stay(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login failed for anna password=Sommar2026!", "Sommar2026!"),
        ('{"username": "anna", "password": "hunter22"}', "hunter22"),
        ("Authorization: Bearer pj_live_abcdef0123456789", "pj_live_abcdef0123456789"),
        ("calling https://os2mo/graphql?token=abc123secret&x=1", "abc123secret"),
        ("PEJLING_OS2MO_TOKEN=eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        ("client_secret: s3cr3t-value", "s3cr3t-value"),
    ],
)
def test_secrets_are_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert REDACTED in redact(text)


def _emit(formatter: logging.Formatter, **extra: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.ops.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info(
            "sync for %s with password=%s failed",
            "19811218-9876",
            "hunter22",
            extra=extra,
        )
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_json_line_has_no_secret_in_message_arguments_or_extras() -> None:
    out = _emit(
        PejlingJsonFormatter(),
        request_id="req-9",
        api_token="pj_live_abcdef0123456789",
        person={"name": "Anna", "cpr": "0707614285", "password": "x1"},
    )
    line = json.loads(out)
    for secret in ("19811218-9876", "hunter22", "pj_live_abcdef0123456789", "0707614285", "x1"):
        assert secret not in out
    assert line["message"] == f"sync for {REDACTED} with password={REDACTED} failed"
    assert line["request_id"] == "req-9"
    assert line["api_token"] == REDACTED
    assert line["person"] == {"name": "Anna", "cpr": REDACTED, "password": REDACTED}
    assert line["level"] == "INFO" and line["logger"] == "tests.ops.redaction" and line["time"]


def test_tracebacks_are_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PejlingJsonFormatter())
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.ops.traceback")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError("no person 070761-4285 with password=hunter22")
    except ValueError:
        logger.exception("lookup failed")
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert "Traceback" in line["error"] and "ValueError" in line["error"]
    assert "070761-4285" not in stream.getvalue() and "hunter22" not in stream.getvalue()


def test_text_lines_are_redacted_too() -> None:
    out = _emit(TextFormatter(), request_id="req-10")
    assert "19811218-9876" not in out and "hunter22" not in out
    assert "[req-10]" in out


def test_human_readable_is_the_default_and_json_is_chosen_by_setting() -> None:
    assert logging_config("text", "INFO")["handlers"]["console"]["formatter"] == "text"
    assert logging_config("json", "INFO")["handlers"]["console"]["formatter"] == "json"


def test_the_configured_json_handler_writes_one_line_per_request(tmp_path: Path) -> None:
    """Through the real settings in a fresh process: PEJLING_LOG_FORMAT=json, stdout."""
    env = child_env(tmp_path, PEJLING_LOG_FORMAT="json")
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "Client(SERVER_NAME='localhost').get('/health/live?pnr=19811218-9876',"
        " HTTP_X_REQUEST_ID='req-stdout', HTTP_AUTHORIZATION='Bearer pj_abcdef0123456789')"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Health checks are quiet; nothing else was asked, so nothing personal can be there.
    assert "19811218-9876" not in done.stdout and "pj_abcdef" not in done.stdout
    script = script.replace("/health/live?pnr=19811218-9876", "/?pnr=19811218-9876")
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "pejling.request"]
    assert len(requests) == 1
    assert requests[0]["request_id"] == "req-stdout"
    assert requests[0]["view"] == "home" and requests[0]["status"] == 302  # to the log-in page
    assert "pj_abcdef" not in done.stdout and "19811218-9876" not in done.stdout


def test_error_reports_are_scrubbed_before_sending() -> None:
    event = {
        "message": "import failed for 811218-9876",
        "request": {
            "url": "https://pejling.example.org/indicators/imports/1/confirm/",
            "method": "POST",
            "data": {"password": "x", "note": "Anna 070761-4285"},
            "cookies": {"sessionid": "abc"},
            "query_string": "q=Anna",
            "headers": {
                "Cookie": "sessionid=abc",
                "Authorization": "Bearer t0k3n0123456",
                "User-Agent": "Firefox",
            },
            "env": {"REMOTE_ADDR": "10.1.2.3"},
        },
        "user": {
            "id": 7,
            "username": "anna",
            "email": "anna@example.org",
            "ip_address": "10.1.2.3",
        },
        "extra": {"api_token": "pj_live_xyz", "cpr": "0707614285"},
        "exception": {"values": [{"type": "ValueError", "value": "bad row 01017012345"}]},
    }
    scrubbed = scrub_event(event, {})
    text = json.dumps(scrubbed)
    for secret in (
        "811218-9876",
        "070761-4285",
        "0707614285",
        "01017012345",
        "anna@",
        "abc",
        "t0k3n",
        "pj_live_xyz",
        "10.1.2.3",
        "q=Anna",
        '"x"',
    ):
        assert secret not in text, secret
    assert scrubbed["user"] == {"id": 7}
    assert scrubbed["request"]["headers"]["User-Agent"] == "Firefox"
    assert scrubbed["request"]["url"].endswith("/confirm/")
    assert scrubbed["exception"]["values"][0]["type"] == "ValueError"


def test_sentry_is_off_by_default_and_on_with_a_dsn(tmp_path: Path) -> None:
    script = (
        "import django; django.setup(); import sentry_sdk;"
        "client = sentry_sdk.get_client();"
        "print(client.is_active(), client.options.get('send_default_pii'),"
        " getattr(client.options.get('before_send'), '__name__', None))"
    )
    off = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        env=child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert off.stdout.split() == ["False", "None", "None"], off.stderr
    # A DSN pointing nowhere reachable: nothing is sent in this test, the client is configured.
    env = child_env(tmp_path, PEJLING_SENTRY_DSN="https://public@127.0.0.1:1/1")
    on = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert on.stdout.split() == ["True", "False", "scrub_event"], on.stderr


def test_a_request_id_of_ours_is_kept_whole_though_its_digits_look_like_a_number() -> None:
    """Request ids are ``uuid4().hex``: a run of digits in one (here a valid-looking
    personnummer) must not be cut out, or the log line no longer matches ``X-Request-ID``."""
    ours = "198112189876" + "ab" * 10
    out = _emit(PejlingJsonFormatter(), request_id=ours)
    assert json.loads(out)["request_id"] == ours
    # A number sent as a request id of another form is still taken out.
    assert "811218-9876" not in _emit(PejlingJsonFormatter(), request_id="id-811218-9876")
