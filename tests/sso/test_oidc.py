"""Single sign-on with OpenID Connect, against a real provider.

The provider is django-oauth-toolkit in a second Django process (``tests/sso/idp_oidc/``),
started once per test worker with an RSA key generated for the run. Pejling runs under
pytest-django's live server and every sign-in goes over HTTP like a browser's: Pejling's
log-in page → its OpenID Connect button → the provider's log-in form → back to Pejling's
callback, which exchanges the code (with PKCE), checks the ID token's signature against the
provider's key set, and signs the person in. Nothing on either side is mocked.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse

from pejling.organisation.models import Membership, MembershipSource, Role
from pejling.sso import oidc
from pejling.sso.models import GroupRole
from tests.conftest import Org
from tests.factories import MembershipFactory, UserFactory
from tests.sso.idp_oidc.harness import Idp, start_idp

User = get_user_model()

CLIENT_ID = "pejling"
CLIENT_SECRET = "pejling-client-secret-for-the-oidc-tests"  # HS256 needs 32 bytes
HS256_CLIENT_ID = "pejling-hs256"
PASSWORD = "idp password 1"


# Fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def oidc_idp(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Idp]:
    """The provider of this test worker, which knows Pejling's live server as a client."""
    idp = start_idp(Path(tmp_path_factory.mktemp("idp_oidc")))
    try:
        callback = f"{live_server.url}/sso/oidc/callback/"
        idp.add_client(CLIENT_ID, CLIENT_SECRET, callback)
        # A client whose ID tokens are signed with HS256 (its secret), not RS256.
        idp.add_client(HS256_CLIENT_ID, CLIENT_SECRET, callback, algorithm="HS256")
        yield idp
    finally:
        idp.stop()


@pytest.fixture
def oidc_on(settings: Any, oidc_idp: Idp) -> Idp:
    """Pejling configured as in production: only the issuer, client id and secret are given,
    everything else comes from the provider's discovery document."""
    settings.PEJLING_OIDC = {
        "enabled": True,
        "name": "Kommunens konto",
        "issuer": oidc_idp.issuer,
        "username_claim": "preferred_username",
        "groups_claim": "groups",
    }
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    for name in (
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
    ):
        setattr(settings, name, "")
    if oidc.BACKEND not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, oidc.BACKEND]
    oidc.forget_discovery()
    return oidc_idp


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    """A cookie jar and English pages (the messages are checked in English)."""
    with requests.Session() as session:
        session.headers["Accept-Language"] = "en"
        yield session


# The flow -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    page: requests.Response  # where the browser ended
    callback_url: str  # the provider's answer to Pejling ("" when it never came)

    @property
    def text(self) -> str:
        return html.unescape(self.page.text)


def click_sso_button(browser: requests.Session, base_url: str) -> requests.Response:
    """Open Pejling's log-in page and follow its OpenID Connect button (to the provider)."""
    login = browser.get(f"{base_url}/accounts/login/", timeout=30)
    assert login.status_code == 200
    found = re.search(r'href="([^"]*/sso/oidc/authenticate/[^"]*)"', login.text)
    assert found, "the log-in page has no OpenID Connect button"
    return browser.get(urljoin(login.url, html.unescape(found.group(1))), timeout=30)


def sign_in(
    browser: requests.Session, base_url: str, username: str, password: str = PASSWORD
) -> Outcome:
    """The whole sign-in, as a browser does it."""
    form_page = click_sso_button(browser, base_url)
    assert form_page.status_code == 200
    assert "Test identity provider" in form_page.text, form_page.text[:500]
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page.text)
    next_field = re.search(r'name="next" value="([^"]*)"', form_page.text)
    assert csrf and next_field
    page = browser.post(
        form_page.url,
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "username": username,
            "password": password,
            "next": html.unescape(next_field.group(1)),
        },
        headers={"Referer": form_page.url},
        timeout=30,
    )
    callback = next(
        (
            r.headers["Location"]
            for r in page.history
            if "/sso/oidc/callback/" in r.headers.get("Location", "")
        ),
        "",
    )
    return Outcome(page=page, callback_url=urljoin(base_url, callback) if callback else "")


def signed_in_as(browser: requests.Session, base_url: str) -> str | None:
    """Whose name the home page shows, or None when it sends the browser to log in."""
    home = browser.get(f"{base_url}/", timeout=30, allow_redirects=False)
    if home.status_code != 200:
        return None
    found = re.search(r'<div class="site-user">\s*<span>([^<]+)</span>', home.text)
    return html.unescape(found.group(1)) if found else ""


def assert_refused(
    outcome: Outcome, browser: requests.Session, base_url: str, message: str
) -> None:
    assert outcome.callback_url, "the provider never answered Pejling"
    assert urlsplit(outcome.page.url).path == reverse("login")
    assert outcome.page.status_code == 200
    assert message in outcome.text, outcome.text
    assert signed_in_as(browser, base_url) is None


def person(idp: Idp, username: str, **claims: Any) -> str:
    """A person at the provider who sends the usual claims, overridden by ``claims``
    (a value of None leaves the claim out)."""
    sent = {
        "preferred_username": username,
        "email": f"{username}@kommun.example",
        "given_name": "Anna",
        "family_name": "Berg",
        **claims,
    }
    return idp.add_person(username, PASSWORD, **{k: v for k, v in sent.items() if v is not None})


# A full sign-in -------------------------------------------------------------------------------


def test_a_new_person_signs_in_and_is_created(
    oidc_on: Idp, live_server: Any, browser: requests.Session, db: None
) -> None:
    person(oidc_on, "anna.berg", given_name="Anna", family_name="Berg")

    outcome = sign_in(browser, live_server.url, "anna.berg")

    assert outcome.page.status_code == 200
    assert urlsplit(outcome.page.url).path == reverse("home")
    assert signed_in_as(browser, live_server.url) == "Anna Berg"
    user = User.objects.get(username="anna.berg")
    assert (user.first_name, user.last_name, user.email) == (
        "Anna",
        "Berg",
        "anna.berg@kommun.example",
    )
    assert not user.has_usable_password()
    assert not Membership.objects.filter(user=user).exists()
    # The code went with PKCE, and the provider's answer is used once only.
    query = parse_qs(urlsplit(outcome.callback_url).query)
    assert set(query) >= {"code", "state"}
    replay = browser.get(outcome.callback_url, timeout=30)
    assert urlsplit(replay.url).path == reverse("login")
    assert "Logging in with Kommunens konto did not succeed" in html.unescape(replay.text)


def test_an_existing_person_is_matched_by_user_name_ignoring_case(
    oidc_on: Idp, live_server: Any, browser: requests.Session, org: Org
) -> None:
    local: Any = UserFactory(username="Karin.Holm", first_name="K", last_name="H", email="")
    MembershipFactory(user=local, unit=org.unit, role=Role.EDITOR)
    person(oidc_on, "karin.holm", given_name="Karin", family_name="Holm")

    sign_in(browser, live_server.url, "karin.holm")

    assert signed_in_as(browser, live_server.url) == "Karin Holm"
    assert User.objects.filter(username__iexact="karin.holm").count() == 1
    local.refresh_from_db()
    assert (local.first_name, local.last_name, local.email) == (
        "Karin",
        "Holm",
        "karin.holm@kommun.example",
    )
    # The provider sent no groups claim: no roles from groups; the local role stays as it was.
    assert Membership.objects.get(user=local).role == Role.EDITOR


def test_the_user_name_and_groups_claims_are_configurable(
    oidc_on: Idp, live_server: Any, browser: requests.Session, org: Org, settings: Any
) -> None:
    settings.PEJLING_OIDC = {
        **settings.PEJLING_OIDC,
        "username_claim": "upn",
        "groups_claim": "roles",
    }
    GroupRole.objects.create(group="Pejling.Readers", unit=org.dept_a2, role=Role.READER)
    person(
        oidc_on,
        "ignored-login-name",
        upn="Per.Persson@kommun.example",
        roles=["Pejling.Readers"],
        groups=["ignored"],
    )

    sign_in(browser, live_server.url, "ignored-login-name")

    user = User.objects.get(username="Per.Persson@kommun.example")
    assert signed_in_as(browser, live_server.url) == "Anna Berg"
    assert list(Membership.objects.filter(user=user).values_list("unit", "role", "source")) == [
        (org.dept_a2.pk, Role.READER, MembershipSource.SSO)
    ]


# Groups and roles ---------------------------------------------------------------------------


def test_groups_give_roles_at_each_sign_in_and_local_grants_stay(
    oidc_on: Idp, live_server: Any, org: Org
) -> None:
    GroupRole.objects.create(group="strategikontoret", unit=org.root, role=Role.STRATEGY_OFFICE)
    GroupRole.objects.create(group="a1-redaktorer", unit=org.dept_a1, role=Role.EDITOR)
    GroupRole.objects.create(group="a1-redaktorer", unit=org.unit, role=Role.READER)
    local: Any = UserFactory(username="lena")
    MembershipFactory(user=local, unit=org.unit, role=Role.MEMBER)

    def held() -> set[tuple[str, str, str]]:
        return set(
            Membership.objects.filter(user=local).values_list("unit__code", "role", "source")
        )

    def sign_in_with(groups: list[str] | None) -> None:
        person(oidc_on, "lena", groups=groups)
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "en"
            sign_in(browser, live_server.url, "lena")
            assert signed_in_as(browser, live_server.url) == "Anna Berg"

    sign_in_with(["strategikontoret", "a1-redaktorer", "some-other-group"])
    assert held() == {
        ("unit-a1a", Role.MEMBER, MembershipSource.LOCAL),
        ("exec", Role.STRATEGY_OFFICE, MembershipSource.SSO),
        ("dept-a1", Role.EDITOR, MembershipSource.SSO),
        ("unit-a1a", Role.READER, MembershipSource.SSO),
    }

    # Out of the strategy office: that role goes at the next sign-in, the others stay.
    sign_in_with(["a1-redaktorer"])
    assert held() == {
        ("unit-a1a", Role.MEMBER, MembershipSource.LOCAL),
        ("dept-a1", Role.EDITOR, MembershipSource.SSO),
        ("unit-a1a", Role.READER, MembershipSource.SSO),
    }

    # An empty list is an answer: no group, no role from groups. The local grant stays.
    sign_in_with([])
    assert held() == {("unit-a1a", Role.MEMBER, MembershipSource.LOCAL)}

    # No groups claim at all: providers leave out an empty claim, so that means no group too.
    sign_in_with(["a1-redaktorer"])
    assert len(held()) == 3
    sign_in_with(None)
    assert held() == {("unit-a1a", Role.MEMBER, MembershipSource.LOCAL)}


def test_entra_ids_group_overage_reference_leaves_roles_alone(settings: Any) -> None:
    """Entra ID sends ``_claim_names`` instead of ``groups`` beyond 200 groups: unknown, not none."""
    settings.PEJLING_OIDC = {**settings.PEJLING_OIDC, "groups_claim": "groups"}
    overage = {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {}}}
    assert oidc.groups_from_claims(overage) is None
    assert oidc.groups_from_claims({}) == []
    assert oidc.groups_from_claims({"groups": "one"}) == ["one"]
    settings.PEJLING_OIDC = {**settings.PEJLING_OIDC, "groups_claim": ""}
    assert oidc.groups_from_claims({"groups": ["x"]}) is None


# Tokens that must be refused ----------------------------------------------------------------

FAILED = "Logging in with Kommunens konto did not succeed."


def test_an_id_token_not_signed_by_the_providers_key_is_refused(
    oidc_on: Idp,
    live_server: Any,
    browser: requests.Session,
    settings: Any,
    db: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The key set Pejling checks against holds another RSA key under the same key id: the
    real provider's genuine token then fails the signature check."""
    settings.OIDC_OP_JWKS_ENDPOINT = oidc_on.wrong_jwks_url
    person(oidc_on, "mallory")

    outcome = sign_in(browser, live_server.url, "mallory")

    assert_refused(outcome, browser, live_server.url, FAILED)
    assert "Signature verification failed" in caplog.text  # refused for this reason, not another
    assert not User.objects.filter(username="mallory").exists()


def test_the_same_sign_in_passes_with_the_providers_real_key(
    oidc_on: Idp, live_server: Any, browser: requests.Session, db: None
) -> None:
    """The counterpart of the test above: only the key set differs."""
    person(oidc_on, "mallory")
    sign_in(browser, live_server.url, "mallory")
    assert signed_in_as(browser, live_server.url) == "Anna Berg"


def test_an_id_token_for_another_audience_is_refused(
    oidc_on: Idp,
    live_server: Any,
    browser: requests.Session,
    db: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    person(oidc_on, "eve", aud="another-application")

    outcome = sign_in(browser, live_server.url, "eve")

    assert_refused(outcome, browser, live_server.url, FAILED)
    assert "Audience doesn't match" in caplog.text  # refused for this reason, not another
    assert not User.objects.filter(username="eve").exists()


def _explicit_endpoints(settings: Any, idp: Idp) -> None:
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{idp.issuer}/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{idp.issuer}/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{idp.issuer}/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{idp.issuer}/.well-known/jwks.json"


def test_explicit_endpoints_work_without_discovery(
    oidc_on: Idp, live_server: Any, browser: requests.Session, settings: Any, db: None
) -> None:
    _explicit_endpoints(settings, oidc_on)
    person(oidc_on, "ines")
    sign_in(browser, live_server.url, "ines")
    assert signed_in_as(browser, live_server.url) == "Anna Berg"


def test_an_id_token_from_another_issuer_is_refused(
    oidc_on: Idp,
    live_server: Any,
    browser: requests.Session,
    settings: Any,
    db: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pejling trusts one issuer (say, one Entra ID tenant); a token of another is refused
    even when it comes from the endpoints Pejling was given."""
    _explicit_endpoints(settings, oidc_on)
    settings.PEJLING_OIDC = {**settings.PEJLING_OIDC, "issuer": f"{oidc_on.url}/other-tenant"}
    person(oidc_on, "trudy")

    outcome = sign_in(browser, live_server.url, "trudy")

    assert_refused(outcome, browser, live_server.url, FAILED)
    assert "ID token from the issuer" in caplog.text  # refused for this reason, not another
    assert not User.objects.filter(username="trudy").exists()


def test_an_id_token_signed_with_a_shared_secret_is_refused(
    oidc_on: Idp,
    live_server: Any,
    browser: requests.Session,
    settings: Any,
    db: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """HS256 instead of RS256 (the algorithm-confusion attack): refused however valid."""
    settings.OIDC_RP_CLIENT_ID = HS256_CLIENT_ID
    person(oidc_on, "oscar")

    outcome = sign_in(browser, live_server.url, "oscar")

    assert_refused(outcome, browser, live_server.url, FAILED)
    assert (
        "token signed with 'HS256', expected 'RS256'" in caplog.text
    )  # refused for this reason, not another
    assert not User.objects.filter(username="oscar").exists()


def test_a_wrong_client_secret_is_refused_by_the_provider_and_shown_calmly(
    oidc_on: Idp,
    live_server: Any,
    browser: requests.Session,
    settings: Any,
    db: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.OIDC_RP_CLIENT_SECRET = "not-the-secret"
    person(oidc_on, "walter")

    outcome = sign_in(browser, live_server.url, "walter")

    assert_refused(outcome, browser, live_server.url, FAILED)
    assert "invalid_client" in caplog.text  # refused for this reason, not another
    assert not User.objects.filter(username="walter").exists()


def test_a_person_without_the_user_name_claim_is_refused_with_a_message(
    oidc_on: Idp, live_server: Any, browser: requests.Session, db: None
) -> None:
    person(oidc_on, "nameless", preferred_username=None)

    outcome = sign_in(browser, live_server.url, "nameless")

    assert_refused(
        outcome,
        browser,
        live_server.url,
        "Kommunens konto did not send “preferred_username”, which Pejling uses as your user name.",
    )
    assert not User.objects.filter(username__in=["nameless", ""]).exists()


def test_a_deactivated_person_is_refused_with_a_message(
    oidc_on: Idp, live_server: Any, browser: requests.Session, db: None
) -> None:
    UserFactory(username="gone", is_active=False)
    person(oidc_on, "gone")

    outcome = sign_in(browser, live_server.url, "gone")

    assert_refused(outcome, browser, live_server.url, "Your account in Pejling is deactivated.")


def test_a_cancelled_sign_in_returns_to_the_log_in_page(
    oidc_on: Idp, live_server: Any, browser: requests.Session, db: None
) -> None:
    to_provider = click_sso_button(browser, live_server.url)
    state = parse_qs(urlsplit(parse_qs(urlsplit(to_provider.url).query)["next"][0]).query)["state"][
        0
    ]

    page = browser.get(
        f"{live_server.url}/sso/oidc/callback/",
        params={"error": "access_denied", "state": state},
        timeout=30,
    )

    assert urlsplit(page.url).path == reverse("login")
    assert "Kommunens konto did not log you in." in html.unescape(page.text)


# Starting the sign-in -----------------------------------------------------------------------


def test_the_sign_in_starts_with_pkce_state_and_nonce(
    oidc_on: Idp, live_server: Any, browser: requests.Session, db: None
) -> None:
    response = browser.get(
        f"{live_server.url}/sso/oidc/authenticate/", allow_redirects=False, timeout=30
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{oidc_on.issuer}/authorize/?")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == [f"{live_server.url}/sso/oidc/callback/"]
    assert query["code_challenge_method"] == ["S256"]
    assert {"state", "nonce", "code_challenge"} <= set(query)


def test_an_unreachable_provider_is_a_message_not_an_error(
    oidc_on: Idp, live_server: Any, browser: requests.Session, settings: Any, db: None
) -> None:
    settings.PEJLING_OIDC = {**settings.PEJLING_OIDC, "issuer": "http://127.0.0.1:9/nowhere"}
    oidc.forget_discovery()

    page = click_sso_button(browser, live_server.url)

    assert urlsplit(page.url).path == reverse("login")
    assert "Kommunens konto cannot be reached just now." in html.unescape(page.text)


def test_without_oidc_configured_its_pages_are_not_there(
    live_server: Any, browser: requests.Session, db: None
) -> None:
    for path in ("/sso/oidc/authenticate/", "/sso/oidc/callback/?code=x&state=y"):
        assert browser.get(f"{live_server.url}{path}", timeout=30).status_code == 404
    assert "/sso/oidc/" not in browser.get(f"{live_server.url}/accounts/login/", timeout=30).text


# Local accounts -----------------------------------------------------------------------------


def test_local_password_log_in_still_works_with_oidc_on(
    oidc_on: Idp, live_server: Any, browser: requests.Session, settings: Any, db: None
) -> None:
    """And needs no provider: with the issuer unreachable, a password log-in still works
    (no discovery document is fetched for it), with django-axes switched on as in production."""
    settings.AXES_ENABLED = True
    settings.PEJLING_OIDC = {**settings.PEJLING_OIDC, "issuer": "http://127.0.0.1:9/nowhere"}
    oidc.forget_discovery()
    UserFactory(username="local.person", first_name="Lokal", last_name="Person")

    login = browser.get(f"{live_server.url}/accounts/login/", timeout=30)
    assert "Log in with Kommunens konto" in html.unescape(login.text)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
    assert csrf
    page = browser.post(
        login.url,
        data={
            "csrfmiddlewaretoken": csrf.group(1),
            "username": "local.person",
            "password": "correct horse battery staple",
        },
        headers={"Referer": login.url},
        timeout=30,
    )

    assert urlsplit(page.url).path == reverse("home")
    assert signed_in_as(browser, live_server.url) == "Lokal Person"
