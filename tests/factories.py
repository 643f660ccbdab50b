"""factory_boy factories for the foundation's models.

They write rows directly (no services, no permission checks): they set the scene, the tests
then act through the services and views.
"""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model

from pejling.agreements.models import Agreement, Initiative, InitiativeGoal
from pejling.organisation.models import Membership, Role, Unit, UnitLevel
from pejling.strategy.models import Element, Strategy, StrategyLevel, StrategyStatus

YEAR = 2026
LEVEL_NAMES = {1: "Executive board", 2: "Centre", 3: "Department", 4: "Unit"}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class UnitLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UnitLevel
        django_get_or_create = ("depth",)

    depth = 1
    name = factory.LazyAttribute(lambda o: LEVEL_NAMES.get(o.depth, f"Level {o.depth}"))
    name_plural = factory.LazyAttribute(lambda o: f"{o.name}s")


def _level_for(o: Any) -> UnitLevel:
    depth = o.parent.depth + 1 if o.parent is not None else 1
    return UnitLevelFactory(depth=depth)


class UnitFactory(factory.django.DjangoModelFactory):
    """A unit in the treebeard tree: a root without ``parent``, else a child of ``parent``."""

    class Meta:
        model = Unit

    parent = None
    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Unit {o.code}")
    level = factory.LazyAttribute(_level_for)

    @classmethod
    def _create(cls, model_class: type[Unit], *args: Any, **kwargs: Any) -> Unit:
        parent = kwargs.pop("parent", None)
        if parent is None:
            return model_class.objects.add_root(kwargs)
        parent.refresh_from_db()  # siblings sorted in by name may have shifted its path
        return model_class.objects.add_child(parent, kwargs)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    role = Role.MEMBER
    title = ""


class StrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Strategy

    code = factory.Sequence(lambda n: f"strategy-{n}")
    title = factory.Sequence(lambda n: f"Strategy {n}")
    start_year = 2025
    end_year = 2027
    status = StrategyStatus.PUBLISHED
    parent = None


class StrategyLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategyLevel
        django_get_or_create = ("strategy", "depth")

    strategy = factory.SubFactory(StrategyFactory)
    depth = 1
    name = factory.LazyAttribute(lambda o: f"Level {o.depth}")
    name_plural = factory.LazyAttribute(lambda o: f"{o.name}s")
    holds_goals = False


def _element_level(o: Any) -> StrategyLevel:
    depth = o.parent.level.depth + 1 if o.parent is not None else 1
    return StrategyLevelFactory(strategy=o.strategy, depth=depth)


class ElementFactory(factory.django.DjangoModelFactory):
    """An element; its level is the strategy's level just below the parent's."""

    class Meta:
        model = Element

    strategy = factory.LazyAttribute(lambda o: o.parent.strategy if o.parent else StrategyFactory())
    parent = None
    level = factory.LazyAttribute(_element_level)
    code = factory.Sequence(lambda n: f"E{n}")
    title = factory.Sequence(lambda n: f"Element {n}")


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement

    unit = factory.SubFactory(UnitFactory)
    year = YEAR


class InitiativeFactory(factory.django.DjangoModelFactory):
    """An initiative; pass ``goals=[...]`` to link it."""

    class Meta:
        model = Initiative
        skip_postgeneration_save = True

    agreement = factory.SubFactory(AgreementFactory)
    title = factory.Sequence(lambda n: f"Initiative {n}")
    position = factory.LazyAttribute(lambda o: o.agreement.initiatives.count() + 1)

    @factory.post_generation
    def goals(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            for goal in extracted:
                InitiativeGoal.objects.create(initiative=self, goal=goal)


# Indicators -------------------------------------------------------------------------------------

from pejling.indicators import aggregate  # noqa: E402
from pejling.indicators.models import (  # noqa: E402
    Aggregation,
    Direction,
    Indicator,
    IndicatorValue,
    KpiGoal,
    MeasureUnit,
    Periodicity,
)
from pejling.indicators.sources.records import parse_period  # noqa: E402


class IndicatorFactory(factory.django.DjangoModelFactory):
    """A monthly sum of days; pass ``aggregation=Aggregation.RATIO`` with a numerator and a
    denominator (or ``weight`` for a weighted mean) for derived measures."""

    class Meta:
        model = Indicator
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"KPI{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Indicator {o.code}")
    measure_unit = MeasureUnit.DAYS
    direction = Direction.LOWER
    periodicity = Periodicity.MONTH
    aggregation = Aggregation.SUM


class IndicatorValueFactory(factory.django.DjangoModelFactory):
    """One stored value; ``period`` in any accepted form (``2019-03``, ``2019M03``, ``2019Q1``,
    ``2019``) is stored canonically with its start and end dates."""

    class Meta:
        model = IndicatorValue

    indicator = factory.SubFactory(IndicatorFactory)
    unit = factory.SubFactory(UnitFactory)
    period = "2019-03"
    value = 0

    @classmethod
    def _create(cls, model_class: type[IndicatorValue], *args: Any, **kwargs: Any) -> Any:
        parsed = parse_period(str(kwargs["period"]))
        kwargs["period"] = str(parsed)
        kwargs.setdefault("period_start", parsed.start_date())
        kwargs.setdefault("period_end", parsed.end_date())
        value = super()._create(model_class, *args, **kwargs)
        # A write of values like any other: the roll-up cache follows.
        aggregate.apply_value_changes(
            indicator_ids=[value.indicator_id], periods=[value.period], unit_ids=[value.unit_id]
        )
        return value


class KpiGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiGoal

    goal = factory.SubFactory(ElementFactory, measure_kind="kpi")
    indicator = factory.SubFactory(IndicatorFactory)
    unit = None


# Follow-up --------------------------------------------------------------------------------------

from datetime import date  # noqa: E402

from pejling.followup.models import (  # noqa: E402
    AssessmentStatus,
    CountsWhat,
    Deadline,
    DeadlineKind,
    DerivedGoal,
    GoalAssessment,
    ReportStatus,
    StatusReport,
)
from pejling.strategy.models import AgreementRule, RuleKind  # noqa: E402


class DerivedGoalFactory(factory.django.DjangoModelFactory):
    """How a count or coverage goal is computed; ``goal`` must be measured as count/coverage."""

    class Meta:
        model = DerivedGoal

    goal = factory.SubFactory(ElementFactory, measure_kind="count")
    counts = CountsWhat.UNITS
    unit_level = None
    statuses = factory.LazyFunction(list)
    scope_strategy = None


class GoalAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoalAssessment

    goal = factory.SubFactory(ElementFactory, measure_kind="assessed")
    year = YEAR
    status = AssessmentStatus.ON_TRACK
    justification = factory.Sequence(lambda n: f"Assessment {n}")


class AgreementRuleFactory(factory.django.DjangoModelFactory):
    """A rule for the agreements of units of ``unit_level`` (the centres by default)."""

    class Meta:
        model = AgreementRule

    strategy = factory.SubFactory(StrategyFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = RuleKind.EACH_TOP_ELEMENT
    unit_level = factory.LazyFunction(lambda: UnitLevelFactory(depth=2))
    active = True


class DeadlineFactory(factory.django.DjangoModelFactory):
    """A deadline of the annual cycle; agreements of ``unit_level`` or a follow-up report."""

    class Meta:
        model = Deadline

    year = YEAR
    kind = DeadlineKind.AGREEMENT
    title = factory.Sequence(lambda n: f"Deadline {n}")
    due_date = factory.LazyAttribute(lambda o: date(o.year, 3, 1))
    unit_level = None
    period = ""
    remind_days_before = 7


class StatusReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusReport

    initiative = factory.SubFactory(InitiativeFactory)
    deadline = factory.SubFactory(DeadlineFactory, kind=DeadlineKind.REPORT, period="T1")
    status = ReportStatus.ON_TRACK


# Follow-up: status reports and comments ---------------------------------------------------------

from pejling.followup.models import Comment  # noqa: E402


class ReportDeadlineFactory(DeadlineFactory):
    """A follow-up period of YEAR (T1, T2, ...) due in May."""

    kind = DeadlineKind.REPORT
    period = factory.Sequence(lambda n: f"T{n + 1}")
    title = factory.LazyAttribute(lambda o: f"Follow-up {o.period}")
    due_date = factory.LazyAttribute(lambda o: date(o.year, 5, 15))


class CommentFactory(factory.django.DjangoModelFactory):
    """A comment; pass ``agreement=``, ``initiative=`` or ``goal=`` (one of them)."""

    class Meta:
        model = Comment

    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"Comment {n}")
