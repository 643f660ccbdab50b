"""Parsers for KPI data imports: files from municipalities and national statistics APIs.

Pure Python (stdlib, plus openpyxl for XLSX and polars for the fast reader of large clean CSV
files, ``fast_csv.py``); nothing here imports Django.
Every parser returns a :class:`ParseResult` of :class:`Observation` records
and :class:`ParseError` entries; mapping units and storing values is left to
the caller.
"""

from typing import TYPE_CHECKING

from .dataset_observations import observations_from_dataset
from .files import parse_csv_text, parse_table_file, parse_xlsx_bytes
from .jsonstat import (
    Dataset,
    JsonStatError,
    iter_values,
    read_dataset,
    read_datasets,
)
from .records import Observation, ParseError, ParseResult, Period, PeriodError, parse_period

if TYPE_CHECKING:
    from .kolada import (
        KoladaClient,
        parse_kolada_data,
        parse_kolada_kpis,
        parse_kolada_municipalities,
    )
    from .ssb import SsbClient, parse_ssb_jsonstat, parse_ssb_table, ssb_region_code
    from .statbank import (
        StatbankClient,
        TableInfo,
        parse_statbank_csv,
        parse_statbank_jsonstat,
        parse_tableinfo,
    )

# The national statistics clients are imported when first used (``fetch-kpi``, a fetch task):
# a web server that never fetches does not pay for them at start.
_LAZY = {
    "kolada": (
        "KoladaClient",
        "parse_kolada_data",
        "parse_kolada_kpis",
        "parse_kolada_municipalities",
    ),
    "ssb": ("SsbClient", "parse_ssb_jsonstat", "parse_ssb_table", "ssb_region_code"),
    "statbank": (
        "StatbankClient",
        "TableInfo",
        "parse_statbank_csv",
        "parse_statbank_jsonstat",
        "parse_tableinfo",
    ),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> object:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Dataset",
    "JsonStatError",
    "KoladaClient",
    "Observation",
    "ParseError",
    "ParseResult",
    "Period",
    "PeriodError",
    "SsbClient",
    "StatbankClient",
    "TableInfo",
    "iter_values",
    "observations_from_dataset",
    "parse_csv_text",
    "parse_kolada_data",
    "parse_kolada_kpis",
    "parse_kolada_municipalities",
    "parse_period",
    "parse_ssb_jsonstat",
    "parse_ssb_table",
    "parse_statbank_csv",
    "parse_statbank_jsonstat",
    "parse_table_file",
    "parse_tableinfo",
    "parse_xlsx_bytes",
    "read_dataset",
    "read_datasets",
    "ssb_region_code",
]
