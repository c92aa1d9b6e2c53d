"""What has landed: the months whose register files are in the landing folder, and their hashes.

Plain file-system functions (no Dagster), shared by `kaira run`, the monthly schedule and
the landing sensor. The files and their order come from the source registry; a month's
"hash pair" follows that order (jobseeker register first, Kela second).

Only files of supported months count as landed (pipelines.core.supported_months). Any other
file that looks like a delivery, a name that is not a month (`tyonhakijat_2010-13.csv`) or
a month outside the supported range (`tmt_1999-12.csv`, a month not yet ended), is listed
by `refused_files` with the reason, so that the callers can quarantine and name it and go
on with the valid months, instead of failing on it or passing it over in silence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipelines.core.source_registry import REGISTER_SOURCES, SOURCES, RegisterSource
from pipelines.core.supported_months import month_problem


@dataclass(frozen=True)
class RefusedFile:
    """A file in a register's folder that is not a delivery Kaira can process."""

    source: str  # the register source whose folder it is in
    path: Path
    relative_name: str  # relative to the landing folder, as messages name it
    reason: str


def _candidates(landing_dir: Path, source: RegisterSource) -> list[Path]:
    """The files of the source's folder that look like deliveries: named like one (the
    prefix) or a CSV file. Hidden files are copies in progress (rsync, editors)."""
    folder = Path(landing_dir) / source.folder
    if not folder.is_dir():
        return []
    prefix = source.file_prefix.lower()
    return sorted(
        path
        for path in folder.iterdir()
        if not path.name.startswith(".")
        and (path.name.lower().startswith(prefix) or path.name.lower().endswith(".csv"))
        and not path.is_dir()
    )


def _classify(landing_dir: Path, source: RegisterSource, now: datetime | None) -> tuple[set[str], list[RefusedFile]]:
    months, refused = set(), []
    pattern = source.file_name_pattern
    for path in _candidates(landing_dir, source):
        match = pattern.match(path.name)
        if match is None:
            problem = f"the name is not {source.file_prefix}YYYY-MM.csv"
        else:
            problem = month_problem(match.group(1), now)
        if problem is None:
            months.add(match.group(1))
        else:
            name = path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else path.name
            refused.append(RefusedFile(source.name, path, name, problem))
    return months, refused


def _months(landing_dir: Path, source: RegisterSource, now: datetime | None = None) -> set[str]:
    return _classify(Path(landing_dir), source, now)[0]


def refused_files(landing_dir: Path, now: datetime | None = None) -> list[RefusedFile]:
    """Files in the registers' folders that look like deliveries but whose name is not a
    supported month, with the reason; in registry order, then by name."""
    return [file for source in REGISTER_SOURCES for file in _classify(Path(landing_dir), source, now)[1]]


def landed_months(landing_dir: Path) -> list[str]:
    """Months (YYYY-MM) for which both registers' files have landed, in order."""
    return sorted(set.intersection(*(_months(landing_dir, source) for source in REGISTER_SOURCES)))


def half_landed_months(landing_dir: Path) -> dict[str, list[Path]]:
    """Months with only some of the registers' files, and the files each still waits for."""
    per_source = [_months(landing_dir, source) for source in REGISTER_SOURCES]
    some = set.union(*per_source) - set.intersection(*per_source)
    return {month: missing_files(landing_dir, month) for month in sorted(some)}


def delivery_paths(landing_dir: Path, month: str) -> dict[str, Path]:
    """The files of `month`, by source name, whether or not they have landed."""
    return {source.name: source.path(landing_dir, month) for source in REGISTER_SOURCES}


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
