"""Day and month arithmetic for the generator, on plain integers.

Days are numpy `datetime64[D]` integers (days since 1970-01-01) so that the engine can
work on millions of spells without Python date objects. Months are counted as
`year * 12 + (month - 1)` ("month index"), which makes month ranges plain integer ranges.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipelines.core import months as core_months

_EPOCH = dt.date(1970, 1, 1)


def parse_month(text: str) -> int:
    """`YYYY-MM` -> month index; raises ValueError with the offending text."""
    return core_months.month_index(core_months.parse_month(text))


def month_label(month: int) -> str:
    return core_months.month_text(core_months.month_from_index(month))


def date_to_day(value: dt.date) -> int:
    return (value - _EPOCH).days


def day_to_date(day: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day))


def month_first_day(month: int) -> int:
    return date_to_day(dt.date(month // 12, month % 12 + 1, 1))


def month_last_day(month: int) -> int:
    return month_first_day(month + 1) - 1


def month_of_days(days: np.ndarray) -> np.ndarray:
    """Month index of each day (vectorised)."""
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    # datetime64[M] counts months since 1970-01.
    return months + 1970 * 12


def add_years_to_days(days: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Anniversary `years` after each day (29 February falls to 1 March), vectorised."""
    as_dates = days.astype("datetime64[D]")
    month_start = as_dates.astype("datetime64[M]")
    day_of_month = (as_dates - month_start).astype(np.int64)
    shifted = (month_start + (np.asarray(years, dtype=np.int64) * 12)).astype("datetime64[D]")
    next_month = (month_start + np.asarray(years, dtype=np.int64) * 12 + 1).astype("datetime64[D]")
    target = shifted + day_of_month
    # A 29 February without a leap year rolls on to 1 March, like a birthday does.
    target = np.where(target >= next_month, next_month, target)
    return target.astype(np.int64)


def weekday_prefix(first_day: int, last_day: int) -> np.ndarray:
    """prefix[i] = number of Mon-Fri days in [first_day, first_day + i).

    Weekdays of any interval [a, b] are then prefix[b + 1 - first] - prefix[a - first].
    Kela pays labour market subsidy for five days a week, holidays included, so
    public holidays are deliberately not excluded here.
    """
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    # 1970-01-01 was a Thursday: (day + 3) % 7 gives Monday = 0.
    is_weekday = ((days + 3) % 7) < 5
    prefix = np.zeros(days.size + 1, dtype=np.int64)
    np.cumsum(is_weekday, out=prefix[1:])
    return prefix


def count_date(month: int) -> dt.date:
    """Last working day of the month (Mon-Fri and not a Finnish public holiday)."""
    return core_months.count_date(core_months.month_from_index(month))
