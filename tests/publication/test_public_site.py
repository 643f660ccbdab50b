"""The public site and its open data, anonymously, against the demo organisation: every public
URL, searched for what must never be public (a draft strategy, a submitted and a draft
agreement's initiatives, an indicator that is not public, a comment, people's e-mail
addresses); the caching and security headers; the site switched off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from pejling.agreements.models import Agreement, AgreementState, Initiative
from pejling.demo.publication import (
    DRAFT_GOAL,
    DRAFT_STRATEGY,
    HIDDEN_INDICATOR,
    INTERNAL_COMMENT,
)
from pejling.followup.models import Comment
from pejling.publication import selectors
from pejling.publication.data import DATASETS, FILES
from tests.demo_snapshot import demo_restored

pytestmark = pytest.mark.django_db

SUBMITTED_SECRET = "Hemlig insats i en inskickad verksamhetsplan"
DRAFT_SECRET = "Hemlig insats i ett utkast"


@pytest.fixture(scope="module")
def demo(demo_snapshot: str, django_db_blocker: Any) -> Iterator[None]:
    """The demo (the rows ``pejling demo`` wrote once for this test process, see
    tests/conftest.py), with a recognisable initiative in a submitted and in a draft
    agreement; rolled back at the end."""
    with django_db_blocker.unblock(), demo_restored():
        for state, title in (
            (AgreementState.SUBMITTED, SUBMITTED_SECRET),
            (AgreementState.DRAFT, DRAFT_SECRET),
        ):
            agreement = Agreement.objects.filter(state=state, versions__isnull=True).first()
            assert agreement is not None, state
            Initiative.objects.create(agreement=agreement, title=title, description=title)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def site_on(settings: Any) -> None:
    settings.PEJLING_PUBLIC_SITE = True


def secrets() -> list[str]:
    emails = [e for e in get_user_model().objects.values_list("email", flat=True) if e]
    return [
        DRAFT_STRATEGY["title"],
        DRAFT_GOAL,
        SUBMITTED_SECRET,
        DRAFT_SECRET,
        HIDDEN_INDICATOR["name"],
        INTERNAL_COMMENT,
        *emails,
    ]


def public_pages(client: Client) -> dict[str, str]:
    """Every public page reachable by links from the start page: {URL: body}."""
    pages: dict[str, str] = {}
    queue = ["/open/sv/", "/open/sv/agreements/", "/open/sv/indicators/", "/open/sv/data/"]
    while queue:
        url = queue.pop()
        if url in pages:
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content.decode()
        for link in re.findall(r'href="(/open/[^"#?]*)"', pages[url]):
            if link.startswith("/open/sv/") and link not in pages:
                queue.append(link)
    return pages


def test_nothing_unpublished_is_on_any_public_page_nor_in_the_open_data(demo, site_on, client):
    assert Comment.objects.filter(body=INTERNAL_COMMENT).exists()
    # Each page is searched as the crawl fetched it (nothing is written between).
    pages = public_pages(client)
    assert len(pages) > 60, sorted(pages)
    files = [f"/open/data/{name}" for name in FILES]
    files += ["/open/data/catalog.jsonld", "/open/data/catalog.ttl", "/open/data/catalog.rdf"]
    for url in files:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content.decode()
    hidden = secrets()
    for url, body in pages.items():
        for secret in hidden:
            assert secret not in body, (secret, url)
    # Searching for them finds nothing (the page repeats the query, and nothing else).
    for secret in hidden:
        body = client.get("/open/en/search/", {"q": secret[:40]}).content.decode()
        assert 'role="status">0 hits' in body, secret


def test_the_public_pages_show_what_is_published(demo, site_on, client):
    home = client.get("/open/sv/").content.decode()
    assert "Koncernstrategi" in home or "koncernstrategi" in home
    goal = client.get("/open/sv/strategies/koncernstrategi-2025-2026/T3.1/").content.decode()
    assert "<svg" in goal and "<table" in goal  # the chart and its figures
    assert "Tertialrapport 1 2026" in goal  # the analysis of the finalised report
    published = selectors.published_agreements()
    assert published and all(a.state == AgreementState.PUBLISHED for a in published)
    agreement = published[0]
    page = client.get(f"/open/en/agreements/{agreement.year}/{agreement.unit.code}/")
    assert agreement.initiatives[0].title in page.content.decode()


def test_drafts_and_unpublished_things_answer_not_found(demo, site_on, client):
    assert client.get(f"/open/sv/strategies/{DRAFT_STRATEGY['code']}/").status_code == 404
    assert client.get(f"/open/sv/indicators/{HIDDEN_INDICATOR['code']}/").status_code == 404
    draft = Agreement.objects.filter(state=AgreementState.DRAFT, versions__isnull=True).first()
    assert draft is not None
    url = f"/open/sv/agreements/{draft.year}/{draft.unit.code}/"
    response = client.get(url)
    assert response.status_code == 404
    assert not response.cookies
    assert client.get("/open/xx/").status_code == 404


def test_public_answers_are_cacheable_with_validators_and_set_no_cookie(demo, site_on, client):
    for url in ("/open/sv/", "/open/data/goals.csv", "/open/data/catalog.ttl"):
        response = client.get(url)
        assert response.status_code == 200
        assert not response.cookies, url  # no session, no CSRF cookie
        cache = response["Cache-Control"]
        assert "public" in cache and "max-age=" in cache and "private" not in cache
        assert response["ETag"] and response["Last-Modified"]
        again = client.get(url, headers={"If-None-Match": response["ETag"]})
        assert again.status_code == 304
        since = client.get(url, headers={"If-Modified-Since": response["Last-Modified"]})
        assert since.status_code == 304
        # The security headers of the rest of the app.
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_signed_in_pages_and_the_preview_are_never_publicly_cacheable(demo, client):
    office = get_user_model().objects.get(username="strategi")
    client.force_login(office)
    for url in ("/", "/strategies/", "/publication/", "/publication/preview/sv/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_a_signed_in_person_gets_the_same_public_page(demo, site_on, client):
    anonymous = client.get("/open/sv/")
    client.force_login(get_user_model().objects.get(username="strategi"))
    signed_in = client.get("/open/sv/")
    assert signed_in["ETag"] == anonymous["ETag"]
    assert not signed_in.cookies


def test_with_the_site_switched_off_only_the_accessibility_statement_answers(demo, client):
    # The installation's default: PEJLING_PUBLIC_SITE off.
    assert client.get("/open/sv/").status_code == 404
    assert client.get("/open/data/goals.json").status_code == 404
    response = client.get("/open/sv/accessibility/")
    assert response.status_code == 200
    body = response.content.decode()
    for heading in ("Tillgänglighetsredogörelse", "DIGG"):
        assert heading in body


def test_every_page_is_in_four_languages_with_links_between_them(demo, site_on, client):
    for lang in ("sv", "da", "nb", "en"):
        response = client.get(f"/open/{lang}/agreements/")
        assert response["Content-Language"] == lang
        body = response.content.decode()
        assert f'<html lang="{lang}"' in body
        for other in ("sv", "da", "nb", "en"):
            assert f'hreflang="{other}"' in body


def test_every_distribution_of_the_catalogue_is_a_file(demo):
    names = {d.filename for dataset in DATASETS for d in dataset.distributions}
    assert names == set(FILES)


def test_csv_cells_never_run_as_formulas(demo, site_on, client):
    agreement = Agreement.objects.filter(state=AgreementState.PUBLISHED).first()
    assert agreement is not None
    Initiative.objects.create(agreement=agreement, title="=HYPERLINK(1)")
    body = client.get("/open/data/initiatives.csv").content.decode()
    assert ",'=HYPERLINK(1)," in body


def test_search_explains_a_query_too_short(demo, site_on, client):
    body = client.get("/open/en/search/?q=x").content.decode()
    assert "at least 2 characters" in body
