"""Start and drive the test identity provider; keys and certificates for both sides.

``start_idp(directory)`` generates the IdP's key and self-signed certificate, creates its SQLite
database (``migrate``), starts ``django runserver`` for ``tests.sso.idp_saml.settings`` on a
free port of 127.0.0.1 and waits until its metadata URL answers. Every pytest-xdist worker
starts its own, in its own temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[3]

# What the IdP releases to Pejling: Django user field (or "groups") → SAML attribute name.
# "uid", "givenName", "sn" and "mail" go out with their URIs (urn:oid:…) and friendly names;
# "groups" has no URI, so it goes out under its plain name.
ATTRIBUTES = {
    "username": "uid",
    "first_name": "givenName",
    "last_name": "sn",
    "email": "mail",
    "groups": "groups",
}


def write_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A 2048-bit RSA key and a self-signed certificate for it, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"pejling-test-{name}")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SamlIdP:
    url: str
    directory: Path
    token: str
    process: subprocess.Popen[bytes]
    _registered: str = ""  # what is registered now

    @property
    def entity_id(self) -> str:
        return f"{self.url}/idp/metadata/"

    @property
    def metadata_url(self) -> str:
        return self.entity_id

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(
            self.url + path, json=payload, headers={"X-Harness-Token": self.token}, timeout=30
        )
        response.raise_for_status()
        return dict(response.json())

    def add_person(
        self,
        username: str,
        password: str,
        *,
        first_name: str = "",
        last_name: str = "",
        email: str = "",
        groups: tuple[str, ...] | list[str] = (),
    ) -> None:
        """Create or update a person at the IdP; ``groups`` replaces their groups."""
        self._post(
            "/harness/person/",
            {
                "username": username,
                "password": password,
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "groups": list(groups),
            },
        )

    def register_sp(self, entity_id: str, metadata: str, *, sign_assertion: bool = True) -> None:
        """Register Pejling (from its SP metadata) as a service provider of this IdP. The
        response is always signed; ``sign_assertion=False`` leaves the assertion unsigned."""
        key = f"{sign_assertion}:{metadata}"
        if self._registered == key:
            return
        self._post(
            "/harness/sp/",
            {
                "entity_id": entity_id,
                "metadata": metadata,
                "attribute_mapping": ATTRIBUTES,
                "sign_assertion": sign_assertion,
            },
        )
        self._registered = key

    def log(self) -> str:
        return (self.directory / "idp.log").read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_idp(directory: Path, *, timeout: float = 60) -> SamlIdP:
    key_file, cert_file = write_key_pair(directory, "idp")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.sso.idp_saml.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "PEJLING_TEST_IDP_DIR": str(directory),
        "PEJLING_TEST_IDP_URL": url,
        "PEJLING_TEST_IDP_TOKEN": token,
        "PEJLING_TEST_IDP_KEY": str(key_file),
        "PEJLING_TEST_IDP_CERT": str(cert_file),
    }
    migrate = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--noinput", "-v0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    if migrate.returncode:
        raise RuntimeError(f"the test IdP's migrate failed:\n{migrate.stderr.decode()}")
    with (directory / "idp.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
            [
                sys.executable,
                "-m",
                "django",
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
                "--skip-checks",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    idp = SamlIdP(url=url, directory=directory, token=token, process=process)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the test IdP stopped at start:\n{idp.log()}")
        try:
            if requests.get(idp.metadata_url, timeout=5).status_code == 200:
                return idp
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            idp.stop()
            raise RuntimeError(f"the test IdP did not answer within {timeout} s:\n{idp.log()}")
        time.sleep(0.2)
