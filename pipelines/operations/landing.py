"""What has landed: the months whose register files are in the landing folder."""

from __future__ import annotations

import re
from pathlib import Path

JOBSEEKER_PATTERN = re.compile(r"^tyonhakijat_(\d{4}-\d{2})\.csv$")
KELA_PATTERN = re.compile(r"^tmt_(\d{4}-\d{2})\.csv$")


def _months(folder: Path, pattern: re.Pattern) -> set[str]:
    if not folder.is_dir():
        return set()
    return {match.group(1) for path in folder.iterdir() if (match := pattern.match(path.name))}


def landed_months(landing_dir: Path) -> list[str]:
    """Months (YYYY-MM) for which both registers' files have landed, in order."""
    both = _months(landing_dir / "tyonhakijat", JOBSEEKER_PATTERN) & _months(landing_dir / "kela", KELA_PATTERN)
    return sorted(both)


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return f"{year:04d}-{number:02d}"


def contiguous_ranges(months: list[str]) -> list[tuple[str, str]]:
    """[2010-01, 2010-02, 2010-04] -> [(2010-01, 2010-02), (2010-04, 2010-04)]."""
    ranges: list[tuple[str, str]] = []
    for month in sorted(months):
        if ranges and next_month(ranges[-1][1]) == month:
            ranges[-1] = (ranges[-1][0], month)
        else:
            ranges.append((month, month))
    return ranges
