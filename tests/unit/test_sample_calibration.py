"""The synthetic Kainuu sample against the real official series (docs/sample-calibration.md).

Protects issue 11's promise: the default sample's unemployed track Statistics Finland's
`TYOTTOMATLOPUSSA` of Kainuu (MK18, without Vaala) within 10 % in every month 2006-01 …
2013-12, and each municipality roughly its own series; the official figures come from the
real series shipped with Kaira, through the StatFin reader; the sample is counted by the
definitions' rule; the fitted inflow continues by the season outside its months; and
`kaira calibrate` prints both comparisons.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest

from pipelines.cli.main import main
from pipelines.core.kaira_report import KAINUU, REPORTED_FIGURES
from pipelines.sample import calibration as c
from pipelines.sample import parameters as p
from pipelines.sample.dates import date_to_day, parse_month
from pipelines.sample.engine import Persons, Simulation, Spells
from pipelines.sample.fitted_inflow import FittedInflow, load_fitted_inflow
from pipelines.sample.geography import kainuu_geography
from tests.helpers import isolated_environment


@pytest.fixture(scope="module")
def comparison() -> list[c.MonthComparison]:
    return c.sample_comparison()


def test_kainuu_tracks_the_official_series_within_10_percent_in_every_month(comparison):
    kainuu = [row for row in comparison if row.area_code == c.KAINUU]
    assert [row.month for row in kainuu] == c.calibration_months()
    assert len(kainuu) == 96 and all(row.official for row in kainuu)
    outside = [(row.month, row.official, row.sample) for row in kainuu if abs(row.ratio - 1) > c.KAINUU_TOLERANCE]
    assert outside == []


def test_each_municipality_roughly_tracks_its_own_series(comparison):
    for area in c.MUNICIPALITIES:
        rows = [row for row in comparison if row.area_code == area]
        assert len(rows) == 96 and all(row.official for row in rows), area
        deviations = np.array([abs(row.ratio - 1) for row in rows])
        assert deviations.mean() <= c.MUNICIPALITY_MEAN_TOLERANCE, (area, deviations.mean())
        assert deviations.max() <= c.MUNICIPALITY_MONTH_TOLERANCE, (area, rows[int(deviations.argmax())])
    assert c.outside_tolerance(comparison) == []


def test_kainuu_of_the_sample_is_its_eight_municipalities_without_vaala(comparison):
    by_key = {(row.month, row.area_code): row for row in comparison}
    for month in ("2006-01", "2010-12", "2013-12"):
        eight = sum(by_key[(month, area)].sample for area in c.MK18_MUNICIPALITIES)
        assert by_key[(month, c.KAINUU)].sample == eight
        assert by_key[(month, c.VAALA)].sample > 0  # Vaala is in the sample, only not in this MK18


def test_the_official_series_is_the_real_one_shipped_with_kaira():
    official = c.official_unemployed()
    # The figure: Kainuu's unemployed in December 2010.
    assert official[("2010-12", "MK18")] == 5104
    assert official[("2006-01", "KU205")] == 2919
    # The official MK18 is the sum of the eight municipalities (the division of 2023, Vaala outside).
    for month in ("2006-01", "2010-12", "2013-12"):
        assert official[(month, "MK18")] == sum(official[(month, area)] for area in c.MK18_MUNICIPALITIES)


def _simulation(spells: list[tuple[int, str, str, int, str]]) -> Simulation:
    """A simulation of hand-written spells: (person, start, end, status, municipality code)."""
    geography = kainuu_geography()
    persons = max(spell[0] for spell in spells) + 1
    day = lambda text: date_to_day(dt.date.fromisoformat(text))  # noqa: E731
    return Simulation(
        persons=Persons(
            person_type=np.zeros(persons, dtype=np.int8),
            birth_day=np.full(persons, day("1970-01-01")),
            male=np.zeros(persons, dtype=bool),
            receives_tmt=np.zeros(persons, dtype=bool),
            prior_tmt_days=np.zeros(persons, dtype=np.int64),
            rate_permille=np.full(persons, 1000),
            child_increment_cents=np.zeros(persons, dtype=np.int64),
            fitted=np.zeros(persons, dtype=bool),
        ),
        spells=Spells(
            person=np.array([spell[0] for spell in spells]),
            start=np.array([day(spell[1]) for spell in spells]),
            end=np.array([day(spell[2]) for spell in spells]),
            status=np.array([spell[3] for spell in spells], dtype=np.int8),
            service=np.full(len(spells), -1, dtype=np.int8),
            municipality=np.array([geography.codes.index(spell[4]) for spell in spells]),
        ),
        first_day=day("2010-01-01"),
        last_day=day("2011-12-31"),
        geography=geography,
    )


def test_the_sample_is_counted_by_the_definitions_rule_on_the_count_date():
    # December 2010's count date is Friday 31.12.2010.
    simulation = _simulation(
        [
            (0, "2010-06-01", "2011-02-01", p.TYOTON, "205"),  # unemployed on the count date: counted
            (1, "2010-12-31", "2010-12-31", p.LOMAUTETTU, "205"),  # fully laid off, that day only: counted
            (2, "2010-12-01", "2011-01-31", p.LYHENNETTY, "205"),  # shortened week: not unemployed
            (3, "2010-11-01", "2010-12-30", p.TYOTON, "205"),  # ended the day before: not counted
            (4, "2010-12-01", "2011-01-31", p.PALVELU, "290"),  # in a service: not unemployed
            (5, "2010-01-01", "2011-12-31", p.TYOTON, "785"),  # Vaala: its own row, not in this MK18
            (6, "2010-01-01", "2011-12-31", p.TYOTON, "578"),
        ]
    )
    counts = c.sample_unemployed(simulation, ["2010-12"])
    assert counts[("2010-12", "KU205")] == 2
    assert counts[("2010-12", "KU290")] == 0
    assert counts[("2010-12", "KU785")] == 1
    assert counts[("2010-12", "MK18")] == 3


def test_the_fitted_inflow_continues_by_the_season_outside_its_months():
    inflow = load_fitted_inflow()
    assert inflow.codes == ("105", "205", "290", "578", "620", "697", "765", "777", "785")
    assert (inflow.first_month, inflow.last_month) == (parse_month("2006-01"), parse_month("2013-12"))
    rates = np.arange(48.0).reshape(24, 2)  # two fitted years, two municipalities
    table = FittedInflow(parse_month("2006-01"), ("205", "785"), rates)
    # Before: the mean of the same calendar month of the (two) first years; after: of the last.
    before = table.at(np.array([parse_month("2004-03"), parse_month("2005-12")]))
    assert before.tolist() == [[(rates[2, 0] + rates[14, 0]) / 2, (rates[2, 1] + rates[14, 1]) / 2],
                               [(rates[11, 0] + rates[23, 0]) / 2, (rates[11, 1] + rates[23, 1]) / 2]]
    after = table.at(np.array([parse_month("2008-05")]))
    assert after.tolist() == [[(rates[4, 0] + rates[16, 0]) / 2, (rates[4, 1] + rates[16, 1]) / 2]]
    inside = table.at(np.array([parse_month("2007-02")]))
    assert inside.tolist() == [rates[13].tolist()]


def _warehouse_with_figures(path, values: dict[str, float]) -> None:
    """A warehouse holding Kainuu's figures for the reported months (the mart's own columns
    that `kaira calibrate` reads)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_indicators_monthly (month date, area_code varchar, sex varchar, "
            "indicator varchar, value double)"
        )
        for figure in REPORTED_FIGURES:
            for month in figure.months:
                con.execute(
                    "insert into marts.fct_indicators_monthly values (?, ?, 'total', ?, ?)",
                    [dt.date.fromisoformat(month + "-01"), KAINUU, figure.indicator, values[figure.name]],
                )
    finally:
        con.close()


def test_kaira_calibrate_prints_both_comparisons(tmp_path, capsys):
    with isolated_environment(tmp_path):
        (tmp_path / "warehouse").mkdir()
        _warehouse_with_figures(
            tmp_path / "warehouse" / "kaira.duckdb", {figure.name: figure.value for figure in REPORTED_FIGURES}
        )
        code = main(["calibrate"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert c.OFFICIAL_CREDIT in out and c.SYNTHETIC_LABEL in out
    # month, official, sample, ratio: Kainuu's December 2010, and one line per area and month.
    kainuu_2010_12 = next(row for row in c.sample_comparison() if row.area_code == "MK18" and row.month == "2010-12")
    assert f"  2010-12        5104 {kainuu_2010_12.sample:8d} {kainuu_2010_12.ratio:7.3f}" in out
    assert sum(line.startswith("  20") for line in out.splitlines()) == 96 * 10
    for area in ("Kainuu (MK18, ilman Vaalaa) (MK18)", "Kajaani (KU205)", "Vaala (KU785)"):
        assert area in out
    for figure in REPORTED_FIGURES:
        assert f"  {figure.name:38s} otos {figure.value:8.0f}  KAIRA {figure.value:6.0f}   +0.0%  ok" in out


def test_kaira_calibrate_fails_when_a_structural_figure_is_off_or_missing(tmp_path, capsys):
    with isolated_environment(tmp_path):
        code = main(["calibrate"])
        out = capsys.readouterr().out
        assert code == 1 and "aja ensin `kaira demo`" in out
        (tmp_path / "warehouse").mkdir()
        off = {figure.name: figure.value for figure in REPORTED_FIGURES} | {"structural_unemployed 2010-12": 4470}
        _warehouse_with_figures(tmp_path / "warehouse" / "kaira.duckdb", off)
        code = main(["calibrate"])
    out = capsys.readouterr().out
    assert code == 1
    assert "structural_unemployed 2010-12          otos     4470  KAIRA   3353  +33.3%  ULKONA (±10%)" in out
