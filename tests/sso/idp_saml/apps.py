from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class HarnessConfig(AppConfig):
    name = "tests.sso.idp_saml"
    label = "idp_harness"

    def ready(self) -> None:
        from djangosaml2idp.models import ServiceProvider

        def metadata_path(sp: ServiceProvider) -> str:
            """djangosaml2idp writes each SP's metadata to /tmp/djangosaml2idp/<id>.xml, one
            folder for every process on the machine: with two test workers, two IdPs would
            read each other's SP. Keep it in this IdP's own folder instead."""
            path = Path(settings.IDP_STATE_DIR) / f"sp-{sp.pk}.xml"
            path.write_text(sp.local_metadata, encoding="utf-8")
            return str(path)

        ServiceProvider.metadata_path = metadata_path  # type: ignore[method-assign]
