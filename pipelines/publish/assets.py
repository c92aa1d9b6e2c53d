"""Publishing: the disclosure-controlled contract tables, moved into place atomically.

Runs after the marts and their blocking checks. It reads the marts read-only, applies
disclosure control, builds the follow-up of the targets, validates the published frame
itself (no small counts, no identity codes), and only then writes `published.duckdb` and
the Parquet directory. Any blocking failure stops it before anything a reader sees changes.
"""

import dagster as dg
import pandas as pd

from pipelines.core.configuration import check_publication
from pipelines.core.fault_injection import hold_at
from pipelines.core.settings import load_settings
from pipelines.partitions import WAREHOUSE_WRITER_POOL, months_of_run
from pipelines.publish.disclosure import apply_disclosure_control
from pipelines.publish.run_checks import checks_of_run, outcome_rows
from pipelines.publish.tables import (
    INDICATORS_COLUMNS,
    PUBLICATION_COLUMNS,
    RUN_CHECKS_COLUMNS,
    TARGET_COLUMNS,
    indicators_monthly,
    publication,
    target_followup,
)
from pipelines.publish.writer import publish_atomically
from pipelines.sources.landing_marker import is_synthetic
from pipelines.validation.checks import read_table
from pipelines.validation.gx_runner import (
    ExpectationOutcome,
    blocking_failures,
    validate_frame,
)
from pipelines.validation.relations import prepare_published_frame
from pipelines.validation.report import write_validation_report

MARTS = ("fct_indicators_monthly", "fct_person_month_status", "fct_kela_payment_shares", "fct_records_outside_scope")
# Publishing waits for the staging views too: their source checks must have passed.
STAGED = ("stg_register__jobseeker_spells", "stg_kela__tmt_payments")


def build_published_tables(indicator_cells: pd.DataFrame, targets: pd.DataFrame, threshold: int):
    controlled = apply_disclosure_control(indicator_cells, threshold=threshold)
    published = indicators_monthly(controlled)
    return published, target_followup(published, targets)


@dg.asset(
    deps=[dg.AssetKey(name) for name in (*MARTS, *STAGED, "followup_targets")],
    group_name="publish",
    pool=WAREHOUSE_WRITER_POOL,
    kinds={"python", "duckdb", "parquet"},
    description="published.duckdb and published/*.parquet: indicators_monthly, target_followup, "
    "run_checks and publication, disclosure-controlled, replaced atomically after every blocking check passed.",
)
def published_tables(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    cells = read_table(settings.warehouse_path, "marts.fct_indicators_monthly")
    targets = read_table(settings.warehouse_path, "reference.followup_targets")
    published, followup = build_published_tables(cells, targets, settings.suppression_threshold)

    outcomes = validate_frame(
        prepare_published_frame(published, threshold=settings.suppression_threshold), "indicators_monthly"
    )
    checks = pd.concat(
        [checks_of_run(context.instance, context.run.run_id), outcome_rows(context.run.run_id, "indicators_monthly", outcomes)],
        ignore_index=True,
    )
    report = write_validation_report(
        outcomes_by_asset(checks),
        settings.warehouse_dir / "validation" / f"run-{context.run.run_id}.html",
        context=f"run {context.run.run_id}",
    )
    failures = blocking_failures(outcomes) + _failed_errors(checks)
    if failures:
        names = ", ".join(sorted({getattr(f, "check_name", str(f)) for f in failures}))
        raise dg.Failure(
            description=f"not published: blocking check(s) failed: {names}",
            metadata={"validation_report": dg.MetadataValue.path(str(report))},
        )

    # Never a mix of settings (pipelines/core/configuration.py): raises, publishing nothing.
    check_publication(settings, pd.to_datetime(published["month"]).dt.strftime("%Y-%m").unique(),
                      months_of_run(dict(context.run.tags)))
    publish_atomically(
        settings.published_path,
        settings.published_parquet_dir,
        {
            "indicators_monthly": (published, INDICATORS_COLUMNS),
            "target_followup": (followup, TARGET_COLUMNS),
            "run_checks": (checks, RUN_CHECKS_COLUMNS),
            "publication": (
                publication(context.run.run_id, published, settings.area_scope_var, settings.suppression_threshold,
                            is_synthetic(settings.landing_dir), municipality_set=settings.municipality_set),
                PUBLICATION_COLUMNS,
            ),
        },
        before_swap=lambda: hold_at("swap", settings),  # test-only fault pause (docs/faults.md)
    )
    months = sorted(published["month"].unique())
    return dg.MaterializeResult(
        metadata={
            "published": dg.MetadataValue.path(str(settings.published_path)),
            "months": f"{months[0]} .. {months[-1]} ({len(months)})" if months else "none",
            "indicator_rows": len(published),
            "suppressed_cells": int(published["status"].eq("suppressed").sum()),
            "target_rows": len(followup),
            "checks": len(checks),
            "validation_report": dg.MetadataValue.path(str(report)),
        }
    )


def outcomes_by_asset(checks: pd.DataFrame) -> dict[str, list[ExpectationOutcome]]:
    """The run's checks (dbt tests and GX suites) grouped by asset, for the run's report."""
    grouped: dict[str, list[ExpectationOutcome]] = {}
    for row in checks.itertuples():
        grouped.setdefault(row.asset, []).append(
            ExpectationOutcome(
                check_name=row.check_name,
                expectation_type="",
                severity=row.severity,
                success=bool(row.passed),
                description=row.description,
                observed=row.observed,
            )
        )
    return grouped


def _failed_errors(checks: pd.DataFrame) -> list[str]:
    failed = checks[(~checks["passed"].astype(bool)) & checks["severity"].eq("error")]
    return [f"{row.asset}:{row.check_name}" for row in failed.itertuples()]
