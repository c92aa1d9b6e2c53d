"""The monthly partitions every month-based asset shares, and the warehouse writer pool.

A month's key is its first day, `YYYY-MM-01` (Dagster's monthly format); the landing
files name the month `YYYY-MM`. Windows end at the last complete month (`end_offset=0`),
which is right for registers delivered after the month has ended.
"""

from __future__ import annotations

import dagster as dg

# DuckDB allows one writing process: every step that writes the working warehouse runs
# in this pool (limit 1, see dagster.yaml).
WAREHOUSE_WRITER_POOL = "warehouse_writer"

MONTHLY_PARTITIONS = dg.MonthlyPartitionsDefinition(
    # Early enough for any history we hold; a month without files fails its ingest
    # with the expected path named.
    start_date="2000-01-01",
    end_offset=0,
    timezone="Europe/Helsinki",
)


def partition_key_to_month(partition_key: str) -> str:
    """'2024-03-01' -> '2024-03', the month as the landing file names it."""
    year, month, *_ = partition_key.split("-")
    if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
        raise ValueError(f"not a monthly partition key: {partition_key!r}")
    return f"{year}-{month}"
