"""The months Kaira can process: the one place that says which they are.

A month is supported when it is

- not before `FIRST_MONTH`, where the monthly partitions start (nothing older is held);
- inside the calendar the dbt models know: the count date of a month comes from the
  holiday seed (`pipelines.core.holidays`, FIRST_YEAR..LAST_YEAR) and the date spine of
  `int_count_dates.sql`, which covers the same years (a unit test keeps them equal);
- complete: not after the last month that has ended in Helsinki (registers are delivered
  after their month; the monthly partitions end there too, `end_offset=0`).

The landing scan (pipelines.core.landing) refuses a file of any other month before it is
read, the partitions (pipelines.partitions) are cut to the same range, and dbt stops
with a clear error if a month outside the calendar reaches it anyway.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pipelines.core.holidays import FIRST_YEAR, LAST_YEAR
from pipelines.core.months import month_text, parse_month_argument, previous_month

HELSINKI = ZoneInfo("Europe/Helsinki")

# Where the monthly partitions start: early enough for any history Kaira holds.
FIRST_MONTH = "2000-01"
# The calendar of the models: the holiday seed's years (and the date spine's).
CALENDAR_FIRST_MONTH = f"{FIRST_YEAR:04d}-01"
CALENDAR_LAST_MONTH = f"{LAST_YEAR:04d}-12"


def last_complete_month(now: datetime | None = None) -> str:
    """The latest month that has ended in Helsinki (a naive `now` is taken as UTC)."""
    now = now or datetime.now(UTC)
    local = (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).astimezone(HELSINKI)
    return previous_month(f"{local.year:04d}-{local.month:02d}")


def supported_range(now: datetime | None = None) -> tuple[str, str]:
    """(first, last) supported month, both included, as YYYY-MM."""
    first = max(FIRST_MONTH, CALENDAR_FIRST_MONTH)
    return first, min(last_complete_month(now), CALENDAR_LAST_MONTH)


def partitions_end_date() -> str:
    """The monthly partitions' end (exclusive): the first day after the calendar."""
    return f"{LAST_YEAR + 1:04d}-01-01"


def month_problem(text: str, now: datetime | None = None) -> str | None:
    """Why `text` ('YYYY-MM', as a file name gives it) is not a month Kaira can process;
    None when it is one."""
    try:
        month = month_text(parse_month_argument(text))
    except ValueError:
        return f"{text!r} is not a month (YYYY-MM, the month 01-12)"
    first, last = supported_range(now)
    if month < first:
        return f"{month} is before {first}, the first month Kaira holds"
    if month > CALENDAR_LAST_MONTH:
        return (
            f"{month} is after {CALENDAR_LAST_MONTH}, the last month of the calendar the models know "
            "(count dates need the holiday seed: extend pipelines/core/holidays.py and int_count_dates.sql)"
        )
    if month > last:
        return f"{month} has not ended yet (the last complete month is {last})"
    return None


def is_supported(month: str | date, now: datetime | None = None) -> bool:
    text = month if isinstance(month, str) else month_text(month)
    return month_problem(text, now) is None
