"""What has landed: the months whose register files are in the landing folder, and their hashes.

Plain file-system functions (no Dagster), shared by `kaira run`, the monthly schedule and
the landing sensor. The files and their order come from the source registry; a month's
"hash pair" follows that order (jobseeker register first, Kela second).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.source_registry import REGISTER_SOURCES, SOURCES, RegisterSource


def _months(landing_dir: Path, source: RegisterSource) -> set[str]:
    folder = Path(landing_dir) / source.folder
    if not folder.is_dir():
        return set()
    pattern = source.file_name_pattern
    return {match.group(1) for path in folder.iterdir() if (match := pattern.match(path.name))}


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
