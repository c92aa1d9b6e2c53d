"""Run the pipeline for a range of months through Dagster, in this process.

Used by `kaira run` and the end-to-end tests: the runs go into the Dagster instance
(`$DAGSTER_HOME`), so they appear in the UI's history like runs started there. A range of
months is one run: the monthly assets have `BackfillPolicy.single_run()`, so ingest
loops over the months and dbt is invoked once for the whole window.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from pipelines.automation.history import HOST_TAG, PID_TAG
from pipelines.partitions import STARTED_BY_TAG, range_tags

# The steps after the warehouse: a range that is not the last of a `kaira run` skips them,
# so that one `kaira run` publishes once, over all its months (never a publication between
# two ranges, which would show some months recomputed and others not yet).
PUBLISHING_ASSETS = ("published_tables", "followup_reports")


@dataclass
class RunOutcome:
    run_ids: list[str] = field(default_factory=list)
    success: bool = True
    failure: str | None = None


def run_months(
    first_month: str,
    last_month: str,
    instance: dg.DagsterInstance | None = None,
    *,
    on_event: Callable[[dg.EventLogEntry], None] | None = None,
    publish: bool = True,
) -> RunOutcome:
    """Materialize the reference data (unless this warehouse has this version's already,
    pipelines/warehouse/reference_state.py), then every monthly asset for first..last in one run
    (without publishing and the reports when `publish` is false).

    `on_event` (with an instance) is called with every event of the runs as it is stored:
    `kaira run`'s progress display. The runs carry the process's pid and host, so that a
    run left STARTED by a killed process is recognised (pipelines.automation.history).
    """
    from pipelines.core.settings import load_settings
    from pipelines.definitions import defs
    from pipelines.warehouse.reference_state import reference_is_current

    outcome = RunOutcome()
    monthly = defs.resolve_job_def("monthly_job")
    if not publish:
        monthly = monthly.get_subset(
            asset_selection={key for key in monthly.asset_layer.executable_asset_keys
                             if key.to_user_string() not in PUBLISHING_ASSETS},
        )
    process_tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(), STARTED_BY_TAG: "kaira run"}
    settings = load_settings()
    jobs = [(monthly, {**process_tags, **range_tags(first_month, last_month)})]
    if not reference_is_current(settings.warehouse_dir, settings.warehouse_path):
        jobs.insert(0, (defs.resolve_job_def("reference_job"), process_tags))
    for job, tags in jobs:
        run_id = str(uuid.uuid4())  # known before the run starts, so a listener can follow it
        if instance is not None:
            if on_event is not None:
                instance.add_event_listener(run_id, on_event)
            if settings.fault_pause is not None:
                instance.add_event_listener(run_id, fault_pause_listener(settings))
        result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False, run_id=run_id)
        outcome.run_ids.append(result.run_id)
        if not result.success:
            outcome.success = False
            outcome.failure = first_failure(result)
            break
    return outcome


def run_public_data(
    instance: dg.DagsterInstance | None = None, *, on_event: Callable[[dg.EventLogEntry], None] | None = None
) -> RunOutcome:
    """Public-data mode: the reference data, then the official statistics, publishing and
    the reports (pipelines/jobs.py, official_job); no register is read."""
    from pipelines.definitions import defs

    outcome = RunOutcome()
    process_tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(), STARTED_BY_TAG: "kaira run"}
    for name in ("reference_job", "official_job"):
        run_id = str(uuid.uuid4())  # known before the run starts, so a listener can follow it
        if instance is not None and on_event is not None:
            instance.add_event_listener(run_id, on_event)
        result = defs.resolve_job_def(name).execute_in_process(
            instance=instance, tags=process_tags, raise_on_error=False, run_id=run_id
        )
        outcome.run_ids.append(result.run_id)
        if not result.success:
            outcome.success, outcome.failure = False, first_failure(result)
            break
    return outcome


def fault_point(event: dg.EventLogEntry) -> str | None:
    """The fault-injection point (pipelines.core.settings.FAULT_POINTS) an event marks, if any.
    Listeners run in the executing thread right after the event is stored, so holding
    there holds the run at that point ("swap" is held inside the writer)."""
    if not event.is_dagster_event:
        return None
    dagster_event = event.get_dagster_event()
    step = event.step_key
    if dagster_event.is_step_materialization:
        if step in ("raw_jobseeker_spells", "raw_kela_payments"):
            return "ingest"
        if step == "kaira_monthly_models":
            return "dbt"
    if dagster_event.is_step_start:
        return {"gx_marts": "checks", "published_tables": "publish", "followup_reports": "reports"}.get(step or "")
    return None


def fault_pause_listener(settings) -> Callable[[dg.EventLogEntry], None]:
    from pipelines.core.fault_injection import hold_at

    def listen(event: dg.EventLogEntry) -> None:
        point = fault_point(event)
        if point is not None:
            hold_at(point, settings)

    return listen


def first_failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            data = event.step_failure_data
            if data.user_failure_data is not None and data.user_failure_data.description:
                message = data.user_failure_data.description  # dg.Failure(description=...)
            else:
                # Dagster wraps the asset's exception (DagsterExecutionStepExecutionError): the
                # innermost cause is the one that says what went wrong.
                error = data.error
                while error.cause is not None:
                    error = error.cause
                message = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
            return f"{event.step_key}: {message.strip()}"
    return "the run failed"
