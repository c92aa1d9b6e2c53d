"""Finnish public holidays, for the count date (the last working day of a month).

The dbt seed `finnish_public_holidays.csv` is written by `write_seed()`; a unit test
checks that the committed seed equals what this module computes, so the seed can be
extended (a later year range) by running `python -m pipelines.core.holidays`.

Days off in practice are included with the statutory holidays: Midsummer Eve and
Christmas Eve are not working days at employment offices either.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from pipelines.package_files import (
    dbt_project_dir,
)

SEED_PATH = dbt_project_dir() / "seeds" / "finnish_public_holidays.csv"
FIRST_YEAR, LAST_YEAR = 2000, 2040


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _saturday_between(year: int, month: int, first_day: int) -> date:
    start = date(year, month, first_day)
    return start + timedelta(days=(5 - start.weekday()) % 7)


def finnish_holidays(year: int) -> list[tuple[date, str]]:
    easter = easter_sunday(year)
    midsummer_day = _saturday_between(year, 6, 20)
    all_saints = _saturday_between(year, 10, 31)
    days = [
        (date(year, 1, 1), "Uudenvuodenpäivä"),
        (date(year, 1, 6), "Loppiainen"),
        (easter - timedelta(days=2), "Pitkäperjantai"),
        (easter, "Pääsiäispäivä"),
        (easter + timedelta(days=1), "2. pääsiäispäivä"),
        (date(year, 5, 1), "Vappu"),
        (easter + timedelta(days=39), "Helatorstai"),
        (easter + timedelta(days=49), "Helluntaipäivä"),
        (midsummer_day - timedelta(days=1), "Juhannusaatto"),
        (midsummer_day, "Juhannuspäivä"),
        (all_saints, "Pyhäinpäivä"),
        (date(year, 12, 6), "Itsenäisyyspäivä"),
        (date(year, 12, 24), "Jouluaatto"),
        (date(year, 12, 25), "Joulupäivä"),
        (date(year, 12, 26), "Tapaninpäivä"),
    ]
    return sorted(days)


def seed_rows(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[tuple[str, str]]:
    return [
        (day.isoformat(), name)
        for year in range(first_year, last_year + 1)
        for day, name in finnish_holidays(year)
    ]


def write_seed(path: Path = SEED_PATH) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["holiday_date", "holiday_name_fi"])
        writer.writerows(seed_rows())


if __name__ == "__main__":
    write_seed()
    print(f"wrote {SEED_PATH}")
