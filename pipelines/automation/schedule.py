"""The monthly schedule: on the 10th at 06:00 Helsinki time, the previous month, unless its
files are missing or it was already processed from the same files. A thin Dagster wrapper:
the facts come from the landing folder (pipelines.core.landing) and the instance
(history.py), the decision from decisions.py.

It ships running (`default_status=RUNNING`): Kaira is a scheduled ETL, and automation that
is silently off is worse than a run nobody clicked; every decision is idempotent. It acts
only where the Dagster daemon runs (`dagster dev` starts one).
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from pipelines.automation.decisions import (
    decide_month,
    month_due,
    run_key,
)
from pipelines.automation.history import (
    active_monthly_runs,
    ingested_month,
    mark_abandoned_runs,
    reference_built,
)
from pipelines.automation.refusals import refusal_note, refuse_landing_files
from pipelines.core.configuration import automation_refusal
from pipelines.core.landing import (
    missing_files,
    month_hashes,
)
from pipelines.core.settings import Settings
from pipelines.core.supported_months import month_problem
from pipelines.jobs import monthly_job
from pipelines.partitions import CHANGED_MONTHS_TAG, partition_key
from pipelines.resources import SettingsResource

# The registers usually arrive in the first week of the month; the 10th leaves a margin.
SCHEDULE_CRON = "0 6 10 * *"
SCHEDULE_TIMEZONE = "Europe/Helsinki"


def evaluate_month(instance: dg.DagsterInstance, month: str, settings: Settings) -> dg.RunRequest | dg.SkipReason:
    # A run left 'started' by a killed process would count as running for ever.
    mark_abandoned_runs(instance, by="schedule monthly_schedule")
    # Files that are not deliveries of a supported month: quarantined, named in the skip reason.
    refusals, _ = refuse_landing_files(settings, seen_by="schedule monthly_schedule")
    refused = refusal_note(refusals)

    def skip(reason: str) -> dg.SkipReason:
        return dg.SkipReason(f"{reason}; {refused}" if refused else reason)

    problem = month_problem(month)
    if problem is not None:
        return skip(f"{month}: {problem}")
    blocked = automation_refusal(settings)
    if blocked is not None:
        return skip(f"{month}: {blocked}")
    missing = missing_files(settings.landing_dir, month)
    hashes = None if missing else month_hashes(settings.landing_dir, month)
    ingested = ingested_month(instance, month)
    decision = decide_month(
        month,
        missing=missing,
        hashes=hashes,
        ingested_hashes=ingested.hashes if ingested else None,
        ingested_run_id=ingested.run_id if ingested else None,
        ingested_succeeded=bool(ingested and ingested.succeeded),
        active_run_id=active_monthly_runs(instance).get(month),
        warehouse_exists=settings.warehouse_path.exists(),
        reference_ready=reference_built(instance),
    )
    if not decision.run:
        return skip(decision.reason)
    return dg.RunRequest(
        run_key=run_key(month, month, {month: hashes}),
        partition_key=partition_key(month),
        tags={CHANGED_MONTHS_TAG: month},
    )


@dg.schedule(
    name="monthly_schedule",
    job=monthly_job,
    cron_schedule=SCHEDULE_CRON,
    execution_timezone=SCHEDULE_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On the 10th at 06:00 (Helsinki): process the previous month, unless its files are "
    "missing or it was already processed from the same files (the tick says why it skipped).",
)
def monthly_schedule(context: dg.ScheduleEvaluationContext, settings: SettingsResource):
    tick = context.scheduled_execution_time or datetime.now(UTC)
    return evaluate_month(context.instance, month_due(tick), settings.settings)

