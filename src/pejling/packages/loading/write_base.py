"""What every part of a package's writing shares: saving through a domain service only what
changed, removing where that is safe, and turning a service's refusal into a problem with its
path in the file."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import ProtectedError, RestrictedError

from pejling.organisation.models import Unit, UnitLevel
from pejling.packages.formats import Problem
from pejling.packages.loading.check_base import Checked
from pejling.strategy.models import Element, Strategy


@dataclass
class LoadReport:
    """What a load did: counts per kind of object, and what it left in place."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    kept: list[str] = field(default_factory=list)

    def count(self, kind: str, action: str, n: int = 1) -> None:
        if n:
            self.counts[(kind, action)] += n

    @property
    def changed(self) -> bool:
        return bool(self.counts)

    def lines(self) -> list[str]:
        by_kind: dict[str, list[str]] = defaultdict(list)
        for (kind, action), n in sorted(self.counts.items()):
            by_kind[kind].append(f"{n} {action}")
        return [f"{kind}: {', '.join(actions)}" for kind, actions in sorted(by_kind.items())]


def assign(obj: models.Model, values: dict[str, Any]) -> bool:
    """Set the values that differ; whether any did. Relations compare by primary key."""
    changed = False
    for name, value in values.items():
        model_field = obj._meta.get_field(name)
        if model_field.is_relation:
            current = getattr(obj, model_field.attname)  # type: ignore[union-attr]
            if current != (value.pk if value is not None else None):
                setattr(obj, name, value)
                changed = True
        elif getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def messages(exc: ValidationError, path: str = "") -> list[str]:
    """A service's refusal as sentences (field errors named by their field, unless ``path``,
    where in the file the refused object is, already ends with it)."""
    if hasattr(exc, "error_dict"):
        return [
            message if name == "__all__" or path.endswith(f".{name}") else f"{name}: {message}"
            for name, errors in exc.message_dict.items()
            for message in errors
        ]
    return list(exc.messages)


class WriterBase:
    def __init__(self, data: dict[str, Any], checked: Checked, today: date) -> None:
        self.data = data
        self.checked = checked
        self.today = today
        self.report = LoadReport()
        self.problems: list[Problem] = []
        self.levels: dict[int, UnitLevel] = {}
        self.units: dict[str, Unit] = {}
        self.users: dict[str, Any] = {}
        self.indicators: dict[str, Any] = {}
        self.strategies: dict[str, Strategy] = {}
        self.elements: dict[tuple[str, str], Element] = {}

    def attempt(self, path: str, action: Callable[[], Any]) -> bool:
        """Run a service call; a refusal is noted as a problem at ``path``. Whether it ran."""
        try:
            action()
        except ValidationError as exc:
            self.problems.extend(Problem(path, message) for message in messages(exc, path))
            return False
        return True

    def save(
        self,
        path: str,
        obj: models.Model,
        values: dict[str, Any],
        kind: str,
        service: Callable[[Any], Any],
    ) -> bool:
        """Hand ``obj`` to its ``service`` when it is new or one of ``values`` differs (so an
        unchanged object gets no history row); whether it was saved."""
        adding = obj._state.adding
        if not (assign(obj, values) or adding):
            return False
        if not self.attempt(path, lambda: service(obj)):
            return False
        self.report.count(kind, "created" if adding else "updated")
        return True

    def remove(
        self,
        obj: models.Model,
        kind: str,
        service: Callable[[Any], Any],
        *,
        in_use: bool = False,
        quiet: bool = False,
    ) -> bool:
        """Remove ``obj`` through its ``service`` unless something outside the package still
        depends on it, in which case it is kept (and the report says so); whether it went."""
        if not in_use:
            try:
                service(obj)
            except (ValidationError, ProtectedError, RestrictedError):
                pass
            else:
                self.report.count(kind, "removed")
                return True
        if not quiet:
            self.report.kept.append(f"{kind} {obj}: still in use, kept")
        return False

    def remove_all(
        self,
        objs: list[Any],
        kind: str,
        service: Callable[[Any], Any],
        *,
        in_use: Callable[[Any], bool] = lambda obj: False,
    ) -> list[Any]:
        """Remove what can be, in passes, so that objects depending on each other (a ratio and
        its measures, a strategy and the one it serves) go whatever their order; the removed."""
        pending, removed = objs, []
        while pending:
            left = []
            for obj in pending:
                if self.remove(obj, kind, service, in_use=in_use(obj), quiet=True):
                    removed.append(obj)
                else:
                    left.append(obj)
            if len(left) == len(pending):
                break
            pending = left
        for obj in pending:
            self.report.kept.append(f"{kind} {obj}: still in use, kept")
        return removed
