"""Property-based tests of the whole API against its own OpenAPI document (schemathesis).

A live server with a small organisation; every operation (reads and writes) is called with
generated parameters and bodies by the strategy office's token. No call may fail with a server
error, and every response must have a documented status, content type and body shape.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pejling.api.api import api  # noqa: E402
from pejling.api.tokens import token_create  # noqa: E402
from tests.factories import DeadlineFactory, IndicatorFactory, IndicatorValueFactory  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The document the server serves at /api/v1/openapi.json (the same code builds both); loaded
# here rather than over HTTP because schemathesis's lazy fixture loader does not work with the
# installed pytest.
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())


@pytest.fixture
def server(live_server: Any, org: Any, cascade: Any, agreement: Any, settings: Any) -> str:
    """A live server with a small organisation, a KPI with a value and a report deadline."""
    settings.PEJLING_API_RATE_LIMIT = 1_000_000
    indicator = IndicatorFactory(code="SICK_DAYS")
    IndicatorValueFactory(indicator=indicator, unit=org.unit, period="2026-01", value=3)
    DeadlineFactory(kind="report", period="T1")
    return str(live_server.url)


@pytest.fixture
def office_token(org: Any) -> str:
    new = token_create(user=org.office, name="schemathesis", scope="read_write", expires_in_days=1)
    return new.secret


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    # Random generation only: schemathesis's extra coverage phase (boundary values of every
    # parameter, run under hypothesis's "explicit" phase) triples the run time.
    phases=[Phase.generate],
)
def test_every_operation_conforms_to_the_openapi_document(
    case: Any, server: str, office_token: str
) -> None:
    case.call_and_validate(
        base_url=server, headers={"Authorization": f"Bearer {office_token}"}, checks=CHECKS
    )
