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
