"""The `run_checks` table: every check evaluated in the run that publishes."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from pipelines.publish.tables import RUN_CHECKS_COLUMNS
from pipelines.validation.gx_runner import ExpectationOutcome


def checks_of_run(instance: dg.DagsterInstance, run_id: str) -> pd.DataFrame:
    """The asset check evaluations the run has recorded so far (dbt tests and GX suites)."""
    records = instance.get_records_for_run(
        run_id=run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    rows = []
    for record in records:
        entry = record.event_log_entry
        evaluation = entry.dagster_event.event_specific_data
        observed = _observed(evaluation.metadata, evaluation.passed)
        rows.append(
            {
                "run_id": run_id,
                "checked_at": datetime.fromtimestamp(entry.timestamp, tz=timezone.utc).replace(tzinfo=None),
                "asset": evaluation.asset_key.to_user_string(),
                "check_name": evaluation.check_name,
                "severity": "warn" if evaluation.severity == dg.AssetCheckSeverity.WARN else "error",
                "passed": bool(evaluation.passed),
                "description": evaluation.description or "dbt data test (dbt_project/models, dbt_project/tests)",
                "observed": observed,
            }
        )
    return pd.DataFrame(rows, columns=list(RUN_CHECKS_COLUMNS))


def _observed(metadata, passed: bool) -> str:
    """A short text of what the check saw: GX suites give `observed`; dbt tests give the
    number of failing rows."""
    if "observed" in metadata:
        return str(metadata["observed"].value)[:200]
    if "dagster_dbt/failed_row_count" in metadata:
        return f"{metadata['dagster_dbt/failed_row_count'].value} failing rows (dbt test)"
    return "passed" if passed else "failed"


def outcome_rows(run_id: str, asset: str, outcomes: list[ExpectationOutcome]) -> pd.DataFrame:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "checked_at": now,
                "asset": asset,
                "check_name": o.check_name,
                "severity": o.severity,
                "passed": o.success,
                "description": o.description,
                "observed": o.observed,
            }
            for o in outcomes
        ],
        columns=list(RUN_CHECKS_COLUMNS),
    )
