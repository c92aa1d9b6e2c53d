"""The follow-up of a target on the dashboard: baseline, target line and progress.

The figures are `target_followup`'s as published (progress_pct included): nothing here
recomputes a target, so the dashboard can never show a target the publish stage withheld.
These functions only pick the row to headline and shape the chart's lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from pipelines.reports.content import target_reached

SERIES_VALUE = "Arvo"
SERIES_BASELINE = "Lähtötaso"
SERIES_TARGET = "Tavoite"


@dataclass(frozen=True)
class Followup:
    target_id: str
    baseline_month: date | None
    baseline_value: float | None
    target_month: date | None
    target_value: float | None
    month: date  # the latest month followed
    value: float | None
    progress_pct: float | None
    status: str

    @property
    def reached(self) -> bool | None:
        return target_reached(self.value, self.target_value)


def _number(value) -> float | None:
    """A plain float (not a numpy scalar, whose comparisons give numpy booleans), or None."""
    return None if value is None or pd.isna(value) else float(value)


def _date(value) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def latest_followups(rows: pd.DataFrame) -> list[Followup]:
    """One `Followup` per target in `rows` (target_followup of one area, sex and indicator):
    the row of its latest month."""
    result = []
    if rows.empty:
        return result
    for target_id, group in rows.groupby("target_id", sort=True):
        row = group.sort_values("month").iloc[-1]
        result.append(
            Followup(
                target_id=str(target_id),
                baseline_month=_date(row["baseline_month"]),
                baseline_value=_number(row["baseline_value"]),
                target_month=_date(row["target_month"]),
                target_value=_number(row["target_value"]),
                month=_date(row["month"]),
                value=_number(row["value"]),
                progress_pct=_number(row["progress_pct"]),
                status=str(row["status"]),
            )
        )
    return result


def progress_fraction(progress_pct: float | None) -> float:
    """A progress bar's fill, 0…1: progress below 0 (the figure grew) shows empty, beyond the
    target (over 100 %) shows full; a withheld progress shows empty."""
    if progress_pct is None or pd.isna(progress_pct):
        return 0.0
    return min(1.0, max(0.0, float(progress_pct) / 100.0))


def chart_frame(series: pd.DataFrame, followup: Followup | None) -> pd.DataFrame:
    """The chart's lines in long form (month, line, value): the published values, and, from
    the baseline month on, the baseline and target as level lines. Withheld months are
    left out of the value line (a gap, never a zero)."""
    values = series[series["value"].notna()]
    frames = [pd.DataFrame({"Kuukausi": pd.to_datetime(values["month"]), "Sarja": SERIES_VALUE, "Arvo": values["value"]})]
    if followup is not None and followup.baseline_value is not None and followup.baseline_month is not None:
        months = pd.to_datetime(series["month"])
        months = months[months >= pd.Timestamp(followup.baseline_month)]
        frames.append(pd.DataFrame({"Kuukausi": months, "Sarja": SERIES_BASELINE, "Arvo": followup.baseline_value}))
        if followup.target_value is not None:
            frames.append(pd.DataFrame({"Kuukausi": months, "Sarja": SERIES_TARGET, "Arvo": followup.target_value}))
    frame = pd.concat(frames, ignore_index=True)
    frame["Arvo"] = frame["Arvo"].astype(float)
    return frame.sort_values(["Sarja", "Kuukausi"], kind="stable").reset_index(drop=True)
