"""``Writer``: a checked package written through the domain services, in dependency order,
saving only what changed; removals last, once nothing in the file points at what goes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from pejling.core.history import SYSTEM
from pejling.indicators import services as indicator_services
from pejling.indicators.models import Aggregation, Indicator
from pejling.organisation import services as organisation_services
from pejling.organisation.models import Membership, Unit, UnitLevel
from pejling.packages.formats import PackageError, to_decimal
from pejling.packages.loading.check_base import iso_date
from pejling.packages.loading.portfolio import write_portfolio
from pejling.packages.loading.values import ValueWriter
from pejling.packages.loading.write_agreements import AgreementWriter
from pejling.packages.loading.write_base import LoadReport, assign


def _save_indicator(indicator: Indicator) -> None:
    indicator_services.indicator_save(indicator=indicator, by=SYSTEM)


class Writer(AgreementWriter, ValueWriter):
    SECTIONS = (
        ("people", "write_people"),
        ("indicators", "write_indicators"),
        ("strategies", "write_strategies"),
        ("agreements", "write_agreements"),
        ("deadlines", "write_deadlines"),
        ("indicator_values", "write_values"),
    )

    def run(self) -> LoadReport:
        """Write everything; raise :class:`PackageError` (to roll back) when a service
        refused anything, each refusal with its path in the file."""
        data = self.data
        if "unit_levels" in data:
            self.write_unit_levels()
        self.levels = {lv.depth: lv for lv in UnitLevel.objects.all()}
        if "units" in data:
            self.write_units()
        self.units = {u.code: u for u in Unit.objects.all()}
        for section, method in self.SECTIONS:
            if section in data and not self.problems:
                getattr(self, method)()
        if "portfolio" in data and not self.problems:
            write_portfolio(self)
        if self.problems:
            raise PackageError(self.problems)
        self.remove_left_out()
        return self.report

    def remove_left_out(self) -> None:
        data = self.data
        if "strategies" in data:
            for item in data["strategies"]:
                self.remove_from_strategy(self.strategies[item["code"]], item)
            self.remove_strategies()
        if "indicators" in data:
            wanted = {i["code"] for i in data["indicators"]}
            gone = list(Indicator.objects.exclude(code__in=wanted).order_by("code"))
            self.remove_all(
                gone,
                "indicator",
                lambda i: indicator_services.indicator_delete(indicator=i, by=SYSTEM),
            )
        if "unit_levels" in data:
            wanted_depths = {lv["depth"] for lv in data["unit_levels"]}
            for level in UnitLevel.objects.exclude(depth__in=wanted_depths):
                self.remove(
                    level,
                    "unit level",
                    lambda lv: organisation_services.unit_level_delete(level=lv, by=SYSTEM),
                )

    # organisation

    def write_unit_levels(self) -> None:
        existing = {lv.depth: lv for lv in UnitLevel.objects.all()}
        for i, item in enumerate(self.data["unit_levels"]):
            level = existing.get(item["depth"]) or UnitLevel(depth=item["depth"])
            values = {"name": item["name"], "name_plural": item.get("plural", "")}
            self.save(
                f"unit_levels[{i}]",
                level,
                values,
                "unit level",
                lambda lv: organisation_services.unit_level_save(level=lv, by=SYSTEM),
            )

    def write_units(self) -> None:
        items = {u["code"]: (f"units[{i}]", u) for i, u in enumerate(self.data["units"])}
        for code in self.checked.unit_order:
            path, item = items[code]
            self.attempt(path, lambda: self.write_unit(code, item))  # noqa: B023 (run at once)
        for unit in Unit.objects.exclude(code__in=set(items)).filter(closed_on__isnull=True):
            if self.attempt(
                "units",
                lambda: organisation_services.unit_close(
                    by=SYSTEM,
                    unit=unit,  # noqa: B023 (run at once)
                    on=self.today,
                    reason="Not in the loaded package",
                ),
            ):
                self.report.count("unit", "closed")

    def write_unit(self, code: str, item: dict[str, Any]) -> None:
        values = {
            "name": item["name"],
            "level": self.levels[item["level"]],
            "description": item.get("description", ""),
            "closed_on": iso_date(item.get("closed_on")),
        }
        unit = Unit.objects.filter(code=code).first()
        parent = Unit.objects.get(code=item["parent"]) if item.get("parent") else None
        if unit is None:
            organisation_services.unit_create(
                by=SYSTEM, parent=parent, unit=Unit(code=code, **values)
            )
            self.report.count("unit", "created")
            return
        moved = organisation_services.unit_parent_path(unit) != (parent.path if parent else None)
        if moved:
            unit = organisation_services.unit_move(by=SYSTEM, unit=unit, parent=parent)
        if assign(unit, values) or moved:
            organisation_services.unit_save(by=SYSTEM, unit=unit)
            self.report.count("unit", "updated")

    def write_people(self) -> None:
        user_model = get_user_model()
        username_field = user_model.USERNAME_FIELD
        for i, item in enumerate(self.data["people"]):
            path = f"people[{i}]"
            username = item["username"]
            user = user_model.objects.filter(**{username_field: username}).first()
            user = user or user_model(**{username_field: username})
            values = {
                "first_name": item.get("first_name", ""),
                "last_name": item.get("last_name", ""),
                "email": item.get("email", ""),
            }
            self.save(
                path,
                user,
                values,
                "person",
                lambda u: organisation_services.person_save(by=SYSTEM, person=u),
            )
            if user.pk is None:
                continue
            self.users[username] = user
            self.write_memberships(path, user, item.get("memberships", []))

    def write_memberships(self, path: str, user: Any, specs: list[dict[str, Any]]) -> None:
        existing = {(m.unit_id, m.role): m for m in Membership.objects.filter(user=user)}
        for j, spec in enumerate(specs):
            unit = self.units[spec["unit"]]
            membership = existing.pop((unit.pk, spec["role"]), None)
            self.attempt(
                f"{path}.memberships[{j}]",
                lambda: self.write_membership(user, unit, spec, membership),  # noqa: B023
            )
        for membership in existing.values():
            self.remove(
                membership,
                "membership",
                lambda m: organisation_services.membership_delete(by=SYSTEM, membership=m),
            )

    def write_membership(
        self, user: Any, unit: Unit, spec: dict[str, Any], membership: Membership | None
    ) -> None:
        title, ends_on = spec.get("title", ""), iso_date(spec.get("ends_on"))
        if membership is None:
            organisation_services.membership_create(
                by=SYSTEM, user=user, unit=unit, role=spec["role"], title=title, ends_on=ends_on
            )
            self.report.count("membership", "created")
        elif (membership.title, membership.ends_on) != (title, ends_on):
            organisation_services.membership_update(
                by=SYSTEM, membership=membership, title=title, ends_on=ends_on
            )
            self.report.count("membership", "updated")

    # indicators

    def write_indicators(self) -> None:
        items = {i["code"]: (f"indicators[{n}]", i) for n, i in enumerate(self.data["indicators"])}
        self.indicators = {i.code: i for i in Indicator.objects.filter(code__in=items)}
        for code in self.checked.indicator_order:
            path, item = items[code]
            indicator = self.indicators.get(code) or Indicator(code=code)
            refs = {
                r: self.indicators[item[r]] if item.get(r) else None
                for r in ("numerator", "denominator", "weight")
            }
            values = {
                "name": item["name"],
                "description": item.get("description", ""),
                "measure_unit": item["unit"],
                "direction": item.get("direction", "higher"),
                "periodicity": item.get("periodicity", "month"),
                "source": item.get("source", ""),
                "aggregation": item.get("aggregation", Aggregation.SUM),
                **refs,
                "scale": to_decimal(item.get("scale", "1")),
                "allow_negative": item.get("allow_negative", False),
            }
            self.save(path, indicator, values, "indicator", _save_indicator)
            self.indicators[code] = indicator
