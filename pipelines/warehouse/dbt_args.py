"""Partition keys and settings to dbt command-line arguments and environment: small pure functions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from pipelines.core.months import next_month
from pipelines.core.settings import Settings

# The processing window reaches dbt as environment variables, read by macros/window.sql at
# execution only: as --vars it would change dbt's parse state every run (full parse).
MONTH_START_VARIABLE = "KAIRA_DBT_MONTH_START"
MONTH_END_VARIABLE = "KAIRA_DBT_MONTH_END"


def _first_of_month(value: date | datetime) -> str:
    day = value.date() if isinstance(value, datetime) else value
    if day.day != 1:
        raise ValueError(f"a month window boundary must be the first day of a month, not {day}")
    return day.isoformat()


def month_window_environment(start: date | datetime | None, end: date | datetime | None) -> dict[str, str]:
    """The environment variables of a partition window for dbt: KAIRA_DBT_MONTH_START
    (inclusive) and KAIRA_DBT_MONTH_END (exclusive), first days of months.

    Dagster's time windows end exclusively, and so does the dbt filter
    (`month >= start and month < end`), so a month on the boundary is processed once.
    No window (a full refresh) builds every delivered month: both are set empty, so that
    a window left in the environment of the process never reaches dbt.
    """
    if (start is None) != (end is None):
        raise ValueError("give both ends of the month window, or neither")
    if start is None:
        return {MONTH_START_VARIABLE: "", MONTH_END_VARIABLE: ""}
    start_text, end_text = _first_of_month(start), _first_of_month(end)
    if end_text <= start_text:
        raise ValueError(f"empty month window: {start_text} .. {end_text}")
    return {MONTH_START_VARIABLE: start_text, MONTH_END_VARIABLE: end_text}


def month_windows(
    start: date, end: date, rows_by_month: Mapping[date, int], max_rows: int
) -> list[tuple[date, date]]:
    """[start, end) cut into consecutive windows of whole months, in order, each holding at
    most `max_rows` delivered rows (`rows_by_month`: first day of a month -> its rows; a
    month without an entry counts 0) unless one month alone holds more. One window when
    everything fits."""
    windows: list[tuple[date, date]] = []
    window_start, rows, month = start, 0, start
    while month < end:
        month_rows = rows_by_month.get(month, 0)
        if month > window_start and rows + month_rows > max_rows:
            windows.append((window_start, month))
            window_start, rows = month, 0
        rows += month_rows
        month = next_month(month)
    windows.append((window_start, end))
    return windows


def dbt_vars(settings: Settings) -> dict:
    """The --vars of a run: the same run after run on a warehouse, so dbt's saved parse
    stays valid (a change of scope or municipality set, which recomputes every month anyway,
    pipelines/core/configuration.py, costs one full parse)."""
    return {"area_scope": settings.area_scope_var, "municipality_set": settings.municipality_set}


def dbt_build_args(variables: dict, *, full_refresh: bool = False) -> list[str]:
    """`dbt build` for production: unit tests run in the test suite, not in every run."""
    args = ["build", "--vars", json.dumps(variables, sort_keys=True), "--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    return args
