"""What the publishing step adds for the official statistics: the indicator mart or its
absence (public-data mode), and the warning checks' results of the three official tables."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from pipelines.core.duckdb_tables import table_exists
from pipelines.publish.official import OfficialTables
from pipelines.validation.checks import query_table
from pipelines.validation.official import consistency_result, files_readable_result, reconciliation_result

INDICATOR_MART = ("marts", "fct_indicators_monthly")


def indicator_cells_or_none(connection) -> pd.DataFrame | None:
    """The indicator mart, or None when no register has been loaded into this warehouse
    (public-data mode: only official files landed, so dbt never built the mart)."""
    exists = table_exists(connection, *INDICATOR_MART)
    return query_table(connection, ".".join(INDICATOR_MART)) if exists else None


def official_check_results(official: OfficialTables, link: dict | None = None) -> list[dg.AssetCheckResult]:
    """The three warning checks' results; `link` is extra metadata (the run's validation report)."""
    return [
        files_readable_result(official.deliveries, link),
        consistency_result(official.consistency, link),
        reconciliation_result(official.reconciliation, link),
    ]
