"""A small published.duckdb built by hand, with the contract's columns (METRICS.md).

For the report tests (and for trying the templates without running the pipeline): a region
(MK18 Kainuu) with two municipalities (KU205 Kajaani, a large one, and KU697 Ristijärvi,
small enough for suppressed cells), months 2008-01 … 2011-01, the two KAIRA targets and a
few run checks. Figures follow simple formulas, so a test can recompute any of them; the
region is the sum of its municipalities. `overrides` replace single cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.core.indicators import STRUCTURAL_GROUPS
from pipelines.core.months import count_date, parse_month, shift_month
from pipelines.publish.tables import (
    INDICATORS_COLUMNS,
    RUN_CHECKS_COLUMNS,
    TARGET_COLUMNS,
)
from pipelines.reports.content import TARGET_HALVE, TARGET_INFLOW

REGION = ("MK18", "region", "Kainuu")
MUNICIPALITIES = (("KU205", "municipality", "Kajaani"), ("KU697", "municipality", "Ristijärvi"))
FIRST_MONTH, LAST_MONTH = "2008-01", "2011-01"
BASELINE, TARGET_MONTH = date(2008, 2, 1), date(2010, 12, 1)
RUN_ID = "run-fixture-0001"
THRESHOLD = 5

# (area, indicator) -> value of month index i (from FIRST_MONTH), sex total.
_FORMULAS = {
    "KU205": {
        "long_term_unemployed": lambda i: 400 - 2 * i,
        "equivalent_long_term_unemployed": lambda i: 600 - 5 * i,
        "returned_from_services": lambda i: 220 - i,
        "service_to_service": lambda i: 130 - i // 2,
        "youth_unemployed": lambda i: 320 - i,
        "structural_inflow": lambda i: 190 + (i % 5) * 3,
        "unemployed": lambda i: 2800 - 4 * i,
        "laid_off": lambda i: 150 + i,
        "in_services": lambda i: 640,
        "tmt_recipients": lambda i: 1900,
        "tmt_recipients_300_499": lambda i: 160,
        "tmt_recipients_500_999": lambda i: 300,
        "tmt_recipients_1000_plus": lambda i: 1100,
        "tmt_recipients_over_500": lambda i: 1398,
        "tmt_paid_eur": lambda i: 936849.01,
        "tmt_municipal_share_eur": lambda i: 357146.23,
        "tmt_municipal_share_expected_eur": lambda i: 357140.00,
    },
    "KU697": {
        "long_term_unemployed": lambda i: 20,
        "equivalent_long_term_unemployed": lambda i: 40,
        "returned_from_services": lambda i: 3,
        "service_to_service": lambda i: 2,
        "youth_unemployed": lambda i: 27,
        "structural_inflow": lambda i: 14,
        "unemployed": lambda i: 170,
        "laid_off": lambda i: 13,
        "in_services": lambda i: 36,
        "tmt_recipients": lambda i: 122,
        "tmt_recipients_300_499": lambda i: 8,
        "tmt_recipients_500_999": lambda i: 22,
        "tmt_recipients_1000_plus": lambda i: 72,
        "tmt_recipients_over_500": lambda i: 94,
        "tmt_paid_eur": lambda i: 59828.69,
        "tmt_municipal_share_eur": lambda i: 23783.19,
        "tmt_municipal_share_expected_eur": lambda i: 23783.19,
    },
}
_MALE_SHARE = 0.6


def _months() -> list[date]:
    months, month = [], parse_month(FIRST_MONTH)
    while month <= parse_month(LAST_MONTH):
        months.append(month)
        month = shift_month(month, 1)
    return months


def _municipal_values(code: str, index: int) -> dict[tuple[str, str], float]:
    values: dict[tuple[str, str], float] = {}
    for indicator, formula in _FORMULAS[code].items():
        total = float(formula(index))
        if indicator.endswith("_eur"):
            male = round(total * _MALE_SHARE, 2)
        else:
            male = float(round(total * _MALE_SHARE))
        values[(indicator, "total")] = total
        values[(indicator, "male")] = male
        values[(indicator, "female")] = round(total - male, 2)
    for sex in ("total", "male", "female"):
        values[("structural_unemployed", sex)] = sum(values[(group, sex)] for group in STRUCTURAL_GROUPS)
        values[("tmt_municipal_share_diff_eur", sex)] = round(
            values[("tmt_municipal_share_eur", sex)] - values[("tmt_municipal_share_expected_eur", sex)], 2
        )
    return values


def indicator_rows(overrides: Mapping[tuple[str, str, str, str], tuple[float | None, str]] | None = None):
    """Rows of indicators_monthly; a person count 1..4 is suppressed, as disclosure control would."""
    overrides = dict(overrides or {})
    rows = []
    for index, month in enumerate(_months()):
        municipal = {code: _municipal_values(code, index) for code, _, _ in MUNICIPALITIES}
        region = {key: sum(values[key] for values in municipal.values()) for key in municipal["KU205"]}
        for (code, level, name), values in ((REGION, region), *((area, municipal[area[0]]) for area in MUNICIPALITIES)):
            for (indicator, sex), value in sorted(values.items()):
                status = "ok"
                if not indicator.endswith("_eur") and 0 < value < THRESHOLD:
                    value, status = None, "suppressed"
                key = (f"{month:%Y-%m}", code, sex, indicator)
                if key in overrides:
                    value, status = overrides.pop(key)
                rows.append((month, count_date(month), code, level, name, sex, indicator, value, status, True))
    if overrides:
        raise KeyError(f"overrides for cells that do not exist: {sorted(overrides)}")
    return rows


def target_rows(indicators: list[tuple]) -> list[tuple]:
    """target_followup from the published cells, by METRICS.md's rules."""
    cells = {(row[0], row[2], row[5], row[6]): (row[7], row[8]) for row in indicators}
    rows = []
    for target_id, indicator, ratio in (
        (TARGET_HALVE, "structural_unemployed", 0.5),
        (TARGET_INFLOW, "structural_inflow", None),
    ):
        for (month, area, sex, name), (value, status) in sorted(cells.items()):
            if name != indicator or month < BASELINE:
                continue
            baseline_value, baseline_status = cells[(BASELINE, area, sex, name)]
            target_month = TARGET_MONTH if ratio else None
            if status == "suppressed":
                row_status, base, target, progress = "suppressed", baseline_value, None, None
                if ratio and baseline_value is not None:
                    target = ratio * baseline_value
            elif baseline_value is None or baseline_status == "suppressed":
                row_status, base, target, progress = "no_baseline", None, None, None
            elif ratio is None:
                row_status, base, target, progress = "no_target", baseline_value, None, None
            else:
                base, target = baseline_value, ratio * baseline_value
                progress = None if base == target else 100.0 * (base - value) / (base - target)
                row_status = "ok"
            if row_status == "no_baseline":
                target_month = None
            rows.append(
                (
                    target_id,
                    indicator,
                    month,
                    area,
                    sex,
                    BASELINE,
                    base,
                    target_month,
                    target,
                    value,
                    progress,
                    row_status,
                )
            )
    return rows


def check_rows(*, failed_warning: bool = True) -> list[tuple]:
    checked = datetime(2011, 2, 15, 6, 30, 0)
    return [
        (
            RUN_ID,
            checked,
            "stg_kela__tmt_payments",
            "person_id_is_pseudonym",
            "error",
            True,
            "person_id is a pseudonym, never an identity code.",
            "all 1 000 rows as expected",
        ),
        (
            RUN_ID,
            checked,
            "fct_indicators_monthly",
            "structural_equals_sum_of_groups",
            "error",
            True,
            "structural_unemployed equals the sum of its four groups.",
            "all 600 rows as expected",
        ),
        (
            RUN_ID,
            checked,
            "fct_kela_payment_shares",
            "invoiced_share_matches_recomputed",
            "warn",
            not failed_warning,
            "Kela's invoiced municipal share and the recomputed one agree within 0.01 EUR per row.",
            "3 of 1 000 rows differ" if failed_warning else "all 1 000 rows as expected",
        ),
    ]


def _create(con, table: str, columns: Mapping[str, str], rows: list[tuple]) -> None:
    con.execute(f"create table {table} ({', '.join(f'{name} {kind}' for name, kind in columns.items())})")
    if rows:
        # One bulk insert through a DataFrame: executemany is a round trip per row.
        frame = pd.DataFrame(rows, columns=list(columns))
        con.register("fixture_rows", frame)
        casts = ", ".join(f"cast({name} as {kind})" for name, kind in columns.items())
        con.execute(f"insert into {table} select {casts} from fixture_rows")
        con.unregister("fixture_rows")


def write_published(
    path: Path,
    *,
    overrides: Mapping[tuple[str, str, str, str], tuple[float | None, str]] | None = None,
    failed_warning: bool = True,
    incomplete_months: tuple[str, ...] = (),
) -> Path:
    """Write the three published tables to `path` (a new file) and return it.

    `overrides` maps (YYYY-MM, area, sex, indicator) to (value, status); `incomplete_months`
    turns the look-back off for those months (their register figures become 'incomplete').
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(path)
    indicators = indicator_rows(overrides)
    if incomplete_months:
        marked = {parse_month(month) for month in incomplete_months}
        indicators = [
            (*row[:8], "incomplete" if row[8] == "ok" and not row[6].startswith("tmt_") else row[8], False)
            if row[0] in marked
            else row
            for row in indicators
        ]
    con = duckdb.connect(str(path))
    try:
        # parent_area_code, the contract's last column: the region of each municipality
        with_parent = [(*row, REGION[0] if row[3] == "municipality" else None) for row in indicators]
        _create(con, "indicators_monthly", INDICATORS_COLUMNS, with_parent)
        _create(con, "target_followup", TARGET_COLUMNS, target_rows(indicators))
        _create(con, "run_checks", RUN_CHECKS_COLUMNS, check_rows(failed_warning=failed_warning))
    finally:
        con.close()
    return path
