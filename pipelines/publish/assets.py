"""Publishing: the disclosure-controlled contract tables, moved into place atomically.

Runs after the marts and their blocking checks. It reads the marts read-only, applies
disclosure control to the months that need it and builds the follow-up of the targets;
then the published-table checks, declared on this asset (pipelines/validation/published.py),
validate the rows just controlled. Only when they and every earlier blocking check of the
run have passed are `published.duckdb` and the Parquet directory written aside and swapped
in; otherwise the step fails naming the failed checks and nothing a reader sees changes.

The months that need control are those the run recomputed, those whose mart rows changed
since the previous publication and those it lacks; every other month's rows are carried
from the previous publication, when that is exactly what controlling them again would give
(pipelines/publish/incremental.py). So a month's run does not redo twenty years of control
and checks. The target follow-up is carried the same way, except for a target whose
baseline month was controlled again (tables.followup_carried_targets), and of the carried
indicator rows pandas reads only the months the new follow-up rows and the official
reconciliation are made from.
"""

from dataclasses import dataclass

import dagster as dg
import pandas as pd

from pipelines.core.configuration import check_publication
from pipelines.core.fault_injection import hold_at
from pipelines.core.months import describe_months, month_parts
from pipelines.partitions import WAREHOUSE_WRITER_POOL, months_of_run
from pipelines.publish.disclosure import apply_disclosure_control
from pipelines.publish.incremental import (
    CarryFailed,
    FollowupPlan,
    PublicationPlan,
    carried_followup,
    carried_rows,
    combine_published,
    fingerprints_path,
    followup_fingerprint,
    mart_month_fingerprints,
    plan_followup,
    plan_publication,
    published_summary,
    read_carried,
    read_mart_months,
    read_previous,
    rules_fingerprint,
    write_fingerprints,
)
from pipelines.publish.official import (
    OFFICIAL_CONSISTENCY_COLUMNS,
    OFFICIAL_COUNTERPARTS,
    OFFICIAL_RECONCILIATION_COLUMNS,
    OFFICIAL_STATISTICS_COLUMNS,
    build_official_tables,
    official_statistics,
    read_official_inputs,
    reconciled_months,
)
from pipelines.publish.official_run import official_check_results
from pipelines.publish.tables import (
    INDICATORS_COLUMNS,
    PUBLICATION_COLUMNS,
    RUN_CHECKS_COLUMNS,
    TARGET_COLUMNS,
    indicators_monthly,
    publication,
    target_followup,
)
from pipelines.publish.writer import publish_atomically
from pipelines.resources import SettingsResource, WarehouseResource
from pipelines.sources.landing_marker import is_synthetic
from pipelines.validation.checks import query_table
from pipelines.validation.official import official_check_specs
from pipelines.validation.published import (
    AREA_PARENT_COLUMNS,
    check_published,
    published_check_specs,
)
from pipelines.validation.run_record import REPORT_METADATA_KEY

MARTS = ("fct_indicators_monthly", "fct_person_month_status", "fct_kela_payment_shares", "fct_records_outside_scope")
# Publishing waits for the staging views too: their source checks must have passed.
STAGED = ("stg_register__jobseeker_spells", "stg_kela__tmt_payments")
# Months controlled and checked together when many are (a backfill, a full republication).
MONTHS_PER_PART = 24


@dataclass(frozen=True)
class PublishedCandidate:
    """The tables that would be published, before their checks."""

    # indicators_monthly, contract columns: every month's rows, or with carried months only
    # the carried rows of the indicators the follow-up and the official comparison read
    # (`derived_tables_indicators`) beside every row controlled now
    indicators: pd.DataFrame
    followup: pd.DataFrame  # target_followup: every row, or with carried rows the rows made now
    area_parents: pd.DataFrame  # (month, area_code, parent_area_code) of `checked`: the relations' membership
    checked: pd.DataFrame  # the rows controlled in this run: what the published-table checks validate


def derived_tables_indicators(targets: pd.DataFrame) -> list[str]:
    """The indicators whose published rows the target follow-up and the official comparison
    read (both merge on the indicator first): the only carried rows read into pandas. The
    follow-up's areas then come from these rows alone, which changes nothing: an area
    without a row of a followed indicator has no row of the follow-up (an inner merge)."""
    return sorted(set(targets["indicator"]) | {indicator for indicator, _sex in OFFICIAL_COUNTERPARTS})


def build_published_tables(
    indicator_cells: pd.DataFrame | None,
    targets: pd.DataFrame,
    threshold: int,
    carried: pd.DataFrame | None = None,
    followup_plan: FollowupPlan | None = None,
) -> PublishedCandidate:
    """`indicator_cells` are the mart's rows of the months to control; `carried` the previous
    publication's rows of the other months that are read (None: there are none);
    `followup_plan` says which follow-up rows are made now (None: every row)."""
    if indicator_cells is None:  # public-data mode: the person-level tables are empty, same columns
        empty = pd.DataFrame({name: pd.Series(dtype="object") for name in INDICATORS_COLUMNS})
        return PublishedCandidate(empty, target_followup(empty, targets), empty[list(AREA_PARENT_COLUMNS)], empty)
    # Disclosure control works within a month: part by part, its memory is a part's, not
    # the history's (a first publication of twenty national years is 4.8 million cells).
    controlled = pd.concat(
        [apply_disclosure_control(part, threshold=threshold) for part in month_parts(indicator_cells, MONTHS_PER_PART)],
        ignore_index=True,
    )
    recontrolled = indicators_monthly(controlled)
    published = combine_published(carried, recontrolled)
    return PublishedCandidate(
        indicators=published,
        followup=(followup_plan or FollowupPlan()).new_rows(target_followup(published, targets)),
        area_parents=controlled[list(AREA_PARENT_COLUMNS)].drop_duplicates(ignore_index=True),
        checked=recontrolled,
    )


@dg.asset(
    deps=[dg.AssetKey(name) for name in (*MARTS, *STAGED, "followup_targets", "raw_official_statistics")],
    check_specs=published_check_specs() + official_check_specs(),
    group_name="publish",
    pool=WAREHOUSE_WRITER_POOL,
    kinds={"python", "duckdb", "parquet"},
    description="published.duckdb and published/*.parquet: indicators_monthly, target_followup, "
    "run_checks and publication, disclosure-controlled, replaced atomically after every blocking check passed.",
)
def published_tables(context: dg.AssetExecutionContext, settings: SettingsResource, warehouse: WarehouseResource):
    config = settings.settings
    rules = rules_fingerprint()
    previous, why_not = read_previous(config.published_path, fingerprints_path(config))
    run_months = months_of_run(dict(context.run.tags))
    with warehouse.connect(read_only=True) as connection:
        # None in public-data mode: no register has been loaded, so there is no mart.
        mart_months = mart_month_fingerprints(connection)
        plan = plan_publication(config, previous, why_not, mart_months, run_months, rules)
        targets = query_table(connection, "reference.followup_targets")
        official_inputs = read_official_inputs(connection)
        statistics = official_statistics(official_inputs[0], official_inputs[2])
        followup_rules = followup_fingerprint(targets)
        followup = plan_followup(plan, previous, targets, followup_rules)
        # Of the carried months, pandas reads the rows the new follow-up rows and the official
        # reconciliation are made from (of their indicators only); the writer carries the rest.
        wanted = sorted(set(followup.read) | (reconciled_months(statistics) & set(plan.carry)))
        try:
            carried = read_carried(config.published_path, wanted, previous, derived_tables_indicators(targets))
        except CarryFailed as failed:  # as if there were no previous publication: every month
            plan = plan_publication(config, None, str(failed), mart_months, run_months, rules)
            followup, carried = FollowupPlan(), None
        carried_copy = {name: rows for name, rows in (
            ("indicators_monthly", carried_rows(config.published_path, plan, previous)),
            ("target_followup", carried_followup(config.published_path, followup, previous)),
        ) if rows is not None}
        cells = None if mart_months is None else read_mart_months(connection, plan.recontrol)
    context.log.info(f"publishing: {plan.describe()}")
    candidate = build_published_tables(cells, targets, config.suppression_threshold, carried, followup)
    del carried
    official = build_official_tables(
        *official_inputs,
        candidate.indicators,
        absolute_tolerance=config.reconciliation_absolute_tolerance,
        relative_tolerance=config.reconciliation_relative_tolerance,
        statistics=statistics,
    )

    # The carried months passed these checks when they were published (the rules fingerprint
    # includes the checks): the months controlled now are checked.
    verdict = check_published(context, settings, candidate.checked, candidate.area_parents)
    if not verdict.may_publish:
        yield from verdict.results  # recorded against the last published version: this one never was
        raise dg.Failure(
            description=f"not published: blocking check(s) failed: {', '.join(sorted(set(verdict.failed)))}",
            metadata={"validation_report": dg.MetadataValue.path(str(verdict.report))},
        )

    # The published months: the carried ones and those controlled now.
    months = sorted(set(pd.to_datetime(pd.Series(plan.carry, dtype="object") + "-01"))
                    | set(pd.to_datetime(candidate.checked["month"].unique())))
    # Never a mix of settings (pipelines/core/configuration.py): raises, publishing nothing.
    check_publication(config, [month.strftime("%Y-%m") for month in months], months_of_run(dict(context.run.tags)))
    published_row = publication(context.run.run_id, pd.DataFrame({"month": months}), config.area_scope_var,
                                config.suppression_threshold, is_synthetic(config.landing_dir),
                                municipality_set=config.municipality_set)
    publish_atomically(
        config.published_path,
        config.published_parquet_dir,
        {
            "indicators_monthly": (candidate.checked if "indicators_monthly" in carried_copy else candidate.indicators,
                                   INDICATORS_COLUMNS),
            "target_followup": (candidate.followup, TARGET_COLUMNS),
            "run_checks": (verdict.checks, RUN_CHECKS_COLUMNS),
            "official_statistics": (official.statistics, OFFICIAL_STATISTICS_COLUMNS),
            "official_consistency": (official.consistency, OFFICIAL_CONSISTENCY_COLUMNS),
            "official_reconciliation": (official.reconciliation, OFFICIAL_RECONCILIATION_COLUMNS),
            "publication": (published_row, PUBLICATION_COLUMNS),
        },
        carried=carried_copy,
        before_swap=lambda: hold_at("swap", config),  # test-only fault pause (docs/faults.md)
    )
    # After the swap, naming the publication now in place: a crash before this line leaves
    # a file naming the previous one, and the next run then republishes every month.
    write_fingerprints(fingerprints_path(config), published_row, rules, mart_months or {}, followup_rules)
    indicator_rows, suppressed_cells, target_rows = published_summary(config.published_path)
    yield dg.MaterializeResult(
        metadata={
            "published": dg.MetadataValue.path(str(config.published_path)),
            "months": f"{months[0]} .. {months[-1]} ({len(months)})" if months else "none",
            "indicator_rows": indicator_rows,
            "suppressed_cells": suppressed_cells,
            "target_rows": target_rows,
            **plan_metadata(plan, followup),
            "checks": len(verdict.checks),
            # The checks' results link it too; here it stays next to what was published.
            "validation_report": dg.MetadataValue.path(str(verdict.report)),
        },
        check_results=verdict.results
        + official_check_results(official, {REPORT_METADATA_KEY: dg.MetadataValue.path(str(verdict.report))}),
    )


def plan_metadata(plan: PublicationPlan, followup: FollowupPlan | None = None) -> dict[str, str]:
    """What the run controlled and what it carried, for the materialization's metadata."""
    return {
        "recontrolled_months": describe_months(plan.recontrol) or "none",
        "carried_months": describe_months(plan.carry) or "none",
        "carried_from": plan.basis if plan.carry else f"nothing: {plan.basis}",
        "carried_followup_targets": ", ".join((followup or FollowupPlan()).carried_targets) or "none",
    }
