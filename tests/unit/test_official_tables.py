"""The official-statistics tables (pipelines/publish/official.py) on small frames, with the
real geography of the seeds, and the settings they use."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from pipelines.core.settings import load_settings, parse_area_scope
from pipelines.publish.official import (
    Geography,
    official_consistency,
    official_reconciliation,
    official_statistics,
    reconciled_months,
)

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
KAINUU = ["KU105", "KU205", "KU290", "KU578", "KU620", "KU697", "KU765", "KU777"]


def seed(name: str) -> pd.DataFrame:
    with open(SEEDS / f"{name}.csv", encoding="utf-8") as handle:
        return pd.DataFrame(list(csv.DictReader(handle)))


@pytest.fixture(scope="module")
def geography() -> Geography:
    return Geography(seed("municipalities"), seed("regions"), seed("subregions"))


def cells(rows) -> pd.DataFrame:
    """(month, area_code, measure, value, symbol) -> raw.official_cells rows."""
    frame = pd.DataFrame(rows, columns=["month", "area_code", "measure", "value", "symbol"])
    return frame.assign(source_table="12r5", area_name=None, source_file="a.px", source_updated=pd.NaT)


def kainuu_month(month: str, values: dict[str, float | None], region: float | None) -> list[tuple]:
    rows = [(month, code, "TYOTTOMATLOPUSSA", values.get(code, 10.0), None if values.get(code, 10.0) is not None else "...")
            for code in KAINUU]
    rows.append((month, "MK18", "TYOTTOMATLOPUSSA", region, None if region is not None else ".."))
    return rows


def test_geography_is_the_real_country_with_vaalas_move(geography):
    current = geography.current()
    assert len(current) == 309 and current.region_code.nunique() == 19
    assert sorted(current[current.region_code == "MK18"].area_code) == KAINUU
    before = geography.members_on(pd.Timestamp("2015-12-31").date())
    assert before[before.area_code == "KU785"].region_code.tolist() == ["MK18"]
    assert current[current.area_code == "KU785"].region_code.tolist() == ["MK17"]


def test_official_statistics_levels_parents_and_statuses(geography):
    frame = official_statistics(
        cells([("2010-12", "KU785", "TYOTTOMATLOPUSSA", 217.0, None), ("2010-12", "KU199", "TYOTTOMATLOPUSSA", None, "..."),
               ("2010-12", "SK182", "TYOTTOMATLOPUSSA", 0.0, "-"), ("2010-12", "SSS", "TYOTTOMATLOPUSSA", None, ".")]),
        geography,
    ).set_index("area_code")
    assert frame.loc["KU785", ["area_level", "parent_area_code", "area_name", "status"]].tolist() == [
        "municipality", "MK17", "Vaala", "ok"]  # the current division, whatever the month
    assert frame.loc["KU199", ["area_level", "status", "source_symbol"]].tolist() == ["other", "confidential", "..."]
    assert frame.loc["SK182", ["area_level", "value", "status", "source_symbol"]].tolist() == ["subregion", 0.0, "ok", "-"]
    assert frame.loc["SSS", ["area_level", "status"]].tolist() == ["country", "not_applicable"]
    assert pd.isna(frame.loc["SSS", "value"])


def test_consistency_statuses(geography):
    rows = kainuu_month("2010-10", {}, 80.0) + kainuu_month("2010-11", {}, 81.0) + kainuu_month(
        "2010-12", {"KU697": None}, 70.0) + kainuu_month("2011-01", {}, None)
    result = official_consistency(official_statistics(cells(rows), geography), geography)
    assert result.status.tolist() == ["consistent", "inconsistent", "not_checkable", "not_checkable"]
    assert result.municipalities.tolist() == [8, 8, 8, 8]
    assert result.municipalities_without_number.tolist() == [0, 0, 1, 0]
    assert result.sum_of_municipalities.tolist()[:3] == [80.0, 80.0, 70.0]


def indicator_rows(rows) -> pd.DataFrame:
    """(month, area_code, area_level, indicator, sex, value, status)."""
    frame = pd.DataFrame(rows, columns=["month", "area_code", "area_level", "indicator", "sex", "value", "status"])
    return frame.assign(month=pd.to_datetime(frame.month))


def test_reconciliation_statuses_and_tolerance(geography):
    statistics = official_statistics(
        cells([("2016-12", "KU205", "TYOTTOMATLOPUSSA", 1000.0, None), ("2016-12", "KU205", "TYOTTOMATMIEHET", 600.0, None),
               ("2016-12", "KU205", "TYOTTOMATNAISET", 400.0, None), ("2016-12", "KU105", "TYOTTOMATLOPUSSA", None, "..."),
               ("2016-12", "KU697", "TYOTTOMATLOPUSSA", 3.0, None), ("2010-12", "MK18", "TYOTTOMATLOPUSSA", 5104.0, None),
               ("2016-12", "MK18", "TYOTTOMATLOPUSSA", 4000.0, None)]),
        geography,
    )
    indicators = indicator_rows([
        ("2016-12-01", "KU205", "municipality", "unemployed", "total", 1020.0, "ok"),  # within 2 %
        ("2016-12-01", "KU205", "municipality", "unemployed", "male", 630.0, "ok"),  # 30 > 12
        ("2016-12-01", "KU205", "municipality", "unemployed", "female", None, "suppressed"),
        ("2016-12-01", "KU105", "municipality", "unemployed", "total", 300.0, "ok"),
        ("2016-12-01", "KU697", "municipality", "unemployed", "total", 8.0, "ok"),  # within 5
        ("2010-12-01", "MK18", "region", "unemployed", "total", 5400.0, "ok"),  # Vaala in MK18 then
        ("2016-12-01", "MK18", "region", "unemployed", "total", 4000.0, "ok"),
        ("2016-12-01", "KU205", "municipality", "structural_unemployed", "total", 500.0, "ok"),  # no counterpart
    ])
    result = official_reconciliation(indicators, statistics, geography).set_index(["month", "area_code", "sex"])
    status = result["status"].to_dict()
    assert status[(pd.Timestamp("2016-12-01"), "KU205", "total")] == "agree"
    assert status[(pd.Timestamp("2016-12-01"), "KU205", "male")] == "differs"
    assert status[(pd.Timestamp("2016-12-01"), "KU205", "female")] == "derived_suppressed"
    assert status[(pd.Timestamp("2016-12-01"), "KU105", "total")] == "official_unavailable"
    assert status[(pd.Timestamp("2016-12-01"), "KU697", "total")] == "agree"
    assert status[(pd.Timestamp("2010-12-01"), "MK18", "total")] == "not_comparable"
    assert status[(pd.Timestamp("2016-12-01"), "MK18", "total")] == "agree"
    assert len(result) == 7
    female = result.loc[(pd.Timestamp("2016-12-01"), "KU205", "female")]
    assert pd.isna(female.derived_value) and pd.isna(female.difference) and female.official_value == 400
    male = result.loc[(pd.Timestamp("2016-12-01"), "KU205", "male")]
    assert male.difference == 30 and male.relative_difference == pytest.approx(0.05)
    # a wider tolerance makes the male cell agree
    wider = official_reconciliation(indicators, statistics, geography, relative_tolerance=0.06)
    assert "differs" not in set(wider.status)


def test_the_reconciliation_of_its_months_rows_alone_is_the_reconciliation_of_every_row(geography):
    """A publication that carries months reads, of the carried rows, only those of the months
    `reconciled_months` names: the reconciliation must be the same as from every row."""
    statistics = official_statistics(
        cells(kainuu_month("2016-11", {}, 80.0) + kainuu_month("2016-12", {"KU205": None}, 82.0)
              + [("2017-01", "SK182", "TYOTTOMATLOPUSSA", 5.0, None)]),
        geography,
    )
    statistics = pd.concat([statistics, statistics.head(2).assign(source_table="12ti", month=pd.Timestamp("2015-06-01"))])
    assert reconciled_months(statistics) == {"2016-11", "2016-12", "2017-01"}
    indicators = indicator_rows([
        (f"{month}-01", area, "municipality" if area.startswith("KU") else "region", "unemployed", "total", value, "ok")
        for month in ("2015-06", "2016-10", "2016-11", "2016-12", "2017-01", "2017-02")
        for area, value in (("KU205", 11.0), ("KU105", 9.0), ("MK18", 81.0))
    ])
    within = indicators[indicators["month"].dt.strftime("%Y-%m").isin(reconciled_months(statistics))]
    assert len(within) < len(indicators)
    full = official_reconciliation(indicators, statistics, geography)
    assert len(full) == 6 and set(full["status"]) >= {"agree", "official_unavailable"}
    pd.testing.assert_frame_equal(official_reconciliation(within.reset_index(drop=True), statistics, geography), full)


def test_settings_refuse_an_unknown_region_and_read_the_tolerances():
    assert parse_area_scope("MK21,MK01") == ("MK21", "MK01")
    with pytest.raises(ValueError, match=r"no region MK03 in Finland's regional division"):
        parse_area_scope("MK18,MK03")
    settings = load_settings({"KAIRA_RECONCILIATION_ABSOLUTE_TOLERANCE": "0", "KAIRA_RECONCILIATION_RELATIVE_TOLERANCE": "0"})
    assert (settings.reconciliation_absolute_tolerance, settings.reconciliation_relative_tolerance) == (0.0, 0.0)
    assert load_settings({}).reconciliation_absolute_tolerance == 5.0
    with pytest.raises(ValueError, match="KAIRA_RECONCILIATION"):
        load_settings({"KAIRA_RECONCILIATION_RELATIVE_TOLERANCE": "2"})
