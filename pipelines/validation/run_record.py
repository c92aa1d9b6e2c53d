"""What a run's checks said, read back from the Dagster instance: as rows (the published
`run_checks` table) and as the run's validation report.

The report is the validation stage's: every check step of the run (the GX suites on the
staging views and the marts, and the published-table checks before the swap) rewrites
`<warehouse>/validation/run-<run id>.html` from the evaluations the run has recorded so
far (dbt tests included) plus its own outcomes, which it has not yielded yet. The last
check step of a run therefore leaves the whole run's report, also when a blocking check
stopped it. Each check result links the page under `REPORT_METADATA_KEY`, which is where
`kaira run`'s summary finds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.core.settings import Settings
from pipelines.validation.gx_runner import ExpectationOutcome
from pipelines.validation.report import write_validation_report

REPORT_METADATA_KEY = "validation_report"
REPORT_FOLDER = "validation"
# The columns of the published run_checks table (pipelines/publish/tables.py gives their types).
RUN_CHECK_FIELDS = ("run_id", "checked_at", "asset", "check_name", "severity", "passed", "description", "observed")
DBT_TEST_DESCRIPTION = "dbt data test (dbt_project/models, dbt_project/tests)"

# (asset, check name) -> what the check protects, for checks whose evaluations carry no
# description (dbt tests: their description is on the check's spec, not on its result).
Descriptions = Mapping[tuple[str, str], str]


def report_folder(settings: Settings) -> Path:
    return settings.warehouse_dir / REPORT_FOLDER


def report_path(folder: Path, run_id: str) -> Path:
    return Path(folder) / f"run-{run_id}.html"


def check_descriptions(asset_graph) -> dict[tuple[str, str], str]:
    """The declared descriptions of every check in the definitions' asset graph."""
    found = {}
    for key in asset_graph.asset_check_keys:
        description = asset_graph.get(key).description
        if description:
            found[(key.asset_key.to_user_string(), key.name)] = description
    return found


def checks_of_run(instance: dg.DagsterInstance, run_id: str, descriptions: Descriptions | None = None) -> pd.DataFrame:
    """The asset check evaluations the run has recorded so far (dbt tests and GX suites)."""
    records = instance.get_records_for_run(run_id=run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    rows = []
    for record in records:
        entry = record.event_log_entry
        evaluation = entry.dagster_event.event_specific_data
        asset = evaluation.asset_key.to_user_string()
        rows.append(
            {
                "run_id": run_id,
                "checked_at": datetime.fromtimestamp(entry.timestamp, tz=UTC).replace(tzinfo=None),
                "asset": asset,
                "check_name": evaluation.check_name,
                "severity": "warn" if evaluation.severity == dg.AssetCheckSeverity.WARN else "error",
                "passed": bool(evaluation.passed),
                "description": evaluation.description
                or (descriptions or {}).get((asset, evaluation.check_name))
                or DBT_TEST_DESCRIPTION,
                "observed": _observed(evaluation.metadata, evaluation.passed),
            }
        )
    return pd.DataFrame(rows, columns=list(RUN_CHECK_FIELDS))


def _observed(metadata, passed: bool) -> str:
    """A short text of what the check saw: GX suites give `observed`; dbt tests give the
    number of failing rows."""
    if "observed" in metadata:
        return str(metadata["observed"].value)[:200]
    if "dagster_dbt/failed_row_count" in metadata:
        return f"{metadata['dagster_dbt/failed_row_count'].value} failing rows (dbt test)"
    return "passed" if passed else "failed"


def outcome_rows(run_id: str, asset: str, outcomes: Sequence[ExpectationOutcome]) -> pd.DataFrame:
    """Outcomes not yet recorded by the instance, as run_checks rows."""
    now = datetime.now(UTC).replace(tzinfo=None)
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
        columns=list(RUN_CHECK_FIELDS),
    )


def with_pending(checks: pd.DataFrame, run_id: str, pending: Mapping[str, Sequence[ExpectationOutcome]]) -> pd.DataFrame:
    """The recorded checks, each pending outcome replacing a recorded one of the same
    asset and name (a retried step records its checks twice)."""
    frames = [outcome_rows(run_id, asset, outcomes) for asset, outcomes in pending.items()]
    if not frames:
        return checks
    new = pd.concat(frames, ignore_index=True)
    replaced = checks.set_index(["asset", "check_name"]).index.isin(new.set_index(["asset", "check_name"]).index)
    kept = checks[~replaced]
    return pd.concat([kept, new], ignore_index=True) if len(kept) else new


def outcomes_by_asset(checks: pd.DataFrame) -> dict[str, list[ExpectationOutcome]]:
    """run_checks rows grouped by asset, in the shape the report renders."""
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


def write_run_report(checks: pd.DataFrame, folder: Path, run_id: str) -> Path:
    """The run's report from its checks (recorded and pending): `run-<run id>.html`."""
    return write_validation_report(outcomes_by_asset(checks), report_path(folder, run_id), context=f"run {run_id}")


def failed_blocking(checks: pd.DataFrame) -> list[str]:
    """`asset:check` of every failed error-severity check."""
    failed = checks[(~checks["passed"].astype(bool)) & checks["severity"].eq("error")]
    return [f"{row.asset}:{row.check_name}" for row in failed.itertuples()]
