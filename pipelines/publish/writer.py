"""Atomic publishing: dashboards see the old version or the new one, never a mix.

`published.duckdb` is written to a temporary file in the same folder and moved into place
with `os.replace` (atomic on one file system). A reader holding the old file open keeps
reading the old version. The Parquet files live in a versioned directory behind the
symbolic link `published/`, which is replaced as a whole by `os.replace` of a new link,
since a non-empty directory cannot be replaced in one step. A run that fails or is killed
before the final rename leaves the previous version in place.

Crash safety: every file is fsynced before it is moved into place, and each folder after a
rename in it, so a power cut never leaves a name pointing at unwritten data. A Parquet
version is written under a hidden `.partial` name and renamed when complete. Leftovers of
a killed run (temporary database files and their WAL, partial versions, new links) are
removed before and after publishing, and a stray `published.duckdb.wal`, which DuckDB
would try to replay into the new file ("WAL does not match"), is removed before the swap:
the published file is only ever replaced whole, never written in place, so a WAL beside it
belongs to no version. No SQL is built from a path: files are written through DuckDB's API,
and the previous publication is attached with the path as a parameter.

Rows carried from the previous publication (`Carried`) are never rewritten: the new file
starts as a byte copy of the previous one (`shutil.copyfile`, under the temporary name),
whose publication must still be the one the rows were planned from (its run id); in the
copy, each carried table keeps the rows that stay where they are (a month-ordered table's
months before the first one that changed) and gets the rest inserted in order, from the
previous file (attached read-only, its run id checked too) or from the frame; every other
table is replaced whole; then a CHECKPOINT folds it all into the file, which is closed
without a WAL. So a month's run on a long history writes about a month into the database
instead of copying twenty years row by row. The Parquet version is written from the new
database file, so its rows, order and types are the file's; each Parquet file is written
whole, since a file per table behind the versioned link is the contract.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

KEEP_PARQUET_VERSIONS = 3
PARTIAL_SUFFIX = ".partial"

Tables = dict[str, tuple[pd.DataFrame, dict[str, str]]]
PREVIOUS = "previous"  # the previous publication, attached read-only while the new file is written


class CarriedChanged(RuntimeError):
    """The previous publication is no longer the one the carried rows were planned from."""


@dataclass(frozen=True)
class Carried:
    """A table's rows carried from the previous publication, merged with the table's frame.

    `kept` is a WHERE condition (with `kept_parameters`) on the previous file's rows that
    stay in place in the new file, a byte copy of it: they must come first in the table's
    stored order (the caller's promise: a month-ordered table's months before its first
    change). The other rows follow as `parts`, in order: (True, condition, parameters) for
    the previous file's rows meeting a WHERE condition, (False, condition, parameters) for
    the frame's rows meeting it. Without `order_by` the parts are inserted one after
    another, and a plain filtered scan keeps the order the rows are stored or given in, so
    no sort is needed; with it (an ORDER BY list over the table's columns whose key is
    unique) the parts are inserted together, sorted by it. `run_id` is the publication they
    were planned from: checked again in the copy and in the attached file, so two
    publications' rows never mix."""

    source: Path
    run_id: str
    parts: Sequence[tuple[bool, str, list]]
    kept: str = "false"
    kept_parameters: Sequence = ()
    order_by: str | None = None


def _create_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, columns: dict[str, str],
                  carried: Carried | None = None) -> None:
    """The table `name` in the new file: replaced whole from the frame, or, when it carries
    rows, what the copy keeps of it in place followed by its other parts."""
    column_sql = ", ".join(f"{column} {sql_type}" for column, sql_type in columns.items())
    if carried is None or carried.kept == "false":
        con.execute(f"drop table if exists {name}")
        con.execute(f"create table {name} ({column_sql})")
    else:
        _check_columns(con, name, columns)
        con.execute(f"delete from {name} where not ({carried.kept})", list(carried.kept_parameters))
    select = ", ".join(f"cast({column} as {sql_type}) as {column}" for column, sql_type in columns.items())
    if len(frame):
        con.register("incoming", frame[list(columns)])
    try:
        parts = carried.parts if carried is not None else [(False, "true", [])]
        selects = [(f"select {select} from {PREVIOUS}.{name} where {condition}" if from_previous
                    else f"select {select} from incoming where {condition}", parameters)
                   for from_previous, condition, parameters in parts if from_previous or len(frame)]
        if carried is not None and carried.order_by is not None and selects:
            union = " union all ".join(sql for sql, _ in selects)
            con.execute(f"insert into {name} select * from ({union}) order by {carried.order_by}",
                        [value for _, parameters in selects for value in parameters])
        else:
            for sql, parameters in selects:
                con.execute(f"insert into {name} {sql}", parameters)
    finally:
        if len(frame):
            con.unregister("incoming")


def _check_columns(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str]) -> None:
    """A table whose rows stay in place must have the columns and types being published (the
    plan carries nothing across a schema version; this guards the promise)."""
    stored = [(column, str(sql_type)) for column, sql_type in zip(con.table(name).columns, con.table(name).types)]
    if stored != list(columns.items()):
        raise CarriedChanged(f"the previous publication's {name} has other columns than the ones published now")


def _attach_previous(con: duckdb.DuckDBPyConnection, carried: Mapping[str, Carried]) -> None:
    """Attach the previous publication read-only, after checking that it, and the copy the new
    file starts from, are still the one planned from."""
    ((source, run_id),) = _previous_of(carried)
    if con.execute("select run_id from publication").fetchall() != [(run_id,)]:
        raise CarriedChanged("published.duckdb was replaced by another publication while this run carried from it")
    con.execute(f"attach ? as {PREVIOUS} (read_only)", [str(source)])
    if con.execute(f"select run_id from {PREVIOUS}.publication").fetchall() != [(run_id,)]:
        raise CarriedChanged("published.duckdb was replaced by another publication while this run carried from it")


def _previous_of(carried: Mapping[str, Carried]) -> set[tuple[Path, str]]:
    previous = {(c.source, c.run_id) for c in carried.values()}
    if len(previous) != 1:
        raise ValueError("rows are carried from one previous publication at a time")
    return previous


def _fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_database(temporary: Path, tables: Tables, carried: Mapping[str, Carried] | None = None) -> None:
    carried = dict(carried or {})
    if carried:
        # The previous publication's bytes: its carried rows stay where they are.
        ((source, _run_id),) = _previous_of(carried)
        shutil.copyfile(source, temporary)
    con = duckdb.connect(str(temporary))
    try:
        if carried:
            _attach_previous(con, carried)
            stale = {name for (name,) in con.execute(
                "select table_name from duckdb_tables() where database_name = current_database()").fetchall()}
            for name in sorted(stale - set(tables)):  # the new file holds exactly the tables given
                con.execute(f"drop table {name}")
        for name, (frame, columns) in tables.items():
            _create_table(con, name, frame, columns, carried.get(name))
        if carried:
            con.execute(f"detach {PREVIOUS}")
        con.execute("checkpoint")
    finally:
        con.close()
    _fsync(temporary)


def _write_parquet_version(versions: Path, tables: Tables, database: Path) -> Path:
    """Write the tables into a new version folder: under a hidden partial name first, each
    file fsynced, then renamed; a killed run leaves only a `.partial` folder behind. The
    files are written from the new database file (`database`, complete and flushed): the
    same rows, order and types as it holds, without converting the frames a second time."""
    versions.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{stamp}-{uuid.uuid4().hex[:8]}"
    partial = versions / f".{name}{PARTIAL_SUFFIX}"
    partial.mkdir()
    # One thread: DuckDB then holds one row group at a time instead of one per thread (about
    # 150 MB instead of 500 for twenty national years), and the files are the same bytes;
    # on two cores shared with the rest of the run the second thread did not make it faster.
    con = duckdb.connect(str(database), read_only=True, config={"threads": 1})
    try:
        for table in tables:
            path = partial / f"{table}.parquet"
            con.table(table).write_parquet(str(path))  # the path is an argument, never SQL text
            _fsync(path)
    finally:
        con.close()
    _fsync(partial)
    version = versions / name
    os.replace(partial, version)
    _fsync(versions)
    return version


def publish_atomically(
    database: Path,
    parquet_link: Path,
    tables: Tables,
    *,
    carried: Mapping[str, Carried] | None = None,
    before_swap: Callable[[], None] | None = None,
) -> Path:
    """Write everything aside first; then two renames put the new version in place.

    Until the first rename nothing a reader sees has changed, so a run that fails or is
    killed while writing (or finds the disk full) leaves the previous version whole; its
    leftovers are removed here and by the next run. `before_swap` is called when the new
    version is complete and not yet in place (the test-only fault pause "swap").
    `carried` maps a table to the rows it carries from the previous publication (`Carried`);
    the table's frame then holds only its other rows. Raises CarriedChanged, publishing
    nothing, if that publication was replaced meanwhile.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    versions = parquet_link.with_name(parquet_link.name + ".versions")
    remove_leftovers(database.parent, versions)
    temporary = database.with_name(f".{database.name}.{uuid.uuid4().hex}.tmp")
    try:
        _write_database(temporary, tables, carried)
        version = _write_parquet_version(versions, tables, temporary)
        if before_swap is not None:
            before_swap()
        new_link = parquet_link.with_name(f".{parquet_link.name}.{uuid.uuid4().hex}.link")
        os.symlink(os.path.relpath(version, parquet_link.parent), new_link)
        if parquet_link.exists() and not parquet_link.is_symlink():
            # A plain directory (an older layout) cannot be replaced by a link in one step.
            shutil.move(str(parquet_link), str(versions / f"legacy-{version.name}"))
        # A WAL beside the published file can only be a crash's leftover (the file is
        # replaced whole, never written in place): DuckDB would replay it into the new file.
        stray_wal(database).unlink(missing_ok=True)
        os.replace(temporary, database)
        os.replace(new_link, parquet_link)
        _fsync(database.parent)
    finally:
        remove_leftovers(database.parent, versions)
    _prune_versions(versions, keep=version, current=parquet_link)
    return version


def stray_wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def remove_leftovers(folder: Path, versions: Path | None = None) -> None:
    """Temporary files of an earlier run that was killed (or failed) before its renames:
    the hidden database files and their WAL, new links, and partial Parquet versions."""
    for leftover in list(folder.glob(".*.tmp")) + list(folder.glob(".*.tmp.wal")) + list(folder.glob(".*.link")):
        if leftover.is_symlink() or leftover.is_file():
            leftover.unlink(missing_ok=True)
    if versions is not None and versions.is_dir():
        for partial in versions.glob(f".*{PARTIAL_SUFFIX}"):
            shutil.rmtree(partial, ignore_errors=True)


def _prune_versions(versions: Path, keep: Path, current: Path | None = None) -> None:
    """Keep the newest few versions: a reader may still be reading an older one. The
    version the link points to is never removed."""
    linked = current.resolve() if current is not None and current.is_symlink() else None
    old = sorted(
        (p for p in versions.iterdir() if p.is_dir() and p != keep and not p.name.startswith(".")
         and p.resolve() != linked),
        key=lambda p: p.name,
    )
    for stale in old[: max(0, len(old) - (KEEP_PARQUET_VERSIONS - 1))]:
        shutil.rmtree(stale, ignore_errors=True)
