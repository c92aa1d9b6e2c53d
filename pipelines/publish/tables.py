"""The published tables (docs/published-tables.md), built from the warehouse's marts: pure functions.

`indicators_monthly` is the disclosure-controlled indicator table; `target_followup`
follows each target of the (editable) targets seed on the published values only, so that
a target never reveals a suppressed figure; `run_checks` lists the checks of the run.
The column lists and types are the contract dashboards depend on: don't rename.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.core.indicators import SEXES

INDICATORS_COLUMNS = {
    "month": "DATE",
    "count_date": "DATE",
    "area_code": "VARCHAR",
    "area_level": "VARCHAR",
    "area_name": "VARCHAR",
    "sex": "VARCHAR",
    "indicator": "VARCHAR",
    "value": "DOUBLE",
    "status": "VARCHAR",
    "lookback_complete": "BOOLEAN",
}

TARGET_COLUMNS = {
    "target_id": "VARCHAR",
    "indicator": "VARCHAR",
    "month": "DATE",
    "area_code": "VARCHAR",
    "sex": "VARCHAR",
    "baseline_month": "DATE",
    "baseline_value": "DOUBLE",
    "target_month": "DATE",
    "target_value": "DOUBLE",
    "value": "DOUBLE",
    "progress_pct": "DOUBLE",
    "status": "VARCHAR",
}

RUN_CHECKS_COLUMNS = {
    "run_id": "VARCHAR",
    "checked_at": "TIMESTAMP",
    "asset": "VARCHAR",
    "check_name": "VARCHAR",
    "severity": "VARCHAR",
    "passed": "BOOLEAN",
    "description": "VARCHAR",
    "observed": "VARCHAR",
}

# One row describing the publication, so a dashboard can label what it shows (an
# addition to the contract's tables; it renames nothing).
PUBLICATION_COLUMNS = {
    "run_id": "VARCHAR",
    "published_at": "TIMESTAMP",
    "first_month": "DATE",
    "last_month": "DATE",
    "area_scope": "VARCHAR",
    "suppression_threshold": "INTEGER",
    "synthetic": "BOOLEAN",
    "data_note_fi": "VARCHAR",
    # Added last (the earlier columns keep their places): with area_scope, the settings every
    # published month was computed under (pipelines/core/configuration.py).
    "municipality_set": "VARCHAR",
}
SYNTHETIC_NOTE_FI = "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä"

AREA_LEVEL_ORDER = {"country": 0, "region": 1, "municipality": 2}
SEX_ORDER = {"total": 0, "male": 1, "female": 2}


def indicators_monthly(controlled: pd.DataFrame) -> pd.DataFrame:
    """The contract columns of the disclosure-controlled cells, in a stable order.

    `controlled` is the output of disclosure control over the indicator mart (it still has
    the mart's `indicator_order` column, used here only for sorting).
    """
    frame = controlled.assign(
        _level=controlled["area_level"].map(AREA_LEVEL_ORDER),
        _sex=controlled["sex"].map(SEX_ORDER),
    ).sort_values(["month", "_level", "area_code", "_sex", "indicator_order"], kind="stable")
    return frame[list(INDICATORS_COLUMNS)].reset_index(drop=True)


def _expand_targets(targets: pd.DataFrame, areas: list[str]) -> pd.DataFrame:
    rows = []
    for target in targets.itertuples(index=False):
        target_areas = areas if target.area_code == "*" else [target.area_code]
        target_sexes = SEXES if target.sex == "*" else (target.sex,)
        for area in target_areas:
            for sex in target_sexes:
                rows.append({**target._asdict(), "area_code": area, "sex": sex})
    return pd.DataFrame(rows, columns=list(targets.columns))


def target_followup(published: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """One row per target, published area (or the target's own), sex and month from the
    baseline month to the latest month the area is published.

    progress_pct = 100 * (baseline - value) / (baseline - target). Status, the first that
    applies: suppressed (value suppressed: progress NULL), no_baseline (baseline missing or
    suppressed: baseline, target and progress NULL), no_target (monitoring target), ok.
    """
    if targets.empty or published.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in TARGET_COLUMNS})
    # Months as timestamps on both sides, whatever the reader gave (dates or datetime64).
    published = published.assign(month=pd.to_datetime(published["month"]))
    targets = targets.assign(
        baseline_month=pd.to_datetime(targets["baseline_month"]),
        target_month=pd.to_datetime(targets["target_month"]),
        target_ratio=pd.to_numeric(targets["target_ratio"]),
    )
    areas = sorted(published["area_code"].unique(), key=lambda code: (AREA_LEVEL_ORDER.get(_level(code)), code))
    expanded = _expand_targets(targets, areas)

    cells = published[["month", "area_code", "sex", "indicator", "value", "status"]]
    series = expanded.merge(cells, on=["indicator", "area_code", "sex"], how="inner")
    series = series[series["month"] >= series["baseline_month"]]

    baseline = cells.rename(columns={"month": "baseline_month", "value": "baseline_value", "status": "baseline_status"})
    series = series.merge(baseline, on=["indicator", "area_code", "sex", "baseline_month"], how="left")

    has_baseline = series["baseline_value"].notna()
    has_target = series["target_ratio"].notna()
    value_suppressed = series["status"].eq("suppressed")

    baseline_value = series["baseline_value"].where(has_baseline)
    target_value = (series["target_ratio"] * baseline_value).where(has_baseline & has_target)
    denominator = baseline_value - target_value
    progress = 100.0 * (baseline_value - series["value"]) / denominator.where(denominator != 0)
    progress = progress.where(~value_suppressed & has_baseline & has_target)

    status = np.select(
        [value_suppressed, ~has_baseline, ~has_target],
        ["suppressed", "no_baseline", "no_target"],
        default="ok",
    )
    result = pd.DataFrame(
        {
            "target_id": series["target_id"],
            "indicator": series["indicator"],
            "month": series["month"],
            "area_code": series["area_code"],
            "sex": series["sex"],
            "baseline_month": series["baseline_month"],
            "baseline_value": baseline_value,
            "target_month": series["target_month"],
            "target_value": target_value,
            "value": series["value"],
            "progress_pct": progress,
            "status": status,
        }
    )
    result = result.assign(
        _level=result["area_code"].map(_level).map(AREA_LEVEL_ORDER), _sex=result["sex"].map(SEX_ORDER)
    )
    result = result.sort_values(["target_id", "_level", "area_code", "_sex", "month"], kind="stable")
    return result[list(TARGET_COLUMNS)].reset_index(drop=True)


def _level(area_code: str) -> str:
    if area_code == "SSS":
        return "country"
    return "region" if area_code.startswith("MK") else "municipality"


def publication(
    run_id: str, published: pd.DataFrame, area_scope: str, threshold: int, synthetic: bool, *, municipality_set: str
) -> pd.DataFrame:
    months = pd.to_datetime(published["month"]) if len(published) else pd.Series(dtype="datetime64[ns]")
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "published_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
                "first_month": months.min() if len(months) else None,
                "last_month": months.max() if len(months) else None,
                "area_scope": area_scope,
                "suppression_threshold": threshold,
                "synthetic": synthetic,
                "data_note_fi": SYNTHETIC_NOTE_FI if synthetic else None,
                "municipality_set": municipality_set,
            }
        ],
        columns=list(PUBLICATION_COLUMNS),
    )
