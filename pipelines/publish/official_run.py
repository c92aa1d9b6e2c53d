"""What the publishing step adds for the official statistics: the warning checks' results
of the three official tables. (Whether the indicator mart exists, public-data mode, is
read with the mart's month fingerprints: pipelines/publish/incremental.py.)"""

from __future__ import annotations

import dagster as dg

from pipelines.publish.official import OfficialTables
from pipelines.validation.official import consistency_result, files_readable_result, reconciliation_result


def official_check_results(official: OfficialTables, link: dict | None = None) -> list[dg.AssetCheckResult]:
    """The three warning checks' results; `link` is extra metadata (the run's validation report)."""
    return [
        files_readable_result(official.deliveries, link),
        consistency_result(official.consistency, link),
        reconciliation_result(official.reconciliation, link),
    ]
