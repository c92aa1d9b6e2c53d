"""The current view as a CSV file that a Finnish Excel opens as it is.

Finnish conventions: fields separated by a semicolon (the comma is the decimal mark), a
decimal comma, no thousands separator (so Excel reads a number, not text), UTF-8 with a byte
order mark (without it Excel guesses a legacy code page and garbles ä and ö) and CRLF line
ends. A withheld figure is written as its symbol, as Statistics Finland's own files do, with
its status spelled out in the next column.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from pipelines.reports.render import SYMBOLS

from .texts import STATUS_WORDS, indicator_name, is_euro, sex_name
from .view import View

BOM = "\ufeff"
HEADER = (
    "Kuukausi",
    "Aluekoodi",
    "Alue",
    "Sukupuoli",
    "Indikaattori",
    "Arvo",
    "Tila",
    "Lähtötaso",
    "Tavoite",
    "Edistyminen (%)",
)


def csv_number(value: float | None, decimals: int | None = None) -> str:
    """1234.0 -> '1234', 2244.5 -> '2244,5', 896637.371 with 2 decimals -> '896637,37',
    -12.805 with 2 -> '-12,81' (half away from zero, as the published euros); None -> ''."""
    if value is None or pd.isna(value):
        return ""
    number = Decimal(repr(float(value)))
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    elif number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    text = format(number, "f")
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]
    return text.replace(".", ",")


def _month(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def view_rows(view: View, area_name: str, series: pd.DataFrame, followup: pd.DataFrame) -> list[tuple[str, ...]]:
    """One row per month of the view's series, with the first target's follow-up beside it."""
    euro = is_euro(view.indicator)
    targets = followup.sort_values(["target_id", "month"]) if not followup.empty else followup
    by_month = {}
    if not targets.empty:
        first_target = targets[targets["target_id"] == targets["target_id"].iloc[0]]
        by_month = {_month(row.month): row for row in first_target.itertuples(index=False)}
    rows = []
    for cell in series.sort_values("month").itertuples(index=False):
        month = _month(cell.month)
        withheld = cell.value is None or pd.isna(cell.value)
        value = SYMBOLS.get(cell.status, SYMBOLS["missing"]) if withheld else csv_number(cell.value, 2 if euro else None)
        target = by_month.get(month)
        rows.append(
            (
                month,
                view.area,
                area_name,
                sex_name(view.sex),
                indicator_name(view.indicator),
                value,
                STATUS_WORDS.get(cell.status, cell.status),
                csv_number(target.baseline_value) if target is not None else "",
                csv_number(target.target_value) if target is not None else "",
                csv_number(target.progress_pct, 1) if target is not None else "",
            )
        )
    return rows


def finnish_csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return (BOM + buffer.getvalue()).encode("utf-8")


def view_csv(view: View, area_name: str, series: pd.DataFrame, followup: pd.DataFrame) -> bytes:
    return finnish_csv(HEADER, view_rows(view, area_name, series, followup))


def csv_file_name(view: View, last_month) -> str:
    return f"kaira_{view.area}_{view.indicator}_{view.sex}_{_month(last_month)}.csv"
