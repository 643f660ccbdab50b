"""Summing over what is not mapped (sex, age), on answers that carry such breakdowns.

The answers are in ``tests/indicators/fixtures`` (see its README: the FOLK1A breakdown and the
SSB 07459 breakdown are constructed in the recorded answers' shape; none is recorded)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pejling.indicators.sources import parse_ssb_jsonstat, parse_statbank_csv
from pejling.indicators.sources.totals import is_total, total_of

FIXTURES = Path(__file__).parent / "fixtures"
FOLK1A = (
    FIXTURES
    / "statbank"
    / "data-FOLK1A-csv-da-code-OMRAADE-KOEN-ALDER-2024K1-2024K2.constructed.csv"
)
FOLK1A_TEXT = FIXTURES / "statbank" / "data-FOLK1A-csv-da-text-all-areas-civilstand-2020K1.csv"
SSB = FIXTURES / "ssb" / "ssb-v2-jsonstat2-07459-region-kjonn-alder-2023-2024.constructed.json"


def values(result) -> dict[tuple[str, str], Decimal]:
    return {(o.unit, str(o.period)): o.value for o in result.observations}


def test_without_a_choice_the_breakdown_is_refused_as_before() -> None:
    result = parse_statbank_csv(FOLK1A.read_bytes(), indicator="FOLK")
    assert {e.code for e in result.errors} == {"ambiguous_dimension"}
    assert {e.column for e in result.errors} == {"KØN", "ALDER"}


def test_summing_takes_the_parts_of_sex_and_the_total_of_age() -> None:
    result = parse_statbank_csv(FOLK1A.read_bytes(), indicator="FOLK", sums=["KØN", "ALDER"])
    assert result.ok, result.errors
    got = values(result)
    # KØN has no total in the answer: men + women; ALDER carries IALT: the ages are left out.
    assert got[("101", "2024Q1")] == Decimal(321548 + 331012)
    assert got[("147", "2024Q2")] == Decimal(48602 + 55431)
    assert len(got) == 6
    assert result.sums == {"KØN": 2, "ALDER": "IALT"}


def test_a_picked_value_and_a_sum_together() -> None:
    result = parse_statbank_csv(
        FOLK1A.read_bytes(), indicator="FOLK", filters={"KØN": "2"}, sums=["ALDER"]
    )
    assert result.ok, result.errors
    assert values(result)[("151", "2024Q1")] == Decimal(24809)


def test_summing_over_parts_only_when_no_total_is_in_the_answer() -> None:
    # Ages 0-2 without IALT: their sum (men), never a total that is not there.
    result = parse_statbank_csv(
        FOLK1A.read_bytes(),
        indicator="FOLK",
        filters={"KØN": "1"},
        sums=["ALDER"],
    )
    assert values(result)[("101", "2024Q1")] == Decimal(321548)
    text = FOLK1A.read_text(encoding="utf-8-sig").replace("IALT", "X")
    without_total = "\n".join(line for line in text.splitlines() if ";X;" not in line)
    result = parse_statbank_csv(
        without_total, indicator="FOLK", filters={"KØN": "1"}, sums=["ALDER"]
    )
    assert values(result)[("101", "2024Q1")] == Decimal(3861 + 3790 + 3512)
    assert result.sums == {"ALDER": 3}


def test_the_recorded_text_answer_uses_civil_status_total() -> None:
    result = parse_statbank_csv(FOLK1A_TEXT.read_bytes(), indicator="FOLK", sums=["CIVILSTAND"])
    assert result.ok
    assert values(result)[("København", "2020Q1")] == Decimal(632340)
    assert result.sums == {"CIVILSTAND": "I alt"}


def test_a_missing_part_leaves_the_sum_out() -> None:
    text = FOLK1A.read_text(encoding="utf-8-sig").replace(
        "101;2;IALT;2024K1;331012", "101;2;IALT;2024K1;.."
    )
    result = parse_statbank_csv(text, indicator="FOLK", sums=["KØN", "ALDER"])
    assert ("101", "2024Q1") not in values(result)
    assert len(result.skipped) == 1


def test_jsonstat_sums_every_part_when_the_answer_has_no_total() -> None:
    result = parse_ssb_jsonstat(SSB.read_bytes(), indicator="FOLK", sums=["Kjonn", "Alder"])
    assert result.ok, result.errors
    got = values(result)
    assert got[("0301", "2023")] == Decimal(3490 + 3312 + 3402 + 3251 + 3361 + 3198)
    assert got[("5001", "2024")] == Decimal(1012 + 961 + 990 + 951 + 981 + 930 + 6 * 12)
    assert result.sums == {"Kjonn": 2, "Alder": 3}


def test_jsonstat_without_a_choice_is_ambiguous() -> None:
    result = parse_ssb_jsonstat(SSB.read_bytes(), indicator="FOLK")
    assert {e.column for e in result.errors} == {"Kjonn", "Alder"}


def test_totals_are_recognised_by_code_and_label() -> None:
    assert is_total("TOT") and is_total("IALT") and is_total("0", "Begge kjønn")
    assert (
        is_total("999", "Alle aldre") and is_total("x", "Alder i alt") and is_total("00", "I alt")
    )
    assert not is_total("1", "Mænd") and not is_total("000", "0 år") and not is_total("0")
    assert total_of([("1", "Mænd"), ("2", "Kvinder")]) is None
