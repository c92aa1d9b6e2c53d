"""The official statistics as a Dagster asset: every StatFin file of `statfin/`, once per
run (not partitioned: a file may hold many months), through `official.ingest_official`."""

# No `from __future__ import annotations`: Dagster reads the context annotation at definition time.

import dagster as dg

from pipelines.partitions import WAREHOUSE_WRITER_POOL
from pipelines.resources import SettingsResource
from pipelines.sources.official import ASSET_NAME, OfficialLoad, ingest_official


def official_metadata(load: OfficialLoad) -> dict:
    table = "\n".join(
        ["| file | format | table | updated | cells | used | sha256 | status |", "|---|---|---|---|---|---|---|---|"]
        + [
            f"| {f.source_file} | {f.format or ''} | {f.source_table or ''} | {f.source_updated or ''} | {f.cells} "
            f"| {f.cells_used} | `{f.sha256[:12]}…` | {f.status} |"
            for f in load.files
        ]
    )
    return {
        "deliveries": dg.MetadataValue.md(table),
        "files": len(load.files),
        "quarantined": len(load.quarantined),
        "cells_loaded": load.cells,
    }


@dg.asset(
    name=ASSET_NAME,
    group_name="ingest",
    pool=WAREHOUSE_WRITER_POOL,
    kinds={"python", "duckdb"},
    description="Official statistics (StatFin 12r5 and relatives) from every file of statfin/ (PX, JSON-stat 2.0, "
    "PxWeb json): raw.official_cells (later `updated` wins) and the delivery log raw.official_deliveries; "
    "unreadable files are quarantined.",
)
def raw_official_statistics(context: dg.AssetExecutionContext, settings: SettingsResource) -> dg.MaterializeResult:
    load = ingest_official(settings.settings, log=context.log)
    return dg.MaterializeResult(metadata=official_metadata(load))
