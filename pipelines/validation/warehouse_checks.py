"""The checks of the monthly run, on the months the run processed.

- source checks, on each staging view: the staged rows of the run's months (the raw
  tables, typed); they run after the run's dbt invocation, which builds the views;
- mart checks, in one step after the dbt marts (one import of Great Expectations): the
  person-month classification, the indicators, the Kela share rows and the Kela counter
  steps of the run's months.
Both are blocking where their suite says `error`; publishing waits for them.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
import pandas as pd

from pipelines.core.months import previous_month
from pipelines.validation.checks import (
    CheckScope,
    SuiteOnAsset,
    gx_suites_asset_checks,
    query_table,
)

# Rows validated at once: big enough that a Kainuu backfill is a few chunks, small enough
# that a national month (about a million rows) fits with room to spare.
ROWS_PER_CHUNK = 2_000_000


def pack_months(rows_by_month: dict[date, int], limit: int = ROWS_PER_CHUNK) -> list[list[date]]:
    """Consecutive months in chunks of at most `limit` rows (a bigger month is alone)."""
    chunks: list[list[date]] = []
    size = 0
    for month in sorted(rows_by_month):
        if chunks and size + rows_by_month[month] <= limit:
            chunks[-1].append(month)
            size += rows_by_month[month]
        else:
            chunks.append([month])
            size = rows_by_month[month]
    return chunks


def _rows_by_month(
    connection: duckdb.DuckDBPyConnection, schema_table: str, month_column: str, months: list[date]
) -> dict[date, int]:
    schema, table = schema_table.split(".")
    rows = connection.execute(
        f'select "{month_column}", count(*) from "{schema}"."{table}" '
        f'where "{month_column}" between ? and ? group by 1',
        [months[0], months[-1]],
    ).fetchall()
    found = {pd.Timestamp(month).date(): count for month, count in rows}
    return {month: found.get(month, 0) for month in months}


def _loader(schema_table: str, month_column: str, *, with_previous_month: bool = False,
            columns: tuple[str, ...] | None = None):
    """Read the run's months in chunks of consecutive months: a national backfill of many
    months would not fit in memory as one DataFrame (22 GB at the benchmark). Each chunk
    opens its own read-only connection, closed while the chunk is validated. `columns`:
    only those the suite (and its prepare function) reads; reading and converting the
    others was a third of a staging suite's time."""

    def load(scope: CheckScope):
        warehouse = scope.warehouse
        if scope.months is None:
            with warehouse.connect(read_only=True) as connection:
                frame = query_table(connection, schema_table, columns=columns)
            yield "all months", frame
            return
        months = sorted(scope.months)
        with warehouse.connect(read_only=True) as connection:
            rows_by_month = _rows_by_month(connection, schema_table, month_column, months)
        for chunk in pack_months(rows_by_month):
            # The counter steps compare each month with the person's row of the month before.
            wanted = [previous_month(chunk[0]), *chunk] if with_previous_month else chunk
            label = f"{chunk[0]:%Y-%m}" + (f"..{chunk[-1]:%Y-%m}" if len(chunk) > 1 else "")
            with warehouse.connect(read_only=True) as connection:
                frame = query_table(connection, schema_table, month_column, wanted, columns)
            yield label, frame

    return load


# The columns each staging suite's expectations and prepare function (relations.py) read;
# test_validation_columns keeps them complete.
SOURCE_SUITE_COLUMNS = {
    "stg_register__jobseeker_spells": (
        "delivery_month", "person_id", "spell_start", "spell_end", "status", "service", "municipality_code",
    ),
    "stg_kela__tmt_payments": (
        "delivery_month", "payment_month", "person_id", "paid_days", "cumulative_days", "municipality_code",
    ),
}

# What each check step validates: one step per staging view (they run as soon as dbt built
# it), one step for the marts (one import of Great Expectations for the four suites).
SOURCE_SUITES = {
    f"gx_{suite}": [SuiteOnAsset(dg.AssetKey(suite), suite, _loader(f"staging.{suite}", "delivery_month", columns=columns))]
    for suite, columns in SOURCE_SUITE_COLUMNS.items()
}
MART_SUITES = [
    SuiteOnAsset(dg.AssetKey("fct_person_month_status"), "fct_person_month_status",
                 _loader("marts.fct_person_month_status", "month")),
    SuiteOnAsset(dg.AssetKey("fct_indicators_monthly"), "fct_indicators_monthly",
                 _loader("marts.fct_indicators_monthly", "month")),
    SuiteOnAsset(dg.AssetKey("fct_kela_payment_shares"), "fct_kela_payment_shares",
                 _loader("marts.fct_kela_payment_shares", "month")),
    SuiteOnAsset(dg.AssetKey("fct_kela_payment_shares"), "kela_counter_steps",
                 _loader("marts.fct_kela_payment_shares", "month", with_previous_month=True)),
]
STEP_SUITES = {**SOURCE_SUITES, "gx_marts": MART_SUITES}

source_checks = [gx_suites_asset_checks(suites, name=name) for name, suites in SOURCE_SUITES.items()]
mart_checks = gx_suites_asset_checks(MART_SUITES, name="gx_marts")
