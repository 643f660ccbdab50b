"""Writing a package's annual agreements (in the state the file gives, through
``agreements/services.py``) and the deadlines of the annual cycle (``followup/services.py``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from pejling.agreements import services
from pejling.agreements.models import Agreement, Initiative
from pejling.core.history import SYSTEM
from pejling.followup import services as followup_services
from pejling.followup.models import Comment, Deadline, StatusReport
from pejling.packages.loading.check_base import iso_date
from pejling.packages.loading.write_strategies import StrategyWriter
from pejling.strategy.models import Element


def _save_agreement(agreement: Agreement) -> None:
    services.agreement_save_as_given(agreement=agreement, by=SYSTEM)


def _save_initiative(initiative: Initiative) -> None:
    services.initiative_save_as_given(initiative=initiative, by=SYSTEM)


def _delete_initiative(initiative: Initiative) -> None:
    services.initiative_delete_as_given(initiative=initiative, by=SYSTEM)


def _initiative_in_use(initiative: Initiative) -> bool:
    return (
        StatusReport.objects.filter(initiative=initiative).exists()
        or Comment.objects.filter(initiative=initiative).exists()
    )


class AgreementWriter(StrategyWriter):
    def write_agreements(self) -> None:
        if not self.elements:
            for element in Element.objects.select_related("strategy"):
                self.elements[(element.strategy.code, element.code)] = element
        for i, item in enumerate(self.data["agreements"]):
            path = f"agreements[{i}]"
            unit = self.units[item["unit"]]
            agreement = Agreement.objects.filter(unit=unit, year=item["year"]).first() or Agreement(
                unit=unit, year=item["year"]
            )
            values = {"state": item.get("state", "draft"), "summary": item.get("summary", "")}
            self.save(path, agreement, values, "agreement", _save_agreement)
            if agreement.pk is not None:
                self.write_initiatives(path, agreement, item.get("initiatives", []))

    def write_initiatives(
        self, path: str, agreement: Agreement, specs: list[dict[str, Any]]
    ) -> None:
        existing = {i.title: i for i in agreement.initiatives.all()}
        for index, spec in enumerate(specs, start=1):
            where = f"{path}.initiatives[{index - 1}]"
            initiative = existing.pop(spec["title"], None) or Initiative(
                agreement=agreement, title=spec["title"]
            )
            owner = spec.get("owner")
            values = {
                "description": spec.get("description", ""),
                "owner": self.user(owner) if owner else None,
                "start_date": iso_date(spec.get("start")),
                "end_date": iso_date(spec.get("end")),
                "status": spec.get("status", "planned"),
                "position": spec.get("position", index),
            }
            self.save(where, initiative, values, "initiative", _save_initiative)
            if initiative.pk is not None:
                self.write_goal_links(where, initiative, spec.get("goals", []))
        for initiative in existing.values():
            self.remove(
                initiative, "initiative", _delete_initiative, in_use=_initiative_in_use(initiative)
            )

    def user(self, username: str) -> Any:
        if username not in self.users:
            user_model = get_user_model()
            self.users[username] = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        return self.users[username]

    def write_goal_links(self, path: str, initiative: Initiative, refs: list[str]) -> None:
        goals = [self.element(ref) for ref in refs]
        current = set(initiative.goal_links.values_list("goal_id", flat=True))
        wanted = {goal.pk for goal in goals}
        if current == wanted:
            return
        if self.attempt(
            f"{path}.goals",
            lambda: services.initiative_goals_set(initiative=initiative, by=SYSTEM, goals=goals),
        ):
            self.report.count("goal link", "created", len(wanted - current))
            self.report.count("goal link", "removed", len(current - wanted))

    def write_deadlines(self) -> None:
        scope = Deadline.objects.all()
        if self.data.get("year") is not None:
            scope = scope.filter(year=self.data["year"])
        existing = {(d.year, d.title): d for d in scope}
        for i, item in enumerate(self.data["deadlines"]):
            key = (item["year"], item["title"])
            deadline = existing.pop(key, None) or Deadline(year=key[0], title=key[1])
            depth = item.get("unit_level")
            values = {
                "kind": item["kind"],
                "due_date": iso_date(item["due_date"]),
                "unit_level": self.levels[depth] if depth else None,
                "period": item.get("period", ""),
                "period_start": iso_date(item.get("period_start")),
                "remind_days_before": item.get("remind_days_before", 7),
            }
            self.save(
                f"deadlines[{i}]",
                deadline,
                values,
                "deadline",
                lambda d: followup_services.deadline_save(deadline=d, by=SYSTEM),
            )
        for deadline in existing.values():
            self.remove(
                deadline,
                "deadline",
                lambda d: followup_services.deadline_delete(deadline=d, by=SYSTEM),
            )
