"""A publication that carries rows from the previous one (its file copied, the months that
changed replaced, the target follow-up's carried rows merged with the rows made now) is the
publication a full republication makes: every table, every row, column, type and place, in
published.duckdb and in every Parquet file. Real Dagster runs of `published_tables` over a
small generated warehouse (six months of two Kainuu municipalities and the region, follow-up
targets with baselines inside, before and at the start of the history), real DuckDB files.
"""

from __future__ import annotations

import os
from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.partitions import range_tags
from pipelines.publish.assets import published_tables
from pipelines.publish.incremental import FINGERPRINTS_NAME
from pipelines.resources import SettingsResource, WarehouseResource
from tests.helpers import environment, file_mode, query, umask
from tests.unit.test_publish_incremental import mart

MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")
# What names the run, and what a run's checks saw (a full republication checks every month,
# a month's run one month: "all 171 rows as expected" against 1,026), differ by design.
RUN_COLUMNS = {"publication": {"run_id", "published_at"}, "run_checks": {"run_id", "checked_at", "observed"}}
TARGETS = pd.DataFrame([
    # baseline inside the history: its rows depend on 2024-02's published cells
    {"target_id": "halve", "description_fi": "puolitus", "indicator": "structural_unemployed", "area_code": "*",
     "sex": "*", "baseline_month": date(2024, 2, 1), "target_month": date(2024, 12, 1), "target_ratio": 0.5},
    # a monitoring target of one municipality, baseline the first month
    {"target_id": "inflow", "description_fi": "virta", "indicator": "structural_inflow", "area_code": "KU205",
     "sex": "*", "baseline_month": date(2024, 1, 1), "target_month": None, "target_ratio": None},
    # baseline before the history: never published, every row `no_baseline`
    {"target_id": "early", "description_fi": "aiempi", "indicator": "unemployed", "area_code": "*", "sex": "total",
     "baseline_month": date(2023, 6, 1), "target_month": date(2024, 12, 1), "target_ratio": 0.9},
])


def warehouse_cells() -> pd.DataFrame:
    cells = mart(MONTHS)
    # Values that move from month to month, so that a carried row in the wrong place shows.
    step = cells["month"].dt.month.astype(float)
    counts = ~cells["indicator"].str.endswith("_eur") & cells["value"].gt(10)
    cells.loc[counts, "value"] = cells.loc[counts, "value"] + step[counts]
    return cells


@pytest.fixture
def settings(tmp_path, monkeypatch):
    for name, value in environment(tmp_path, KAIRA_AREA_SCOPE="MK18").items():
        monkeypatch.setenv(name, value)
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    connection = duckdb.connect(str(warehouse / "kaira.duckdb"))
    try:
        connection.execute("create schema marts")
        connection.execute("create schema reference")
        connection.register("cells", warehouse_cells())
        connection.execute("create table marts.fct_indicators_monthly as select * from cells order by month")
        connection.register("targets", TARGETS)
        connection.execute("create table reference.followup_targets as select target_id, description_fi, indicator, "
                           "area_code, sex, cast(baseline_month as date) as baseline_month, "
                           "cast(target_month as date) as target_month, cast(target_ratio as double) as target_ratio "
                           "from targets")
    finally:
        connection.close()
    return SettingsResource().settings


def run(month: str | None) -> dict[str, str]:
    """The publishing step alone, as a run of `month` (None: a run without months); its plan."""
    settings = SettingsResource()
    result = dg.materialize([published_tables], resources={
        "settings": settings, "warehouse": WarehouseResource(settings=settings)},
        tags=range_tags(month, month) if month else {}, raise_on_error=False)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("published_tables")
    return {key: str(value.value) for key, value in materialization.metadata.items()}


def publication_rows(settings) -> dict[str, tuple]:
    """Every table of published.duckdb and every Parquet file of the current version: columns,
    types and rows in their stored order, without the columns that name the run."""
    connection = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        tables = sorted(name for (name,) in connection.execute("select table_name from duckdb_tables()").fetchall())
        folder = os.path.realpath(settings.published_parquet_dir)
        assert sorted(os.listdir(folder)) == [f"{name}.parquet" for name in tables]
        stored = {}
        for name in tables:
            for label, relation in (("duckdb", connection.table(name)),
                                    ("parquet", connection.read_parquet(os.path.join(folder, f"{name}.parquet")))):
                kept = [c for c in relation.columns if c not in RUN_COLUMNS.get(name, set())]
                relation = relation.select(*kept)
                stored[f"{label} {name}"] = (relation.columns, [str(t) for t in relation.types], relation.fetchall())
        return stored
    finally:
        connection.close()


def assert_equals_a_full_republication(settings) -> None:
    carried = publication_rows(settings)
    (settings.warehouse_dir / FINGERPRINTS_NAME).unlink()
    assert run(MONTHS[-1])["carried_months"] == "none"
    full = publication_rows(settings)
    assert set(carried) == set(full)
    for name in full:
        assert carried[name] == full[name], name


def change_mart(settings, sql: str, parameters: list) -> None:
    connection = duckdb.connect(str(settings.warehouse_path))
    try:
        connection.execute(sql, parameters)
    finally:
        connection.close()


def followup(settings, target_id: str) -> list[tuple]:
    return query(settings.published_path, "select month, area_code, sex, baseline_value, value, status "
                 "from target_followup where target_id = ?", [target_id])


def test_the_newest_month_carries_every_other_row_and_equals_a_full_republication(settings):
    run(None)
    plan = run(MONTHS[-1])
    assert (plan["recontrolled_months"], plan["carried_months"]) == ("2024-06", "2024-01..2024-05")
    assert plan["carried_followup_targets"] == "halve, inflow, early"
    statuses = {status for *_, status in followup(settings, "halve") + followup(settings, "early")}
    assert {"ok", "no_baseline"} <= statuses
    with umask(0o022):
        plan = run(MONTHS[-1])  # twice: the file copied from a copy
    assert plan["carried_followup_targets"] == "halve, inflow, early"
    assert file_mode(settings.published_path) == 0o644  # readable by dashboards, as a new file is
    assert not list(settings.warehouse_dir.glob("*.wal")) and not list(settings.warehouse_dir.glob(".*"))
    assert_equals_a_full_republication(settings)


def test_a_changed_baseline_month_recomputes_its_targets_whole(settings):
    run(None)
    before = followup(settings, "halve")
    change_mart(settings, "update marts.fct_indicators_monthly set value = value + 40 where month = ? "
                "and indicator = 'structural_unemployed' and sex = 'total'", [date(2024, 2, 1)])
    plan = run(MONTHS[-1])
    assert plan["recontrolled_months"] == "2024-02, 2024-06"
    # The target whose baseline is 2024-02 is made whole again; the others keep their rows.
    assert plan["carried_followup_targets"] == "inflow, early"
    after = followup(settings, "halve")
    changed = {row[:3] for row, old in zip(after, before, strict=True) if row != old}
    assert {month for month, _, _ in changed} >= {date(2024, 3, 1), date(2024, 5, 1)}  # carried months' rows too
    assert_equals_a_full_republication(settings)


def test_a_changed_month_in_the_middle_and_a_month_gone_and_one_new_equal_a_full_republication(settings):
    run(None)
    change_mart(settings, "update marts.fct_indicators_monthly set area_name = 'Kajaani (korjattu)' "
                "where month = ? and area_code = 'KU205'", [date(2024, 4, 1)])
    plan = run(MONTHS[-1])
    assert (plan["recontrolled_months"], plan["carried_months"]) == ("2024-04, 2024-06", "2024-01..2024-03, 2024-05")
    assert_equals_a_full_republication(settings)

    # The first month leaves the mart (its rows must go, every target's 2024-01 rows with
    # them, and `inflow` loses its baseline) and 2024-07 arrives.
    change_mart(settings, "delete from marts.fct_indicators_monthly where month = ?", [date(2024, 1, 1)])
    change_mart(settings, "insert into marts.fct_indicators_monthly select * replace (cast(? as date) as month, "
                "cast(? as date) as count_date) from marts.fct_indicators_monthly where month = ?",
                [date(2024, 7, 1), date(2024, 7, 31), date(2024, 6, 1)])
    plan = run("2024-07")
    assert (plan["recontrolled_months"], plan["carried_months"]) == ("2024-07", "2024-02..2024-06")
    assert plan["carried_followup_targets"] == "halve, early"
    assert {status for *_, status in followup(settings, "inflow")} == {"no_baseline"}
    assert_equals_a_full_republication(settings)
