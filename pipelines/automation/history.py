"""What the Dagster instance remembers: which deliveries were ingested, by which run, with
what outcome, and which runs are active now.

The schedule and the sensor decide from here, not from the warehouse: a run holds DuckDB's
single write lock for minutes, and a read-only connection opened meanwhile fails. The
ingest assets record each month's file hashes in their materialization metadata
(`months` -> {YYYY-MM: {sha256, ...}}, see pipelines.sources.assets.delivery_metadata),
whichever way the run was started (UI, CLI, schedule, sensor), and the run's status says
whether the month got through dbt, the checks and publishing too.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from pipelines.core.source_registry import REGISTER_SOURCES, SOURCES
from pipelines.partitions import (
    WAREHOUSE_WRITER_POOL,
    months_of_run,
    partition_key,
    partition_key_to_month,
)

MONTHLY_JOB = "monthly_job"
REFERENCE_JOB = "reference_job"
INGEST_ASSET_KEYS = {source.name: dg.AssetKey(source.asset_name) for source in REGISTER_SOURCES}
# Seeds of the reference job that every monthly dbt build reads.
REFERENCE_ASSET_KEYS = (
    dg.AssetKey("municipalities"),
    dg.AssetKey("regions"),
    dg.AssetKey("finnish_public_holidays"),
    dg.AssetKey("municipal_share_rules"),
)
ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
EXECUTING_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class IngestedMonth:
    """The latest ingest of a month: per source (jobseeker, Kela) the file hash and the run."""

    month: str
    hashes: tuple[str | None, ...]
    run_ids: tuple[str | None, ...]
    statuses: tuple[dg.DagsterRunStatus | None, ...]

    @property
    def succeeded(self) -> bool:
        """Both files ingested, by runs that then finished successfully (dbt, checks, publish)."""
        return all(status == dg.DagsterRunStatus.SUCCESS for status in self.statuses) and all(self.hashes)

    @property
    def run_id(self) -> str | None:
        return next((run_id for run_id in reversed(self.run_ids) if run_id), None)


def ingested_month(instance: dg.DagsterInstance, month: str) -> IngestedMonth | None:
    """What the latest materialization of each ingest asset recorded for `month`, or None."""
    hashes, run_ids, statuses = [], [], []
    for source in SOURCES:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=INGEST_ASSET_KEYS[source], asset_partitions=[partition_key(month)]),
            limit=1,
        )
        entry = result.records[0].event_log_entry if result.records else None
        if entry is None or entry.asset_materialization is None:
            hashes.append(None)
            run_ids.append(None)
            statuses.append(None)
            continue
        months = entry.asset_materialization.metadata.get("months")
        recorded = (months.value if months is not None else None) or {}
        hashes.append((recorded.get(month) or {}).get("sha256"))
        run_ids.append(entry.run_id)
        run = instance.get_run_by_id(entry.run_id) if entry.run_id else None
        statuses.append(run.status if run else None)
    if not any(run_ids):
        return None
    return IngestedMonth(month, tuple(hashes), tuple(run_ids), tuple(statuses))


def materialized_months(instance: dg.DagsterInstance) -> set[str]:
    """Months both ingest assets have materialized at least once (YYYY-MM)."""
    per_source = [
        {partition_key_to_month(key) for key in instance.get_materialized_partitions(INGEST_ASSET_KEYS[source])}
        for source in SOURCES
    ]
    return set.intersection(*per_source)


def reference_built(instance: dg.DagsterInstance) -> bool:
    """The reference data (dbt seeds) the monthly models read has been materialized."""
    return all(instance.get_latest_materialization_event(key) is not None for key in REFERENCE_ASSET_KEYS)


def active_monthly_runs(instance: dg.DagsterInstance) -> dict[str, str]:
    """Months that a queued or executing monthly run covers -> that run's id."""
    active: dict[str, str] = {}
    records = instance.get_run_records(dg.RunsFilter(job_name=MONTHLY_JOB, statuses=ACTIVE_STATUSES))
    for record in records:
        for month in months_of_run(dict(record.dagster_run.tags)) or []:
            active.setdefault(month, record.dagster_run.run_id)
    return active


def executing_writer_runs(
    instance: dg.DagsterInstance, exclude: set[str] | frozenset[str] = frozenset()
) -> list[dg.DagsterRun]:
    """Runs executing now that write the working warehouse (a step in the writer pool)."""
    runs = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=EXECUTING_STATUSES)):
        run = record.dagster_run
        pools = run.run_op_concurrency.all_pools if run.run_op_concurrency else None
        if run.run_id not in exclude and pools and WAREHOUSE_WRITER_POOL in pools:
            runs.append(run)
    return runs


# --- runs whose process is gone ------------------------------------------------------------

# Tags `kaira run` puts on its in-process runs: the process that executes them, so a run
# left STARTED by a killed process can be recognised and marked failed (Dagster itself
# cannot tell: the default run launcher does no health checks).
PID_TAG = "kaira/pid"
HOST_TAG = "kaira/host"


@dataclass(frozen=True)
class AbandonedRun:
    run: dg.DagsterRun
    pid: int
    why: str  # "no process 1234", "process 1234 is another program (started after the run)"


def run_process(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The pid of the process executing `run`: `kaira run`'s tag, else the pid Dagster
    records in the run's engine events (the run worker of the daemon's launcher, or the
    process of an in-process execution). None if not known (yet)."""
    tags = dict(run.tags)
    if tags.get(PID_TAG, "").isdigit():
        return int(tags[PID_TAG])
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20).records
    for record in records:
        data = record.event_log_entry.dagster_event.event_specific_data
        pid = getattr(data, "metadata", {}).get("pid") if data is not None else None
        text = str(getattr(pid, "value", pid) or "")
        if text.isdigit():
            return int(text)
    return None


def _process_start(pid: int) -> float | None:
    """When the process started (seconds since the epoch), from /proc; None if unknown."""
    import os

    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as handle:
            boot = next(float(line.split()[1]) for line in handle if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _process_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def process_gone(pid: int, run_started: float | None) -> str | None:
    """Why process `pid` cannot be the one that started a run at `run_started` (None if
    it may be): it does not exist, is a zombie, or started after the run (pid reused)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"no process {pid} is running"
    except PermissionError:
        pass  # another user's process: it exists
    if _process_state(pid) == "Z":
        return f"process {pid} has ended"
    started = _process_start(pid)
    if started is not None and run_started is not None and started > run_started + 2:
        return f"process {pid} is another program, started after the run"
    return None


def abandoned_runs(instance: dg.DagsterInstance) -> list[AbandonedRun]:
    """Runs recorded as executing whose process is gone: killed (SIGKILL, out of memory,
    a power cut) before Dagster could record the end. Runs of another host (`kaira run`'s
    host tag) and runs whose process is not known are left alone."""
    import socket

    host = socket.gethostname()
    found = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=EXECUTING_STATUSES)):
        run = record.dagster_run
        if dict(run.tags).get(HOST_TAG, host) != host:
            continue
        pid = run_process(instance, run)
        if pid is None:
            continue
        why = process_gone(pid, record.start_time or record.create_timestamp.timestamp())
        if why is not None:
            found.append(AbandonedRun(run, pid, why))
    return found


def mark_abandoned_runs(instance: dg.DagsterInstance, *, by: str) -> list[AbandonedRun]:
    """Mark every abandoned run failed, with a note saying why and by whom, so that it no
    longer holds the warehouse (the writer pool, `kaira run`'s check) and the automation
    runs its months again. Its ingest may have loaded some months (each load is one
    transaction); nothing it had not finished was published."""
    marked = []
    for abandoned in abandoned_runs(instance):
        note = (
            f"marked failed by {by}: the run was left '{abandoned.run.status.value}' but its process is gone "
            f"({abandoned.why}); it was killed or crashed. The published tables are those of the last "
            "complete run; the run's months are processed again by the next run."
        )
        instance.report_run_failed(abandoned.run, message=note)
        marked.append(abandoned)
    return marked
