"""Ingest as Dagster assets: one per person-level register, partitioned by month.

Each asset loads every month of its run in order (a backfill is one run, see
`BackfillPolicy.single_run()`), through `loader.ingest_months` (one pseudonymiser, one
warehouse connection and one look at the key for the run), and reports per month the
file, its SHA-256 and the row counts. A month that fails (missing file, unreadable file,
too many rejects, no key) fails the run with the loader's message; months loaded before
it in the same run stay loaded (each is its own transaction) and a rerun is idempotent.
"""

# No `from __future__ import annotations`: Dagster reads the context annotation at definition time.

from typing import Any

import dagster as dg

from pipelines.core.identity_codes import redact
from pipelines.core.settings import Settings
from pipelines.core.source_registry import JOBSEEKER_SPELLS, KELA_PAYMENTS
from pipelines.partitions import (
    MONTHLY_PARTITIONS,
    WAREHOUSE_WRITER_POOL,
    partition_key_to_month,
)
from pipelines.resources import SettingsResource
from pipelines.sources.loader import DeliveryReport, ingest_months

GROUP = "ingest"


def ingest_partitions(context: dg.AssetExecutionContext, source: str, settings: Settings) -> dg.MaterializeResult:
    """Load `source` for every partition of the run, oldest first, hashing each person's
    identity code once for the run."""
    months = [partition_key_to_month(key) for key in sorted(context.partition_keys)]
    reports = ingest_months(source, months, settings, log=context.log, report_ignored_columns=False)
    ignored = sorted({column for report in reports for column in report.ignored_columns})
    if ignored:
        files = ", ".join(r.source_file for r in reports if r.ignored_columns)
        # Only plain identifiers are named (see csv_reader.is_safe_column_name); others are counted.
        context.log.warning(redact(f"ignored extra column(s) {', '.join(ignored)} in {files}"))
    return dg.MaterializeResult(metadata=delivery_metadata(reports))


def delivery_metadata(reports: list[DeliveryReport]) -> dict[str, Any]:
    # File names follow the registry's pattern; redacted all the same, as all text leaving ingest.
    months = {
        r.month: {
            "file": redact(r.source_file),
            "sha256": r.sha256,
            "rows_read": r.rows_read,
            "rows_loaded": r.rows_loaded,
            "rows_rejected": r.rows_rejected,
            "encoding": r.encoding,
        }
        for r in reports
    }
    table = "\n".join(
        ["| month | file | sha256 | loaded | rejected |", "|---|---|---|---|---|"]
        + [f"| {r.month} | {redact(r.source_file)} | `{r.sha256[:12]}…` | {r.rows_loaded} | {r.rows_rejected} |" for r in reports]
    )
    return {
        "months": dg.MetadataValue.json(months),
        "deliveries": dg.MetadataValue.md(table),
        "rows_loaded": dg.MetadataValue.int(sum(r.rows_loaded for r in reports)),
        "rows_rejected": dg.MetadataValue.int(sum(r.rows_rejected for r in reports)),
    }


_COMMON: dict[str, Any] = dict(
    partitions_def=MONTHLY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    pool=WAREHOUSE_WRITER_POOL,
    kinds={"python", "duckdb"},
)


@dg.asset(
    description="Jobseeker register status spells of each monthly delivery (tyonhakijat/tyonhakijat_YYYY-MM.csv), "
    "identity codes replaced by pseudonyms; bad rows in raw.rejects.",
    name=JOBSEEKER_SPELLS.asset_name,
    **_COMMON,
)
def raw_jobseeker_spells(context: dg.AssetExecutionContext, settings: SettingsResource) -> dg.MaterializeResult:
    return ingest_partitions(context, JOBSEEKER_SPELLS.name, settings.settings)


@dg.asset(
    description="Kela labour-market-subsidy payments of each month (kela/tmt_YYYY-MM.csv), identity codes "
    "replaced by pseudonyms; bad rows in raw.rejects.",
    name=KELA_PAYMENTS.asset_name,
    **_COMMON,
)
def raw_kela_payments(context: dg.AssetExecutionContext, settings: SettingsResource) -> dg.MaterializeResult:
    return ingest_partitions(context, KELA_PAYMENTS.name, settings.settings)
