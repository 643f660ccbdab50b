"""Start the test identity provider in a process of its own and talk to its harness endpoints.

``start_idp(state_dir)`` generates an RSA signing key (2048 bits, with ``cryptography``),
migrates a fresh SQLite database in ``state_dir``, starts gunicorn on 127.0.0.1 on a port the
kernel picks (so parallel pytest-xdist workers never collide), and waits for the provider's
discovery document. ``Idp.stop()`` ends the process. Each test worker has its own provider.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO_ROOT = Path(__file__).resolve().parents[3]
SETTINGS_MODULE = "tests.sso.idp_oidc.settings"
STARTUP_SECONDS = 60


@dataclass
class Idp:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    token: str
    log: Path
    people: dict[str, str] = field(default_factory=dict)  # username → password

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    @property
    def wrong_jwks_url(self) -> str:
        return f"{self.url}/harness/wrong-jwks.json"

    def _post(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}{path}", json=data, headers={"X-Harness-Token": self.token}, timeout=10
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def add_person(self, username: str, password: str, **claims: Any) -> str:
        """The person and exactly the claims (besides ``sub``) the provider sends for them.
        Calling it again replaces their claims. Returns their ``sub``."""
        self.people[username] = password
        return str(
            self._post(
                "/harness/users", {"username": username, "password": password, "claims": claims}
            )["sub"]
        )

    def add_client(
        self, client_id: str, client_secret: str, redirect_uri: str, algorithm: str = "RS256"
    ) -> None:
        self._post(
            "/harness/clients",
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": redirect_uri,
                "algorithm": algorithm,
            },
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _environment(state_dir: Path, token: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PEJLING_", "DATABASE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "PYTHONPATH": str(REPO_ROOT),
            "IDP_STATE_DIR": str(state_dir),
            "IDP_SECRET_KEY": secrets.token_urlsafe(32),
            "IDP_HARNESS_TOKEN": token,
        }
    )
    return env


def _write_signing_key(state_dir: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (state_dir / "signing-key.pem").write_bytes(pem)


def start_idp(state_dir: Path) -> Idp:
    state_dir.mkdir(parents=True, exist_ok=True)
    _write_signing_key(state_dir)
    token = secrets.token_urlsafe(24)
    env = _environment(state_dir, token)
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput", "--verbosity", "0"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        timeout=120,
    )
    log = state_dir / "gunicorn.log"
    output = (state_dir / "output.log").open("wb")  # Django's own log (errors) goes here
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tests.sso.idp_oidc.wsgi",
            "--bind",
            "127.0.0.1:0",  # the kernel picks a free port; read back from the log
            "--workers",
            "1",  # the harness keeps claims in memory
            "--threads",
            "8",
            "--no-control-socket",
            "--log-file",
            str(log),
        ],
        env=env,
        cwd=REPO_ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    output.close()  # the child has its own copy
    try:
        url = _wait_for_listening(process, log)
        idp = Idp(url=url, process=process, token=token, log=log)
        _wait_for_discovery(idp)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return idp


def _wait_for_listening(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the identity provider exited:\n{_read(log)}")
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", _read(log))
        if found:
            return found.group(1)
        time.sleep(0.05)
    raise RuntimeError(f"the identity provider did not start:\n{_read(log)}")


def _wait_for_discovery(idp: Idp) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    url = f"{idp.issuer}/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if idp.process.poll() is not None:
            raise RuntimeError(f"the identity provider exited:\n{_read(idp.log)}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no discovery document at {url}:\n{_read(idp.log)}")


def _read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""
