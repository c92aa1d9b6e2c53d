"""GX suites as Dagster asset checks, run in process: a failed `error` check blocks the
assets downstream (publishing), a failed `warn` check is reported and does not block,
the checks read the warehouse resource read-only, and each check step rewrites the run's
validation report and links it from its results."""

from __future__ import annotations

import hashlib

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.partitions import range_tags
from pipelines.resources import SettingsResource, WarehouseResource
from pipelines.validation.checks import (
    SuiteOnAsset,
    gx_asset_checks,
    gx_suites_asset_checks,
    warehouse_table_loader,
)

M1 = pd.Timestamp("2024-01-01")
M2 = pd.Timestamp("2024-02-01")


def pseudonym(n: int) -> str:
    return hashlib.sha256(f"person-{n}".encode()).hexdigest()


def share_rows(invoiced_second: float = 269.12, counter_second: int = 553) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [M1, M2],
            "source_line": [2, 2],
            "person_id": [pseudonym(1), pseudonym(1)],
            "sex": ["male", "male"],
            "payment_month": [M1, M2],
            "municipality_code": ["205", "205"],
            "paid_days": [22, 21],
            "cumulative_days": [532, counter_second],
            "days_before_period": [510, counter_second - 21],
            "paid_eur": [563.86, 538.23],
            "invoiced_share_eur": [281.93, invoiced_second],
            "has_rule": [True, True],
            "municipal_rate": [0.5, 0.5],
            "expected_share_eur": [281.93, 269.12],
            "share_difference_eur": [0.0, round(invoiced_second - 269.12, 2)],
        }
    )


def resources(folder) -> dict:
    """The resources of a run whose warehouse folder is `folder`."""
    settings = SettingsResource(warehouse_dir=str(folder))
    return {"settings": settings, "warehouse": WarehouseResource(settings=settings)}


@pytest.fixture
def warehouse(tmp_path):
    """A warehouse of its own, bound through the resources as in a real run."""

    def write(frame: pd.DataFrame) -> None:
        connection = duckdb.connect(str(tmp_path / "kaira.duckdb"))
        try:
            connection.execute("create schema if not exists marts")
            connection.register("frame", frame)
            connection.execute("create or replace table marts.fct_kela_payment_shares as select * from frame")
        finally:
            connection.close()

    return write


SHARES = dg.AssetKey(["fct_kela_payment_shares"])


def pipeline(published_log: list[str]):
    @dg.asset(key=SHARES)
    def fct_kela_payment_shares():
        return dg.MaterializeResult()

    @dg.asset(deps=[SHARES])
    def published_indicators():
        published_log.append("published")
        return dg.MaterializeResult()

    loader = warehouse_table_loader("marts.fct_kela_payment_shares")
    checks = [
        gx_asset_checks(SHARES, "fct_kela_payment_shares", loader, pool=None),
        gx_asset_checks(SHARES, "kela_counter_steps", loader, pool=None),
    ]
    return [fct_kela_payment_shares, published_indicators, *checks]


def evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_checks_are_declared_from_the_suite_with_blocking_by_severity():
    checks = gx_asset_checks(SHARES, "kela_counter_steps", lambda scope: pd.DataFrame())
    specs = {spec.name: spec for spec in checks.check_specs}
    assert set(specs) == {"kela_counter_never_decreases", "kela_counter_rises_by_paid_days"}
    assert specs["kela_counter_never_decreases"].blocking
    assert not specs["kela_counter_rises_by_paid_days"].blocking
    assert all(spec.asset_key == SHARES for spec in specs.values())
    assert specs["kela_counter_never_decreases"].description.startswith("A person's kertyneet_paivat")


def test_good_data_passes_and_publishing_runs(warehouse, tmp_path):
    warehouse(share_rows())
    log: list[str] = []
    result = dg.materialize(pipeline(log), resources=resources(tmp_path), raise_on_error=False)
    assert result.success
    found = evaluations(result)
    assert set(found) == {
        "days_before_period_not_negative",
        "invoiced_share_matches_recomputed",
        "kela_counter_never_decreases",
        "kela_counter_rises_by_paid_days",
    }
    assert all(e.passed for e in found.values())
    assert found["kela_counter_never_decreases"].metadata["observed"].value == "all 2 rows as expected"
    assert log == ["published"]


def test_failed_warning_is_reported_and_does_not_block(warehouse, tmp_path):
    warehouse(share_rows(invoiced_second=300.00))
    log: list[str] = []
    result = dg.materialize(pipeline(log), resources=resources(tmp_path), raise_on_error=False)
    found = evaluations(result)
    warning = found["invoiced_share_matches_recomputed"]
    assert not warning.passed
    assert warning.severity == dg.AssetCheckSeverity.WARN
    assert "30.88 EUR" in warning.metadata["observed"].value
    assert warning.metadata["expectation_type"].value == "expect_column_values_to_be_in_set"
    assert log == ["published"]


def test_failed_error_check_blocks_publishing(warehouse, tmp_path):
    warehouse(share_rows(counter_second=500))  # the counter goes down from 532 to 500
    log: list[str] = []
    result = dg.materialize(pipeline(log), resources=resources(tmp_path), raise_on_error=False)
    found = evaluations(result)
    blocking = found["kela_counter_never_decreases"]
    assert not blocking.passed
    assert blocking.severity == dg.AssetCheckSeverity.ERROR
    assert blocking.metadata["observed"].value.startswith("1 of 2 rows where the counter fell")
    assert pseudonym(1) not in str(blocking.metadata)
    assert log == []  # publishing never ran
    assert not result.success


def test_loader_gets_the_run_months_and_the_run_report_is_linked(tmp_path):
    seen = []

    def load(scope):
        seen.append(scope.months)
        return share_rows()

    @dg.asset(key=SHARES)
    def fct_kela_payment_shares():
        return dg.MaterializeResult()

    checks = gx_asset_checks(SHARES, "fct_kela_payment_shares", load, pool=None)
    result = dg.materialize([fct_kela_payment_shares, checks], resources=resources(tmp_path),
                            tags=range_tags("2024-01", "2024-02"))
    assert seen == [(M1.date(), M2.date())]
    report = tmp_path / "validation" / f"run-{result.run_id}.html"
    assert report.exists()
    assert all(e.metadata["validation_report"].path == str(report) for e in result.get_asset_check_evaluations())
    page = report.read_text(encoding="utf-8")
    assert "invoiced_share_matches_recomputed" in page and "days_before_period_not_negative" in page


def test_several_suites_in_one_step_and_a_table_that_cannot_be_read(warehouse, tmp_path):
    warehouse(share_rows())
    log: list[str] = []
    persons = dg.AssetKey(["fct_person_month_status"])

    @dg.asset(key=SHARES)
    def fct_kela_payment_shares():
        return dg.MaterializeResult()

    @dg.asset(key=persons)
    def fct_person_month_status():
        return dg.MaterializeResult()

    @dg.asset(deps=[SHARES, persons])
    def published_indicators():
        log.append("published")
        return dg.MaterializeResult()

    shares = warehouse_table_loader("marts.fct_kela_payment_shares")
    checks = gx_suites_asset_checks(
        [
            SuiteOnAsset(SHARES, "fct_kela_payment_shares", shares),
            SuiteOnAsset(SHARES, "kela_counter_steps", shares),
            # not in this warehouse: every check of the suite fails, as an error
            SuiteOnAsset(persons, "fct_person_month_status", warehouse_table_loader("marts.fct_person_month_status")),
        ],
        name="gx_marts",
        pool=None,
    )
    result = dg.materialize(
        [fct_kela_payment_shares, fct_person_month_status, published_indicators, checks],
        resources=resources(tmp_path), raise_on_error=False,
    )
    found = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    assert len(found) == 2 + 2 + 6
    assert found[(SHARES, "kela_counter_never_decreases")].passed
    unread = [e for (key, _), e in found.items() if key == persons]
    assert len(unread) == 6 and not any(e.passed for e in unread)
    assert all(e.severity == dg.AssetCheckSeverity.ERROR for e in unread)
    assert all(e.metadata["observed"].value.startswith("could not validate: CatalogException") for e in unread)
    assert not result.success  # the step itself fails loudly
    assert log == []
    # the run's report is written even though the step failed, with the unread suite in it
    page = (tmp_path / "validation" / f"run-{result.run_id}.html").read_text(encoding="utf-8")
    assert "kela_counter_never_decreases" in page and "structural_groups_disjoint" in page


def test_the_same_check_twice_on_one_asset_is_refused():
    with pytest.raises(ValueError, match="declared twice"):
        gx_suites_asset_checks(
            [SuiteOnAsset(SHARES, "stg_kela__tmt_payments", pd.DataFrame),
             SuiteOnAsset(SHARES, "stg_register__jobseeker_spells", pd.DataFrame)],
            name="gx_twice",
        )
