"""SAML 2.0 sign-in, end to end against a real identity provider in its own process.

The IdP is djangosaml2idp (``tests/sso/idp_saml/``), started once per test worker on a free
port of 127.0.0.1; Pejling runs in pytest-django's live server on localhost. Everything goes
over HTTP as a browser would: Pejling's log-in page → its SAML link → a signed AuthnRequest
(HTTP-Redirect) to the IdP → the IdP's log-in form → the IdP's auto-submitting form with the
SAMLResponse → POST to Pejling's assertion consumer service. Keys and certificates of both
sides are made for the run. Nothing of pysaml2 or djangosaml2 is mocked.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from pejling.config.settings import saml_sp_config
from pejling.organisation.models import Membership, MembershipSource, Role
from pejling.sso.models import GroupRole
from pejling.sso.saml import forget_config
from tests.factories import MembershipFactory, UnitFactory, UserFactory
from tests.sso.idp_saml.harness import SamlIdP, start_idp, write_key_pair

PASSWORD = "idp-pass-1234"
SAML_BACKEND = "pejling.sso.saml.SamlBackend"


# The identity provider and Pejling's SP configuration ------------------------------------


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdP]:
    idp = start_idp(tmp_path_factory.mktemp("saml-idp"))
    yield idp
    idp.stop()


@pytest.fixture(scope="session")
def sp_key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_key_pair(tmp_path_factory.mktemp("saml-sp"), "sp")


@dataclass
class Sp:
    url: str  # Pejling's base URL (the live server)
    entity_id: str
    idp: SamlIdP


@pytest.fixture
def saml(
    settings: Any,
    live_server: Any,
    transactional_db: None,
    saml_idp: SamlIdP,
    sp_key_pair: tuple[Path, Path],
) -> Iterator[Sp]:
    """Pejling with SAML on, trusting the test IdP, and registered at it from its metadata."""
    base = str(live_server.url)
    settings.LANGUAGE_CODE = "en"  # the messages are checked in English
    settings.PEJLING_SAML = {
        "enabled": True,
        "name": "Test municipality",
        "username_attribute": "uid",
        "groups_attribute": "groups",
        "metadata_cache_seconds": 3600,
    }
    settings.SAML_CONFIG = saml_sp_config(
        base_url=base,
        entity_id="",
        idp_metadata=saml_idp.metadata_url,
        key_file=str(sp_key_pair[0]),
        cert_file=str(sp_key_pair[1]),
        xmlsec=shutil.which("xmlsec1") or "xmlsec1",
    )
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, SAML_BACKEND]
    entity_id = f"{base}/sso/saml/metadata/"
    metadata = requests.get(entity_id, timeout=30)
    assert metadata.status_code == 200, metadata.text
    saml_idp.register_sp(entity_id, metadata.text)
    forget_config()
    yield Sp(url=base, entity_id=entity_id, idp=saml_idp)
    forget_config()


# A browser, roughly ------------------------------------------------------------------------


class _Forms(HTMLParser):
    """Forms (action, input values) and links of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1][1][a["name"]] = a.get("value", "")
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])


def parse(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def messages_of(html: str) -> list[str]:
    block = re.search(r'<div class="messages".*?</div>\s*</div>', html, re.S)
    if not block:
        return []
    return [unescape(m).strip() for m in re.findall(r"<p[^>]*>(.*?)</p>", block.group(0), re.S)]


@dataclass
class Answer:
    """The IdP's auto-submitting form: where it posts, and what."""

    browser: requests.Session
    action: str
    fields: dict[str, str]

    @property
    def xml(self) -> str:
        return base64.b64decode(self.fields["SAMLResponse"]).decode()

    def post(self, browser: requests.Session | None = None, **changes: str) -> requests.Response:
        return (browser or self.browser).post(
            self.action, data={**self.fields, **changes}, allow_redirects=True, timeout=30
        )


def log_in_at_idp(browser: requests.Session, page: requests.Response, username: str) -> Any:
    """Fill in the IdP's log-in form (CSRF token read from the HTML) and submit it."""
    assert page.status_code == 200, page.text
    action, fields = parse(page.text).forms[0]
    fields.update(username=username, password=PASSWORD)
    return browser.post(urljoin(page.url, action), data=fields, timeout=30)


def idp_answer(sp: Sp, username: str, *, next_path: str = "") -> Answer:
    """From Pejling's log-in page to the IdP's answer, stopping before it is posted."""
    browser = requests.Session()
    login_page = browser.get(f"{sp.url}{reverse('login')}", timeout=30)
    links = [link for link in parse(login_page.text).links if "/sso/saml/login/" in link]
    assert links, "the log-in page has no SAML button"
    start = links[0] + (f"?next={next_path}" if next_path else "")
    to_idp = browser.get(
        urljoin(login_page.url, unescape(start)), allow_redirects=False, timeout=30
    )
    assert to_idp.status_code == 302, to_idp.text
    location = to_idp.headers["Location"]
    assert location.startswith(f"{sp.idp.url}/idp/sso/redirect/"), location
    query = parse_qs(urlsplit(location).query)
    # HTTP-Redirect binding with a signed AuthnRequest (the IdP refuses unsigned ones).
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert query["Signature"][0] and query["SAMLRequest"][0]
    idp_page = browser.get(location, timeout=30)
    answer = log_in_at_idp(browser, idp_page, username)
    assert answer.status_code == 200, answer.text
    action, fields = parse(answer.text).forms[0]
    assert "SAMLResponse" in fields, answer.text
    return Answer(browser=browser, action=action, fields=fields)


def sign_in(sp: Sp, username: str, *, next_path: str = "") -> requests.Response:
    answer = idp_answer(sp, username, next_path=next_path)
    assert answer.action == f"{sp.url}/sso/saml/acs/"
    return answer.post()


def assert_refused(response: requests.Response, sp: Sp, message: str) -> None:
    assert response.status_code == 200
    assert response.url.startswith(f"{sp.url}/accounts/login/"), response.url
    shown = messages_of(response.text)
    assert any(message in m for m in shown), shown


def is_signed_in(browser: requests.Session, sp: Sp) -> bool:
    home = browser.get(f"{sp.url}/", allow_redirects=False, timeout=30)
    return home.status_code == 200


# The sign-in --------------------------------------------------------------------------------


def test_signing_in_creates_the_person_with_names_and_email(saml: Sp) -> None:
    saml.idp.add_person(
        "anna.berg", PASSWORD, first_name="Anna", last_name="Berg", email="anna.berg@kommun.se"
    )
    home = sign_in(saml, "anna.berg")

    assert home.status_code == 200 and home.url == f"{saml.url}/", home.url
    assert "Anna Berg" in home.text  # the header names the person signed in
    user = get_user_model().objects.get(username="anna.berg")
    assert (user.first_name, user.last_name, user.email) == ("Anna", "Berg", "anna.berg@kommun.se")
    assert not user.has_usable_password()


def test_next_page_is_kept_through_the_round_trip(saml: Sp) -> None:
    saml.idp.add_person("nils", PASSWORD, first_name="Nils", last_name="Ek")
    page = sign_in(saml, "nils", next_path="/organisation/")
    assert page.status_code == 200
    assert page.url == f"{saml.url}/organisation/"


def test_an_existing_local_person_is_matched_ignoring_case(saml: Sp) -> None:
    local = UserFactory(username="Bo.Ek", first_name="B", last_name="", email="")
    local.set_password("local-pass-1234")
    local.save()
    saml.idp.add_person("bo.ek", PASSWORD, first_name="Bo", last_name="Ek", email="bo@kommun.dk")

    home = sign_in(saml, "bo.ek")

    assert home.url == f"{saml.url}/" and "Bo Ek" in home.text
    assert get_user_model().objects.count() == 1
    local.refresh_from_db()
    assert (local.username, local.first_name, local.email) == ("Bo.Ek", "Bo", "bo@kommun.dk")
    assert local.check_password("local-pass-1234")  # the local password still works


def test_groups_give_roles_which_go_with_the_group(saml: Sp) -> None:
    root = UnitFactory(code="KOM", name="Kommunen")
    school = UnitFactory(parent=root, code="SKOL", name="Skolförvaltningen")
    care = UnitFactory(parent=root, code="VOF", name="Vård och omsorg")
    GroupRole.objects.create(group="pejling-strategy", unit=root, role=Role.STRATEGY_OFFICE)
    GroupRole.objects.create(group="school-heads", unit=school, role=Role.UNIT_HEAD)
    person = UserFactory(username="cecilia")
    MembershipFactory(user=person, unit=care, role=Role.EDITOR)  # granted in Pejling
    saml.idp.add_person(
        "cecilia", PASSWORD, groups=["pejling-strategy", "school-heads", "Domain Users"]
    )

    sign_in(saml, "cecilia")

    def held() -> set[tuple[str, str, str]]:
        return set(
            Membership.objects.filter(user=person).values_list("unit__code", "role", "source")
        )

    assert held() == {
        ("KOM", Role.STRATEGY_OFFICE, MembershipSource.SSO),
        ("SKOL", Role.UNIT_HEAD, MembershipSource.SSO),
        ("VOF", Role.EDITOR, MembershipSource.LOCAL),
    }

    # Out of the strategy group at the IdP: that role goes at the next sign-in, the rest stays.
    saml.idp.add_person("cecilia", PASSWORD, groups=["school-heads", "Domain Users"])
    sign_in(saml, "cecilia")
    assert held() == {
        ("SKOL", Role.UNIT_HEAD, MembershipSource.SSO),
        ("VOF", Role.EDITOR, MembershipSource.LOCAL),
    }

    # Out of every group: the IdP sends no groups attribute at all, so no roles from groups.
    saml.idp.add_person("cecilia", PASSWORD, groups=[])
    sign_in(saml, "cecilia")
    assert held() == {("VOF", Role.EDITOR, MembershipSource.LOCAL)}


def test_without_a_groups_attribute_configured_roles_are_left_alone(
    saml: Sp, settings: Any
) -> None:
    settings.PEJLING_SAML = {**settings.PEJLING_SAML, "groups_attribute": ""}
    unit = UnitFactory(code="KOM")
    GroupRole.objects.create(group="school-heads", unit=unit, role=Role.UNIT_HEAD)
    person = UserFactory(username="dan")
    MembershipFactory(user=person, unit=unit, role=Role.READER, source=MembershipSource.SSO)
    saml.idp.add_person("dan", PASSWORD, groups=["school-heads"])

    sign_in(saml, "dan")

    assert set(Membership.objects.filter(user=person).values_list("role", flat=True)) == {
        Role.READER
    }


# Refusals -----------------------------------------------------------------------------------


def test_a_tampered_response_is_refused(saml: Sp) -> None:
    saml.idp.add_person("eva", PASSWORD, first_name="Eva")
    answer = idp_answer(saml, "eva")
    xml = answer.xml
    assert "SignatureValue" in xml
    # Someone between the IdP and Pejling makes "eva" into "admin".
    tampered = re.sub(r"(<[\w:]*AttributeValue[^>]*>)eva(</)", r"\1admin\2", xml)
    assert tampered != xml

    page = answer.post(SAMLResponse=base64.b64encode(tampered.encode()).decode())

    assert_refused(page, saml, "could not be verified")
    assert not is_signed_in(answer.browser, saml)
    assert not get_user_model().objects.filter(username__in=["admin", "eva"]).exists()


def test_a_signed_response_with_an_unsigned_assertion_is_refused(saml: Sp) -> None:
    metadata = requests.get(saml.entity_id, timeout=30).text
    saml.idp.register_sp(saml.entity_id, metadata, sign_assertion=False)
    saml.idp.add_person("elin", PASSWORD, first_name="Elin")
    answer = idp_answer(saml, "elin")
    assert "Signature" in answer.xml  # the response is signed, the assertion is not

    page = answer.post()

    assert_refused(page, saml, "could not be verified")
    assert not is_signed_in(answer.browser, saml)
    assert not get_user_model().objects.filter(username="elin").exists()


def test_a_replayed_response_is_refused(saml: Sp) -> None:
    saml.idp.add_person("frida", PASSWORD, first_name="Frida")
    answer = idp_answer(saml, "frida")
    assert answer.post().url == f"{saml.url}/"  # the first use signs in

    # The same response again, from another browser (someone who copied it)...
    thief = requests.Session()
    assert_refused(answer.post(thief), saml, "does not belong to a sign-in started here")
    assert not is_signed_in(thief, saml)
    # ... or from the same one after signing out.
    answer.browser.post(
        f"{saml.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": answer.browser.cookies.get("csrftoken", "")},
        headers={"Referer": f"{saml.url}/"},
        timeout=30,
    )
    assert not is_signed_in(answer.browser, saml)
    assert_refused(answer.post(), saml, "does not belong to a sign-in started here")
    assert not is_signed_in(answer.browser, saml)


def test_an_unsolicited_response_is_refused(saml: Sp) -> None:
    """IdP-initiated sign-in: a response Pejling never asked for."""
    saml.idp.add_person("gustav", PASSWORD)
    browser = requests.Session()
    idp_page = browser.get(
        f"{saml.idp.url}/idp/sso/init/", params={"sp": saml.entity_id}, timeout=30
    )
    answer_page = log_in_at_idp(browser, idp_page, "gustav")
    action, fields = parse(answer_page.text).forms[0]
    assert action == f"{saml.url}/sso/saml/acs/" and "SAMLResponse" in fields

    page = browser.post(action, data=fields, timeout=30)

    assert_refused(page, saml, "does not belong to a sign-in started here")
    assert not is_signed_in(browser, saml)
    assert not get_user_model().objects.filter(username="gustav").exists()


def test_a_missing_user_name_attribute_is_refused(saml: Sp, settings: Any) -> None:
    settings.AXES_ENABLED = True
    settings.PEJLING_SAML = {**settings.PEJLING_SAML, "username_attribute": "employeeNumber"}
    saml.idp.add_person("hanna", PASSWORD)
    answer = idp_answer(saml, "hanna")

    page = answer.post()

    assert_refused(
        page,
        saml,
        "The identity provider did not send the attribute “employeeNumber”, which Pejling uses "
        "as your user name.",
    )
    assert not is_signed_in(answer.browser, saml)
    assert not get_user_model().objects.filter(username="hanna").exists()
    # Not a failed password: a whole office behind one address is never locked out of SSO.
    assert not AccessAttempt.objects.exists()


def test_a_person_pejling_may_not_add_is_refused_with_the_reason(saml: Sp, settings: Any) -> None:
    settings.PEJLING_SSO_CREATE_USERS = False
    saml.idp.add_person("ivar", PASSWORD)
    page = sign_in(saml, "ivar")
    assert_refused(page, saml, "There is no person with the user name ivar in Pejling")
    assert not get_user_model().objects.filter(username="ivar").exists()


def test_the_idp_refuses_an_unsigned_request(saml: Sp) -> None:
    """The harness really checks the AuthnRequest signature, so the flows above prove that
    Pejling signs its requests."""
    answer = requests.get(
        f"{saml.idp.url}/idp/sso/redirect/", params={"SAMLRequest": "x"}, timeout=30
    )
    assert answer.status_code == 400 and "unsigned" in answer.text


# Pejling's side without the IdP ----------------------------------------------------------


def test_local_password_log_in_still_works(saml: Sp) -> None:
    local = UserFactory(username="jonas", first_name="Jonas", last_name="Lund")
    local.set_password("local-pass-1234")
    local.save()
    browser = requests.Session()
    login = browser.get(f"{saml.url}/accounts/login/", timeout=30)
    assert "Log in with Test municipality" in login.text
    fields = next(f for _action, f in parse(login.text).forms if "password" in f)
    fields.update(username="jonas", password="local-pass-1234")

    home = browser.post(login.url, data=fields, headers={"Referer": login.url}, timeout=30)

    assert home.url == f"{saml.url}/" and "Jonas Lund" in home.text


def test_sp_metadata_is_public_and_asks_for_signatures(saml: Sp) -> None:
    metadata = requests.get(saml.entity_id, timeout=30)
    assert metadata.status_code == 200
    xml = metadata.text
    assert f'entityID="{saml.entity_id}"' in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml
    assert f'Location="{saml.url}/sso/saml/acs/"' in xml
    assert 'use="signing"' in xml and 'use="encryption"' in xml


def test_signing_in_when_the_idp_metadata_cannot_be_read(saml: Sp, settings: Any) -> None:
    settings.SAML_CONFIG = {
        **settings.SAML_CONFIG,
        "metadata": {"remote": [{"url": "http://127.0.0.1:9/nothing-here/"}]},
    }
    forget_config()
    browser = requests.Session()
    page = browser.get(f"{saml.url}/sso/saml/login/", timeout=60)
    assert page.url.startswith(f"{saml.url}/accounts/login/")
    assert any("is not possible right now" in m for m in messages_of(page.text))


def test_an_answer_without_saml_response_is_refused(saml: Sp) -> None:
    page = requests.post(f"{saml.url}/sso/saml/acs/", data={"RelayState": "/"}, timeout=30)
    assert page.url.startswith(f"{saml.url}/accounts/login/")
    assert messages_of(page.text)


@pytest.mark.django_db
def test_with_saml_off_the_routes_answer_404_and_no_button_shows(settings: Any) -> None:
    settings.PEJLING_SAML = {"enabled": False, "name": "SAML"}
    client = Client()
    for name in ("saml2_login", "saml2_metadata"):
        assert client.get(reverse(name)).status_code == 404
    assert client.post(reverse("saml2_acs"), {"SAMLResponse": "x"}).status_code == 404
    assert "/sso/saml/" not in client.get(reverse("login")).content.decode()


def test_an_expired_response_is_refused(saml: Sp) -> None:
    saml.idp.add_person("karin", PASSWORD)
    answer = idp_answer(saml, "karin")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)):
        page = answer.post()
    assert_refused(page, saml, "has expired or is not valid yet")
    assert not is_signed_in(answer.browser, saml)
