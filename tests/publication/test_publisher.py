"""The strategy office's page: what is public, the switch, the statement, history, conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from pejling.publication.models import PublicationSettings, StrategyPublication
from pejling.publication.selectors import public_strategies, site_is_live
from pejling.strategy.models import Strategy, StrategyStatus

pytestmark = pytest.mark.django_db


def _post(client: Any, **data: Any) -> Any:
    row = PublicationSettings.objects.filter(pk=1).first()
    payload = {
        "form": "settings",
        "settings-licence": "http://creativecommons.org/publicdomain/zero/1.0/",
        "settings-agreements": "published",
        "settings-version": row.version if row else "",
    }
    payload.update({f"settings-{k}": v for k, v in data.items()})
    return client.post("/publication/", payload)


def test_the_office_chooses_the_public_strategies_and_drafts_never_are(org, cascade, client):
    draft = Strategy.objects.create(
        code="draft", title="Draft", start_year=2026, end_year=2027, status=StrategyStatus.DRAFT
    )
    client.force_login(org.office)
    response = _post(client, strategies=[cascade.group.pk, draft.pk], contact_email="a@b.example")
    assert response.status_code == 200  # refused: a draft is no choice
    assert not StrategyPublication.objects.exists()
    response = _post(client, strategies=[cascade.group.pk], contact_email="a@b.example")
    assert response.status_code == 302
    assert list(public_strategies()) == [cascade.group]
    # Even if a public strategy goes back to draft, it is no longer public.
    Strategy.objects.filter(pk=cascade.group.pk).update(status=StrategyStatus.DRAFT)
    assert list(public_strategies()) == []


def test_switching_on_needs_a_contact_e_mail_and_the_installation(org, client, settings):
    client.force_login(org.office)
    response = _post(client, enabled="on")
    assert response.status_code == 200
    assert "contact_email" in response.context["settings_form"].errors
    assert _post(client, enabled="on", contact_email="data@x.example").status_code == 302
    settings.PEJLING_PUBLIC_SITE = False
    assert not site_is_live()
    settings.PEJLING_PUBLIC_SITE = True
    assert site_is_live()


def test_a_stale_form_is_refused_and_says_what_changed(org, client):
    client.force_login(org.office)
    assert _post(client, publisher_name="One", contact_email="a@b.example").status_code == 302
    stale = PublicationSettings.objects.get().version
    assert _post(client, publisher_name="Two", contact_email="a@b.example").status_code == 302
    response = client.post(
        "/publication/",
        {
            "form": "settings",
            "settings-publisher_name": "Three",
            "settings-licence": "http://creativecommons.org/publicdomain/zero/1.0/",
            "settings-agreements": "published",
            "settings-version": stale,
        },
    )
    assert response.status_code == 200
    assert PublicationSettings.objects.get().publisher_name == "Two"


def test_the_statement_is_saved_with_history_and_shown(org, client):
    client.force_login(org.office)
    response = client.post(
        "/publication/",
        {
            "form": "statement",
            "statement-a11y_compliance": "full",
            "statement-a11y_method": "third_party",
            "statement-a11y_non_compliance": "Our maps lack text alternatives.",
            "statement-a11y_assessed_on": "2026-10-01",
        },
    )
    assert response.status_code == 302
    assert PublicationSettings.history.count() == 1
    client.logout()
    body = client.get("/open/en/accessibility/").content.decode()
    assert "Our maps lack text alternatives." in body
    assert "fully compliant" in body
    assert "An assessment by a third party" in body
    client.force_login(org.office)
    client.post(
        "/publication/",
        {
            "form": "statement",
            "statement-a11y_compliance": "partial",
            "statement-a11y_method": "third_party",
            "statement-a11y_non_compliance": "Our maps lack text alternatives.",
            "statement-version": PublicationSettings.objects.get().version,
        },
    )
    row = PublicationSettings.history.order_by("-history_date").first()
    assert row is not None and row.history_user == org.office
    page = client.get("/publication/history/").content.decode()
    assert PublicationSettings.history.count() == 2
    assert org.office.get_full_name() in page


def test_others_may_not_see_the_page_nor_the_preview(org, client):
    client.force_login(org.head)
    assert client.get("/publication/").status_code == 403
    assert client.get("/publication/preview/sv/").status_code == 403


def test_the_preview_works_while_the_site_is_off(org, cascade, client, settings):
    settings.PEJLING_PUBLIC_SITE = False
    client.force_login(org.office)
    _post(client, strategies=[cascade.group.pk])
    body = client.get("/publication/preview/sv/").content.decode()
    assert cascade.group.title in body
    assert "/publication/preview/sv/strategies/group/" in body
    client.logout()
    assert client.get("/open/sv/").status_code == 404
