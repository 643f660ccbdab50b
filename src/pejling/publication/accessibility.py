"""The accessibility statement: the structure of the EU web accessibility directive's model
statement (Directive (EU) 2016/2102, Commission Implementing Decision (EU) 2018/1523) filled
with the organisation's texts, or sensible defaults in the reader's language where it wrote
none.

The country (its law and enforcement body) follows the installation's language
(``PEJLING_LANGUAGE``): Swedish → Sweden, Danish → Denmark, Norwegian → Norway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils.translation import gettext as _

from pejling.publication.models import AssessmentMethod, Compliance, PublicationSettings


@dataclass(frozen=True)
class Country:
    law: str
    body: str
    url: str


COUNTRIES = {
    "sv": Country(
        law="Lag (2018:1937) om tillgänglighet till digital offentlig service",
        body="Myndigheten för digital förvaltning (DIGG)",
        url="https://www.digg.se/tdosanmalan",
    ),
    "da": Country(
        law="Lov om tilgængelighed af offentlige organers websteder og mobilapplikationer",
        body="Digitaliseringsstyrelsen",
        url="https://www.was.digst.dk/",
    ),
    "nb": Country(
        law="Forskrift om universell utforming av IKT-løsninger",
        body="Tilsynet for universell utforming av ikt (Digitaliseringsdirektoratet)",
        url="https://www.uutilsynet.no/",
    ),
}


@dataclass(frozen=True)
class Statement:
    organisation: str
    country: Country
    compliance: str
    compliance_text: str
    non_compliance: str
    disproportionate: str
    out_of_scope: str
    feedback: str
    contact_email: str
    enforcement: str
    method: str
    assessed_on: date | None
    prepared_on: date | None


def _compliance_text(compliance: str) -> str:
    if compliance == Compliance.FULL:
        return _("This website is fully compliant with WCAG 2.1 level AA (EN 301 549).")
    if compliance == Compliance.NONE:
        return _("This website is not compliant with WCAG 2.1 level AA (EN 301 549).")
    return _(
        "This website is partially compliant with WCAG 2.1 level AA (EN 301 549), due to "
        "the non-compliances listed below."
    )


def statement(row: PublicationSettings) -> Statement:
    from pejling.publication.selectors import organisation_name

    country = COUNTRIES.get(settings.LANGUAGE_CODE, COUNTRIES["sv"])
    enforcement = row.a11y_enforcement or _(
        "If you are not satisfied with our answer, you can turn to %(body)s, which supervises "
        "the law on accessibility of digital public services: %(url)s"
    ) % {"body": country.body, "url": country.url}
    feedback = row.a11y_feedback or (
        _(
            "If you find a part of the website you cannot use, or need its content in another "
            "form, write to us at %(email)s. Tell us the address of the page and what did not "
            "work."
        )
        % {"email": row.contact_email}
        if row.contact_email
        else _("Tell the organisation's service desk which page did not work and how.")
    )
    return Statement(
        organisation=organisation_name(row),
        country=country,
        compliance=row.a11y_compliance,
        compliance_text=_compliance_text(row.a11y_compliance),
        non_compliance=row.a11y_non_compliance
        or _(
            "Analyses, summaries and descriptions are written by many people in the "
            "organisation; some may lack clear headings or explain abbreviations poorly. "
            "Charts are drawn as images: every chart has its figures in a table beside it."
        ),
        disproportionate=row.a11y_disproportionate,
        out_of_scope=row.a11y_out_of_scope
        or _(
            "Files published before 23 September 2018, and content of third parties that the "
            "organisation neither pays for nor controls."
        ),
        feedback=feedback,
        contact_email=row.contact_email,
        enforcement=enforcement,
        method=str(AssessmentMethod(row.a11y_method).label),
        assessed_on=row.a11y_assessed_on,
        prepared_on=row.a11y_prepared_on,
    )
