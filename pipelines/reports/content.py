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
from pipelines.core.months import parse_month, shift_month

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
SERIES_INDICATORS = ("structural_unemployed", *STRUCTURAL_GROUPS, "youth_unemployed", "structural_inflow", "unemployed")
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
        groups: dict[str, list[CheckRow]] = {}
        for check in self.checks:
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

    @property
    def failed_checks(self) -> tuple[CheckRow, ...]:
        return tuple(check for check in self.checks if not check.passed)


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


_LEVEL_ORDER = {"country": 0, "region": 1, "municipality": 2}


def _areas_of_month(con, month: date) -> list[tuple[str, str, str]]:
    rows = con.execute(
        "select distinct area_code, area_level, area_name from indicators_monthly where month = ?", [month]
    ).fetchall()
    return sorted(rows, key=lambda row: (_LEVEL_ORDER.get(row[1], 9), row[0]))


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


def _cells(rows) -> dict[tuple[str, str], Cell]:
    return {(indicator, sex): Cell(value, status) for indicator, sex, value, status in rows}


def _target_rows(con, target_id: str, month: date, area_code: str) -> dict[str, TargetRow]:
    rows = con.execute(
        """
        select sex, baseline_month, baseline_value, target_month, target_value, value, progress_pct, status
        from target_followup
        where target_id = ? and month = ? and area_code = ?
        """,
        [target_id, month, area_code],
    ).fetchall()
    return {row[0]: TargetRow(target_id, *row) for row in rows}


def _month_ranges(months: list[date]) -> tuple[tuple[date, date], ...]:
    ranges: list[tuple[date, date]] = []
    for month in sorted(months):
        if ranges and shift_month(ranges[-1][1], 1) == month:
            ranges[-1] = (ranges[-1][0], month)
        else:
            ranges.append((month, month))
    return tuple(ranges)


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
        return _gather(con, area_code.strip().upper(), report_month, lang, synthetic, suppression_threshold)
    finally:
        con.close()


def _gather(con, area_code: str, month: date, lang: str, synthetic: bool, threshold: int) -> ReportContent:
    area = con.execute(
        """
        select area_level, area_name, count_date, bool_and(lookback_complete)
        from indicators_monthly where month = ? and area_code = ?
        group by all
        """,
        [month, area_code],
    ).fetchone()
    if area is None:
        published = [code for code, _, _ in _areas_of_month(con, month)]
        if not published:
            raise ReportDataError(f"nothing is published for {month:%Y-%m}")
        raise ReportDataError(f"area {area_code} is not published for {month:%Y-%m}; published: {', '.join(published)}")
    area_level, area_name, count_date, lookback_complete = area

    figures = _cells(
        con.execute(
            "select indicator, sex, value, status from indicators_monthly where month = ? and area_code = ?",
            [month, area_code],
        ).fetchall()
    )
    year_ago = {
        indicator: cell
        for (indicator, _), cell in _cells(
            con.execute(
                """select indicator, sex, value, status from indicators_monthly
                   where month = ? and area_code = ? and sex = 'total'""",
                [shift_month(month, -12), area_code],
            ).fetchall()
        ).items()
    }

    halve = _target_rows(con, TARGET_HALVE, month, area_code)
    inflow = _target_rows(con, TARGET_INFLOW, month, area_code)
    target_dates = con.execute(
        "select min(baseline_month), max(target_month) from target_followup where target_id = ?", [TARGET_HALVE]
    ).fetchone()
    baseline_month, target_month = target_dates if target_dates else (None, None)

    # The charts run from the baseline month (KAIRA's 2008-02) to the report month; a month
    # before the baseline gets the whole published history up to it.
    (first_published,) = con.execute(
        "select min(month) from indicators_monthly where area_code = ?", [area_code]
    ).fetchone()
    start = baseline_month if baseline_month is not None and baseline_month <= month else first_published
    series = _series(con, area_code, start, month)

    areas = _areas_of_month(con, month)
    parent, members, members_known = _family(areas, area_code, area_level)
    kela_rows, kela_total = _kela_table(con, month, area_code, area_level, parent, members, members_known)

    checks = tuple(
        CheckRow(*row)
        for row in con.execute(
            """select asset, check_name, severity, passed, coalesce(description, ''), coalesce(observed, '')
               from run_checks order by checked_at, asset, check_name"""
        ).fetchall()
    )
    run = con.execute("select max(run_id), max(checked_at) from run_checks").fetchone()

    incomplete = [
        row[0]
        for row in con.execute(
            """select distinct month from indicators_monthly
               where area_code = ? and not lookback_complete order by month""",
            [area_code],
        ).fetchall()
    ]
    status_counts = dict(
        con.execute(
            "select status, count(*) from indicators_monthly where month = ? and area_code = ? group by status",
            [month, area_code],
        ).fetchall()
    )

    return ReportContent(
        lang=lang,
        area_code=area_code,
        area_name=area_name,
        area_level=area_level,
        month=month,
        count_date=count_date,
        lookback_complete=bool(lookback_complete),
        synthetic=synthetic,
        suppression_threshold=threshold,
        parent_code=parent[0] if parent else None,
        parent_name=parent[2] if parent else None,
        halve=halve,
        inflow=inflow,
        target_baseline_month=baseline_month,
        target_month=target_month,
        figures=figures,
        figures_year_ago=year_ago,
        series=series,
        kela_rows=kela_rows,
        kela_total=kela_total,
        kela_members_known=members_known,
        checks=checks,
        run_id=run[0] if run else None,
        checked_at=run[1] if run else None,
        incomplete_months=_month_ranges(incomplete),
        status_counts=status_counts,
    )


def _series(con, area_code: str, start: date, end: date) -> Series:
    months = []
    month = start
    while month <= end:
        months.append(month)
        month = shift_month(month, 1)
    placeholders = ", ".join("?" for _ in SERIES_INDICATORS)
    rows = con.execute(
        f"""select month, indicator, value, status from indicators_monthly
            where area_code = ? and sex = 'total' and month >= ? and month <= ?
              and indicator in ({placeholders})""",
        [area_code, start, end, *SERIES_INDICATORS],
    ).fetchall()
    found = {(row[0], row[1]): Cell(row[2], row[3]) for row in rows}
    cells = {
        indicator: tuple(found.get((month, indicator), MISSING) for month in months) for indicator in SERIES_INDICATORS
    }
    return Series(tuple(months), cells)


def _kela_table(con, month, area_code, area_level, parent, members, members_known):
    placeholders = ", ".join("?" for _ in KELA_COLUMNS)
    rows = con.execute(
        f"""select area_code, indicator, value, status from indicators_monthly
            where month = ? and sex = 'total' and indicator in ({placeholders})""",
        [month, *KELA_COLUMNS],
    ).fetchall()
    by_area: dict[str, dict[str, Cell]] = {}
    for code, indicator, value, status in rows:
        by_area.setdefault(code, {})[indicator] = Cell(value, status)

    def row(area, *, total=False):
        code, _, name = area
        cells = {indicator: by_area.get(code, {}).get(indicator, MISSING) for indicator in KELA_COLUMNS}
        return KelaRow(code, name, cells, is_total=total, is_current=code == area_code and not total)

    member_rows = tuple(row(area) for area in sorted(members, key=lambda area: area[2]))
    if area_level == "municipality":
        total_area = parent if members_known else None
    else:
        total_area = next(
            ((code, level, name) for code, level, name in _areas_of_month(con, month) if code == area_code)
        )
    return member_rows, (row(total_area, total=True) if total_area else None)
