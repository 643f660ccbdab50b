"""A deterministic large organisation for measuring Pejling at scale (``pejling generate``).

The same ``seed`` and sizes always give the same organisation: a tree of up to six levels with
uneven branches (a root, some administrations, then units hung under earlier ones at random),
a group strategy with themes and goals of every kind (KPI, count, coverage, assessed), one
annual agreement per unit with initiatives linked to goals, the year's deadlines and follow-up
reports, and ``indicators`` base measures with a value for every unit (inner units too) and
every one of ``months`` months, plus a ratio and a weighted mean over them.

Everything is written in bulk (tree paths computed here, ``bulk_create``, the values by
``COPY`` on PostgreSQL), without history rows: it is generated data, not anyone's work. The
roll-up cache is then derived from the values (``aggregate.rebuild``). The texts are Swedish.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from pejling.agreements.models import (
    Agreement,
    AgreementState,
    Initiative,
    InitiativeGoal,
    InitiativeStatus,
)
from pejling.core import generation
from pejling.followup.models import (
    AssessmentStatus,
    CountsWhat,
    Deadline,
    DeadlineKind,
    DerivedGoal,
    GoalAssessment,
    ReportStatus,
    StatusReport,
)
from pejling.indicators import aggregate
from pejling.indicators.models import (
    Aggregation,
    Direction,
    Indicator,
    IndicatorRollup,
    IndicatorValue,
    KpiGoal,
    MeasureUnit,
)
from pejling.organisation.models import Membership, Role, Unit, UnitLevel
from pejling.strategy.models import (
    AgreementRule,
    Element,
    MeasureKind,
    RuleKind,
    Strategy,
    StrategyLevel,
    StrategyStatus,
)

LEVELS = [
    ("Kommun", "Kommuner"),
    ("Förvaltning", "Förvaltningar"),
    ("Avdelning", "Avdelningar"),
    ("Sektion", "Sektioner"),
    ("Enhet", "Enheter"),
    ("Grupp", "Grupper"),
]
THEMES = [
    "Trygg och hållbar välfärd",
    "Attraktiv arbetsgivare",
    "Växande näringsliv",
    "Effektiv och digital förvaltning",
]
GOAL_KINDS = [MeasureKind.KPI, MeasureKind.COUNT, MeasureKind.COVERAGE, MeasureKind.ASSESSED]
INITIATIVE_WORDS = [
    "Digitala",
    "Hållbara",
    "Trygga",
    "Friska",
    "Gemensamma",
    "Nya",
    "Tydligare",
    "Snabbare",
]
INITIATIVE_NOUNS = [
    "arbetsplatser",
    "möten",
    "flöden",
    "tjänster",
    "scheman",
    "introduktioner",
    "uppföljningar",
    "samarbeten",
]
STATES = (
    [AgreementState.PUBLISHED] * 6
    + [AgreementState.AGREED] * 2
    + [AgreementState.SUBMITTED, AgreementState.DRAFT]
)
ROOT_CODE = "ORG"
RATIO_CODE = "SJUKTAL"  # sick days per 100 FTE: the first measure ÷ the second × 100
WEIGHTED_CODE = "NOJDHET"  # the third measure, weighted by the second


@dataclass
class Generated:
    units: int = 0
    values: int = 0
    agreements: int = 0
    initiatives: int = 0
    goals: int = 0
    rollup_rows: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _tree(rng: random.Random, units: int) -> list[tuple[int, int]]:
    """(parent index, depth) per unit, the root first: a few administrations below the root,
    then every further unit below a random earlier unit of depth 2–5 (uneven branches)."""
    nodes: list[tuple[int, int]] = [(-1, 1)]
    administrations = min(units - 1, max(2, min(12, units // 50)))
    for _ in range(administrations):
        nodes.append((0, 2))
    inner = list(range(1, len(nodes)))
    while len(nodes) < units:
        parent = inner[rng.randrange(len(inner))]
        depth = nodes[parent][1] + 1
        nodes.append((parent, depth))
        if depth < len(LEVELS):
            inner.append(len(nodes) - 1)
    return nodes


@contextmanager
def _bulk_load(table: str) -> Iterator[None]:
    """Fill an empty PostgreSQL table fast: its foreign keys and secondary indexes are dropped
    for the load and made again after it (one validating scan and one sorted index build each,
    instead of a check queued per row and checked at the commit, and an index entry per row).
    In the caller's transaction: nothing is left half-done if the load fails."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        foreign = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
            " FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid"
            " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND c.oid IS NULL",
            [table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        unique = cursor.fetchall()
        # The rows written so far are checked now: a table with checks pending cannot change.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for name, _definition in foreign + unique:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for name, definition in unique:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(f"ANALYZE {table}")


def _copy_rows(rows: Iterator[str]) -> Iterator[bytes]:
    buffer = io.StringIO()
    for n, row in enumerate(rows, 1):
        buffer.write(row)
        if n % 100_000 == 0:
            yield buffer.getvalue().encode()
            buffer = io.StringIO()
    yield buffer.getvalue().encode()


def _units(
    rng: random.Random, units: int
) -> tuple[list[Unit], list[int], list[UnitLevel], list[tuple[int, int]]]:
    # The tree: paths computed as treebeard would (siblings in name order).
    levels = [
        UnitLevel.objects.get_or_create(depth=d, defaults={"name": n, "name_plural": p})[0]
        for d, (n, p) in enumerate(LEVELS, 1)
    ]
    shape = _tree(rng, units)
    children: list[int] = [0] * len(shape)
    paths: list[str] = []
    rows = []
    for n, (parent, depth) in enumerate(shape):
        if parent < 0:
            path = Unit._get_path(None, 1, 1)
            code, name = ROOT_CODE, "Fjärdviks kommun"
        else:
            children[parent] += 1
            path = Unit._get_path(paths[parent], depth, children[parent])
            code, name = f"G{n:05d}", f"{LEVELS[depth - 1][0]} {n:05d}"
        paths.append(path)
        rows.append(
            Unit(
                path=path,
                depth=depth,
                numchild=0,
                code=code,
                name=name,
                level=levels[depth - 1],
            )
        )
    for unit, count in zip(rows, children, strict=True):
        unit.numchild = count
    created = Unit.objects.bulk_create(rows, batch_size=2000)
    return created, children, levels, shape


def _people(created: list[Unit], children: list[int]) -> None:
    # People who read the pages: the office and the director on the root, a unit head.
    users = get_user_model().objects
    people = {}
    for username, first, last in (
        ("strategi", "Sara", "Strand"),
        ("direktor", "Karin", "Dahl"),
        ("enhetschef", "Maria", "Lind"),
    ):
        person, fresh = users.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        if fresh:
            person.set_unusable_password()
            person.save(update_fields=["password"])
        people[username] = person
    leaf = next(u for u, count in zip(created, children, strict=True) if count == 0)
    Membership.objects.bulk_create(
        [
            Membership(user=people["strategi"], unit=created[0], role=Role.STRATEGY_OFFICE),
            Membership(user=people["direktor"], unit=created[0], role=Role.EXECUTIVE),
            Membership(user=people["enhetschef"], unit=leaf, role=Role.UNIT_HEAD),
            Membership(user=people["enhetschef"], unit=leaf, role=Role.MEMBER),
        ]
    )


def _indicators(indicators: int) -> tuple[list[Indicator], Indicator, Indicator]:
    # Indicators: base measures, a ratio and a weighted mean over them.
    base = Indicator.objects.bulk_create(
        [
            Indicator(
                code=f"M{i + 1:02d}",
                name=f"Mått {i + 1:02d}",
                measure_unit=[MeasureUnit.DAYS, MeasureUnit.FTE, MeasureUnit.PERCENT][i]
                if i < 3
                else MeasureUnit.COUNT,
                direction=Direction.LOWER if i == 0 else Direction.HIGHER,
            )
            for i in range(indicators)
        ]
    )
    ratio = Indicator.objects.create(
        code=RATIO_CODE,
        name="Sjukfrånvarodagar per 100 årsarbetare",
        measure_unit=MeasureUnit.DAYS_PER_FTE,
        direction=Direction.LOWER,
        aggregation=Aggregation.RATIO,
        numerator=base[0],
        denominator=base[1],
        scale=100,
    )
    weighted = Indicator.objects.create(
        code=WEIGHTED_CODE,
        name="Nöjdhet, vägd med årsarbetare",
        measure_unit=MeasureUnit.PERCENT,
        aggregation=Aggregation.WEIGHTED_MEAN,
        weight=base[1],
    )
    Indicator.objects.filter(pk=base[2].pk).update(aggregation=Aggregation.MEAN)

    return base, ratio, weighted


def _strategy(
    rng: random.Random,
    year: int,
    units: int,
    levels: list[UnitLevel],
    ratio: Indicator,
    weighted: Indicator,
) -> list[Element]:
    # A group strategy: themes, and goals of every kind below each.
    strategy = Strategy.objects.create(
        code=f"koncernstrategi-{year - 1}-{year + 1}",
        title="Koncernstrategi",
        summary="Kommunens gemensamma riktning för verksamheterna.",
        start_year=year - 1,
        end_year=year + 1,
        status=StrategyStatus.PUBLISHED,
    )
    theme_level = StrategyLevel.objects.create(
        strategy=strategy, depth=1, name="Tema", name_plural="Teman"
    )
    goal_level = StrategyLevel.objects.create(
        strategy=strategy, depth=2, name="Mål", name_plural="Mål", holds_goals=True
    )
    goals: list[Element] = []
    kpi_goals: list[KpiGoal] = []
    derived: list[DerivedGoal] = []
    assessments: list[GoalAssessment] = []
    for t, title in enumerate(THEMES, 1):
        theme = Element.objects.create(
            strategy=strategy, level=theme_level, code=f"T{t}", title=title, position=t
        )
        for g, kind in enumerate(GOAL_KINDS, 1):
            goal = Element.objects.create(
                strategy=strategy,
                parent=theme,
                level=goal_level,
                code=f"T{t}.{g}",
                title=f"{title}: mål {g}",
                position=g,
                measure_kind=kind,
                baseline_value=Decimal(8) if kind == MeasureKind.KPI else None,
                baseline_date=date(year - 2, 12, 31) if kind == MeasureKind.KPI else None,
                target_value={
                    MeasureKind.KPI: Decimal(6),
                    MeasureKind.COUNT: Decimal(units // 4),
                    MeasureKind.COVERAGE: Decimal(90),
                }.get(kind),
                target_date=date(year, 12, 31),
            )
            goals.append(goal)
            if kind == MeasureKind.KPI:
                kpi_goals.append(KpiGoal(goal=goal, indicator=ratio if t % 2 else weighted))
            elif kind == MeasureKind.COUNT:
                derived.append(
                    DerivedGoal(
                        goal=goal,
                        counts=CountsWhat.INITIATIVES,
                        statuses=[InitiativeStatus.DONE],
                    )
                )
            elif kind == MeasureKind.COVERAGE:
                derived.append(
                    DerivedGoal(goal=goal, counts=CountsWhat.UNITS, unit_level=levels[1])
                )
            else:
                assessments.append(
                    GoalAssessment(
                        goal=goal,
                        year=year,
                        status=rng.choice(list(AssessmentStatus.values)),
                        justification="Bedömt vid ledningsgruppens genomgång.",
                    )
                )
    KpiGoal.objects.bulk_create(kpi_goals)
    DerivedGoal.objects.bulk_create(derived)
    GoalAssessment.objects.bulk_create(assessments)
    AgreementRule.objects.create(
        strategy=strategy,
        name="Varje förvaltning bidrar till varje tema",
        kind=RuleKind.EACH_TOP_ELEMENT,
        unit_level=levels[1],
    )
    return goals


def _cycle(year: int, levels: list[UnitLevel]) -> Deadline:
    # The annual cycle: agreement deadlines for two levels, three follow-up periods.
    deadlines = Deadline.objects.bulk_create(
        [
            Deadline(
                year=year,
                kind=DeadlineKind.AGREEMENT,
                title="Förvaltningarnas överenskommelser",
                due_date=date(year, 1, 31),
                unit_level=levels[1],
            ),
            Deadline(
                year=year,
                kind=DeadlineKind.AGREEMENT,
                title="Enheternas överenskommelser",
                due_date=date(year, 2, 28),
                unit_level=levels[4],
            ),
            *(
                Deadline(
                    year=year,
                    kind=DeadlineKind.REPORT,
                    title=f"Uppföljning {period}",
                    due_date=due,
                    period=period,
                )
                for period, due in (
                    ("T1", date(year, 5, 15)),
                    ("T2", date(year, 9, 15)),
                    ("T3", date(year + 1, 1, 15)),
                )
            ),
        ]
    )
    return deadlines[2]


def _agreements(
    rng: random.Random,
    year: int,
    unit_ids: list[int],
    goals: list[Element],
    report_deadline: Deadline,
) -> tuple[int, int]:
    # One agreement per unit, initiatives linked to goals, reports for the first period.
    agreements = Agreement.objects.bulk_create(
        [Agreement(unit_id=pk, year=year, state=rng.choice(STATES)) for pk in unit_ids],
        batch_size=2000,
    )
    initiatives = []
    for agreement in agreements:
        for position in range(1, rng.randint(2, 5) + 1):
            initiatives.append(
                Initiative(
                    agreement=agreement,
                    title=f"{rng.choice(INITIATIVE_WORDS)} {rng.choice(INITIATIVE_NOUNS)}",
                    position=position,
                    status=rng.choice(list(InitiativeStatus.values)),
                    start_date=date(year, 1, 1),
                    end_date=date(year, 12, 31),
                )
            )
    initiatives = Initiative.objects.bulk_create(initiatives, batch_size=2000)
    goal_ids = [g.pk for g in goals]
    links = []
    for initiative in initiatives:
        for goal_id in rng.sample(goal_ids, rng.randint(1, 2)):
            links.append(InitiativeGoal(initiative=initiative, goal_id=goal_id))
    InitiativeGoal.objects.bulk_create(links, batch_size=5000)
    committed = {
        a.pk for a in agreements if a.state in (AgreementState.AGREED, AgreementState.PUBLISHED)
    }
    StatusReport.objects.bulk_create(
        [
            StatusReport(
                initiative=initiative,
                deadline=report_deadline,
                status=rng.choice(list(ReportStatus.values)),
            )
            for initiative in initiatives
            if initiative.agreement_id in committed and rng.random() < 0.7
        ],
        batch_size=5000,
    )
    return len(agreements), len(initiatives)


def _values(
    rng: random.Random,
    year: int,
    months: int,
    unit_ids: list[int],
    base: list[Indicator],
    shape: list[tuple[int, int]],
) -> int:
    # The values: every unit (inner ones too), every measure, every month.
    first = date(year - 1, 12, 1)
    periods = []
    for m in range(months):
        total = first.year * 12 + first.month - 1 - (months - 1 - m)
        y, mo = divmod(total, 12)
        start = date(y, mo + 1, 1)
        end = date(y + (mo + 1) // 12, (mo + 1) % 12 + 1, 1)
        periods.append(
            (
                f"{y}-{mo + 1:02d}",
                start.isoformat(),
                date.fromordinal(end.toordinal() - 1).isoformat(),
            )
        )
    indicator_ids = [i.pk for i in base]
    level_of = [depth for _parent, depth in shape]

    def values() -> Iterator[str]:
        # One row per unit, measure and month; the random draws in the same order as ever
        # (the same seed gives the same values), the rest of each line prepared once.
        tails = [f"\t{period}\t{start}\t{end}\t" for period, start, end in periods]
        draw = rng.random
        for n, unit_id in enumerate(unit_ids):
            size = 40 if level_of[n] >= 5 else 10
            for i, indicator_id in enumerate(indicator_ids):
                centre = size * (1 + i % 7) * (0.5 + draw())
                head = f"{indicator_id}\t{unit_id}"
                for tail in tails:
                    yield f"{head}{tail}{round(centre * (0.85 + 0.3 * draw()), 2)}\n"

    table = IndicatorValue._meta.db_table
    columns = "indicator_id, unit_id, period, period_start, period_end, value"
    if connection.vendor == "postgresql":
        with (
            _bulk_load(table),
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for chunk in _copy_rows(values()):
                copy.write(chunk)
    else:
        batch: list[IndicatorValue] = []
        for line in values():
            ind, unit, period, first_day, last_day, value = line.rstrip("\n").split("\t")
            batch.append(
                IndicatorValue(
                    indicator_id=int(ind),
                    unit_id=int(unit),
                    period=period,
                    period_start=date.fromisoformat(first_day),
                    period_end=date.fromisoformat(last_day),
                    value=Decimal(value),
                )
            )
            if len(batch) == 5000:
                IndicatorValue.objects.bulk_create(batch)
                batch = []
        IndicatorValue.objects.bulk_create(batch)
    return len(unit_ids) * len(indicator_ids) * len(periods)


def generate(
    *,
    units: int,
    indicators: int,
    months: int,
    seed: int = 1,
    year: int = 2026,
    say: Callable[[str], None] = lambda _text: None,
) -> Generated:
    """Build the organisation in the configured database (which must have no units yet)."""
    if Unit.objects.exists():
        raise ValueError("The database already has units: generate into an empty database.")
    if units < 2 or indicators < 3 or months < 1:
        raise ValueError("At least 2 units, 3 indicators and 1 month.")
    rng = random.Random(seed)
    done = Generated()
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        done.seconds[name] = round(now - clock, 2)
        say(f"{name}: {now - clock:.1f} s")
        clock = now

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Large set-based statements: aggregates in memory rather than sorted on disk,
                # and no JIT compilation (half a second per statement, for nothing here).
                cursor.execute("SET LOCAL work_mem = '256MB'")
                cursor.execute("SET LOCAL jit = off")
        created, children, levels, shape = _units(rng, units)
        unit_ids = [u.pk for u in created]
        done.units = len(created)
        _people(created, children)
        lap("units")
        base, ratio, weighted = _indicators(indicators)
        goals = _strategy(rng, year, units, levels, ratio, weighted)
        done.goals = len(goals)
        lap("strategy")
        report_deadline = _cycle(year, levels)
        done.agreements, done.initiatives = _agreements(rng, year, unit_ids, goals, report_deadline)
        lap("agreements")
        done.values = _values(rng, year, months, unit_ids, base, shape)
        lap("values")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Unit._meta.db_table}")
            with _bulk_load(IndicatorRollup._meta.db_table):
                aggregate.derive_rollups()
        else:
            aggregate.derive_rollups()
        done.rollup_rows = IndicatorRollup.objects.count()
        lap("roll-ups")
        # Each unit's presence (the completeness rule's input), read from the roll-ups' periods.
        aggregate.derive_presence()
        lap("presence")
        generation.bump()  # written in bulk, without signals: figures cached before are old
    lap("commit")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Unit, Agreement, Initiative, InitiativeGoal, StatusReport):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        lap("analyze")
    return done
