"""Months: the one place that parses, formats and steps them, and knows the count date.

A month travels through Kaira in three spellings: `YYYY-MM` in landing file names and on
the command line, `YYYY-MM-01` as a Dagster partition key, and `date(YYYY, MM, 1)` in
tables. `parse_month` takes any of them; the stepping functions return the spelling they
were given (text in, text out; date in, date out), so callers never convert back and forth.

The count date (*laskentapäivä*) of a month is its last working day: Monday to Friday and
not a Finnish public holiday (docs/definitions.md, "Dates"). dbt computes the same rule in
SQL from the holiday seed, which `pipelines.core.holidays` generates.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TypeVar

from pipelines.core.holidays import finnish_holidays

Month = TypeVar("Month", str, date)

# 'YYYY-MM', or a date or timestamp whose month is meant ('YYYY-MM-01', '2024-03-01 00:00:00').
_MONTH_TEXT = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2})(?:[ T][0-9:.+\-]*)?)?")


def parse_month(value: str | date) -> date:
    """The first day of the month meant by `value`; a clear ValueError for anything else."""
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    text = str(value).strip()
    match = _MONTH_TEXT.fullmatch(text)
    if match and 1 <= int(match.group(2)) <= 12:
        first = date(int(match.group(1)), int(match.group(2)), 1)
        if match.group(3) is None or 1 <= int(match.group(3)) <= month_end(first).day:
            return first
    raise ValueError(f"{text!r} is not a month: give it as YYYY-MM, e.g. 2024-03")


def parse_month_argument(text: str) -> date:
    """A month as a person types it (command line, report options): exactly `YYYY-MM`."""
    if re.fullmatch(r"\d{4}-\d{2}", str(text).strip()):
        return parse_month(text)
    raise ValueError(f"{text!r} is not a month: give it as YYYY-MM, e.g. 2024-03")


def month_text(month: str | date) -> str:
    """'2024-03', the spelling of file names and the command line."""
    first = parse_month(month)
    return f"{first.year:04d}-{first.month:02d}"


def _like(example: Month, first: date) -> Month:
    return first if isinstance(example, date) else month_text(first)  # type: ignore[return-value]


def month_index(month: str | date) -> int:
    """Months since year 0 (`year * 12 + month - 1`): month ranges become integer ranges."""
    first = parse_month(month)
    return first.year * 12 + first.month - 1


def month_from_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def shift_month(month: Month, count: int) -> Month:
    """The month `count` months later (earlier when negative)."""
    return _like(month, month_from_index(month_index(month) + count))


def next_month(month: Month) -> Month:
    return shift_month(month, 1)


def previous_month(month: Month) -> Month:
    return shift_month(month, -1)


def month_end(month: str | date) -> date:
    """The last day of the month."""
    first = month if isinstance(month, date) and not isinstance(month, datetime) and month.day == 1 else parse_month(month)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from `first` to `last`, both included (empty when `last` is earlier)."""
    return [_like(first, month_from_index(i)) for i in range(month_index(first), month_index(last) + 1)]


def contiguous_ranges(months: Iterable[Month]) -> list[tuple[Month, Month]]:
    """[2010-01, 2010-02, 2010-04] -> [(2010-01, 2010-02), (2010-04, 2010-04)]."""
    ranges: list[tuple[Month, Month]] = []
    for month in sorted(months):
        if ranges and next_month(ranges[-1][1]) == month:
            ranges[-1] = (ranges[-1][0], month)
        else:
            ranges.append((month, month))
    return ranges


def describe_months(months: Iterable[str]) -> str:
    """['2024-01', '2024-02', '2024-05'] -> '2024-01..2024-02, 2024-05'."""
    return ", ".join(first if first == last else f"{first}..{last}" for first, last in contiguous_ranges(list(months)))


def add_months(day: date, count: int) -> date:
    """Calendar arithmetic on a day: keep the day number, clamped to the target month's
    length (31.5.2010 - 3 months = 28.2.2010), as DuckDB's `date + interval` does."""
    target = month_from_index(day.year * 12 + day.month - 1 + count)
    return target.replace(day=min(day.day, month_end(target).day))


def count_date(month: str | date) -> date:
    """The last working day of the month: Monday to Friday, not a Finnish public holiday."""
    day = month_end(month)
    holidays = {holiday for holiday, _ in finnish_holidays(day.year)}
    while day.weekday() >= 5 or day in holidays:
        day -= timedelta(days=1)
    return day


def month_parts(frame, months_per_part: int) -> list:
    """The rows of `frame` (a DataFrame with a `month` column) in parts of at most
    `months_per_part` whole months each, the months in order. A rule that works within one
    month (disclosure control, the published-table checks) can then run part by part, its
    memory bounded by the part, not the history."""
    months = sorted(frame["month"].unique())
    if len(months) <= months_per_part:
        return [frame]
    parts = []
    for start in range(0, len(months), months_per_part):
        parts.append(frame[frame["month"].isin(months[start:start + months_per_part])])
    return parts
