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

# Public-data mode: no register has landed, only official statistics (StatFin files). The
# reference data comes first (reference_job); then the official files, publishing and the
# reports, without the monthly register assets.
PUBLIC_DATA_ASSETS = ("raw_official_statistics", "published_tables", "followup_reports")

official_job = dg.define_asset_job(
    name="official_job",
    selection=dg.AssetSelection.assets(*PUBLIC_DATA_ASSETS),
    description="Public-data mode: load the official statistics, publish them and write the reports from them.",
)
