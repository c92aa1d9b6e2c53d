"""Row-level helper columns for the rules Great Expectations has no built-in for.

GX 1.x validates one column (or a pair) at a time. The rules it owns that compare columns
of a row (a spell's end against its start), a row against the person's previous row (the
Kela counter), or the cells of a relation in the published table (no relation with exactly
one suppressed cell) are computed here, in plain pandas, as boolean columns that the
suites then check with built-in expectations (`expect_column_values_to_be_in_set` with
`[true]`). Each function is pure: it returns a new frame and never modifies its input. A
helper column is True where the rule holds *or does not apply*, never NULL, because GX's
set expectations skip NULLs.

The additive relations between the rows of the marts (total = male + female, region =
sum of its municipalities, structural = sum of its groups, counts not negative) are not
here: dbt tests them, once, in dbt_project/models/marts/_marts.yml.

One function per suite (see `PREPARE_BY_SUITE`); a suite that needs none is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from pipelines.core import indicators
from pipelines.core.identity_codes import code_like_mask

# --- Indicators (METRICS.md; dbt_project/macros/indicators.sql holds the same lists) ---

JOBSEEKER_INDICATORS = indicators.JOBSEEKER_COUNTS
KELA_COUNT_INDICATORS = indicators.KELA_COUNTS
EURO_INDICATORS = indicators.EURO_BLOCK
INTERNAL_INDICATORS: tuple[str, ...] = (indicators.PERSONS_ANY_TMT_ROW,)
COUNT_INDICATORS: tuple[str, ...] = JOBSEEKER_INDICATORS + KELA_COUNT_INDICATORS
PUBLISHED_INDICATORS: tuple[str, ...] = COUNT_INDICATORS + EURO_INDICATORS
WAREHOUSE_INDICATORS: tuple[str, ...] = PUBLISHED_INDICATORS + INTERNAL_INDICATORS

STRUCTURAL_WHOLE = indicators.STRUCTURAL_WHOLE
STRUCTURAL_GROUPS = indicators.STRUCTURAL_GROUPS
# Region = sum of its municipalities holds for the jobseeker counts and the euros; Kela's
# recipients are distinct persons per area (one person can be billed by two municipalities).
REGION_ADDITIVE_INDICATORS: tuple[str, ...] = JOBSEEKER_INDICATORS + EURO_INDICATORS

# Statuses that mean "no figure": the value is NULL exactly there.
UNAVAILABLE_STATUSES = frozenset({"no_rule", "not_available"})
SUPPRESSED_STATUS = "suppressed"

# Invoiced and recomputed municipal shares agree when within one cent (METRICS.md).
SHARE_TOLERANCE_EUR = 0.01
# Disclosure control suppresses the four euro indicators of a cell together, as one cell
# valued by tmt_paid_eur (docs/disclosure-control.md).
EURO_BLOCK_UNIT = "euro_block"
EURO_BLOCK_VALUE = "tmt_paid_eur"


def is_count_indicator(indicator: pd.Series) -> pd.Series:
    """Person counts: every indicator whose code does not end in `_eur`."""
    return ~indicator.astype("string").str.endswith("_eur").fillna(False).astype(bool)


def _as_bool(values: pd.Series) -> pd.Series:
    """Booleans with NULL as False, as plain numpy bool (GX's set checks skip NULLs)."""
    return values.astype("boolean").fillna(False).astype(bool)


def _as_datetime(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values)


def _month_start(values: pd.Series) -> pd.Series:
    return _as_datetime(values).dt.to_period("M").dt.to_timestamp()


# --- One prepare function per suite ------------------------------------------------------


def prepare_spells_frame(spells: pd.DataFrame) -> pd.DataFrame:
    """stg_register__jobseeker_spells: a spell's end is not before its start; a service
    is given exactly for the spells in a service (`status = PALVELU`)."""
    out = spells.copy()
    start = _as_datetime(out["spell_start"])
    end = _as_datetime(out["spell_end"])
    out["spell_end_not_before_start"] = (start.isna() | end.isna() | (end >= start)).astype(bool)
    in_service = (out["status"].astype("string") == "PALVELU").fillna(False)
    service = out["service"].astype("string").str.strip()
    has_service = service.notna() & (service != "").fillna(False)
    out["service_present_iff_in_service"] = (in_service == has_service).astype(bool)
    return out


def prepare_person_month_frame(persons: pd.DataFrame) -> pd.DataFrame:
    """fct_person_month_status: the four structural groups are disjoint, structural is
    their OR, each group has the state it needs, and the run starts by the count date."""
    out = persons.copy()
    groups = pd.DataFrame({name: _as_bool(out[f"is_{name}"]) for name in STRUCTURAL_GROUPS})
    members = groups.sum(axis=1)
    out["structural_groups_disjoint"] = (members <= 1).astype(bool)
    out["structural_equals_any_group"] = (_as_bool(out["is_structural_unemployed"]) == (members >= 1)).astype(bool)
    unemployed = _as_bool(out["is_unemployed"])
    in_services = _as_bool(out["is_in_services"])
    needs_unemployed = groups[["long_term_unemployed", "equivalent_long_term_unemployed", "returned_from_services"]].any(axis=1)
    out["structural_groups_match_state"] = (
        (~needs_unemployed | unemployed) & (~groups["service_to_service"] | in_services)
    ).astype(bool)
    run_start = _as_datetime(out["run_start"])
    count_date = _as_datetime(out["count_date"])
    out["run_start_not_after_count_date"] = (run_start.isna() | count_date.isna() | (run_start <= count_date)).astype(bool)
    return out


def prepare_indicators_frame(indicators: pd.DataFrame) -> pd.DataFrame:
    """fct_indicators_monthly: NULL values exactly where unavailable, and statuses
    consistent with the look-back flag (the relations between rows are dbt's tests)."""
    out = indicators.copy()
    value = out["value"].astype("float64")

    status = out["status"].astype("string")
    unavailable = status.isin(UNAVAILABLE_STATUSES).fillna(False)
    out["value_null_iff_unavailable"] = (value.isna() == unavailable).astype(bool)

    # The look-back concerns the jobseeker indicators; structural_inflow also depends on
    # the previous month, so it may be incomplete in a complete month. Kela: never.
    lookback = out["lookback_complete"].astype("boolean")
    indicator = out["indicator"].astype("string")
    jobseeker = indicator.isin(JOBSEEKER_INDICATORS).fillna(False) & (indicator != "structural_inflow").fillna(False)
    kela = indicator.str.startswith("tmt_").fillna(False)
    incomplete = (status == "incomplete").fillna(False)
    ok_when_short = status.isin(["incomplete", "not_available"]).fillna(False)
    consistent = pd.Series(True, index=out.index)
    consistent &= ~(jobseeker & (lookback == False).fillna(False) & ~ok_when_short)  # noqa: E712
    consistent &= ~(jobseeker & (lookback == True).fillna(False) & incomplete)  # noqa: E712
    consistent &= ~(jobseeker & lookback.isna())
    consistent &= ~(kela & incomplete)
    out["status_consistent_with_lookback"] = consistent.astype(bool)
    return out


def prepare_kela_shares_frame(shares: pd.DataFrame) -> pd.DataFrame:
    """fct_kela_payment_shares: where a rule covers the month, Kela's invoiced share and
    the recomputed one agree within a cent (a finding for the controller, not an error)."""
    out = shares.copy()
    has_rule = _as_bool(out["has_rule"])
    invoiced = pd.to_numeric(out["invoiced_share_eur"], errors="coerce").astype("float64")
    expected = pd.to_numeric(out["expected_share_eur"], errors="coerce").astype("float64")
    # Both are whole cents: allow float noise on top of the one-cent tolerance.
    agrees = ((invoiced - expected).abs() <= SHARE_TOLERANCE_EUR + 1e-9).fillna(False)
    out["share_agrees_within_cent"] = (~has_rule | agrees).astype(bool)
    return out


def prepare_counter_steps(
    payments: pd.DataFrame, months: Iterable[object] | None = None
) -> pd.DataFrame:
    """One row per TMT payment row with the person's previous row and the step between.

    Input: Kela payment rows with `person_id`, a month column (`month` or
    `delivery_month`), `paid_days`, `cumulative_days`, optionally `benefit` (only TMT
    rows are kept: the counter is the labour market subsidy's) and `source_line`.

    A person's rows are ordered by month, then counter, then paid days descending (a
    correction without days that repeats the counter comes after the row that reached
    it). Each row's previous row is the person's row before it: an earlier row of the
    same month (a second period in the month) or the person's last row in an earlier
    month. Then:

    * `counter_not_decreasing`: the counter is not below the previous row's. Always
      checked (a decrease is broken data whatever lies between);
    * `counter_step_ok`: the counter equals the previous row's plus this row's paid days.
      Checked only where every month from the previous row's month to this one was
      delivered (is in the frame): across an undelivered month the days paid in it are
      unknown. A person absent in a delivered month had no days paid, so the step spans
      it.

    Rows without a previous row pass both. `months`, if given, keeps only the rows of
    those months in the result (earlier months still serve as the previous rows). The
    result holds no person identifier.
    """
    frame = payments
    if "benefit" in frame.columns:
        frame = frame[(frame["benefit"].astype("string") == "TMT").fillna(False)]
    month_column = "month" if "month" in frame.columns else "delivery_month"
    steps = pd.DataFrame(
        {
            "person_id": frame["person_id"].astype("string"),
            "month": _month_start(frame[month_column]),
            "source_line": frame["source_line"] if "source_line" in frame.columns else pd.NA,
            "paid_days": pd.to_numeric(frame["paid_days"]).astype("Int64"),
            "cumulative_days": pd.to_numeric(frame["cumulative_days"]).astype("Int64"),
        }
    )
    steps = steps.sort_values(
        ["person_id", "month", "cumulative_days", "paid_days"],
        ascending=[True, True, True, False],
        kind="mergesort",
    ).reset_index(drop=True)

    same_person = steps["person_id"].eq(steps["person_id"].shift(1)).fillna(False).astype(bool)
    steps["previous_month"] = steps["month"].shift(1).where(same_person)
    steps["previous_cumulative_days"] = steps["cumulative_days"].shift(1).where(same_person)
    has_previous = same_person & steps["previous_cumulative_days"].notna()

    # A step is checkable when every calendar month strictly between the previous row's
    # month and this one was delivered (is in the frame): count the undelivered months
    # up to each month and compare.
    this_number = (steps["month"].dt.year * 12 + steps["month"].dt.month).to_numpy(dtype="float64")
    prev_number = (steps["previous_month"].dt.year * 12 + steps["previous_month"].dt.month).to_numpy(dtype="float64")
    gap_free = np.zeros(len(steps), dtype=bool)
    if len(steps):
        first, last = int(np.nanmin(this_number)), int(np.nanmax(this_number))
        delivered = np.zeros(last - first + 1, dtype=bool)
        delivered[np.unique(this_number.astype(int)) - first] = True
        undelivered_up_to = np.cumsum(~delivered)  # index k: months first..first+k
        known = ~np.isnan(prev_number)
        this_index = this_number[known].astype(int) - first
        prev_index = prev_number[known].astype(int) - first
        # undelivered months in (prev, this): those up to this-1 minus those up to prev
        between = undelivered_up_to[np.maximum(this_index - 1, 0)] - undelivered_up_to[prev_index]
        gap_free[known] = np.where(this_index > prev_index, between == 0, True)
    gap_free = pd.Series(gap_free, index=steps.index)
    expected = steps["previous_cumulative_days"] + steps["paid_days"]
    steps["expected_cumulative_days"] = expected.where(has_previous & gap_free)
    not_decreasing = (steps["cumulative_days"] >= steps["previous_cumulative_days"]).fillna(True)
    steps["counter_not_decreasing"] = (~has_previous | not_decreasing).astype(bool)
    step_ok = (steps["cumulative_days"] == steps["expected_cumulative_days"]).fillna(True)
    steps["counter_step_ok"] = (~(has_previous & gap_free) | step_ok).astype(bool)

    if months is not None:
        wanted = _month_start(pd.Series(list(months)))
        steps = steps[steps["month"].isin(set(wanted))]
    columns = [
        "month",
        "source_line",
        "previous_month",
        "previous_cumulative_days",
        "paid_days",
        "cumulative_days",
        "expected_cumulative_days",
        "counter_not_decreasing",
        "counter_step_ok",
    ]
    return steps[columns].reset_index(drop=True)


def contains_identity_code(values: pd.Series) -> pd.Series:
    """Per value: does the text contain a Finnish identity code in any of its forms (the core's
    one detector: with the sign, without it, or with a space)?"""
    return pd.Series(code_like_mask(values.astype("string")), index=values.index, dtype=bool)


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [
        column
        for column in frame.columns
        if pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(frame[column])
    ]


def suppression_not_recoverable(published: pd.DataFrame) -> pd.Series:
    """Per row of the published indicators: True unless the row's cell belongs to a
    relation instance with exactly one suppressed cell whose value could be recovered.

    The instances are disclosure control's (docs/disclosure-control.md), read from
    `parent_area_code` (which the contract does not publish, so the caller adds it):
    total = male + female per month, area and indicator; a region (or the whole
    country) = the sum of the areas pointing at it per month and sex, for the register's
    counts and the euros; structural_unemployed = its four groups per month, area and
    sex. The four euro indicators of a (month, area, sex) are one cell, valued and
    suppressed by tmt_paid_eur. An instance exists where its whole and at least one part
    are in the frame. It is broken when exactly one of its cells is suppressed and no
    other is NULL without being suppressed (an unknown cell hides the difference): then
    subtraction gives the suppressed value back. Rows of a broken instance's cells are
    False (for the euro block, its four rows).
    """
    if published.empty:
        return pd.Series(np.ones(0, dtype=bool), index=published.index)
    indicator = published["indicator"].astype("string")
    in_block = indicator.isin(EURO_INDICATORS).fillna(False)
    keys = pd.DataFrame(
        {
            "month": published["month"].to_numpy(),
            "area": published["area_code"].astype("string").to_numpy(),
            "sex": published["sex"].astype("string").to_numpy(),
            "unit": indicator.where(~in_block, EURO_BLOCK_UNIT).to_numpy(),
        }
    )
    # One cell per count row, and per euro block its tmt_paid_eur row.
    is_cell = (indicator.isin(COUNT_INDICATORS) | (indicator == EURO_BLOCK_VALUE)).fillna(False).to_numpy()
    suppressed = (published["status"].astype("string") == SUPPRESSED_STATUS).fillna(False).to_numpy()
    unknown = pd.to_numeric(published["value"], errors="coerce").isna().to_numpy() & ~suppressed
    cells = keys[is_cell].reset_index(drop=True)
    cells["parent"] = published["parent_area_code"].astype("string").to_numpy()[is_cell]
    cells["suppressed"] = suppressed[is_cell]
    cells["unknown"] = unknown[is_cell]
    cells["cell"] = np.arange(len(cells))
    whole_of = cells[["month", "area", "sex", "unit", "cell"]].rename(columns={"cell": "whole"})

    def instances(parts: pd.DataFrame, relation: int) -> pd.DataFrame:
        """(relation, whole, member) for the given parts: each part and its whole."""
        linked = parts.merge(whole_of, on=["month", "area", "sex", "unit"], how="inner")
        members = pd.concat(
            [linked[["whole", "cell"]], linked[["whole"]].drop_duplicates().assign(cell=lambda f: f["whole"])],
            ignore_index=True,
        )
        return members.assign(relation=relation)

    sex_parts = cells[cells["sex"].isin(["male", "female"]).fillna(False)]
    hierarchy = cells["parent"].notna() & cells["unit"].isin(JOBSEEKER_INDICATORS + (EURO_BLOCK_UNIT,))
    hierarchy_parts = cells[hierarchy].assign(area=lambda f: f["parent"])
    structural_parts = cells[cells["unit"].isin(STRUCTURAL_GROUPS)].assign(unit=STRUCTURAL_WHOLE)
    members = pd.concat(
        [
            instances(sex_parts.assign(sex="total"), 0),
            instances(hierarchy_parts, 1),
            instances(structural_parts, 2),
        ],
        ignore_index=True,
    )
    members["suppressed"] = cells["suppressed"].to_numpy()[members["cell"].to_numpy()]
    members["unknown"] = cells["unknown"].to_numpy()[members["cell"].to_numpy()]
    per_instance = members.groupby(["relation", "whole"]).agg(
        suppressed=("suppressed", "sum"), unknown=("unknown", "any")
    )
    broken = per_instance[(per_instance["suppressed"] == 1) & ~per_instance["unknown"]].reset_index()
    broken_cells = members.merge(broken[["relation", "whole"]], on=["relation", "whole"])["cell"].unique()
    exposed = cells.loc[cells["cell"].isin(broken_cells), ["month", "area", "sex", "unit"]].assign(exposed=True)
    flagged = keys.merge(exposed, on=["month", "area", "sex", "unit"], how="left")["exposed"]
    return pd.Series(~flagged.fillna(False).astype(bool).to_numpy(), index=published.index)


def prepare_published_frame(published: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """published indicators_monthly, with `parent_area_code` beside the contract columns:
    no small person counts (1 .. threshold - 1), NULL values exactly where suppressed or
    unavailable, no relation with a single recoverable suppressed cell, no identity code
    in any text."""
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    out = published.copy()
    value = out["value"].astype("float64")
    counts = is_count_indicator(out["indicator"])
    small = counts & (value > 0).fillna(False) & (value < threshold).fillna(False)
    out["count_not_small"] = (~small).astype(bool)
    status = out["status"].astype("string")
    no_figure = status.isin(UNAVAILABLE_STATUSES | {SUPPRESSED_STATUS}).fillna(False)
    out["value_null_iff_suppressed_or_unavailable"] = (value.isna() == no_figure).astype(bool)
    out["suppression_not_recoverable"] = suppression_not_recoverable(out)
    found = pd.Series(False, index=out.index)
    for column in _text_columns(published):
        found |= contains_identity_code(out[column])
    out["no_identity_code"] = (~found).astype(bool)
    return out


PREPARE_BY_SUITE: dict[str, Callable[..., pd.DataFrame]] = {
    "stg_register__jobseeker_spells": prepare_spells_frame,
    "fct_person_month_status": prepare_person_month_frame,
    "fct_indicators_monthly": prepare_indicators_frame,
    "fct_kela_payment_shares": prepare_kela_shares_frame,
    "kela_counter_steps": prepare_counter_steps,
    "indicators_monthly": prepare_published_frame,
}
