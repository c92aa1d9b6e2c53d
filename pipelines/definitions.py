"""The Dagster code location: assembles the stages; computes nothing itself.

Stages in the order the data flows: sources (ingest) -> warehouse (dbt) ->
validation -> publish -> reports.

"""

import dagster as dg

from pipelines.automation.failure_alert import run_failure_alert
from pipelines.automation.schedule import monthly_schedule
from pipelines.automation.sensor import landing_sensor
from pipelines.core.collector import freeze_loaded
from pipelines.jobs import monthly_job, official_job, reference_job
from pipelines.publish.assets import published_tables
from pipelines.reports.assets import followup_reports
from pipelines.resources import SettingsResource, WarehouseResource
from pipelines.sources.assets import raw_jobseeker_spells, raw_kela_payments
from pipelines.sources.official_assets import raw_official_statistics
from pipelines.validation.warehouse_checks import mart_checks, source_checks
from pipelines.warehouse.assets import kaira_monthly_models, kaira_reference_models
from pipelines.warehouse.project import dbt_resource

# Unset fields come from the environment when a run or an evaluation starts.
settings = SettingsResource()

defs = dg.Definitions(
    assets=[
        raw_jobseeker_spells,
        raw_kela_payments,
        raw_official_statistics,
        kaira_reference_models,
        kaira_monthly_models,
        published_tables,
        followup_reports,
    ],
    asset_checks=[*source_checks, mart_checks],
    jobs=[reference_job, monthly_job, official_job],
    schedules=[monthly_schedule],
    sensors=[landing_sensor, run_failure_alert],
    resources={"dbt": dbt_resource(), "settings": settings, "warehouse": WarehouseResource(settings=settings)},
    # One process, steps one after another: DuckDB allows one writer, and the pool (run
    # granularity) keeps other runs out but not a run's own parallel steps (the default
    # multiprocess executor ran both ingest steps at once and one failed on the file lock).
    executor=dg.in_process_executor,
)

# The definitions (and the dbt manifest they hold) live as long as the process: out of the
# garbage collector's way (pipelines/core/collector.py).
freeze_loaded()
