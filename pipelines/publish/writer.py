"""Atomic publishing: dashboards see the old version or the new one, never a mix.

`published.duckdb` is written to a temporary file in the same folder and moved into place
with `os.replace` (atomic on one file system). A reader holding the old file open keeps
reading the old version. The Parquet files live in a versioned directory behind the
symbolic link `published/`, which is replaced as a whole by `os.replace` of a new link,
since a non-empty directory cannot be replaced in one step. A run that fails or is killed
before the final rename leaves the previous version in place.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

KEEP_PARQUET_VERSIONS = 3

# Fault injection for the tests (tests/integration/test_publish_faults.py): hold the
# new version back this many seconds before the renames, so a test can kill the process
# while publishing. Unset in normal use.
PAUSE_BEFORE_SWAP_ENV = "KAIRA_FAULT_PAUSE_BEFORE_SWAP_SECONDS"

Tables = dict[str, tuple[pd.DataFrame, dict[str, str]]]


def _create_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, columns: dict[str, str]) -> None:
    column_sql = ", ".join(f"{column} {sql_type}" for column, sql_type in columns.items())
    con.execute(f"create table {name} ({column_sql})")
    if len(frame):
        con.register("incoming", frame[list(columns)])
        select = ", ".join(f"cast({column} as {sql_type})" for column, sql_type in columns.items())
        con.execute(f"insert into {name} select {select} from incoming")
        con.unregister("incoming")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_database(temporary: Path, tables: Tables) -> None:
    con = duckdb.connect(str(temporary))
    try:
        for name, (frame, columns) in tables.items():
            _create_table(con, name, frame, columns)
        con.execute("checkpoint")
    finally:
        con.close()
    _fsync(temporary)


def _write_parquet_version(versions: Path, tables: Tables) -> Path:
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    version = versions / f"{stamp}-{uuid.uuid4().hex[:8]}"
    version.mkdir()
    con = duckdb.connect()
    try:
        for name, (frame, columns) in tables.items():
            _create_table(con, name, frame, columns)
            con.execute(f"copy {name} to '{version / (name + '.parquet')}' (format parquet)")
    finally:
        con.close()
    _fsync(version)
    return version


def publish_atomically(database: Path, parquet_link: Path, tables: Tables) -> Path:
    """Write everything aside first; then two renames put the new version in place.

    Until the first rename nothing a reader sees has changed, so a run that fails or is
    killed while writing leaves the previous version whole (its leftovers are temporary
    files that the next run removes).
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(database.parent)
    temporary = database.with_name(f".{database.name}.{uuid.uuid4().hex}.tmp")
    versions = parquet_link.with_name(parquet_link.name + ".versions")
    try:
        _write_database(temporary, tables)
        version = _write_parquet_version(versions, tables)
        pause = float(os.environ.get(PAUSE_BEFORE_SWAP_ENV, "0") or 0)
        if pause > 0:
            time.sleep(pause)
        new_link = parquet_link.with_name(f".{parquet_link.name}.{uuid.uuid4().hex}.link")
        os.symlink(os.path.relpath(version, parquet_link.parent), new_link)
        if parquet_link.exists() and not parquet_link.is_symlink():
            # A plain directory (an older layout) cannot be replaced by a link in one step.
            shutil.move(str(parquet_link), str(versions / f"legacy-{version.name}"))
        os.replace(temporary, database)
        os.replace(new_link, parquet_link)
        _fsync(database.parent)
    finally:
        remove_leftovers(database.parent)
    _prune_versions(versions, keep=version)
    return version


def remove_leftovers(folder: Path) -> None:
    """Temporary files of an earlier run that was killed before its renames."""
    for leftover in list(folder.glob(".*.tmp")) + list(folder.glob(".*.tmp.wal")) + list(folder.glob(".*.link")):
        if leftover.is_symlink() or leftover.is_file():
            leftover.unlink(missing_ok=True)


def _prune_versions(versions: Path, keep: Path) -> None:
    """Keep the newest few versions: a reader may still be reading an older one."""
    old = sorted((p for p in versions.iterdir() if p.is_dir() and p != keep), key=lambda p: p.name)
    for stale in old[: max(0, len(old) - (KEEP_PARQUET_VERSIONS - 1))]:
        shutil.rmtree(stale, ignore_errors=True)
