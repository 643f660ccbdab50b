"""Run Pejling in a child process with its own environment (settings are read at start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PEJLING = ROOT / ".venv" / "bin" / "pejling"

PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(SERVER_NAME="localhost")
answers = {}
for path in %r:
    response = client.get(path)
    body = response.content.decode()
    answers[path] = {"status": response.status_code, "body": json.loads(body) if body.startswith("{") else body}
print(json.dumps(answers))
"""


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEJLING_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT / "src"),
            "DJANGO_SETTINGS_MODULE": "pejling.config.settings",
            "PEJLING_DATA_DIR": str(data_dir),
            "DATABASE_URL": "",
        }
    )
    env.update(extra)
    return env


def get_in_child(env: dict[str, str], *paths: str) -> dict[str, Any]:
    """GET each path with the test client in a fresh process; {path: {status, body}}."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", PROBE % (list(paths),)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answers


# The timeouts guard against a hung child, not a slow one: on a loaded machine (a shared CI
# runner) a migration of a new SQLite file has taken over two minutes.


def pejling(
    env: dict[str, str], *args: str, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (the pejling command)
        [str(PEJLING), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
