"""The dbt unit tests (the Kela share golden cases K1-K10, `kela_share_golden_cases`) run
here: production runs exclude them (`--exclude-resource-type unit_test`), so this is
where they are run at all.

dbt needs the relations of a unit-tested model's parents to exist (it reads their
columns), so the parents are built first with `--empty` (no rows) in a warehouse of the
test's own, on the raw tables that ingest would create; then `dbt test --select
test_type:unit` runs every unit test of the project.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.sources.raw_schema import DDL, RAW_SCHEMA
from tests.helpers import dbt


def build_unit_test_parents(folder: Path) -> None:
    connection = duckdb.connect(str(folder / "kaira.duckdb"))
    try:
        connection.execute(f"create schema {RAW_SCHEMA}")
        for ddl in DDL.values():
            connection.execute(ddl)
    finally:
        connection.close()

    parents = dbt(folder, "build", "--select", "+test_type:unit", "--empty",
                  "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test")
    assert parents.returncode == 0, parents.output[-4000:]


def test_every_dbt_unit_test_runs_and_passes(tmp_path):
    build_unit_test_parents(tmp_path)

    unit = dbt(tmp_path, "test", "--select", "test_type:unit")
    statuses = unit.statuses("unit_test")
    assert "unit_test.kaira.fct_kela_payment_shares.kela_share_golden_cases" in statuses, unit.output[-4000:]
    assert set(statuses.values()) == {"pass"}, unit.output[-4000:]
    assert unit.returncode == 0


def test_the_unit_tests_ignore_a_processing_window_in_the_environment(tmp_path, monkeypatch):
    """The window reaches dbt as environment variables (macros/window.sql); the unit test
    overrides them to none, so its cases (2010-2025) are all computed whatever window the
    environment holds. Without the override this window would leave no row."""
    build_unit_test_parents(tmp_path)
    monkeypatch.setenv("KAIRA_DBT_MONTH_START", "2030-01-01")
    monkeypatch.setenv("KAIRA_DBT_MONTH_END", "2030-02-01")

    unit = dbt(tmp_path, "test", "--select", "test_type:unit")
    assert set(unit.statuses("unit_test").values()) == {"pass"}, unit.output[-4000:]
