"""Run the pipeline for a range of months through Dagster, in this process.

Used by `kaira run` and the end-to-end tests: the runs go into the Dagster instance
(`$DAGSTER_HOME`), so they appear in the UI's history like runs started there. A range of
months is one run: the monthly assets have `BackfillPolicy.single_run()`, so ingest
loops over the months and dbt is invoked once for the whole window.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from pipelines.partitions import range_tags


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
) -> RunOutcome:
    """Materialize the reference data, then every monthly asset for first..last in one run.

    `on_event` (with an instance) is called with every event of the runs as it is stored:
    `kaira run`'s progress display.
    """
    from pipelines.definitions import defs

    return run_jobs(
        [
            (defs.resolve_job_def("reference_job"), {}),
            (defs.resolve_job_def("monthly_job"), range_tags(first_month, last_month)),
        ],
        instance,
        on_event=on_event,
    )


def run_public_data(
    instance: dg.DagsterInstance | None = None, *, on_event: Callable[[dg.EventLogEntry], None] | None = None
) -> RunOutcome:
    """Public-data mode: the reference data, then the official statistics, publishing and
    the reports (pipelines/jobs.py, official_job); no register is read."""
    from pipelines.definitions import defs

    return run_jobs(
        [(defs.resolve_job_def("reference_job"), {}), (defs.resolve_job_def("official_job"), {})],
        instance,
        on_event=on_event,
    )


def run_jobs(jobs, instance, *, on_event) -> RunOutcome:
    outcome = RunOutcome()
    for job, tags in jobs:
        run_id = str(uuid.uuid4())  # known before the run starts, so a listener can follow it
        if on_event is not None and instance is not None:
            instance.add_event_listener(run_id, on_event)
        result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False, run_id=run_id)
        outcome.run_ids.append(result.run_id)
        if not result.success:
            outcome.success = False
            outcome.failure = first_failure(result)
            break
    return outcome


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
