"""One consistent read of the published tables for one request of the dashboard.

The file is opened read-only for each request and closed before the page is drawn. The
publisher never writes `published.duckdb` in place: it writes a new file beside it and
moves it over the old one with `os.replace` (pipelines/publish/writer.py). So a connection
sees one version whole, a run republishing meanwhile never waits for the dashboard nor the
other way round, and the next request opens the new version. Everything a page shows is read
through the one connection, so a page never mixes two versions. (DuckDB shares one open
database per path within a process: a request that starts while another still reads the old
version gets the old version too, whole; the connections are closed within the request, so
the new version follows at once.)

Only the contract's tables are read, by column name (docs/published-tables.md): a table or
column added later is ignored, an optional table (`publication`, the official statistics'
`official_reconciliation`) is shown where it exists.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.core.indicators import EURO_BLOCK, JOBSEEKER_COUNTS, KELA_COUNTS
from pipelines.reports.content import KELA_COLUMNS

from . import texts
from .view import Area, View, ViewChoice, choose_view

CANONICAL_ORDER = (*JOBSEEKER_COUNTS, *KELA_COUNTS, *EURO_BLOCK)
LEVEL_ORDER = {"country": 0, "region": 1, "municipality": 2}
RECONCILIATION_TABLE = "official_reconciliation"
RECONCILIATION_COLUMNS = (
    "month",
    "indicator",
    "measure",
    "derived_value",
    "official_value",
    "difference",
    "relative_difference",
    "status",
)
# A connection that fails while a run swaps the file in is tried again a few times.
OPEN_ATTEMPTS = 3
OPEN_PAUSE_SECONDS = 0.2


class PublishedUnavailable(Exception):
    """Nothing to show: the published file is missing, empty or unreadable. The message is
    the Finnish text the dashboard shows instead of the figures."""


@dataclass(frozen=True)
class Publication:
    synthetic: bool
    data_note_fi: str | None
    run_id: str | None
    published_at: object
    suppression_threshold: int
    schema_version: int | None


@dataclass(frozen=True)
class Dashboard:
    """Everything one page shows, read in one go."""

    path: Path
    publication: Publication | None
    areas: tuple[Area, ...]
    indicators: tuple[str, ...]
    choice: ViewChoice
    area: Area
    last_month: date
    series: pd.DataFrame  # month, value, status, lookback_complete: the view's cell per month
    followup: pd.DataFrame  # target_followup of the view's area, sex and indicator
    latest: pd.DataFrame  # the last month's cells of the view's area and sex: indicator, value, status
    kela: pd.DataFrame  # the last month's Kela table (sex total): area_code, area_name, is_total, KELA_COLUMNS as value/status
    reconciliation: pd.DataFrame | None  # official-versus-derived of the view's area and sex, None without the table

    @property
    def view(self) -> View:
        return self.choice.view

    @property
    def threshold(self) -> int:
        return self.publication.suppression_threshold if self.publication else 5


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise PublishedUnavailable(texts.MISSING_FILE.format(path=path))
    error: Exception | None = None
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return duckdb.connect(str(path), read_only=True)
        except FileNotFoundError:
            raise PublishedUnavailable(texts.MISSING_FILE.format(path=path)) from None
        except duckdb.Error as failure:  # a file being swapped in, or not a database at all
            error = failure
            if attempt + 1 < OPEN_ATTEMPTS:
                time.sleep(OPEN_PAUSE_SECONDS)
    raise PublishedUnavailable(texts.UNREADABLE_FILE.format(path=path, error=str(error).splitlines()[0]))


def _tables(con) -> set[str]:
    return {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}


def _columns(con, table: str) -> set[str]:
    rows = con.execute("select column_name from information_schema.columns where table_name = ?", [table]).fetchall()
    return {name for (name,) in rows}


def _publication(con, tables: set[str]) -> Publication | None:
    if "publication" not in tables:
        return None
    columns = _columns(con, "publication")
    wanted = ["synthetic", "data_note_fi", "run_id", "published_at", "suppression_threshold", "schema_version"]
    present = [name for name in wanted if name in columns]
    row = con.execute(f"select {', '.join(present)} from publication limit 1").fetchone()
    if row is None:
        return None
    values = dict(zip(present, row))
    return Publication(
        synthetic=bool(values.get("synthetic")),
        data_note_fi=values.get("data_note_fi"),
        run_id=values.get("run_id"),
        published_at=values.get("published_at"),
        suppression_threshold=int(values.get("suppression_threshold") or 5),
        schema_version=values.get("schema_version"),
    )


def _areas(con, month: date) -> tuple[Area, ...]:
    rows = con.execute(
        "select distinct area_code, area_level, area_name from indicators_monthly where month = ?", [month]
    ).fetchall()
    areas = [Area(code, level, name) for code, level, name in rows]
    return tuple(sorted(areas, key=lambda area: (LEVEL_ORDER.get(area.level, 9), area.code)))


def _indicators(con) -> tuple[str, ...]:
    codes = {code for (code,) in con.execute("select distinct indicator from indicators_monthly").fetchall()}
    known = [code for code in CANONICAL_ORDER if code in codes]
    return tuple(known + sorted(codes - set(known)))


def kela_areas(areas: tuple[Area, ...], selected: Area) -> tuple[list[Area], Area | None]:
    """(member rows, total row) of KAIRA's Kela table for the selected area.

    The published tables carry no municipality's region, so membership is known only when
    one region is published (the default scope): its municipalities, with the region as the
    total, whichever of them is selected. With several regions a region shows its own row
    and a municipality its own; the whole country shows its regions.
    """
    regions = [area for area in areas if area.level == "region"]
    municipalities = sorted((area for area in areas if area.level == "municipality"), key=lambda area: area.name)
    if selected.level == "country":
        return sorted(regions, key=lambda area: area.name), selected
    if len(regions) == 1:
        return municipalities, regions[0]
    if selected.level == "region":
        return [], selected
    return [selected], None


def _kela(con, month: date, areas: tuple[Area, ...], selected: Area) -> pd.DataFrame:
    members, total = kela_areas(areas, selected)
    shown = members + ([total] if total else [])
    if not shown:
        return pd.DataFrame()
    codes = [area.code for area in shown]
    cells = con.execute(
        f"""select area_code, indicator, value, status from indicators_monthly
            where month = ? and sex = 'total' and area_code in ({", ".join("?" for _ in codes)})
              and indicator in ({", ".join("?" for _ in KELA_COLUMNS)})""",
        [month, *codes, *KELA_COLUMNS],
    ).df()
    rows = []
    for area in shown:
        row = {"area_code": area.code, "area_name": area.name, "is_total": area is total}
        mine = cells[cells["area_code"] == area.code].set_index("indicator")
        for indicator in KELA_COLUMNS:
            if indicator in mine.index:
                value = mine.at[indicator, "value"]
                row[indicator] = (None if pd.isna(value) else float(value), str(mine.at[indicator, "status"]))
            else:
                row[indicator] = (None, "missing")
        rows.append(row)
    return pd.DataFrame(rows)


def _reconciliation(con, tables: set[str], view: View) -> pd.DataFrame | None:
    if RECONCILIATION_TABLE not in tables:
        return None
    columns = _columns(con, RECONCILIATION_TABLE)
    present = [name for name in RECONCILIATION_COLUMNS if name in columns]
    if not {"month", "indicator", "derived_value", "official_value", "status"} <= set(present):
        return None
    return con.execute(
        f"""select {", ".join(present)} from {RECONCILIATION_TABLE}
            where area_code = ? and sex = ? order by month, indicator""",
        [view.area, view.sex],
    ).df()


def read_dashboard(path: Path, params: Mapping[str, object]) -> Dashboard:
    """Read what the page for the view asked by `params` (URL query parameters) shows."""
    path = Path(path)
    con = _connect(path)
    try:
        try:
            tables = _tables(con)
        except duckdb.Error as error:
            raise PublishedUnavailable(texts.UNREADABLE_FILE.format(path=path, error=str(error).splitlines()[0])) from None
        if "indicators_monthly" not in tables:
            raise PublishedUnavailable(texts.EMPTY_FILE.format(path=path))
        (last_month,) = con.execute("select max(month) from indicators_monthly").fetchone()
        if last_month is None:
            raise PublishedUnavailable(texts.EMPTY_FILE.format(path=path))
        publication = _publication(con, tables)
        areas = _areas(con, last_month)
        indicators = _indicators(con)
        # Areas published in earlier months only (Vaala before 2016) can still be linked to.
        earlier = con.execute(
            """select area_code, any_value(area_level), arg_max(area_name, month) from indicators_monthly
               group by area_code"""
        ).fetchall()
        known = {area.code for area in areas}
        all_areas = areas + tuple(
            sorted(
                (Area(code, level, name) for code, level, name in earlier if code not in known),
                key=lambda area: (LEVEL_ORDER.get(area.level, 9), area.code),
            )
        )
        choice = choose_view(params, all_areas, indicators)
        view = choice.view
        area = next(area for area in all_areas if area.code == view.area)
        series = con.execute(
            """select month, value, status, lookback_complete from indicators_monthly
               where area_code = ? and sex = ? and indicator = ? order by month""",
            [view.area, view.sex, view.indicator],
        ).df()
        followup = (
            con.execute(
                """select target_id, month, baseline_month, baseline_value, target_month, target_value,
                          value, progress_pct, status
                   from target_followup where area_code = ? and sex = ? and indicator = ?
                   order by target_id, month""",
                [view.area, view.sex, view.indicator],
            ).df()
            if "target_followup" in tables
            else pd.DataFrame()
        )
        area_last = series["month"].max() if len(series) else last_month
        latest = con.execute(
            """select indicator, value, status from indicators_monthly
               where area_code = ? and sex = ? and month = ?""",
            [view.area, view.sex, area_last],
        ).df()
        order = {code: index for index, code in enumerate(indicators)}
        latest = latest.sort_values("indicator", key=lambda codes: codes.map(order)).reset_index(drop=True)
        kela = _kela(con, last_month, areas, area) if area.code in known else pd.DataFrame()
        reconciliation = _reconciliation(con, tables, view)
    finally:
        con.close()
    return Dashboard(
        path=path,
        publication=publication,
        areas=all_areas,
        indicators=indicators,
        choice=choice,
        area=area,
        last_month=pd.Timestamp(area_last).date(),
        series=series,
        followup=followup,
        latest=latest,
        kela=kela,
        reconciliation=reconciliation,
    )
