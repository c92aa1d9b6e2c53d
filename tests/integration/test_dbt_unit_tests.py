"""The dbt unit tests (the Kela share golden cases K1-K10, `kela_share_golden_cases`) run
here: production runs exclude them (`--exclude-resource-type unit_test`), so this is
where they are run at all.

dbt needs the relations of a unit-tested model's parents to exist (it reads their
columns), so the parents are built first with `--empty` (no rows) in a warehouse of the
test's own, on the raw tables that ingest would create; then `dbt test --select
test_type:unit` runs every unit test of the project.
"""

from __future__ import annotations

import duckdb

from pipelines.sources.raw_schema import DDL, RAW_SCHEMA
from tests.helpers import dbt


def test_every_dbt_unit_test_runs_and_passes(tmp_path):
    connection = duckdb.connect(str(tmp_path / "kaira.duckdb"))
    try:
        connection.execute(f"create schema {RAW_SCHEMA}")
        for ddl in DDL.values():
            connection.execute(ddl)
    finally:
        connection.close()

    parents = dbt(tmp_path, "build", "--select", "+test_type:unit", "--empty",
                  "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test")
    assert parents.returncode == 0, parents.output[-4000:]

    unit = dbt(tmp_path, "test", "--select", "test_type:unit")
    statuses = unit.statuses("unit_test")
    assert "unit_test.kaira.fct_kela_payment_shares.kela_share_golden_cases" in statuses, unit.output[-4000:]
    assert set(statuses.values()) == {"pass"}, unit.output[-4000:]
    assert unit.returncode == 0
