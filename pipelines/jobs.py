"""Asset jobs: the reference data (unpartitioned) and the monthly pipeline (partitioned)."""

import dagster as dg

from pipelines.partitions import MONTHLY_PARTITIONS

REFERENCE_GROUPS = ("reference",)

reference_job = dg.define_asset_job(
    name="reference_job",
    selection=dg.AssetSelection.groups(*REFERENCE_GROUPS),
    description="Seeds: municipalities, holidays, share rules, follow-up targets.",
)

monthly_job = dg.define_asset_job(
    name="monthly_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(*REFERENCE_GROUPS),
    partitions_def=MONTHLY_PARTITIONS,
    description="Ingest a month's registers, derive its indicators, validate and publish.",
)
