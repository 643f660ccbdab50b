"""Safe to go live: `check --deploy` is clean under the production settings the docs ship
(deploy/pejling.env.example), the systemd units verify, `pejling doctor` reports without a
traceback."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ops.helpers import PEJLING, ROOT, child_env, pejling

DEPLOY = ROOT / "deploy"


def production_env(data_dir: Path) -> dict[str, str]:
    """The documented production settings, as an operator copies them."""
    settings: dict[str, str] = {}
    for line in (DEPLOY / "pejling.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name] = value
    settings["PEJLING_DATA_DIR"] = str(data_dir)
    return child_env(data_dir, **settings)


def test_the_documented_production_settings_pass_check_deploy(tmp_path: Path) -> None:
    done = pejling(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_fails_on_the_development_defaults(tmp_path: Path) -> None:
    done = pejling(child_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    assert "security.W004" in done.stderr or "security.W004" in done.stdout  # no HSTS


def test_the_docs_show_the_settings_that_are_checked() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    for line in (DEPLOY / "pejling.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert line.partition("=")[0] in guide, line


def _units(tmp_path: Path) -> list[Path]:
    """The shipped units, with ExecStart pointing at this checkout's pejling (verify wants
    the program to exist)."""
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text().replace("/opt/pejling/venv/bin/pejling", str(PEJLING))
        target = tmp_path / unit.name
        target.write_text(text)
        units.append(target)
    return units


def _verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    return subprocess.run(  # noqa: S603 (systemd-analyze on our own unit files)
        [analyze, "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    units = _units(tmp_path)
    assert [u.name for u in units] == ["pejling-worker.service", "pejling.service"]
    done = _verify(units)
    if "Failed to" in done.stderr and "bus" in done.stderr.lower():
        pytest.skip(f"systemd-analyze cannot run here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_systemd_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    (unit,) = [u for u in _units(tmp_path) if u.name == "pejling.service"]
    unit.write_text(unit.read_text().replace(str(PEJLING), str(tmp_path / "missing")))
    done = _verify([unit])
    assert done.returncode != 0 or done.stderr


def test_doctor_reports_an_installation(tmp_path: Path, migrated: Callable[[Path], None]) -> None:
    env = child_env(
        tmp_path, PEJLING_TASK_BACKEND="django.tasks.backends.immediate.ImmediateBackend"
    )
    migrated(tmp_path)
    done = pejling(env, "doctor", "--no-probe")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "version:" in out
    assert "database: SQLite" in out and "database size:" in out
    assert "migrations: all applied" in out
    assert "Kolada: https://api.kolada.se/v3 (not probed)" in out
    assert "OS2mo: not configured" in out and "SSO OpenID Connect: not configured" in out
    assert "Traceback" not in out + done.stderr


def test_doctor_names_a_stopped_database_without_a_traceback(tmp_path: Path) -> None:
    env = child_env(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/pejling")
    done = pejling(env, "doctor", "--timeout", "1")
    assert done.returncode == 1
    assert "database unreachable (OperationalError)" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_doctor_says_when_an_integration_does_not_answer(
    tmp_path: Path, migrated: Callable[[Path], None]
) -> None:
    env = child_env(
        tmp_path,
        PEJLING_TASK_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
        PEJLING_OS2MO_URL="http://127.0.0.1:1/",
        PEJLING_KOLADA_URL="",
        PEJLING_STATBANK_URL="",
        PEJLING_SSB_URL="",
    )
    migrated(tmp_path)
    done = pejling(env, "doctor", "--timeout", "1")
    assert done.returncode == 1
    assert "OS2mo: http://127.0.0.1:1/: does not answer" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
