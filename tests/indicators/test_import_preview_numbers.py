"""The import preview writes its values in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from pejling.indicators.models import ImportBatch, ImportStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "shown"), [("sv", "17,5"), ("en", "17.5")])
def test_preview_values_are_numbers_in_the_readers_language(
    org: Any, language: str, shown: str
) -> None:
    batch = ImportBatch.objects.create(
        source="file",
        filename="sjuk.csv",
        status=ImportStatus.PREVIEW,
        rows_total=2,
        created_by=org.office,
        preview=[
            {
                "indicator": "SICK",
                "unit": "A",
                "unit_code": "a",
                "period": "2026-11",
                "value": "17.500000",
            },
            {
                "indicator": "SICK",
                "unit": "B",
                "unit_code": "b",
                "period": "2026-11",
                "value": "40.000000",
            },
        ],
    )
    client = Client(headers={"accept-language": language})
    client.force_login(org.office)
    page = client.get(reverse("indicators:import_detail", args=[batch.pk])).content.decode()
    assert f"<td>{shown}</td>" in page and "<td>40</td>" in page
    assert "17.500000" not in page
