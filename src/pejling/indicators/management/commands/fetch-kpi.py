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

import dataclasses
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pejling.indicators.imports import batch_errors, import_observations
from pejling.indicators.models import Aggregation, ImportStatus, Indicator
from pejling.indicators.sources import (
    KoladaClient,
    ParseResult,
    SsbClient,
    StatbankClient,
    parse_ssb_jsonstat,
    parse_statbank_csv,
    parse_statbank_jsonstat,
)
from pejling.indicators.sources._http import SourceHttpError
from pejling.indicators.sources.jsonstat import JsonStatError
from pejling.indicators.sources.kolada import SOURCE_CREDIT
from pejling.organisation.models import Unit

SOURCES = ("kolada", "statbank", "ssb")
BASE_URL_SETTINGS = {
    "kolada": "PEJLING_KOLADA_URL",
    "statbank": "PEJLING_STATBANK_URL",
    "ssb": "PEJLING_SSB_URL",
}
REGION_VARIABLES = {"statbank": "OMRÅDE", "ssb": "Region"}


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
            required=True,
            metavar="REGION=UNITCODE",
            help="a region of the source and our unit it is (repeat for more)",
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
        mapping = _pairs(options["map"], "--map")
        known = set(Unit.objects.filter(code__in=mapping.values()).values_list("code", flat=True))
        unknown = sorted(set(mapping.values()) - known)
        if unknown:
            raise CommandError(f"No unit has the code {', '.join(unknown)} (in --map).")
        user = _user(options["user"])
        url, label, result = self._fetch(source, indicator, mapping, options)
        kept, unit_codes = self._keep_mapped(result, indicator, mapping, url)
        batch = import_observations(
            result=result,
            source=label,
            by=user,
            filename=url[:255],
            indicator=indicator,
            unit_codes=unit_codes,
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
                    f"{kept:,} values for {indicator.code} are valid (dry run, nothing written)."
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

    def _fetch(
        self, source: str, indicator: Indicator, mapping: dict[str, str], options: dict[str, Any]
    ) -> tuple[str, str, ParseResult]:
        """The answer's URL, the batch's source label and the parsed answer."""
        base_url = options["base_url"] or getattr(settings, BASE_URL_SETTINGS[source])
        fetch = {"kolada": self._kolada, "statbank": self._statbank}.get(source, self._ssb)
        try:
            return fetch(base_url, indicator, mapping, options)
        except (OSError, SourceHttpError, JsonStatError, ValueError, RuntimeError) as exc:
            raise CommandError(f"Could not fetch from {source}: {exc}") from exc

    def _keep_mapped(
        self, result: ParseResult, indicator: Indicator, mapping: dict[str, str], url: str
    ) -> tuple[int, dict[str, str]]:
        """The source answers for regions that are not ours: keep the mapped ones only (as
        values of ``indicator``), say so; returns how many were kept and their unit codes."""
        lookup = {region.casefold(): code for region, code in mapping.items()}
        kept = [o for o in result.observations if o.unit.casefold() in lookup]
        ignored = len(result.observations) - len(kept)
        result.observations = [dataclasses.replace(o, indicator=indicator.code) for o in kept]
        self.stdout.write(
            f"Fetched {len(kept) + ignored:,} values from {url}: {len(kept):,} for mapped regions, "
            f"{ignored:,} for other regions left out, {len(result.skipped):,} empty in the source."
        )
        missing = sorted(set(lookup) - {o.unit.casefold() for o in kept})
        if missing:
            self.stderr.write(f"No values for the mapped region(s) {', '.join(missing)}.")
        return len(kept), {o.unit: lookup[o.unit.casefold()] for o in kept}

    def _kolada(
        self, base_url: str, indicator: Indicator, mapping: dict[str, str], options: dict[str, Any]
    ) -> tuple[str, str, ParseResult]:
        kpi = options["kpi"]
        if not kpi:
            raise CommandError("Kolada needs --kpi (for example N00090).")
        client = KoladaClient(base_url)
        municipalities = options["municipality"] or list(mapping)
        years = options["year"] or None
        url = client.data_url(kpi, municipalities, years)
        result = client.fetch_data(kpi, municipalities, years, gender=options["gender"])
        return url, f"kolada {kpi}", result

    def _statbank(
        self, base_url: str, indicator: Indicator, mapping: dict[str, str], options: dict[str, Any]
    ) -> tuple[str, str, ParseResult]:
        table = options["table"]
        if not table:
            raise CommandError("StatBank needs --table (for example FOLK1A).")
        region = options["region_variable"] or REGION_VARIABLES["statbank"]
        time = options["time_variable"]
        filters = _pairs(options["filter"], "--filter")
        as_text = options["presentation"] == "text"
        # The API selects by code; with texts in the answer, ask for every value and pick here.
        variables: dict[str, list[str]] = {
            name: ["*"] if as_text else [value] for name, value in filters.items()
        }
        variables[region] = ["*"] if as_text else list(mapping)
        if options["period"]:
            variables[time] = list(options["period"])
        client = StatbankClient(base_url, lang=options["lang"] or "da")
        body = client.data(
            table,
            variables,
            fmt=options["format"],
            value_presentation="Default" if as_text else "Code",
        )
        url = client.url("data")
        if options["format"] == "csv":
            result = parse_statbank_csv(
                body, indicator=indicator.code, time=time, region=region, filters=filters
            )
        else:
            result = parse_statbank_jsonstat(
                body, indicator=indicator.code, time=time, region=region, filters=filters
            )
        return f"{url} ({table})", f"statbank {table}", result

    def _ssb(
        self, base_url: str, indicator: Indicator, mapping: dict[str, str], options: dict[str, Any]
    ) -> tuple[str, str, ParseResult]:
        table = options["table"]
        if not table:
            raise CommandError("SSB needs --table (for example 07459).")
        region = options["region_variable"] or REGION_VARIABLES["ssb"]
        time = options["time_variable"]
        filters = _pairs(options["filter"], "--filter")
        codelists = _pairs(options["codelist"], "--codelist")
        # Every region (codes may carry a code list's prefix such as K-); the mapped ones are kept.
        value_codes: dict[str, str] = {**filters, region: "*"}
        if options["period"]:
            value_codes[time] = ",".join(options["period"])
        client = SsbClient(base_url, lang=options["lang"] or "no")
        url = client.data_url(table, value_codes, codelists)
        payload = client.fetch(table, value_codes, codelists)
        result = parse_ssb_jsonstat(
            payload, indicator=indicator.code, region=region, time=time, filters=filters
        )
        return url, f"ssb {table}", result


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
