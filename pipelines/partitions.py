"""Months as Dagster sees them: the monthly partitions, the warehouse writer pool, and the
run tags that say which months a run covers. The one module that turns months into
partition keys and run tags and back; the ingest assets, the checks, the automation and
the CLI's runner all read a run's months through `months_of_run`.

A month's key is its first day, `YYYY-MM-01` (Dagster's monthly format); the landing
files name the month `YYYY-MM`. Windows end at the last complete month (`end_offset=0`),
which is right for registers delivered after the month has ended.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from pipelines.core.months import month_text, months_between, parse_month
from pipelines.core.supported_months import FIRST_MONTH, partitions_end_date

# DuckDB allows one writing process: every step that writes the working warehouse runs
# in this pool (limit 1, see the instance settings, pipelines/dagster.yaml).
WAREHOUSE_WRITER_POOL = "warehouse_writer"

MONTHLY_PARTITIONS = dg.MonthlyPartitionsDefinition(
    # The supported months (pipelines/core/supported_months.py): from FIRST_MONTH to the
    # last complete month, never past the calendar the dbt models know. A month without
    # files fails its ingest with the expected path named.
    start_date=f"{FIRST_MONTH}-01",
    end_date=partitions_end_date(),
    end_offset=0,
    timezone="Europe/Helsinki",
)

# Dagster's own tags: a run of one partition, or of a range of partitions (both ends inclusive).
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Kaira's tags: the months whose files changed (sensor, schedule) and who started a run.
CHANGED_MONTHS_TAG = "kaira/changed_months"
STARTED_BY_TAG = "kaira/started_by"


def partition_key(month: str | date) -> str:
    """'2010-12' -> '2010-12-01', the monthly partition key."""
    return f"{month_text(month)}-01"


def partition_key_to_month(key: str) -> str:
    """'2024-03-01' -> '2024-03', the month as the landing file names it."""
    return month_text(key)


def range_tags(first_month: str, last_month: str) -> dict[str, str]:
    """Run tags that make one run cover the months first..last (both inclusive)."""
    start, end = partition_key(first_month), partition_key(last_month)
    if end < start:
        raise ValueError(f"the range ends ({last_month}) before it starts ({first_month})")
    return {RANGE_START_TAG: start, RANGE_END_TAG: end}


def months_of_run(tags: dict[str, str]) -> list[str] | None:
    """The months (YYYY-MM) a run covers, from its partition or range tags; None if neither
    (an unpartitioned run)."""
    if PARTITION_TAG in tags:
        return [month_text(tags[PARTITION_TAG])]
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return months_between(month_text(tags[RANGE_START_TAG]), month_text(tags[RANGE_END_TAG]))
    return None


def month_dates_of_run(tags: dict[str, str]) -> list[date] | None:
    """`months_of_run` as first days of months, as the warehouse tables hold them."""
    months = months_of_run(tags)
    return None if months is None else [parse_month(month) for month in months]
