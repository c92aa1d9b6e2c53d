"""The published-table checks, declared on `published_tables` and evaluated inside its step
on the frame about to be written: a frame that passes is published with its checks
recorded against the new version; a frame that fails one publishes nothing and the step
fails naming the check. Either way the run's validation report lists them.

The asset runs in process on a small warehouse of its own (no dbt, no ingest).
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.publish.assets import published_tables
from pipelines.resources import SettingsResource, WarehouseResource
from pipelines.validation.gx_runner import check_specs_for_suite
from pipelines.validation.run_record import REPORT_METADATA_KEY
from tests.helpers import indicator_cells, query

PUBLISHED = dg.AssetKey("published_tables")
OFFICIAL_CHECKS = {"official_files_readable", "official_consistency", "official_reconciliation"}
TARGET_COLUMNS = "target_id varchar, description_fi varchar, indicator varchar, area_code varchar, sex varchar, " \
                 "baseline_month date, target_month date, target_ratio double"


def write_warehouse(folder, cells: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(folder / "kaira.duckdb"))
    try:
        connection.execute("create schema marts")
        connection.execute("create schema reference")
        connection.register("cells", cells)
        connection.execute("create table marts.fct_indicators_monthly as select * from cells")
        connection.execute(f"create table reference.followup_targets ({TARGET_COLUMNS})")
    finally:
        connection.close()


@pytest.fixture
def run(tmp_path):
    settings = SettingsResource(
        landing_dir=str(tmp_path / "landing"),
        warehouse_dir=str(tmp_path / "warehouse"),
        reports_dir=str(tmp_path / "reports"),
        quarantine_dir=str(tmp_path / "quarantine"),
        suppression_threshold=5,
    )
    resources = {"settings": settings, "warehouse": WarehouseResource(settings=settings)}

    def materialize(cells: pd.DataFrame):
        write_warehouse(tmp_path / "warehouse", cells)
        return dg.materialize([published_tables], resources=resources, raise_on_error=False)

    return tmp_path / "warehouse", materialize


def evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == PUBLISHED}


def test_the_published_checks_are_declared_on_the_asset_and_blocking():
    specs = {spec.name: spec for spec in published_tables.check_specs}
    suite = {name for name, _, _ in check_specs_for_suite("indicators_monthly")}
    assert set(specs) == suite | OFFICIAL_CHECKS
    assert "no_single_suppressed_cell_in_a_relation" in specs and "no_small_person_counts" in specs
    assert all(specs[name].blocking for name in suite)
    # the official statistics' checks warn and never block publishing
    assert not any(specs[name].blocking for name in OFFICIAL_CHECKS)


def test_a_frame_that_passes_is_published_with_its_checks_and_report(run):
    folder, materialize = run
    result = materialize(indicator_cells())
    assert result.success
    found = evaluations(result)
    assert set(found) == {spec.name for spec in published_tables.check_specs}
    assert all(e.passed for e in found.values())
    report = folder / "validation" / f"run-{result.run_id}.html"
    assert report.exists() and "no_single_suppressed_cell_in_a_relation" in report.read_text(encoding="utf-8")
    assert all(e.metadata[REPORT_METADATA_KEY].path == str(report) for e in found.values())
    # the checks are part of the published run_checks, under the published table's name
    rows = query(folder / "published.duckdb", "select asset, passed from run_checks where check_name = "
                 "'no_single_suppressed_cell_in_a_relation'")
    assert rows == [("indicators_monthly", True)]


def test_a_frame_that_fails_a_check_publishes_nothing_and_names_it(run):
    folder, materialize = run
    cells = indicator_cells()
    cells.loc[cells["area_code"] == "KU578", "area_name"] = "Paltamo 131052-308T"
    result = materialize(cells)
    assert not result.success
    found = evaluations(result)
    assert not found["no_identity_code_in_text"].passed
    assert all(e.passed for name, e in found.items() if name != "no_identity_code_in_text")
    assert not OFFICIAL_CHECKS & set(found)  # not evaluated: nothing was published
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "no_identity_code_in_text" in failure.description
    assert not (folder / "published.duckdb").exists()
    assert not (folder / "published").exists()
    page = (folder / "validation" / f"run-{result.run_id}.html").read_text(encoding="utf-8")
    assert "Blocking checks failed" in page and "131052" not in page
