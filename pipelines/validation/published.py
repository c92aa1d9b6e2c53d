"""The published-table checks: declared on the `published_tables` asset and evaluated on
the disclosure-controlled frame inside its step, before anything is written.

They are the suite `expectations/indicators_monthly.json`: no person count between 1 and
the threshold minus 1, valid statuses, NULL values exactly where there is no figure, no
relation instance with a single recoverable suppressed cell, no identity-code-like text,
only published indicators. Declared as the asset's `check_specs`, they show in the asset
graph and in Dagster like any other check; evaluated in the publishing step, they see the
very frame that would be written, so no selection of a run can publish around them
(docs/decisions.md, "Who checks what").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.core.months import describe_months, month_parts
from pipelines.resources import SettingsResource
from pipelines.validation.checks import check_result, check_specs, record_run_report
from pipelines.validation.gx_runner import ExpectationOutcome, combine_outcomes, validate_frame
from pipelines.validation.relations import prepare_published_frame
from pipelines.validation.run_record import REPORT_METADATA_KEY, failed_blocking

PUBLISHED_ASSET = dg.AssetKey("published_tables")
PUBLISHED_SUITE = "indicators_monthly"
# How run_checks names the published table's checks (docs/published-tables.md).
PUBLISHED_TABLE = "indicators_monthly"
AREA_PARENT_COLUMNS = ("month", "area_code", "parent_area_code")


def published_check_specs() -> list[dg.AssetCheckSpec]:
    """The suite's expectations as checks of `published_tables` (blocking by severity)."""
    return check_specs(PUBLISHED_ASSET, PUBLISHED_SUITE)


def validate_published(
    indicators: pd.DataFrame, area_parents: pd.DataFrame, threshold: int, months_per_part: int = 24
) -> list[ExpectationOutcome]:
    """The published `indicators_monthly` frame against its suite, `months_per_part` months
    at a time (every expectation holds within a month), so that checking a long history
    takes a part's memory; an expectation is met when every part meets it.

    `area_parents` (month, area_code, parent_area_code) says which area adds up into
    which in each month; the contract does not publish it, but the relations of
    disclosure control are read from it.
    """
    # The published table carries parent_area_code too; the relations use the area_parents one.
    frame = indicators.drop(columns=["parent_area_code"], errors="ignore").merge(
        area_parents[list(AREA_PARENT_COLUMNS)].drop_duplicates(), on=["month", "area_code"], how="left",
        validate="many_to_one",
    )
    parts = month_parts(frame, months_per_part)
    outcomes = [validate_frame(prepare_published_frame(part, threshold=threshold), PUBLISHED_SUITE) for part in parts]
    labels = [describe_months(sorted({str(m)[:7] for m in part["month"].unique()})) for part in parts]
    return combine_outcomes(outcomes, labels)


@dataclass(frozen=True)
class PublishedVerdict:
    """What the published-table checks decided."""

    results: list[dg.AssetCheckResult]  # one per declared check of published_tables
    checks: pd.DataFrame  # every check of the run, these included: the run_checks table
    report: Path  # the run's validation report
    failed: list[str]  # `asset:check` of the run's failed blocking checks; empty: publish

    @property
    def may_publish(self) -> bool:
        return not self.failed


def check_published(
    context: dg.AssetExecutionContext,
    settings: SettingsResource,
    indicators: pd.DataFrame,
    area_parents: pd.DataFrame,
) -> PublishedVerdict:
    """Validate the frame about to be published, rewrite the run's report with these
    outcomes, and say whether anything blocks publishing: these checks or any earlier
    blocking check of the run."""
    outcomes = validate_published(indicators, area_parents, settings.settings.suppression_threshold)
    checks, report = record_run_report(context, settings, {PUBLISHED_TABLE: outcomes})
    link = {REPORT_METADATA_KEY: dg.MetadataValue.path(str(report))}
    results = [check_result(PUBLISHED_ASSET, outcome, PUBLISHED_SUITE, link) for outcome in outcomes]
    return PublishedVerdict(results=results, checks=checks, report=report, failed=failed_blocking(checks))
