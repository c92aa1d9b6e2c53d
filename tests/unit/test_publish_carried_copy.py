"""The carried path of the writer (rows copied from the previous published.duckdb, merged
by month ranges with the months controlled now) gives what a full publication gives: the
same rows in the same order with the same types, in published.duckdb and in the Parquet
files, whichever months are carried (docs/disclosure-control.md, "Months that did not
change"). Real DuckDB files and the real writer."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from pipelines.publish import incremental
from pipelines.publish.disclosure import apply_disclosure_control
from pipelines.publish.incremental import PreviousPublication, PublicationPlan
from pipelines.publish.tables import INDICATORS_COLUMNS, PUBLICATION_COLUMNS, indicators_monthly, publication
from pipelines.publish.writer import CarriedChanged, publish_atomically
from tests.unit.test_publish_incremental import MONTHS, mart


def full_and_row(run_id: str):
    published = indicators_monthly(apply_disclosure_control(mart(), threshold=5))
    return published, publication(run_id, published, "MK18", 5, True, municipality_set="real")


def publish(folder, published, row, carried=None):
    database, link = folder / "published.duckdb", folder / "published"
    publish_atomically(database, link, {"indicators_monthly": (published, INDICATORS_COLUMNS),
                                        "publication": (row, PUBLICATION_COLUMNS)}, carried=carried)
    return database, link


def stored(database, link) -> dict[str, tuple]:
    connection = duckdb.connect(str(database), read_only=True)
    try:
        result = {}
        for name, relation in (("duckdb", connection.table("indicators_monthly")),
                               ("parquet", connection.read_parquet(str(link / "indicators_monthly.parquet")))):
            result[name] = (relation.columns, [str(t) for t in relation.types], relation.fetchall())
        return result
    finally:
        connection.close()


@pytest.mark.parametrize("recontrolled", [["2024-03"], ["2024-02"], ["2024-01"], ["2024-01", "2024-03"]])
def test_carried_months_copied_file_to_file_equal_a_full_publication(tmp_path, recontrolled):
    full, row = full_and_row("run-1")
    previous_db, _ = publish(tmp_path / "previous", full, row)
    expected = stored(*publish(tmp_path / "full", full, row))
    assert len(expected["duckdb"][2]) == len(full) and expected["duckdb"] == expected["parquet"]

    carry = tuple(m for m in MONTHS if m not in recontrolled)
    plan = PublicationPlan(tuple(recontrolled), carry, basis="test")
    previous = PreviousPublication("run-1", 5, "MK18", "real", 2, "rules", {m: "" for m in MONTHS})
    carried = incremental.carried_rows(previous_db, plan, previous)
    # The months before the first one controlled again stay in place in the copy of the
    # previous file; after them, month ranges alternate between the sides.
    assert carried is not None
    assert (carried.kept, [str(day) for day in carried.kept_parameters]) == {
        ("2024-03",): ("month <= ?", ["2024-02-01"]), ("2024-02",): ("month <= ?", ["2024-01-01"]),
        ("2024-01",): ("false", []), ("2024-01", "2024-03"): ("false", [])}[tuple(recontrolled)]
    assert [from_previous for from_previous, _, _ in carried.parts] == {
        ("2024-03",): [False], ("2024-02",): [False, True], ("2024-01",): [False, True],
        ("2024-01", "2024-03"): [False, True, False]}[tuple(recontrolled)]
    months = full["month"].dt.strftime("%Y-%m")
    now = full[months.isin(recontrolled)].reset_index(drop=True)
    assert stored(*publish(tmp_path / "carried", now, row, {"indicators_monthly": carried})) == expected


def test_nothing_carried_when_every_month_is_controlled(tmp_path):
    previous = PreviousPublication("run-1", 5, "MK18", "real", 2, "rules", {})
    assert incremental.carried_rows(tmp_path / "p.duckdb", PublicationPlan(MONTHS), previous) is None


def test_a_replaced_previous_publication_is_never_carried_from(tmp_path):
    full, row = full_and_row("run-2")  # the file in place is run-2's, the plan was made from run-1's
    previous_db, _ = publish(tmp_path / "previous", full, row)
    plan = PublicationPlan(("2024-03",), ("2024-01", "2024-02"), basis="test")
    previous = PreviousPublication("run-1", 5, "MK18", "real", 2, "rules", {m: "" for m in MONTHS})
    target = tmp_path / "new"
    with pytest.raises(CarriedChanged, match="replaced by another publication"):
        publish(target, full.iloc[:0], row, {"indicators_monthly": incremental.carried_rows(previous_db, plan, previous)})
    assert not (target / "published.duckdb").exists()
    assert not list(target.glob(".*.tmp")) and not list((target / "published.versions").glob(".*"))


def test_the_follow_up_from_the_carried_rows_read_into_pandas_is_the_follow_up_of_every_row():
    """With carried months, only the rows of `derived_tables_indicators` are read into pandas:
    the target follow-up made from them must be the one made from every published row."""
    from pipelines.publish.assets import derived_tables_indicators
    from pipelines.publish.tables import target_followup

    published = indicators_monthly(apply_disclosure_control(mart(), threshold=5))
    targets = pd.DataFrame([
        {"target_id": "halve", "description_fi": "puolitus", "indicator": "structural_unemployed", "area_code": "*",
         "sex": "*", "baseline_month": date(2024, 1, 1), "target_month": date(2024, 3, 1), "target_ratio": 0.5},
        {"target_id": "small", "description_fi": "pieni", "indicator": "laid_off", "area_code": "KU205", "sex": "*",
         "baseline_month": date(2024, 1, 1), "target_month": None, "target_ratio": None},
    ])
    indicators = derived_tables_indicators(targets)
    assert {"structural_unemployed", "laid_off", "unemployed"} <= set(indicators)
    assert set(published["indicator"]) - set(indicators)  # rows are left out indeed
    reduced = published[published["indicator"].isin(indicators)].reset_index(drop=True)
    full = target_followup(published, targets)
    assert full["status"].eq("suppressed").any() and full["area_code"].nunique() == published["area_code"].nunique() > 1
    pd.testing.assert_frame_equal(target_followup(reduced, targets), full)


def test_carried_rows_of_some_indicators_are_read_in_the_stored_order(tmp_path):
    """DuckDB plans a filter on several indicators as a join, which reorders rows on a table
    of several row groups: the rows read for the follow-up must still come in the order the
    publication stores them. 360,000 rows (three row groups), 30 months, 19 indicators."""
    database = tmp_path / "published.duckdb"
    indicators = [f"indicator_{n}" for n in range(19)]
    connection = duckdb.connect(str(database))
    try:
        connection.execute("create table publication as select 'run-1' as run_id")
        connection.execute(
            "create table indicators_monthly as select cast(date '2020-01-01' + to_months(i // 12000) as date) as month,"
            " last_day(cast(date '2020-01-01' + to_months(i // 12000) as date)) as count_date,"
            " 'KU' || lpad(cast((i // 12) % 1000 as varchar), 3, '0') as area_code, 'municipality' as area_level,"
            " 'Kunta' as area_name, 'total' as sex, 'indicator_' || cast(i % 19 as varchar) as indicator,"
            " cast(i as double) as value, 'ok' as status, true as lookback_complete, 'MK01' as parent_area_code"
            " from range(360000) as t(i) order by i")
        stored = connection.execute("select * from indicators_monthly").df()
    finally:
        connection.close()
    months = [f"2020-{m:02d}" for m in range(1, 13)] + [f"2021-{m:02d}" for m in range(1, 13)]
    previous = PreviousPublication("run-1", 5, "all", "synthetic", 2, "rules", {})
    wanted = indicators[:5]
    expected = stored[stored["month"].dt.strftime("%Y-%m").isin(months) & stored["indicator"].isin(wanted)]
    for _ in range(5):  # the reordering depends on the threads' timing: several reads
        carried = incremental.read_carried(database, months, previous, wanted)
        assert len(carried) == len(expected) > 70_000
        pd.testing.assert_series_equal(carried["value"], expected["value"].reset_index(drop=True))
