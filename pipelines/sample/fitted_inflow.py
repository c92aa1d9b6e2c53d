"""The fitted inflow of short-term jobseekers: newcomers per day, per municipality and month.

Most of the month-to-month movement of Kainuu's unemployment is short: seasonal lay-offs
before Christmas, students registering for the summer, the 2009 recession. The engine's
dynamics (parameters.py) model the persistent, structural part; these newcomers of the
regular and seasonal types carry the rest. Their number per day is not a formula: it is
a table, `kainuu_short_term_inflow.csv` beside this module, fitted by
`tools/fit_sample_inflow.py` so that the sample's unemployed follow Statistics Finland's
official series of each Kainuu municipality 2006-2013 (docs/sample-calibration.md).

Outside the fitted months the table is extended by the season: a month before them takes
the mean of the same calendar month over the first `EXTENSION_YEARS` fitted years, a
month after them the mean over the last ones. At national scale each synthetic
municipality gets Kainuu's total per day times its inflow weight (Kainuu's weights sum to
1), so the whole made-up country has Kainuu's seasons.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dates import month_label, parse_month
from .geography import Geography

TABLE_PATH = Path(__file__).with_name("kainuu_short_term_inflow.csv")
TABLE_COLUMNS = ("month", "municipality_code", "newcomers_per_day")
EXTENSION_YEARS = 2


@dataclass(frozen=True)
class FittedInflow:
    first_month: int  # month index of rates[0]
    codes: tuple[str, ...]  # municipality codes of the columns
    rates: np.ndarray  # (months, municipalities): newcomers per day

    @property
    def last_month(self) -> int:
        return self.first_month + self.rates.shape[0] - 1

    def at(self, months: np.ndarray) -> np.ndarray:
        """Newcomers per day for each month index (rows) and municipality (columns)."""
        months = np.asarray(months, dtype=np.int64)
        years = min(EXTENSION_YEARS, self.rates.shape[0] // 12)
        # Same calendar month over the first / last fitted years: the seasons continue.
        head = self.rates[: 12 * years].reshape(years, 12, -1).mean(axis=0)
        tail = self.rates[self.rates.shape[0] - 12 * years :].reshape(years, 12, -1).mean(axis=0)
        head_calendar = (months - self.first_month) % 12
        tail_calendar = (months - (self.last_month - 12 * years + 1)) % 12
        inside = np.clip(months - self.first_month, 0, self.rates.shape[0] - 1)
        result = self.rates[inside]
        result = np.where((months < self.first_month)[:, None], head[head_calendar], result)
        return np.where((months > self.last_month)[:, None], tail[tail_calendar], result)

    def for_geography(self, geography: Geography, months: np.ndarray) -> np.ndarray:
        """(months, geography.size): the table's own municipalities as fitted, any other
        municipality Kainuu's total times its inflow weight."""
        own = self.at(months)
        column = {code: i for i, code in enumerate(self.codes)}
        total = own.sum(axis=1, keepdims=True)
        result = total * geography.inflow_weight[None, :]
        for j, code in enumerate(geography.codes):
            if code in column:
                result[:, j] = own[:, column[code]]
        return result

    def with_rates(self, rates: np.ndarray) -> FittedInflow:
        return FittedInflow(self.first_month, self.codes, np.asarray(rates, dtype=float))


def load_fitted_inflow(path: Path = TABLE_PATH) -> FittedInflow:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    months = sorted({parse_month(row["month"]) for row in rows})
    codes = tuple(sorted({row["municipality_code"] for row in rows}))
    first = months[0]
    if months != list(range(first, first + len(months))):
        raise ValueError(f"{path}: the months of the fitted inflow are not contiguous")
    rates = np.full((len(months), len(codes)), np.nan)
    for row in rows:
        rates[parse_month(row["month"]) - first, codes.index(row["municipality_code"])] = float(row["newcomers_per_day"])
    if np.isnan(rates).any() or (rates < 0).any():
        raise ValueError(f"{path}: every month needs a non-negative rate for every municipality")
    return FittedInflow(first, codes, rates)


def fitted_inflow_csv_text(inflow: FittedInflow) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(TABLE_COLUMNS)
    for i in range(inflow.rates.shape[0]):
        for j, code in enumerate(inflow.codes):
            writer.writerow((month_label(inflow.first_month + i), code, f"{inflow.rates[i, j]:.4f}"))
    return out.getvalue()
