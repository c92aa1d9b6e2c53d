"""Load the official statistics: every StatFin file in the landing folder's `statfin/`.

`ingest_official(settings)` is the one entry point (the Dagster asset
`raw_official_statistics` calls it once per run; it is not partitioned: one file may hold
many months). Each file is read by `pipelines.sources.statfin.read_statfin`; a file that
cannot be read is copied to `quarantine/statfin/` with a reason file naming the file and
the problem, and left out. Of the same (table, month, area, measure) in several files the
cell of the file whose dataset `updated` is later wins; equal (or unknown) times, the later
file name (docs/source-contracts.md, "Official statistics").

The warehouse gets, in one transaction that replaces what an earlier run loaded:
- `raw.official_cells`: the winning cells, with their file and its `updated`;
- `raw.official_deliveries`: the delivery log, one row per file: name, SHA-256, format,
  table, `updated`, cells, and for a quarantined file its problem.

Official statistics are public aggregates: no pseudonymisation key is needed, and a
landing folder with only official files is Kaira's public-data mode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipelines.core.landing import file_sha256
from pipelines.core.months import parse_month
from pipelines.core.private_files import copy_private, private_dir, write_private_text
from pipelines.core.settings import Settings
from pipelines.sources.raw_schema import RAW_SCHEMA
from pipelines.sources.statfin import StatfinFileError, read_statfin

logger = logging.getLogger(__name__)

STATFIN_FOLDER = "statfin"
ASSET_NAME = "raw_official_statistics"
KEY = ["source_table", "month", "area_code", "measure"]

OFFICIAL_DDL = {
    "official_cells": f"""
        create table if not exists {RAW_SCHEMA}.official_cells (
            source_table varchar not null,     -- e.g. 12r5
            month date not null,               -- first day of the month
            area_code varchar not null,        -- as in the source: SSS, MK18, SK182, KU205, ...
            area_name varchar,                 -- the file's label in its default language, if any
            measure varchar not null,          -- the source's code, e.g. TYOTTOMATLOPUSSA
            value double,                      -- null without a number
            symbol varchar,                    -- the symbol as written ('...', '..', '.', '-'); null for a number
            source_file varchar not null,      -- base name of the winning file
            source_updated timestamp           -- its dataset's `updated`, null if the file does not say
        )""",
    "official_deliveries": f"""
        create table if not exists {RAW_SCHEMA}.official_deliveries (
            source_file varchar not null,
            sha256 varchar not null,
            format varchar,                    -- px | json-stat2 | pxweb-json; null when unreadable
            source_table varchar,
            source_updated timestamp,
            cells integer,                     -- cells read from the file
            cells_used integer,                -- of them, cells that won (no later file had them)
            status varchar not null,           -- loaded | quarantined
            problem varchar,                   -- why it was quarantined
            loaded_at timestamp not null       -- UTC
        )""",
}


@dataclass(frozen=True)
class OfficialFile:
    source_file: str
    sha256: str
    format: str | None
    source_table: str | None
    source_updated: datetime | None
    cells: int
    cells_used: int
    status: str  # loaded | quarantined
    problem: str | None = None
    quarantined_to: str | None = None


@dataclass(frozen=True)
class OfficialLoad:
    files: list[OfficialFile]
    cells: int  # winning cells loaded

    @property
    def quarantined(self) -> list[OfficialFile]:
        return [file for file in self.files if file.status == "quarantined"]


def statfin_folder(landing_dir: Path) -> Path:
    return Path(landing_dir) / STATFIN_FOLDER


def statfin_files(landing_dir: Path) -> list[Path]:
    """The files in `statfin/`, by name; hidden files and READMEs are not deliveries."""
    folder = statfin_folder(landing_dir)
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and not path.name.upper().startswith("README")
    )


def has_official_files(landing_dir: Path) -> bool:
    return bool(statfin_files(landing_dir))


def read_official_files(paths: list[Path]) -> tuple[pd.DataFrame, list[OfficialFile], list[tuple[Path, str]]]:
    """Every readable file's cells (with source_file and source_updated), the readable
    files' log rows, and the unreadable files with their problem."""
    frames, files, bad = [], [], []
    for path in paths:
        sha256 = file_sha256(path)
        try:
            table = read_statfin(path)
        except StatfinFileError as error:
            bad.append((path, sha256, str(error)))
            continue
        frame = table.to_pandas().rename(columns={"table_id": "source_table"})
        frame["source_file"] = path.name
        frame["source_updated"] = pd.Timestamp(table.updated) if table.updated else pd.NaT
        frames.append(frame)
        files.append(
            OfficialFile(path.name, sha256, table.format, table.table_id, table.updated, table.rows, 0, "loaded")
        )
    columns = ["source_table", "month", "area_code", "area_name", "measure", "value", "symbol", "source_file", "source_updated"]
    cells = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    return cells, files, bad


def latest_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per (table, month, area, measure): the later `updated` wins; equal or
    unknown times, the later file name. A file without `updated` counts as the oldest."""
    if cells.empty:
        return cells
    ordered = cells.assign(_updated=cells["source_updated"].fillna(pd.Timestamp.min)).sort_values(
        ["_updated", "source_file"], kind="stable"
    )
    return ordered.drop_duplicates(KEY, keep="last").drop(columns="_updated").sort_values(KEY).reset_index(drop=True)


def ingest_official(settings: Settings, *, log: logging.Logger | logging.LoggerAdapter | None = None) -> OfficialLoad:
    """Read every file of `statfin/`, quarantine the unreadable ones, and replace the
    warehouse's official cells and delivery log with what the readable ones say."""
    from pipelines.sources.loader import private_warehouse_connection, refuse_symbolic_links

    log = log or logger
    paths = statfin_files(settings.landing_dir)
    for path in paths:
        refuse_symbolic_links(path, settings.landing_dir)
    cells, files, bad = read_official_files(paths)
    winners = latest_cells(cells)
    used = winners["source_file"].value_counts().to_dict() if not winners.empty else {}
    files = [
        OfficialFile(f.source_file, f.sha256, f.format, f.source_table, f.source_updated, f.cells,
                     int(used.get(f.source_file, 0)), f.status)
        for f in files
    ]
    for path, sha256, problem in bad:
        target = quarantine_official(path, settings.quarantine_dir, problem)
        log.error("official statistics: %s (file copied to quarantine: %s)", problem, target)
        files.append(OfficialFile(path.name, sha256, None, None, None, 0, 0, "quarantined", problem, str(target)))
    files.sort(key=lambda f: f.source_file)

    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    rows = winners.assign(month=[parse_month(m) for m in winners["month"]]) if not winners.empty else winners
    with private_warehouse_connection(settings.warehouse_path) as con:
        con.execute("begin transaction")
        try:
            con.execute(f"create schema if not exists {RAW_SCHEMA}")
            for ddl in OFFICIAL_DDL.values():
                con.execute(ddl)
            con.execute(f"delete from {RAW_SCHEMA}.official_cells")
            con.execute(f"delete from {RAW_SCHEMA}.official_deliveries")
            if not rows.empty:
                con.register("incoming_cells", pa.Table.from_pandas(rows, preserve_index=False))
                con.execute(
                    f"insert into {RAW_SCHEMA}.official_cells select source_table, month, area_code, area_name, "
                    "measure, value, symbol, source_file, source_updated from incoming_cells"
                )
            for f in files:
                con.execute(
                    f"insert into {RAW_SCHEMA}.official_deliveries values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [f.source_file, f.sha256, f.format, f.source_table, f.source_updated, f.cells, f.cells_used,
                     f.status, f.problem, loaded_at],
                )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    for f in files:
        if f.status == "loaded":
            log.info("official statistics: loaded %s (%s, table %s, updated %s): %d cells, %d used, sha256 %s",
                     f.source_file, f.format, f.source_table, f.source_updated, f.cells, f.cells_used, f.sha256)
    return OfficialLoad(files=files, cells=len(rows))


def quarantine_official(path: Path, quarantine_dir: Path, reason: str) -> Path:
    """Copy the file to quarantine_dir/statfin/<UTC time>_<name>, the reason beside it."""
    root = Path(quarantine_dir)
    folder = private_dir(root / STATFIN_FOLDER, root=root)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{stamp}_{path.name}"
    copy_private(path, target)
    write_private_text(target.with_name(target.name + ".reason.txt"), reason.rstrip() + "\n")
    return target


def land_real_kainuu_series(landing_dir: Path) -> Path | None:
    """Copy the shipped real 12r5 series of Kainuu into `statfin/` of the landing folder
    (the demo's real official figures beside its synthetic registers). None if it is there."""
    import shutil

    from pipelines.package_files import real_statfin_kainuu_file

    source = real_statfin_kainuu_file()
    target = statfin_folder(landing_dir) / source.name
    if target.exists():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target
