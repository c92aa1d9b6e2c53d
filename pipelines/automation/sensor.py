"""The landing sensor: requests a month when both of its files have landed, or one has
changed, together with the later months already processed (one run for the range). Run keys
come from the files' hashes, so the same files never run twice. A thin Dagster wrapper over
the landing scan (pipelines.core.landing), the instance (history.py) and the pure
decisions (decisions.py). It ships running, like the schedule.
"""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg

from pipelines.automation.decisions import (
    HashPair,
    LandingCursor,
    changed_months,
    plan_runs,
    run_key,
)
from pipelines.automation.history import (
    MONTHLY_JOB,
    REFERENCE_JOB,
    active_monthly_runs,
    ingested_month,
    mark_abandoned_runs,
    materialized_months,
    reference_built,
)
from pipelines.automation.refusals import refusal_note, refuse_landing_files
from pipelines.core.configuration import automation_refusal
from pipelines.core.landing import (
    SOURCES,
    delivery_paths,
    file_state,
    half_landed_months,
    landed_months,
)
from pipelines.core.months import describe_months
from pipelines.core.settings import Settings
from pipelines.jobs import monthly_job, reference_job
from pipelines.partitions import CHANGED_MONTHS_TAG, partition_key, range_tags
from pipelines.resources import SettingsResource

SENSOR_INTERVAL_SECONDS = 60
# A file modified less than this long ago may still be being copied: look again next time.
SETTLE_SECONDS = 60

def scan_landing(
    landing_dir: Path, cache: dict[str, list], *, now: float, settle_seconds: float
) -> tuple[dict[str, HashPair], list[str], dict[str, list]]:
    """Landed months -> hash pair; months whose files are still being written; the new stat cache."""
    landed: dict[str, HashPair] = {}
    arriving: list[str] = []
    files: dict[str, list] = {}
    for month in landed_months(landing_dir):
        paths = delivery_paths(landing_dir, month)
        try:
            if any(now - paths[source].stat().st_mtime < settle_seconds for source in SOURCES):
                arriving.append(month)
                continue
            states = {}
            for source in SOURCES:
                key = paths[source].relative_to(landing_dir).as_posix()
                states[source] = file_state(paths[source], cache, key)
                files[key] = states[source].as_list()
        except FileNotFoundError:
            continue  # removed while we looked
        landed[month] = tuple(states[source].sha256 for source in SOURCES)  # type: ignore[assignment]
    return landed, arriving, files


def monthly_request(first: str, last: str, landed: dict[str, HashPair], changed: list[str]) -> dg.RunRequest:
    tags = {CHANGED_MONTHS_TAG: describe_months([m for m in changed if first <= m <= last]) or "-"}
    key = run_key(first, last, landed)
    if first == last:
        return dg.RunRequest(run_key=key, job_name=MONTHLY_JOB, partition_key=partition_key(first), tags=tags)
    # One run for the range (the monthly assets have BackfillPolicy.single_run()).
    return dg.RunRequest(run_key=key, job_name=MONTHLY_JOB, tags={**tags, **range_tags(first, last)})


def evaluate_landing(
    instance: dg.DagsterInstance,
    cursor_text: str | None,
    settings: Settings,
    *,
    now: float | None = None,
    settle_seconds: float = SETTLE_SECONDS,
) -> dg.SensorResult:
    seen = LandingCursor.from_json(cursor_text)
    now = time.time() if now is None else now
    # A run left 'started' by a killed process would count as running for ever.
    mark_abandoned_runs(instance, by="sensor landing_sensor")
    # Files that are not deliveries of a supported month: quarantined and named, never a partition.
    refusals, _ = refuse_landing_files(settings, seen_by="sensor landing_sensor")
    refused = refusal_note(refusals)
    blocked = automation_refusal(settings)
    if blocked is not None:
        # The cursor stays as it was: the months count as changed once the settings are sorted out.
        notes = [blocked, *([refused] if refused else [])]
        return dg.SensorResult(skip_reason=dg.SkipReason("; ".join(notes)), cursor=cursor_text)
    landed, arriving, files = scan_landing(settings.landing_dir, seen.files, now=now, settle_seconds=settle_seconds)

    to_run, already, running = [], [], []
    warehouse_exists = settings.warehouse_path.exists()
    changed = changed_months(landed, seen.months)
    active = active_monthly_runs(instance) if changed else {}
    for month in changed:
        ingested = ingested_month(instance, month)
        if ingested and ingested.succeeded and ingested.hashes == landed[month] and warehouse_exists:
            already.append(month)  # e.g. processed by `kaira run` before the sensor was on
        elif month in active:
            running.append(month)  # a run (UI, CLI, schedule) is on it already
        else:
            to_run.append(month)
    ranges = plan_runs(to_run, materialized_months(instance) if to_run else set(), set(landed))

    # Months still arriving keep what the sensor saw before, so they count as changed next time.
    months = {**{m: p for m, p in seen.months.items() if m in arriving}, **landed}
    cursor = LandingCursor(months=months, files=files).to_json()

    requests: list[dg.RunRequest] = []
    if ranges and not reference_built(instance):
        # The monthly models read the seeds: build them first (the pool runs the two in order).
        key = f"reference-before-{run_key(*ranges[0], landed)}"
        requests.append(dg.RunRequest(run_key=key, job_name=REFERENCE_JOB))
    requests += [monthly_request(first, last, landed, to_run) for first, last in ranges]
    if requests:
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    notes = [f"no new or changed deliveries in {settings.landing_dir} ({len(landed)} months landed)"]
    if already:
        notes.append(f"{describe_months(already)} already processed from the same files")
    if running:
        run_ids = ", ".join(sorted({active[month] for month in running}))
        notes.append(f"{describe_months(running)} queued or running in run(s) {run_ids}")
    if arriving:
        notes.append(f"{describe_months(arriving)} still arriving (modified in the last {settle_seconds:.0f} s)")
    for month, waiting_for in half_landed_months(settings.landing_dir).items():
        names = " and ".join(path.relative_to(settings.landing_dir).as_posix() for path in waiting_for)
        notes.append(f"{month} waits for {names}")
    if refused:
        notes.append(refused)
    return dg.SensorResult(skip_reason=dg.SkipReason("; ".join(notes)), cursor=cursor)


@dg.sensor(
    name="landing_sensor",
    jobs=[reference_job, monthly_job],
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When both files of a month have landed, or one has changed, process that month and "
    "the later months already processed (one run for the range). The same files never run twice.",
)
def landing_sensor(context: dg.SensorEvaluationContext, settings: SettingsResource):
    return evaluate_landing(context.instance, context.cursor, settings.settings)
