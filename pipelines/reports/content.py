"""What a follow-up report says, gathered from the published tables only.

`build_report` opens `published.duckdb` read-only (never the working warehouse) and returns
a `ReportContent`: plain, language-neutral values with their published status, which the
templates then format. Everything here is a pure function of the database file and the
arguments, so the same published file always gives the same report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines.core.indicators import (
    EURO_BLOCK,
    JOBSEEKER_COUNTS,
    KELA_COUNTS,
    STRUCTURAL_GROUPS,
)
from pipelines.core.months import contiguous_ranges, month_index, months_between, parse_month, shift_month
from pipelines.publish.tables import AREA_LEVEL_ORDER

from .formatting import LANGUAGES

TARGET_HALVE = "kaira_1_halve_structural"
TARGET_INFLOW = "kaira_2_structural_inflow"
KELA_COLUMNS = (
    "tmt_recipients_over_500",
    "tmt_recipients_300_499",
    "tmt_recipients_500_999",
    "tmt_recipients_1000_plus",
    "tmt_municipal_share_eur",
    "tmt_municipal_share_expected_eur",
    "tmt_municipal_share_diff_eur",
)
EURO_INDICATORS = frozenset(EURO_BLOCK)
KEY_FIGURES = (
    "unemployed",
    "structural_unemployed",
    *STRUCTURAL_GROUPS,
    "structural_inflow",
    "youth_unemployed",
    "laid_off",
    "in_services",
    "tmt_recipients",
    "tmt_paid_eur",
)
# The monthly series the charts draw (render._charts), and only those: after twenty years each
# is some 200 months an area, so a series read but never shown costs as much as one shown.
SERIES_INDICATORS = ("structural_unemployed", *STRUCTURAL_GROUPS, "youth_unemployed", "structural_inflow")
# Every indicator the definitions section explains, in the contract's order.
DEFINED_INDICATORS = (*JOBSEEKER_COUNTS, *KELA_COUNTS, *EURO_BLOCK)


class ReportDataError(LookupError):
    """The published tables have nothing to report for the requested area or month."""


@dataclass(frozen=True)
class Cell:
    """One published figure: `value` is None where the status withholds it."""

    value: float | None
    status: str  # ok, incomplete, suppressed, no_rule, not_available; 'missing' when no row exists

    @property
    def shown(self) -> bool:
        return self.value is not None and self.status in ("ok", "incomplete")


MISSING = Cell(None, "missing")


def target_reached(value: float | None, target_value: float | None) -> bool | None:
    """A follow-up target is reached when the value is at or below it; None where either
    is withheld (suppressed, or no target). The reports and the dashboard both ask this."""
    if value is None or target_value is None:
        return None
    return value <= target_value


@dataclass(frozen=True)
class TargetRow:
    """One row of `target_followup` for the report's month, area and one sex."""

    target_id: str
    sex: str
    baseline_month: date | None
    baseline_value: float | None
    target_month: date | None
    target_value: float | None
    value: float | None
    progress_pct: float | None
    status: str

    @property
    def reached(self) -> bool | None:
        return target_reached(self.value, self.target_value)

    @property
    def change(self) -> float | None:
        if self.value is None or self.baseline_value is None:
            return None
        return self.value - self.baseline_value

    @property
    def change_pct(self) -> float | None:
        if self.change is None or not self.baseline_value:
            return None
        return 100.0 * self.change / self.baseline_value


@dataclass(frozen=True)
class Series:
    """Monthly figures (sex total) of the report's area, aligned with `months`."""

    months: tuple[date, ...]
    cells: dict[str, tuple[Cell, ...]]

    def of(self, indicator: str) -> tuple[Cell, ...]:
        return self.cells.get(indicator, tuple(MISSING for _ in self.months))


@dataclass(frozen=True)
class KelaRow:
    area_code: str
    area_name: str
    cells: dict[str, Cell]
    is_total: bool = False
    is_current: bool = False


@dataclass(frozen=True)
class CheckRow:
    asset: str
    check_name: str
    severity: str
    passed: bool
    description: str
    observed: str


@dataclass(frozen=True)
class CheckGroup:
    asset: str
    checks: int
    passed: int
    failed_errors: int
    failed_warnings: int


@dataclass(frozen=True)
class ReportContent:
    lang: str
    area_code: str
    area_name: str
    area_level: str
    month: date
    count_date: date | None
    lookback_complete: bool
    synthetic: bool
    suppression_threshold: int
    parent_code: str | None
    parent_name: str | None
    halve: dict[str, TargetRow]  # sex -> row of kaira_1 for the month ({} when none)
    inflow: dict[str, TargetRow]  # sex -> row of kaira_2 for the month
    target_baseline_month: date | None
    target_month: date | None
    figures: dict[tuple[str, str], Cell]  # (indicator, sex) -> the month's cell
    figures_year_ago: dict[str, Cell]  # indicator -> the cell (sex total) 12 months earlier
    series: Series
    kela_rows: tuple[KelaRow, ...]
    kela_total: KelaRow | None
    kela_members_known: bool
    checks: tuple[CheckRow, ...]
    run_id: str | None
    checked_at: datetime | None
    incomplete_months: tuple[tuple[date, date], ...]  # ranges of months, first and last inclusive
    status_counts: dict[str, int] = field(default_factory=dict)  # the area's cells this month
    # The derived-versus-official section (pipelines/reports/official.py), HTML; None without official figures.
    official_section: object = None

    @property
    def year_ago(self) -> date:
        return shift_month(self.month, -12)

    def figure(self, indicator: str, sex: str = "total") -> Cell:
        return self.figures.get((indicator, sex), MISSING)

    @property
    def check_groups(self) -> tuple[CheckGroup, ...]:
        return group_checks(self.checks)

    @property
    def failed_checks(self) -> tuple[CheckRow, ...]:
        return failed_checks(self.checks)


def group_checks(checks: tuple[CheckRow, ...]) -> tuple[CheckGroup, ...]:
    """The checks counted by asset, the assets in the order they first appear."""
    groups: dict[str, list[CheckRow]] = {}
    for check in checks:
        groups.setdefault(check.asset, []).append(check)
    return tuple(
        CheckGroup(
            asset=asset,
            checks=len(rows),
            passed=sum(row.passed for row in rows),
            failed_errors=sum(not row.passed and row.severity == "error" for row in rows),
            failed_warnings=sum(not row.passed and row.severity != "error" for row in rows),
        )
        for asset, rows in groups.items()
    )


def failed_checks(checks: tuple[CheckRow, ...]) -> tuple[CheckRow, ...]:
    return tuple(check for check in checks if not check.passed)


# --- reading --------------------------------------------------------------------------------


def connect_published(published_path: Path) -> duckdb.DuckDBPyConnection:
    """The published file, read-only; a clear error when it is not there yet."""
    path = Path(published_path)
    if not path.is_file():
        raise FileNotFoundError(f"no published tables at {path}: run the pipeline (kaira run) first")
    return duckdb.connect(str(path), read_only=True)


def latest_month(published_path: Path) -> date:
    con = connect_published(published_path)
    try:
        (month,) = con.execute("select max(month) from indicators_monthly").fetchone()
    finally:
        con.close()
    if month is None:
        raise ReportDataError(f"{published_path} has no published months")
    return month


def published_areas(published_path: Path, month: date) -> list[tuple[str, str, str]]:
    """(area_code, area_level, area_name) of every area published for `month`, larger areas first."""
    con = connect_published(published_path)
    try:
        return _areas_of_month(con, month)
    finally:
        con.close()


def _areas_of_month(con, month: date) -> list[tuple[str, str, str]]:
    rows = con.execute(
        "select distinct area_code, area_level, area_name from indicators_monthly where month = ?", [month]
    ).fetchall()
    return sorted(rows, key=lambda row: (AREA_LEVEL_ORDER.get(row[1], 9), row[0]))


def _family(areas: list[tuple[str, str, str]], code: str, level: str):
    """(parent, members of the Kela table, whether membership is known).

    The published tables carry no region of a municipality. With one region published (the
    default scope) every municipality belongs to it; with several, membership is unknown here
    and the table shows the report's own area only.
    """
    regions = [area for area in areas if area[1] == "region"]
    municipalities = [area for area in areas if area[1] == "municipality"]
    country = [area for area in areas if area[1] == "country"]
    if level == "country":
        return None, regions, True
    if level == "region":
        parent = country[0] if country else None
        if len(regions) == 1:
            return parent, municipalities, True
        return parent, [], False
    if len(regions) == 1:
        return regions[0], municipalities, True
    return None, [area for area in areas if area[0] == code], False


def build_report(
    published_path: Path,
    area_code: str,
    month: str | None,
    lang: str = "fi",
    *,
    synthetic: bool = False,
    suppression_threshold: int = 5,
) -> ReportContent:
    """Gather one area's report for one month (default: the latest published) from published.duckdb."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")
    con = connect_published(published_path)
    try:
        if month is None:
            (report_month,) = con.execute("select max(month) from indicators_monthly").fetchone()
            if report_month is None:
                raise ReportDataError(f"{published_path} has no published months")
        else:
            report_month = parse_month(month)
        tables = PublishedMonth(con, report_month)
    finally:
        con.close()
    return tables.report(area_code, lang, synthetic=synthetic, suppression_threshold=suppression_threshold)


class PublishedMonth:
    """What the reports of one month read from the published tables, read once for every area.

    A dozen queries a report, each report with its own connection, made gathering 320 areas
    take longer than drawing them; these queries read the month (and the series up to it)
    for all areas at once, and `report` picks an area's part in memory. The rules of what a
    report shows stay here, once: `build_report` is this for one area.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, month: date):
        self.month = month
        self._area_rows: dict[str, tuple] = {}  # code -> (level, name, count date, look-back complete)
        for code, level, name, count_date, lookback_complete in con.execute(
            """select area_code, area_level, area_name, count_date, bool_and(lookback_complete)
               from indicators_monthly where month = ? group by all""",
            [month],
        ).fetchall():
            self._area_rows.setdefault(code, (level, name, count_date, lookback_complete))
        self.areas = sorted(
            {(code, level, name) for code, (level, name, _, _) in self._area_rows.items()},
            key=lambda row: (AREA_LEVEL_ORDER.get(row[1], 9), row[0]),
        )

        self._figures: dict[str, dict[tuple[str, str], Cell]] = {}
        self._status_counts: dict[str, dict[str, int]] = {}
        self._kela: dict[str, dict[str, Cell]] = {}
        kela_columns = set(KELA_COLUMNS)
        for code, indicator, sex, value, status in con.execute(
            "select area_code, indicator, sex, value, status from indicators_monthly where month = ?", [month]
        ).fetchall():
            cell = Cell(value, status)
            self._figures.setdefault(code, {})[(indicator, sex)] = cell
            counts = self._status_counts.setdefault(code, {})
            counts[status] = counts.get(status, 0) + 1
            if sex == "total" and indicator in kela_columns:
                self._kela.setdefault(code, {})[indicator] = cell

        self._year_ago: dict[str, dict[str, Cell]] = {}
        for code, indicator, value, status in con.execute(
            """select area_code, indicator, value, status from indicators_monthly
               where month = ? and sex = 'total'""",
            [shift_month(month, -12)],
        ).fetchall():
            self._year_ago.setdefault(code, {})[indicator] = Cell(value, status)

        self._targets: dict[tuple[str, str], dict[str, TargetRow]] = {}
        for target_id, code, sex, *values in con.execute(
            """select target_id, area_code, sex, baseline_month, baseline_value, target_month, target_value,
                      value, progress_pct, status
               from target_followup where month = ? and target_id in (?, ?)""",
            [month, TARGET_HALVE, TARGET_INFLOW],
        ).fetchall():
            self._targets.setdefault((target_id, code), {})[sex] = TargetRow(target_id, sex, *values)
        target_dates = con.execute(
            "select min(baseline_month), max(target_month) from target_followup where target_id = ?", [TARGET_HALVE]
        ).fetchone()
        self.baseline_month, self.target_month = target_dates if target_dates else (None, None)

        # The charts run from the baseline month (KAIRA's 2008-02) to the report month; a month
        # before the baseline gets each area's whole published history up to it.
        if self.baseline_month is not None and self.baseline_month <= month:
            self._starts: dict[str, date] = {code: self.baseline_month for code in self._area_rows}
        else:
            self._starts = dict(
                con.execute(
                    "select area_code, min(month) from indicators_monthly group by area_code"
                ).fetchall()
            )
        # One row per area and indicator, its months as offsets from the first start and its
        # values and statuses as lists: the series grow with the history (about 200 months
        # after twenty years), and a Python tuple, date and dict entry per area-month-indicator
        # made reading them most of a month's gathering. `_series_of` makes the cells.
        self._series: dict[str, dict[str, tuple[list[int], list, list[str]]]] = {}
        self._first_start = min(self._starts.values()) if self._starts else None
        if self._starts:
            placeholders = ", ".join("?" for _ in SERIES_INDICATORS)
            for code, indicator, offsets, values, statuses in con.execute(
                f"""select area_code, indicator, list(datediff('month', ?::date, month) order by month),
                           list(value order by month), list(status order by month)
                    from indicators_monthly
                    where sex = 'total' and month >= ? and month <= ? and indicator in ({placeholders})
                    group by area_code, indicator""",
                [self._first_start, self._first_start, month, *SERIES_INDICATORS],
            ).fetchall():
                self._series.setdefault(code, {})[indicator] = (offsets, values, statuses)
        # Cells are immutable and the same figure recurs across months and areas: one object each.
        self._cells: dict[tuple, Cell] = {}
        self._months: dict[date, tuple[date, ...]] = {}

        self.checks = tuple(
            CheckRow(*row)
            for row in con.execute(
                """select asset, check_name, severity, passed, coalesce(description, ''), coalesce(observed, '')
                   from run_checks order by checked_at, asset, check_name"""
            ).fetchall()
        )
        self.run_id, self.checked_at = con.execute("select max(run_id), max(checked_at) from run_checks").fetchone()

        self._incomplete: dict[str, list[date]] = {}
        for code, incomplete_month in con.execute(
            """select distinct area_code, month from indicators_monthly
               where not lookback_complete order by month"""
        ).fetchall():
            self._incomplete.setdefault(code, []).append(incomplete_month)

    @classmethod
    def read(cls, published_path: Path, month: date) -> PublishedMonth:
        con = connect_published(published_path)
        try:
            return cls(con, month)
        finally:
            con.close()

    def report(
        self, area_code: str, lang: str = "fi", *, synthetic: bool = False, suppression_threshold: int = 5
    ) -> ReportContent:
        """One area's report of the month."""
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")
        area_code = area_code.strip().upper()
        month = self.month
        if area_code not in self._area_rows:
            if not self.areas:
                raise ReportDataError(f"nothing is published for {month:%Y-%m}")
            published = ", ".join(code for code, _, _ in self.areas)
            raise ReportDataError(f"area {area_code} is not published for {month:%Y-%m}; published: {published}")
        area_level, area_name, count_date, lookback_complete = self._area_rows[area_code]
        parent, members, members_known = _family(self.areas, area_code, area_level)
        kela_rows, kela_total = self._kela_table(area_code, area_level, parent, members, members_known)
        return ReportContent(
            lang=lang,
            area_code=area_code,
            area_name=area_name,
            area_level=area_level,
            month=month,
            count_date=count_date,
            lookback_complete=bool(lookback_complete),
            synthetic=synthetic,
            suppression_threshold=suppression_threshold,
            parent_code=parent[0] if parent else None,
            parent_name=parent[2] if parent else None,
            halve=self._targets.get((TARGET_HALVE, area_code), {}),
            inflow=self._targets.get((TARGET_INFLOW, area_code), {}),
            target_baseline_month=self.baseline_month,
            target_month=self.target_month,
            figures=self._figures.get(area_code, {}),
            figures_year_ago=self._year_ago.get(area_code, {}),
            series=self._series_of(area_code),
            kela_rows=kela_rows,
            kela_total=kela_total,
            kela_members_known=members_known,
            checks=self.checks,
            run_id=self.run_id,
            checked_at=self.checked_at,
            incomplete_months=tuple(contiguous_ranges(self._incomplete.get(area_code, []))),
            status_counts=self._status_counts.get(area_code, {}),
        )

    def _series_of(self, area_code: str) -> Series:
        start = self._starts[area_code]
        if start not in self._months:
            self._months[start] = tuple(months_between(start, self.month))
        months = self._months[start]
        first = month_index(start) - month_index(self._first_start)
        found = self._series.get(area_code, {})
        cells = {}
        for indicator in SERIES_INDICATORS:
            if indicator not in found:
                cells[indicator] = tuple(MISSING for _ in months)
                continue
            offsets, values, statuses = found[indicator]
            if len(offsets) == len(months) and offsets[0] == first:
                # Every month is there (one row per month at most, none before the start).
                cells[indicator] = tuple(map(self._cell, values, statuses))
            else:
                by_offset = dict(zip(offsets, map(self._cell, values, statuses), strict=True))
                cells[indicator] = tuple(by_offset.get(first + index, MISSING) for index in range(len(months)))
        return Series(months, cells)

    def _cell(self, value: float | None, status: str) -> Cell:
        cell = self._cells.get((value, status))
        if cell is None:
            cell = self._cells[(value, status)] = Cell(value, status)
        return cell

    def _kela_table(self, area_code, area_level, parent, members, members_known):
        def row(area, *, total=False):
            code, _, name = area
            cells = {indicator: self._kela.get(code, {}).get(indicator, MISSING) for indicator in KELA_COLUMNS}
            return KelaRow(code, name, cells, is_total=total, is_current=code == area_code and not total)

        member_rows = tuple(row(area) for area in sorted(members, key=lambda area: area[2]))
        if area_level == "municipality":
            total_area = parent if members_known else None
        else:
            total_area = next(area for area in self.areas if area[0] == area_code)
        return member_rows, (row(total_area, total=True) if total_area else None)
