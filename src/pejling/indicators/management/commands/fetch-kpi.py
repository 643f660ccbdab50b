"""pejling fetch-kpi --source kolada|statbank|ssb --indicator CODE --map REGION=UNIT [...]

Fetches one measure from a national statistics API and imports it, all or nothing, onto our
units. ``--map`` says which of the source's regions is which of our units (``0180=exec``); the
source's other regions are not ours and are left out. Examples::

    pejling fetch-kpi --source kolada --indicator SJUK_KOLADA --kpi N00090 --year 2024 \\
        --map 0180=exec
    pejling fetch-kpi --source statbank --indicator FOLKETAL --table FOLK1A --format csv \\
        --filter CIVILSTAND=TOT --period 2020K1 --map 101=exec
    pejling fetch-kpi --source ssb --indicator FOLKETALL --table 07459 \\
        --filter ContentsCode=Personer1 --period 2022 --codelist Region=agg_KommSummer \\
        --map 0301=exec

Base URLs come from the settings PEJLING_KOLADA_URL, PEJLING_STATBANK_URL and PEJLING_SSB_URL,
or ``--base-url``. Data from Kolada must be credited "Källa: Kolada".
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pejling.indicators import national
from pejling.indicators.imports import batch_errors, import_observations
from pejling.indicators.models import Aggregation, ImportStatus, Indicator
from pejling.indicators.sources.kolada import SOURCE_CREDIT
from pejling.indicators.validation import sum_problem
from pejling.organisation.models import Unit

SOURCES = ("kolada", "statbank", "ssb")


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CommandError(f"{option} takes NAME=VALUE, not {item!r}.")
        pairs[key.strip()] = value.strip()
    return pairs


class Command(BaseCommand):
    help = "Fetch a KPI from Kolada, Statistics Denmark or Statistics Norway and import it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=SOURCES)
        parser.add_argument("--indicator", required=True, help="our indicator code")
        parser.add_argument(
            "--map",
            action="append",
            metavar="REGION=UNITCODE",
            help="a region of the source and our unit it is (repeat for more); added to the "
            "mapping kept in Pejling for the source",
        )
        parser.add_argument(
            "--sum",
            action="append",
            metavar="VAR",
            help="sum over this variable (sex, age): the source's total where the answer has "
            "one, else every value added up (repeat for more)",
        )
        parser.add_argument("--base-url", help="the API's base URL (default: from the settings)")
        parser.add_argument(
            "--dry-run", action="store_true", help="fetch and check without writing anything"
        )
        parser.add_argument("--user", help="username recorded as the importer")
        kolada = parser.add_argument_group("kolada")
        kolada.add_argument("--kpi", help="Kolada KPI id, e.g. N00090")
        kolada.add_argument(
            "--municipality",
            action="append",
            help="Kolada municipality id, e.g. 0180 (default: the mapped regions)",
        )
        kolada.add_argument(
            "--ou",
            action="store_true",
            help="fetch the values of organisational units (schools, care homes; ids such as "
            "V15E144001301, mapped with --map or from the browser) instead of municipalities",
        )
        kolada.add_argument("--year", action="append", help="year (repeat for more)")
        kolada.add_argument("--gender", default="T", choices=("T", "K", "M"))
        tables = parser.add_argument_group("statbank and ssb")
        tables.add_argument("--table", help="table id, e.g. FOLK1A or 07459")
        tables.add_argument(
            "--format", default="csv", choices=("csv", "jsonstat"), help="StatBank answer format"
        )
        tables.add_argument(
            "--filter",
            action="append",
            metavar="VAR=VALUE",
            help="pick one value of another variable (repeat for more)",
        )
        tables.add_argument("--period", action="append", help="time period(s) to ask for")
        tables.add_argument("--region-variable", help="default OMRÅDE (StatBank), Region (SSB)")
        tables.add_argument("--time-variable", default="Tid")
        tables.add_argument(
            "--presentation",
            default="code",
            choices=("code", "text"),
            help="StatBank: cells as codes (101) or texts (København)",
        )
        tables.add_argument(
            "--codelist", action="append", metavar="VAR=CODELIST", help="SSB code list"
        )
        tables.add_argument("--lang", help="answer language (StatBank da/en, SSB no/en)")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        indicator = _indicator(options["indicator"])
        sums = list(options["sum"] or [])
        problem = sum_problem(indicator.aggregation) if sums else None
        if problem:
            raise CommandError(problem)
        # The stored area → unit mapping (kept from the browser), with --map on top of it.
        area_kind = national.KOLADA_OU if source == "kolada" and options["ou"] else ""
        mapping = {
            **national.stored_mapping(source, area_kind),
            **_pairs(options["map"], "--map"),
        }
        if not mapping:
            raise CommandError(
                f"No area of {source} is mapped to a unit: pass --map REGION=UNITCODE."
            )
        known = set(Unit.objects.filter(code__in=mapping.values()).values_list("code", flat=True))
        unknown = sorted(set(mapping.values()) - known)
        if unknown:
            raise CommandError(f"No unit has the code {', '.join(unknown)} (in --map).")
        user = _user(options["user"])
        query = self._query(source, indicator, mapping, options, sums)
        try:
            fetched = national.fetch(query)
        except national.SourceUnavailable as exc:
            raise CommandError(f"Could not fetch from {source}: {exc}") from exc
        kept = national.keep_mapped(fetched.result, mapping, indicator.code)
        self.stdout.write(
            f"Fetched {kept.fetched:,} values from {fetched.url}: "
            f"{kept.fetched - kept.ignored:,} for mapped regions, "
            f"{kept.ignored:,} for other regions left out, "
            f"{len(kept.result.skipped):,} empty in the source."
        )
        for name, how in kept.result.sums.items():
            self.stdout.write(
                f"{name}: the source's total {how!r} is used."
                if isinstance(how, str)
                else f"{name}: {how} values summed."
            )
        if kept.missing:
            self.stderr.write(f"No values for the mapped region(s) {', '.join(kept.missing)}.")
        batch = import_observations(
            result=kept.result,
            source=fetched.label,
            by=user,
            filename=fetched.url[:255],
            indicator=indicator,
            unit_codes=kept.unit_codes,
            dry_run=options["dry_run"],
        )
        if batch.status == ImportStatus.FAILED:
            errors = batch_errors(batch)
            for error in errors[:200]:
                self.stderr.write(error.describe(nowhere="answer"))
            raise CommandError(f"Nothing was imported: {len(errors)} problems in the answer.")
        if options["dry_run"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{len(kept.result.observations):,} values for {indicator.code} are valid "
                    "(dry run, nothing written)."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {indicator.code} from {source}: {batch.created:,} values created, "
                    f"{batch.updated:,} updated."
                )
            )
        if source == "kolada":
            self.stdout.write(SOURCE_CREDIT)

    def _query(
        self,
        source: str,
        indicator: Indicator,
        mapping: dict[str, str],
        options: dict[str, Any],
        sums: list[str],
    ) -> national.Query:
        filters = _pairs(options["filter"], "--filter")
        if source == "kolada":
            if not options["kpi"]:
                raise CommandError("Kolada needs --kpi (for example N00090).")
            return national.Query(
                source=source,
                series=options["kpi"],
                indicator=indicator.code,
                areas=options["municipality"] or list(mapping),
                area_dimension=national.KOLADA_OU if options["ou"] else "",
                picks={"gender": options["gender"]},
                sums=sums,
                periods=options["year"] or [],
                url=options["base_url"],
            )
        if not options["table"]:
            example = "FOLK1A" if source == "statbank" else "07459"
            name = "StatBank" if source == "statbank" else "SSB"
            raise CommandError(f"{name} needs --table (for example {example}).")
        return national.Query(
            source=source,
            series=options["table"],
            indicator=indicator.code,
            areas=list(mapping),
            picks=filters,
            sums=sums,
            periods=options["period"] or [],
            area_dimension=options["region_variable"] or national.AREA_DIMENSIONS[source],
            time_dimension=options["time_variable"],
            url=options["base_url"],
            lang=options["lang"],
            fmt=options["format"],
            as_text=options["presentation"] == "text",
            codelists=_pairs(options["codelist"], "--codelist"),
        )


def _indicator(code: str) -> Indicator:
    """The indicator to fetch values of: one with this code that takes imported values."""
    indicator = Indicator.objects.filter(code=code).first()
    if indicator is None:
        raise CommandError(f"No indicator has the code {code!r}.")
    if indicator.aggregation == Aggregation.RATIO:
        raise CommandError(
            f"{indicator.code} is computed from other indicators; fetch its numerator "
            "and denominator instead."
        )
    return indicator


def _user(username: str | None) -> Any:
    """The user the import is recorded as (None: nobody named)."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user is called {username!r}.")
    return user
