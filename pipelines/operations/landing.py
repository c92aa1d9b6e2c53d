"""What has landed: the months whose register files are in the landing folder, and their hashes.

Plain file-system functions (no Dagster), shared by `kaira run`, the monthly schedule and
the landing sensor. The two files of a month are always named in the same order, jobseeker
register first, Kela second; a month's "hash pair" follows that order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

JOBSEEKER_PATTERN = re.compile(r"^tyonhakijat_(\d{4}-\d{2})\.csv$")
KELA_PATTERN = re.compile(r"^tmt_(\d{4}-\d{2})\.csv$")
MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# The ingest sources (pipelines.sources.jobseeker/kela SOURCE) and their files, relative to
# the landing folder (RELATIVE_PATH there; a test keeps the two in step).
DELIVERY_FILES = {
    "jobseeker_spells": "tyonhakijat/tyonhakijat_{month}.csv",
    "kela_payments": "kela/tmt_{month}.csv",
}
SOURCES = tuple(DELIVERY_FILES)


def _months(folder: Path, pattern: re.Pattern) -> set[str]:
    if not folder.is_dir():
        return set()
    return {match.group(1) for path in folder.iterdir() if (match := pattern.match(path.name))}


def landed_months(landing_dir: Path) -> list[str]:
    """Months (YYYY-MM) for which both registers' files have landed, in order."""
    both = _months(landing_dir / "tyonhakijat", JOBSEEKER_PATTERN) & _months(landing_dir / "kela", KELA_PATTERN)
    return sorted(both)


def half_landed_months(landing_dir: Path) -> dict[str, list[Path]]:
    """Months with only one of the two files, and the file each still waits for."""
    jobseeker = _months(landing_dir / "tyonhakijat", JOBSEEKER_PATTERN)
    kela = _months(landing_dir / "kela", KELA_PATTERN)
    return {month: missing_files(landing_dir, month) for month in sorted(jobseeker ^ kela)}


def check_month(text: str) -> str:
    """'2024-03' as given on the command line; raises ValueError with the expected form."""
    if not MONTH_PATTERN.match(text or ""):
        raise ValueError(f"{text!r} is not a month: give it as YYYY-MM, e.g. 2024-03")
    return text


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return f"{year:04d}-{number:02d}"


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year - 1, 12) if number == 1 else (year, number - 1)
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


def delivery_paths(landing_dir: Path, month: str) -> dict[str, Path]:
    """The two files of `month`, by source, whether or not they have landed."""
    return {source: Path(landing_dir) / pattern.format(month=month) for source, pattern in DELIVERY_FILES.items()}


def missing_files(landing_dir: Path, month: str) -> list[Path]:
    return [path for path in delivery_paths(landing_dir, month).values() if not path.is_file()]


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes as delivered (what ingest records in raw.deliveries)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int
    sha256: str

    def as_list(self) -> list:
        return [self.size, self.mtime_ns, self.sha256]


def file_state(path: Path, cache: dict[str, list] | None = None, key: str | None = None) -> FileState:
    """The file's size, modification time and hash; the hash is taken from `cache[key]`
    when size and modification time are unchanged (the sensor looks every minute)."""
    stat = path.stat()
    cached = (cache or {}).get(key or str(path))
    if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
        return FileState(stat.st_size, stat.st_mtime_ns, cached[2])
    return FileState(stat.st_size, stat.st_mtime_ns, file_sha256(path))


def month_hashes(landing_dir: Path, month: str) -> tuple[str, str]:
    """The month's hash pair (jobseeker, Kela); both files must exist."""
    paths = delivery_paths(landing_dir, month)
    return tuple(file_sha256(paths[source]) for source in SOURCES)  # type: ignore[return-value]
