"""Row-level helper columns for the rules Great Expectations has no built-in for.

GX 1.x validates one column (or a pair) at a time. The rules it owns that compare columns
of a row (a spell's end against its start), a row against the person's previous row (the
Kela counter), or the cells of a relation in the published table (no relation with exactly
one suppressed cell) are computed here as boolean columns that the suites then check with
built-in expectations (`expect_column_values_to_be_in_set` with `[true]`). A helper column
is True where the rule holds *or does not apply*, never NULL, because GX's set
expectations skip NULLs.

The warehouse suites' rules are SQL (`CHECKED_ROWS`), one query per suite over a relation
named `source` (the table's rows): DuckDB evaluates them where the rows lie, and the
checks group the result before GX sees it (pushdown.py). The `prepare_*` functions run
the very same SQL on a DataFrame (tests, and any frame a loader gives), so each rule has
one text. The published table's rules stay in pandas: they run on the small frame about
to be published, inside the publishing step.

The additive relations between the rows of the marts (total = male + female, region =
sum of its municipalities, structural = sum of its groups, counts not negative) are not
here: dbt tests them, once, in dbt_project/models/marts/_marts.yml.

One entry per suite (see `PREPARE_BY_SUITE`); a suite that needs none is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from pipelines.core import indicators
from pipelines.core.identity_codes import code_like_mask
from pipelines.core.months import parse_month

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


def _sql_text(values: Iterable[str]) -> str:
    """A list of SQL string literals (the codes here are plain snake_case)."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


# --- The warehouse suites' rules, in SQL over `source` ------------------------------------
# Each query returns one row per checked row of `source`: the columns the suite's
# expectations name (and those their observed texts sum), and the helper columns.
# `coalesce(..., false)` is SQL's "NULL as False"; a comparison with a NULL side is a rule
# that does not apply, hence True.


@dataclass(frozen=True)
class CheckedRows:
    """A suite's rows as SQL over `source`. `month_column`: the month of a row, in `source`
    and in the result. `previous_month`: the rows of the month before the first checked
    one are read as well, as context only (the Kela counter's previous rows); then the
    result has rows of that month too, and only the checked months' rows are validated."""

    sql: str
    month_column: str
    previous_month: bool = False


# Blank (whitespace only) is no service; these are what str.strip() removes in ASCII.
_WHITESPACE = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"

SPELLS_SQL = f"""
select
    *,
    coalesce(spell_start is null or spell_end is null or spell_end >= spell_start, true)
        as spell_end_not_before_start,
    coalesce(status = 'PALVELU', false) = coalesce(trim(service, {_WHITESPACE}) <> '', false)
        as service_present_iff_in_service
from source
"""

_GROUP_FLAGS = [f"coalesce(is_{name}, false)" for name in STRUCTURAL_GROUPS]
_MEMBERS = " + ".join(f"cast({flag} as integer)" for flag in _GROUP_FLAGS)
_NEEDS_UNEMPLOYED = " or ".join(_GROUP_FLAGS[:3])  # long-term, equivalent, returned
_SERVICE_TO_SERVICE = _GROUP_FLAGS[3]
assert STRUCTURAL_GROUPS[3] == "service_to_service"

PERSON_MONTH_SQL = f"""
select
    *,
    ({_MEMBERS}) <= 1 as structural_groups_disjoint,
    coalesce(is_structural_unemployed, false) = (({_MEMBERS}) >= 1) as structural_equals_any_group,
    (not ({_NEEDS_UNEMPLOYED}) or coalesce(is_unemployed, false))
        and (not {_SERVICE_TO_SERVICE} or coalesce(is_in_services, false)) as structural_groups_match_state,
    coalesce(run_start is null or count_date is null or run_start <= count_date, true)
        as run_start_not_after_count_date
from source
"""

# The look-back concerns the jobseeker indicators; structural_inflow also depends on the
# previous month, so it may be incomplete in a complete month. Kela: never incomplete.
INDICATORS_SQL = f"""
with flagged as (
    select
        *,
        coalesce(indicator in ({_sql_text(JOBSEEKER_INDICATORS)}) and indicator <> 'structural_inflow', false)
            as is_jobseeker,
        coalesce(starts_with(indicator, 'tmt_'), false) as is_kela,
        coalesce(status = 'incomplete', false) as is_incomplete,
        coalesce(status in ('incomplete', 'not_available'), false) as ok_when_short
    from source
)
select
    * exclude (is_jobseeker, is_kela, is_incomplete, ok_when_short),
    (value is null or isnan(value)) = coalesce(status in ({_sql_text(sorted(UNAVAILABLE_STATUSES))}), false)
        as value_null_iff_unavailable,
    not (is_jobseeker and coalesce(lookback_complete = false, false) and not ok_when_short)
        and not (is_jobseeker and coalesce(lookback_complete = true, false) and is_incomplete)
        and not (is_jobseeker and lookback_complete is null)
        and not (is_kela and is_incomplete) as status_consistent_with_lookback
from flagged
"""

# Both shares are whole cents: float noise is allowed on top of the one-cent tolerance.
KELA_SHARES_SQL = f"""
select
    *,
    not coalesce(has_rule, false)
        or coalesce(abs(cast(invoiced_share_eur as double) - cast(expected_share_eur as double))
                    <= {SHARE_TOLERANCE_EUR} + 1e-9, false) as share_agrees_within_cent
from source
"""

# The Kela counter from row to row (prepare_counter_steps says the rule in words).
COUNTER_STEPS_SQL = """
with payments as not materialized (
    select
        person_id,
        cast(date_trunc('month', month) as date) as month,
        source_line,
        cast(paid_days as bigint) as paid_days,
        cast(cumulative_days as bigint) as cumulative_days
    from source
),

delivered as (
    select month, row_number() over (order by month) as delivered_number
    from (select distinct month from payments)
),

ordered as (
    select
        payments.*,
        delivered.delivered_number,
        lag(month) over person_rows as previous_month,
        lag(cumulative_days) over person_rows as previous_cumulative_days,
        lag(delivered.delivered_number) over person_rows as previous_delivered_number,
        person_id is not null and row_number() over person_rows > 1 as has_previous_row
    from payments
    left join delivered using (month)
    window person_rows as (
        partition by person_id order by month, cumulative_days, paid_days desc
    )
),

stepped as (
    select
        *,
        has_previous_row and previous_cumulative_days is not null as has_previous,
        -- every calendar month between the two rows was delivered: as many delivered
        -- months lie between them as calendar months
        coalesce(
            month = previous_month
            or delivered_number - previous_delivered_number = datediff('month', previous_month, month),
            false
        ) as gap_free
    from ordered
)

select
    month,
    source_line,
    previous_month,
    previous_cumulative_days,
    paid_days,
    cumulative_days,
    case when has_previous and gap_free then previous_cumulative_days + paid_days end
        as expected_cumulative_days,
    not has_previous or coalesce(cumulative_days >= previous_cumulative_days, true) as counter_not_decreasing,
    not (has_previous and gap_free) or coalesce(cumulative_days = previous_cumulative_days + paid_days, true)
        as counter_step_ok
from stepped
"""

CHECKED_ROWS: dict[str, CheckedRows] = {
    "stg_register__jobseeker_spells": CheckedRows(SPELLS_SQL, "delivery_month"),
    "stg_kela__tmt_payments": CheckedRows("select * from source", "delivery_month"),
    "fct_person_month_status": CheckedRows(PERSON_MONTH_SQL, "month"),
    "fct_indicators_monthly": CheckedRows(INDICATORS_SQL, "month"),
    "fct_kela_payment_shares": CheckedRows(KELA_SHARES_SQL, "month"),
    "kela_counter_steps": CheckedRows(COUNTER_STEPS_SQL, "month", previous_month=True),
}


def run_on_frame(frame: pd.DataFrame, sql: str, parameters: Sequence[object] = ()) -> pd.DataFrame:
    """`sql` (over `source`) on `frame`, in a DuckDB of its own; `frame` is not modified."""
    connection = duckdb.connect()
    try:
        connection.register("source", frame)
        return connection.execute(sql, list(parameters)).df()
    finally:
        connection.close()


# --- One prepare function per suite: the suite's SQL on a DataFrame -------------------------


def prepare_spells_frame(spells: pd.DataFrame) -> pd.DataFrame:
    """stg_register__jobseeker_spells: a spell's end is not before its start; a service
    is given exactly for the spells in a service (`status = PALVELU`)."""
    return run_on_frame(spells, SPELLS_SQL)


def prepare_person_month_frame(persons: pd.DataFrame) -> pd.DataFrame:
    """fct_person_month_status: the four structural groups are disjoint, structural is
    their OR, each group has the state it needs, and the run starts by the count date."""
    return run_on_frame(persons, PERSON_MONTH_SQL)


def prepare_indicators_frame(indicators: pd.DataFrame) -> pd.DataFrame:
    """fct_indicators_monthly: NULL values exactly where unavailable, and statuses
    consistent with the look-back flag (the relations between rows are dbt's tests)."""
    return run_on_frame(indicators, INDICATORS_SQL)


def prepare_kela_shares_frame(shares: pd.DataFrame) -> pd.DataFrame:
    """fct_kela_payment_shares: where a rule covers the month, Kela's invoiced share and
    the recomputed one agree within a cent (a finding for the controller, not an error)."""
    return run_on_frame(shares, KELA_SHARES_SQL)


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
    result holds no person identifier. The rule is COUNTER_STEPS_SQL; this shapes the
    frame into the columns it reads.
    """
    frame = payments
    if "benefit" in frame.columns:
        frame = frame[(frame["benefit"].astype("string") == "TMT").fillna(False)]
    month_column = "month" if "month" in frame.columns else "delivery_month"
    source = pd.DataFrame(
        {
            "person_id": frame["person_id"].astype("string"),
            "month": pd.to_datetime(frame[month_column]),
            "source_line": frame["source_line"] if "source_line" in frame.columns else pd.NA,
            "paid_days": pd.to_numeric(frame["paid_days"]).astype("Int64"),
            "cumulative_days": pd.to_numeric(frame["cumulative_days"]).astype("Int64"),
        }
    )
    if "source_line" not in frame.columns:
        source["source_line"] = pd.Series(pd.NA, index=source.index, dtype="Int64")
    sql = f"select * from ({COUNTER_STEPS_SQL})"
    parameters: list[object] = []
    if months is not None:
        wanted = sorted({parse_month(month) for month in months})
        sql += " where month in (" + (", ".join("?" for _ in wanted) or "null") + ")"
        parameters = list(wanted)
    steps = run_on_frame(source, sql + " order by month, source_line", parameters)
    return steps.reset_index(drop=True)


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
