"""The checks of the monthly run, on the months the run processed.

- source checks, on each staging view: the staged rows of the run's months (the raw
  tables, typed); they run after the run's dbt invocation, which builds the views;
- mart checks, in one step after the dbt marts (one import of Great Expectations): the
  person-month classification, the indicators, the Kela share rows and the Kela counter
  steps of the run's months.
Both are blocking where their suite says `error`; publishing waits for them.
"""

from __future__ import annotations

import dagster as dg

from pipelines.validation.checks import (
    SuiteOnAsset,
    gx_suites_asset_checks,
    warehouse_table_loader,
)


def _on_table(asset: str, suite: str, schema_table: str) -> SuiteOnAsset:
    """`suite` on the run's months of `schema_table`, reported on `asset`. DuckDB reads
    and groups the rows where they lie (pushdown.py), a backfill of many months in one
    query: nothing of the size of the table is loaded into memory."""
    return SuiteOnAsset(dg.AssetKey(asset), suite, warehouse_table_loader(schema_table, by_month=True))


# What each check step validates: one step per staging view (they run as soon as dbt built
# it), one step for the marts (one import of Great Expectations for the four suites).
SOURCE_SUITES = {
    f"gx_{suite}": [_on_table(suite, suite, f"staging.{suite}")]
    for suite in ("stg_register__jobseeker_spells", "stg_kela__tmt_payments")
}
MART_SUITES = [
    _on_table("fct_person_month_status", "fct_person_month_status", "marts.fct_person_month_status"),
    _on_table("fct_indicators_monthly", "fct_indicators_monthly", "marts.fct_indicators_monthly"),
    _on_table("fct_kela_payment_shares", "fct_kela_payment_shares", "marts.fct_kela_payment_shares"),
    # The counter's steps also read the month before the run's first (relations.CHECKED_ROWS).
    _on_table("fct_kela_payment_shares", "kela_counter_steps", "marts.fct_kela_payment_shares"),
]
STEP_SUITES = {**SOURCE_SUITES, "gx_marts": MART_SUITES}

source_checks = [gx_suites_asset_checks(suites, name=name) for name, suites in SOURCE_SUITES.items()]
mart_checks = gx_suites_asset_checks(MART_SUITES, name="gx_marts")
