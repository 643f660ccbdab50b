"""The demo's development portfolio for Fjärdviks kommun, in our own words.

A dialogue workshop in home care brings up three challenges, one with a full user journey
(reporting a broken wheelchair to rehab); the care leadership team, spanning unit head to
committee chair, assigns two and parks one on the spot. Earlier decisions and a top-down
assignment from the executive board put assignments in every stage; benefits are expected and
partly realised, and freed hours are reinvested in another unit. Everything goes through the
portfolio's services, so the demo carries real history. Loaded once: a second run changes
nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from pejling.indicators.models import Indicator
from pejling.organisation.models import Membership, Role, Unit
from pejling.organisation.permissions import forget_memberships
from pejling.portfolio import services
from pejling.portfolio.models import (
    Assignment,
    BenefitClass,
    ChallengeKind,
    DecisionKind,
    Measure,
    Placement,
    Stage,
    Workshop,
)
from pejling.portfolio.services import (
    BenefitInput,
    ChallengeInput,
    DecisionInput,
    PlacementInput,
    StageInput,
    StepInput,
    YearInput,
)
from pejling.strategy.models import Element

WORKSHOP_TITLE = "Dialogworkshop hemtjänst: våra användarresor"

WHEELCHAIR_JOURNEY = [
    (
        "Undersköterska",
        "Upptäcker hos brukaren att rullstolens broms inte tar.",
        "Brukaren kan inte lämnas ensam i stolen; besöket drar över tiden.",
        2,
        "",
    ),
    (
        "Undersköterska",
        "Letar efter rätt blankett i verksamhetssystemet på mobilen.",
        "Fem menyer djupt, och blanketten heter något annat än det man söker efter.",
        1,
        "En knapp: ”Anmäl fel på hjälpmedel” direkt i brukarens vy.",
    ),
    (
        "Undersköterska",
        "Fyller i hjälpmedlets nummer, som står under sitsen.",
        "Brukaren måste resa sig för att numret ska gå att läsa.",
        1,
        "Fota märkningen med mobilen i stället för att skriva av den.",
    ),
    (
        "Samordnare i hemtjänsten",
        "Skickar anmälan vidare till rehab via funktionsbrevlådan.",
        "Anmälan ligger kvar över helgen när ingen läser brevlådan.",
        2,
        "Anmälan hamnar direkt i rehabs ärendekö.",
    ),
    (
        "Arbetsterapeut på rehab",
        "Ringer tillbaka för att fråga vad som är trasigt.",
        "Uppgifterna räcker inte; tre samtal innan någon vet vad som behövs.",
        2,
        "Obligatoriska frågor om felet och en bild redan i anmälan.",
    ),
    (
        "Brukare",
        "Får en lånerullstol efter sju dagar och sin egen lagad efter tolv.",
        "Sitter hemma under tiden och ställer in sin dagverksamhet.",
        1,
        "Lånestol samma dag när felet gör stolen osäker.",
    ),
]

PLANS_JOURNEY = [
    (
        "Vikarie i hemtjänsten",
        "Kommer till en ny brukare utan att ha läst genomförandeplanen.",
        "Planen finns bara i verksamhetssystemet, som vikarier saknar behörighet till.",
        1,
        "En kort sammanfattning av planen som brukaren själv godkänt, tillgänglig på plats.",
    ),
    (
        "Brukare",
        "Förklarar för tredje gången samma vecka hur hen vill ha sin frukost.",
        "Känner sig inte lyssnad på.",
        2,
        "",
    ),
    (
        "Kontaktperson",
        "Uppdaterar planen efter uppföljningssamtalet.",
        "Ändringen når inte de kollegor som går nästa pass.",
        3,
        "Ändringar syns för alla som har besöket i sitt schema.",
    ),
]


def _person(username: str, first: str, last: str, unit: Unit, role: str, title: str) -> Any:
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@fjardvik.example"},
    )
    if created:
        user.set_unusable_password()
        user.save()
    Membership.objects.get_or_create(user=user, unit=unit, role=role, defaults={"title": title})
    return user


def load_portfolio() -> None:
    if Workshop.objects.filter(title=WORKSHOP_TITLE).exists():
        return  # already loaded; never duplicate or overwrite what users have written
    units = {u.code: u for u in Unit.objects.all()}
    users = {u.username: u for u in get_user_model().objects.all()}
    goals = {
        e.code: e
        for e in Element.objects.filter(
            strategy__code__in=["koncernstrategi-2025-2026", "digitaliseringsstrategi"]
        )
    }
    office, director = users["strategi"], users["direktor"]
    centre_head, dept_head = users["forvaltningschef"], users["avdelningschef"]
    unit_head, employee = users["enhetschef"], users["medarbetare"]
    south_head, rehab_head = users["chef-vof-hem-syd"], users["chef-vof-hsr-reh"]
    chair_of_committee = _person(
        "namndordforande",
        "Gunnel",
        "Åkesson",
        units["VOF"],
        Role.READER,
        "Ordförande i vård- och omsorgsnämnden",
    )
    for user in users.values():
        forget_memberships(user)

    team = services.team_save(
        by=office,
        name="Ledningsteam vård och omsorg",
        description=(
            "Från enhetschef till nämndens ordförande: teamet undanröjer hinder för "
            "verksamhetens utvecklingsarbete och fattar beslut på plats."
        ),
        chair=centre_head,
        members=[dept_head, unit_head, users["chef-vof-hsr"], chair_of_committee, centre_head],
    )

    _earlier_round(units, goals, office, team, centre_head, dept_head, south_head)
    wheelchair, plans, nursing_home = _workshop(units, goals, office, employee, unit_head)
    meeting = services.meeting_create(
        team=team,
        by=centre_head,
        held_on=date(2026, 2, 5),
        agenda=[wheelchair, plans, nursing_home],
        notes="Workshopens tre utmaningar, presenterade av medarbetarna själva.",
    )
    services.decide(
        team=team,
        by=centre_head,
        meeting=meeting,
        decided_on=meeting.held_on,
        decisions=[
            DecisionInput(
                challenge=wheelchair,
                kind=DecisionKind.ASSIGN,
                rationale=(
                    "Alla i rummet känner igen problemet, och det drabbar brukarna direkt. "
                    "Hemtjänst norr leder arbetet tillsammans med rehab."
                ),
                unit=units["VOF-HEM-NOR"],
                lead=unit_head,
                goals=[goals["D4.1"], goals["T1.1"]],
            ),
            DecisionInput(
                challenge=plans,
                kind=DecisionKind.ASSIGN,
                rationale="Bättre kontinuitet för brukarna och tryggare vikarier.",
                unit=units["VOF-HEM-SYD"],
                lead=south_head,
                goals=[goals["D1.1"]],
            ),
            DecisionInput(
                challenge=nursing_home,
                kind=DecisionKind.PARK,
                rationale=(
                    "Lärdomarna behövs när lokalförsörjningsplanen tas fram; tas upp igen "
                    "när byggprojektet startar."
                ),
                parked_until=date(2026, 9, 1),
            ),
        ],
    )
    _wheelchair_assignment(wheelchair, units, goals, unit_head, rehab_head)
    _plans_assignment(plans, south_head)
    services.assignment_give(
        by=director,
        issued_by="Kommunstyrelsen",
        title="Utred digital nattillsyn i hela hemtjänsten",
        description=(
            "Vård- och omsorgsförvaltningen ska utreda hur digital nattillsyn kan erbjudas alla "
            "brukare i hemtjänsten som önskar det, med kostnader, effekter och risker, och "
            "återrapportera till kommunstyrelsen."
        ),
        unit=units["VOF-HEM"],
        lead=dept_head,
        goals=[goals["D4.2"]],
        given_on=date(2026, 11, 16),
        due_date=date(2027, 4, 30),
    )


def _workshop(
    units: dict[str, Unit], goals: dict[str, Element], office: Any, employee: Any, unit_head: Any
) -> tuple[Any, Any, Any]:
    workshop = services.workshop_record(
        by=office,
        title=WORKSHOP_TITLE,
        held_on=date(2026, 1, 22),
        place="Kommunhuset, sal Ejdern",
        units=[units["VOF-HEM-NOR"], units["VOF-HEM-SYD"], units["VOF-HSR-REH"]],
        notes=(
            "Medarbetare från hemtjänsten och rehab beskrev tre användarresor i en kreativ "
            "dialog. Ledningsteamet var på plats och tog upp utmaningarna på sitt möte två "
            "veckor senare."
        ),
        challenges=[
            ChallengeInput(
                title="Att anmäla en trasig rullstol till rehab tar för lång tid",
                unit=units["VOF-HEM-NOR"],
                description=(
                    "Ärendeprocessen i IT-stödet är krånglig: det tar en kvart att anmäla ett "
                    "fel, anmälan fastnar i en funktionsbrevlåda och brukaren blir utan "
                    "fungerande rullstol i upp till tolv dagar."
                ),
                goals=[goals["D4"], goals["D4.1"]],
                links="https://intranat.fjardvik.example/hjalpmedel/anmalan",
            ),
            ChallengeInput(
                title="Genomförandeplanen behövs där brukaren bor",
                unit=units["VOF-HEM-SYD"],
                description=(
                    "Vikarier och nya kollegor har inte tillgång till brukarens "
                    "genomförandeplan på plats, så brukaren får förklara samma saker om och om "
                    "igen."
                ),
                goals=[goals["D1"]],
            ),
            ChallengeInput(
                title="Tips inför nästa nybyggda äldreboende",
                kind=ChallengeKind.IDEA,
                unit=units["VOF-SAB"],
                description=(
                    "Personalen på Lindgården och Sjöglimten vet vad som fungerar i dagens "
                    "lokaler och vad som inte gör det: förråd nära, korta gångavstånd, "
                    "ljudisolerade rum för samtal."
                ),
                goals=[goals["T1"]],
            ),
        ],
    )
    wheelchair, plans, nursing_home = workshop.challenges.order_by("pk")
    for journey, challenge in ((WHEELCHAIR_JOURNEY, wheelchair), (PLANS_JOURNEY, plans)):
        for actor, action, pain, feeling, opportunity in journey:
            services.journey_step_add(
                challenge=challenge,
                by=office,
                data=StepInput(
                    actor=actor,
                    action=action,
                    pain_point=pain,
                    feeling=feeling,
                    opportunity=opportunity,
                ),
            )
    for user in (employee, unit_head):
        services.challenge_support(challenge=wheelchair, by=user)
    services.challenge_support(challenge=plans, by=employee)
    services.challenge_comment(
        challenge=wheelchair,
        by=employee,
        body="Det här händer oss varje vecka. Bra att det äntligen tas upp!",
    )
    services.challenge_submit(
        by=employee,
        data=ChallengeInput(
            title="Dubbelbokade besök när schemat ändras sent",
            unit=units["VOF-HEM-NOR"],
            description=(
                "När ett besök flyttas efter klockan 15 dagen innan hamnar det ibland hos två "
                "kollegor samtidigt, och ett annat besök blir utan personal."
            ),
            goals=[goals["D4"]],
        ),
    )
    return wheelchair, plans, nursing_home


def _earlier_round(
    units: dict[str, Unit],
    goals: dict[str, Element],
    office: Any,
    team: Any,
    centre_head: Any,
    dept_head: Any,
    south_head: Any,
) -> list[Assignment]:
    """Decisions from the autumn before: assignments now in develop, implement and stopped."""
    titles = [
        (
            "Digitala inköpslistor för brukare",
            units["VOF-HEM-SYD"],
            "Inköpslistorna skrivs för hand och tolkas fel i butiken.",
        ),
        (
            "Gemensam digital tavla för hemtjänst och rehab",
            units["VOF-HEM"],
            "Hemtjänst och rehab har ingen gemensam bild av vilka brukare som behöver "
            "insatser från båda.",
        ),
        (
            "Brukarnas önskemål i schemaläggningen",
            units["VOF-HEM-NOR"],
            "Brukarnas önskade tider finns bara i anteckningar som schemaläggaren inte ser.",
        ),
    ]
    challenges = [
        services.challenge_submit(
            by=office, data=ChallengeInput(title=t, unit=u, description=d, goals=[goals["D4"]])
        )
        for t, u, d in titles
    ]
    meeting = services.meeting_create(
        team=team, by=centre_head, held_on=date(2025, 10, 8), agenda=challenges
    )
    leads = [south_head, dept_head, dept_head]
    services.decide(
        team=team,
        by=centre_head,
        meeting=meeting,
        decided_on=meeting.held_on,
        decisions=[
            DecisionInput(
                challenge=c,
                kind=DecisionKind.ASSIGN,
                rationale="Liten insats, stor nytta för brukarna; prövas i liten skala först.",
                unit=c.unit,
                lead=lead,
                goals=[goals["D4.1"]] if i != 1 else [goals["T1.1"]],
            )
            for i, (c, lead) in enumerate(zip(challenges, leads, strict=True))
        ],
    )
    shopping, board, schedule = (Assignment.objects.get(decision__challenge=c) for c in challenges)
    _advance(shopping, south_head, Stage.DEVELOP, date(2025, 11, 3), "Enkel app byggd med butiken.")
    _advance(
        shopping,
        south_head,
        Stage.TEST,
        date(2026, 2, 2),
        "",
        tested=(
            "Inköpslistor i appen för tolv brukare",
            "Hemtjänst syd, Centrum",
            "Rätt varor första gången i nio fall av tio; butiken vill ha listan dagen innan.",
        ),
    )
    _advance(shopping, south_head, Stage.IMPLEMENT, date(2026, 10, 1), "Införs grupp för grupp.")
    services.benefit_create(
        assignment=shopping,
        by=south_head,
        data=BenefitInput(
            description="Färre inköpsresor med kommunens bilar",
            stakeholder="Hemtjänst syd",
            benefit_class=BenefitClass.FINANCIAL,
            measure=Measure.KRONOR,
            goal=goals["D4.1"],
            owner=south_head,
            baseline=Decimal("420000"),
        ),
        years=[
            YearInput(
                year=2026,
                expected=Decimal("180000"),
                realised=Decimal("95000"),
                realised_source="Ekonomiuppföljning per augusti 2026",
            ),
            YearInput(year=2027, expected=Decimal("350000")),
        ],
    )
    _advance(board, dept_head, Stage.DEVELOP, date(2026, 3, 2), "Tavlan tas fram med rehab.")
    services.assignment_stop(
        assignment=Assignment.objects.get(pk=schedule.pk),
        by=dept_head,
        reason=(
            "Leverantören av schemasystemet lägger in brukarnas önskade tider i nästa version; "
            "en egen lösning behövs inte."
        ),
        on=date(2026, 1, 15),
        expected_version=None,
    )
    return [shopping, board, schedule]


def _advance(
    assignment: Assignment,
    by: Any,
    to: str,
    on: date,
    note: str,
    tested: tuple[str, str, str] | None = None,
) -> None:
    what, where, learnt = tested or ("", "", "")
    services.assignment_advance(
        assignment=Assignment.objects.get(pk=assignment.pk),
        by=by,
        to=to,
        data=StageInput(
            started_on=on, note=note, tested_what=what, tested_where=where, learnt=learnt
        ),
        expected_version=None,
    )


def _wheelchair_assignment(
    challenge: Any, units: dict[str, Unit], goals: dict[str, Element], lead: Any, rehab: Any
) -> None:
    assignment = Assignment.objects.get(decision__challenge=challenge)
    _advance(
        assignment,
        lead,
        Stage.DEVELOP,
        date(2026, 2, 16),
        "E-tjänsten byggs i kommunens plattform tillsammans med rehab och IT.",
    )
    _advance(
        assignment,
        lead,
        Stage.TEST,
        date(2026, 3, 16),
        "",
        tested=(
            "En e-tjänst med tre frågor och foto av hjälpmedlets märkning",
            "Hemtjänst norr, arbetsgrupp Ekbacken, sex veckor",
            "Anmälan tar två minuter i stället för en kvart. Rehab vill få ärendet direkt i sin "
            "kö och inte via brevlådan, vilket byggdes in före införandet.",
        ),
    )
    _advance(
        assignment,
        lead,
        Stage.IMPLEMENT,
        date(2026, 5, 4),
        "Alla grupper i hemtjänst norr utbildas på arbetsplatsträffar.",
    )
    _advance(
        assignment,
        lead,
        Stage.IN_OPERATION,
        date(2026, 9, 1),
        "I drift; rehab förvaltar e-tjänsten.",
    )
    hours = services.benefit_create(
        assignment=assignment,
        by=lead,
        data=BenefitInput(
            description="Mindre tid på att anmäla och följa upp fel på hjälpmedel",
            stakeholder="Undersköterskor och samordnare i hemtjänsten",
            benefit_class=BenefitClass.FREED_CAPACITY,
            measure=Measure.HOURS,
            goal=goals["D4.1"],
            owner=lead,
            baseline=Decimal("1400"),
        ),
        years=[
            YearInput(
                year=2026,
                expected=Decimal("600"),
                pessimistic=Decimal("400"),
                optimistic=Decimal("800"),
                realised=Decimal("520"),
                realised_source="Tidsstudie i hemtjänst norr, oktober 2026",
            ),
            YearInput(
                year=2027,
                expected=Decimal("900"),
                pessimistic=Decimal("700"),
                optimistic=Decimal("1100"),
            ),
        ],
    )
    services.benefit_create(
        assignment=assignment,
        by=lead,
        data=BenefitInput(
            description="Brukaren får en fungerande rullstol snabbare",
            stakeholder="Brukare med rullstol",
            benefit_class=BenefitClass.QUALITY,
            measure=Measure.OTHER,
            measure_label="dagar",
            owner=rehab,
            baseline=Decimal("12"),
        ),
        years=[
            YearInput(
                year=2026,
                expected=Decimal("5"),
                realised=Decimal("4"),
                realised_source="Rehabenhetens ärendelogg, maj–oktober 2026",
            )
        ],
    )
    sick_leave = Indicator.objects.filter(code="SJUK_PER_ARSARB").first()
    if sick_leave is not None:
        services.benefit_create(
            assignment=assignment,
            by=lead,
            data=BenefitInput(
                description="Mindre stress i arbetet när hjälpmedlen fungerar",
                stakeholder="Medarbetare i hemtjänst norr",
                benefit_class=BenefitClass.QUALITY,
                measure=Measure.OTHER,
                measure_label="sjukdagar per årsarbetare",
                indicator=sick_leave,
                goal=goals["T1.1"],
                owner=lead,
            ),
            years=[YearInput(year=2026, expected=Decimal("13.5"))],
        )
    for amount, placement, unit, purpose, decided_by, on in (
        (
            Decimal("300"),
            Placement.REINVESTED,
            units["VOF-SAB-SJO"],
            "Mer tid för aktiviteter och utevistelse med de boende",
            "Ledningsteam vård och omsorg",
            date(2026, 10, 20),
        ),
        (
            Decimal("80"),
            Placement.RETURNED,
            None,
            "Minskad timanställning under sommaren",
            "Vård- och omsorgsnämnden",
            date(2026, 11, 12),
        ),
    ):
        services.capacity_place(
            benefit=hours,
            by=lead,
            data=PlacementInput(
                year=2026,
                placement=placement,
                amount=amount,
                unit=unit,
                purpose=purpose,
                decided_on=on,
                decided_by=decided_by,
            ),
        )


def _plans_assignment(challenge: Any, lead: Any) -> None:
    assignment = Assignment.objects.get(decision__challenge=challenge)
    _advance(
        assignment,
        lead,
        Stage.DEVELOP,
        date(2026, 3, 2),
        "Sammanfattning av planen tas fram med brukarrådet.",
    )
    _advance(
        assignment,
        lead,
        Stage.TEST,
        date(2026, 10, 5),
        "",
        tested=(
            "En sammanfattning av genomförandeplanen i en låst mapp hemma hos brukaren",
            "Hemtjänst syd, tjugo brukare som tackat ja",
            "",
        ),
    )
