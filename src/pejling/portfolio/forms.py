"""Forms of the portfolio pages: they parse and check input; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pejling.agreements.forms import PersonChoiceField
from pejling.core.forms import StyledFormMixin, VersionedFormMixin
from pejling.core.utils import person_name
from pejling.indicators.models import Indicator
from pejling.organisation.models import Unit
from pejling.portfolio.models import (
    OPEN_STATES,
    STAGE_ORDER,
    BenefitClass,
    Challenge,
    ChallengeKind,
    DecisionKind,
    Measure,
    Placement,
    Stage,
)
from pejling.strategy.models import Element, StrategyStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def people() -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def open_units() -> QuerySet[Unit]:
    return Unit.objects.filter(
        Q(closed_on__isnull=True) | Q(closed_on__gt=timezone.localdate())
    ).order_by("path")


def strategy_elements(*, goals_only: bool = False) -> QuerySet[Element]:
    year = timezone.localdate().year
    qs = Element.objects.filter(
        strategy__status=StrategyStatus.PUBLISHED,
        strategy__start_year__lte=year + 1,
        strategy__end_year__gte=year - 1,
    ).select_related("strategy", "level")
    if goals_only:
        qs = qs.filter(level__holds_goals=True)
    return qs.order_by("strategy__position", "strategy__pk", "position", "code")


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return "\u2003" * max(0, obj.depth - 1) + obj.name


class UnitsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return "\u2003" * max(0, obj.depth - 1) + obj.name


class ElementsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.title}"


class PeopleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_name(obj)


class ChallengeForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=ChallengeKind.choices, initial=ChallengeKind.CHALLENGE
    )
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What is hard today, for whom, and what you would like instead."),
    )
    unit = UnitChoiceField(label=_("Unit it concerns"), queryset=Unit.objects.none())
    goals = ElementsField(
        label=_("Themes and goals it serves"),
        queryset=Element.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    links = forms.CharField(
        label=_("Links"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Attachments as links, one address per line."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = open_units()
        cast(forms.ModelChoiceField, self.fields["goals"]).queryset = strategy_elements()


class ChallengeRowForm(StyledFormMixin, forms.Form):
    """One challenge on the workshop page; a row left empty is skipped."""

    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=ChallengeKind.choices, initial=ChallengeKind.CHALLENGE
    )
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = open_units()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("title") and not data.get("unit"):
            self.add_error("unit", _("Choose the unit the challenge concerns."))
        if not data.get("title") and data.get("description"):
            self.add_error("title", _("Give the challenge a title."))
        return data


ChallengeRows = forms.formset_factory(ChallengeRowForm, extra=4, max_num=30, absolute_max=30)


class WorkshopForm(StyledFormMixin, forms.Form):
    title = forms.CharField(label=_("Workshop"), max_length=200)
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    units = UnitsChoiceField(
        label=_("Participants' units"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["units"]).queryset = open_units()


FEELINGS = [(i, str(i)) for i in range(1, 6)]


class StepForm(StyledFormMixin, forms.Form):
    actor = forms.CharField(label=_("Who acts"), max_length=200)
    action = forms.CharField(label=_("What happens"), widget=forms.Textarea(attrs={"rows": 2}))
    pain_point = forms.CharField(
        label=_("What hurts"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    feeling = forms.TypedChoiceField(
        label=_("How it feels (1 very bad – 5 very good)"),
        choices=FEELINGS,
        coerce=int,
        initial=3,
    )
    opportunity = forms.CharField(
        label=_("Opportunity"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(StyledFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TeamForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    chair = PersonChoiceField(label=_("Chair"), queryset=get_user_model().objects.none())
    members = PeopleField(
        label=_("Members"),
        queryset=get_user_model().objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("People from several levels: from unit head to committee chair."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("chair", "members"):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = people()


class MeetingForm(StyledFormMixin, forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=DATE)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    agenda = forms.ModelMultipleChoiceField(
        label=_("Agenda"),
        queryset=Challenge.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["agenda"]).queryset = Challenge.objects.filter(
            state__in=OPEN_STATES
        ).order_by("-created_at")


class DecisionRowForm(StyledFormMixin, forms.Form):
    """The decision on one challenge of a meeting's agenda (prefix: the challenge's id)."""

    kind = forms.ChoiceField(
        label=_("Decision"),
        choices=[("", _("No decision now")), *DecisionKind.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    rationale = forms.CharField(
        label=_("Rationale"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    unit = UnitChoiceField(label=_("Assign to unit"), queryset=Unit.objects.none(), required=False)
    lead = PersonChoiceField(
        label=_("Lead"), queryset=get_user_model().objects.none(), required=False
    )
    parked_until = forms.DateField(label=_("Park until"), required=False, widget=DATE)
    merged_into = forms.ModelChoiceField(
        label=_("Merge into"), queryset=Challenge.objects.none(), required=False
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, challenge: Challenge, **kwargs: Any) -> None:
        super().__init__(*args, prefix=f"c{challenge.pk}", **kwargs)
        self.challenge = challenge
        self.fields["version"].initial = challenge.version
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = open_units()
        cast(forms.ModelChoiceField, self.fields["lead"]).queryset = people()
        cast(forms.ModelChoiceField, self.fields["merged_into"]).queryset = (
            Challenge.objects.exclude(pk=challenge.pk).exclude(state="merged").order_by("title")
        )


class AssignmentGiveForm(StyledFormMixin, forms.Form):
    issued_by = forms.CharField(
        label=_("Given by"),
        max_length=200,
        help_text=_("The executive board or the committee, e.g. the social welfare committee."),
    )
    title = forms.CharField(label=_("Assignment"), max_length=300)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    unit = UnitChoiceField(label=_("Owner unit"), queryset=Unit.objects.none())
    lead = PersonChoiceField(label=_("Lead"), queryset=get_user_model().objects.none())
    goals = ElementsField(
        label=_("Goals"),
        queryset=Element.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    given_on = forms.DateField(label=_("Given on"), widget=DATE)
    due_date = forms.DateField(label=_("Report by"), required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = open_units()
        cast(forms.ModelChoiceField, self.fields["lead"]).queryset = people()
        cast(forms.ModelChoiceField, self.fields["goals"]).queryset = strategy_elements(
            goals_only=True
        )


class AssignmentForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    title = forms.CharField(label=_("Assignment"), max_length=300)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    lead = PersonChoiceField(label=_("Lead"), queryset=get_user_model().objects.none())
    goals = ElementsField(
        label=_("Goals"),
        queryset=Element.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    due_date = forms.DateField(label=_("Report by"), required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["lead"]).queryset = people()
        cast(forms.ModelChoiceField, self.fields["goals"]).queryset = strategy_elements(
            goals_only=True
        )


class AdvanceForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    to = forms.ChoiceField(label=_("Next stage"), choices=[])
    started_on = forms.DateField(label=_("Starts on"), widget=DATE)
    previous_ended_on = forms.DateField(
        label=_("Current stage ended on"),
        required=False,
        widget=DATE,
        help_text=_("Left empty: the day the next stage starts."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    tested_what = forms.CharField(
        label=_("What is tested (for a test)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    tested_where = forms.CharField(label=_("Where"), required=False, max_length=300)
    learnt = forms.CharField(
        label=_("What was learnt"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, stage: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        later = STAGE_ORDER[STAGE_ORDER.index(Stage(stage)) + 1 :] if stage in STAGE_ORDER else []
        field = cast(forms.ChoiceField, self.fields["to"])
        field.choices = [(s.value, s.label) for s in later]
        if later:
            field.initial = later[0].value


class StageForm(StyledFormMixin, forms.Form):
    started_on = forms.DateField(label=_("Started"), widget=DATE)
    ended_on = forms.DateField(label=_("Ended"), required=False, widget=DATE)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    tested_what = forms.CharField(
        label=_("What was tested"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    tested_where = forms.CharField(label=_("Where"), required=False, max_length=300)
    learnt = forms.CharField(
        label=_("What was learnt"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class StopForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why is it stopped?"), widget=forms.Textarea(attrs={"rows": 2})
    )
    on = forms.DateField(label=_("Stopped on"), widget=DATE)


class BenefitForm(VersionedFormMixin, StyledFormMixin, forms.Form):
    description = forms.CharField(label=_("Benefit"), max_length=300)
    stakeholder = forms.CharField(label=_("For whom"), max_length=200)
    benefit_class = forms.ChoiceField(label=_("Class"), choices=BenefitClass.choices)
    measure = forms.ChoiceField(label=_("Measured in"), choices=Measure.choices)
    measure_label = forms.CharField(
        label=_("Unit of measure (for other)"), max_length=50, required=False
    )
    goal = forms.ModelChoiceField(
        label=_("Goal it serves"), queryset=Element.objects.none(), required=False
    )
    indicator = forms.ModelChoiceField(
        label=_("Indicator that measures it"),
        queryset=Indicator.objects.none(),
        required=False,
        help_text=_("With an indicator, realised values are read from it."),
    )
    owner = PersonChoiceField(
        label=_("Benefit owner"), queryset=get_user_model().objects.none(), required=False
    )
    baseline = forms.DecimalField(label=_("Baseline"), required=False, max_digits=16)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["goal"]).queryset = strategy_elements(
            goals_only=True
        )
        cast(
            forms.ModelChoiceField, self.fields["indicator"]
        ).queryset = Indicator.objects.order_by("name")
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = people()


class YearForm(StyledFormMixin, forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    expected = forms.DecimalField(label=_("Expected"), required=False, max_digits=16)
    pessimistic = forms.DecimalField(label=_("Pessimistic"), required=False, max_digits=16)
    optimistic = forms.DecimalField(label=_("Optimistic"), required=False, max_digits=16)
    realised = forms.DecimalField(label=_("Realised"), required=False, max_digits=16)
    realised_source = forms.CharField(label=_("Source"), required=False, max_length=300)


YearRows = forms.formset_factory(YearForm, extra=2, max_num=20, absolute_max=20)


class PlacementForm(StyledFormMixin, forms.Form):
    year = forms.IntegerField(label=_("Year freed"), min_value=2000, max_value=2100)
    placement = forms.ChoiceField(
        label=_("Placement"), choices=Placement.choices, widget=forms.RadioSelect
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, min_value=0)
    unit = UnitChoiceField(
        label=_("Reinvested in unit"), queryset=Unit.objects.none(), required=False
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=300, required=False)
    assignment = forms.ModelChoiceField(
        label=_("For assignment"), queryset=Unit.objects.none(), required=False
    )
    decided_on = forms.DateField(label=_("When"), widget=DATE)
    decided_by = forms.CharField(label=_("Decided by"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from pejling.portfolio.models import Assignment

        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = open_units()
        cast(
            forms.ModelChoiceField, self.fields["assignment"]
        ).queryset = Assignment.objects.select_related("initiative").order_by("-year", "title")
