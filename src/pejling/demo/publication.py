"""The demo's public site: switched on, with the four published strategies and the indicators
behind their goals public, and things that must never reach a citizen to test against: a draft
strategy, an indicator that is not public and an internal comment (the demo's agreements
already include drafts and a submitted one)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model

from pejling.agreements.models import Agreement, AgreementState
from pejling.core.history import SYSTEM
from pejling.demo.util import save_if_changed
from pejling.followup import services as followup_services
from pejling.followup.models import Comment
from pejling.indicators.models import Aggregation, Direction, Indicator, MeasureUnit, Periodicity
from pejling.publication import selectors, services
from pejling.publication.models import AgreementExposure, Compliance, Licence
from pejling.strategy import services as strategy_services
from pejling.strategy.models import Element, Strategy, StrategyLevel, StrategyStatus
from pejling.strategy.selectors import PUBLIC_STATUSES

DRAFT_STRATEGY = {
    "code": "klimatstrategi-2027-2030",
    "title": "Klimatomställning 2027–2030 (utkast)",
    "summary": "Utkast under beredning: hur kommunens verksamheter halverar sina utsläpp.",
    "start_year": 2027,
    "end_year": 2030,
}
DRAFT_GOAL = "Kommunens egna fordon går på förnybart bränsle"
HIDDEN_INDICATOR = {
    "code": "OVERTID_INTERN",
    "name": "Övertidstimmar per chef (intern uppföljning)",
    "measure_unit": MeasureUnit.HOURS,
    "direction": Direction.LOWER,
    "periodicity": Periodicity.MONTH,
    "aggregation": Aggregation.SUM,
    "source": "Lönesystemet",
}
INTERNAL_COMMENT = "Intern fråga: kan vi stämma av bemanningen på nästa arbetsplatsträff?"


def load_publication(office: Any) -> None:
    draft, _ = save_if_changed(
        Strategy,
        save=lambda s: strategy_services.strategy_save(strategy=s, by=SYSTEM),
        code=DRAFT_STRATEGY["code"],
        defaults={
            **{k: v for k, v in DRAFT_STRATEGY.items() if k != "code"},
            "status": StrategyStatus.DRAFT,
            "position": 9,
        },
    )
    level, _ = save_if_changed(
        StrategyLevel,
        save=lambda lv: strategy_services.strategy_level_save(level=lv, by=SYSTEM),
        strategy=draft,
        depth=1,
        defaults={"name": "Fokusområde", "name_plural": "Fokusområden", "holds_goals": True},
    )
    save_if_changed(
        Element,
        save=lambda e: strategy_services.element_save(element=e, by=SYSTEM),
        strategy=draft,
        code="K1",
        defaults={"title": DRAFT_GOAL, "level": level, "parent": None, "position": 1},
    )
    save_if_changed(
        Indicator,
        save=lambda i: i.save(),
        code=HIDDEN_INDICATOR["code"],
        defaults={k: v for k, v in HIDDEN_INDICATOR.items() if k != "code"},
    )
    _comment(office)
    row = selectors.publication_settings()
    wanted = {
        "enabled": True,
        "publisher_name": "Fjärdviks kommun",
        "contact_email": "kommunen@fjardvik.example",
        "licence": Licence.CC0,
        "agreements": AgreementExposure.PUBLISHED,
        "show_owner_names": False,
        "a11y_compliance": Compliance.PARTIAL,
        "a11y_assessed_on": date(2026, 11, 20),
        "a11y_prepared_on": date(2026, 11, 27),
    }
    if any(getattr(row, k) != v for k, v in wanted.items()) or row._state.adding:
        for key, value in wanted.items():
            setattr(row, key, value)
        services.settings_save(row=row, by=SYSTEM)
    services.strategies_publish(
        public=Strategy.objects.filter(status__in=PUBLIC_STATUSES), by=SYSTEM
    )
    services.indicators_publish(
        public=Indicator.objects.exclude(code=HIDDEN_INDICATOR["code"]), by=SYSTEM
    )


def _comment(office: Any) -> None:
    if Comment.objects.filter(body=INTERNAL_COMMENT).exists():
        return
    agreement = (
        Agreement.objects.filter(state=AgreementState.PUBLISHED).order_by("unit__path").first()
    )
    author = get_user_model().objects.filter(username="avdelningschef").first() or office
    if agreement is not None:
        followup_services.comment_add(by=author, body=INTERNAL_COMMENT, agreement=agreement)
