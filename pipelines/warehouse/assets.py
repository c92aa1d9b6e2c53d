"""dbt models as Dagster assets.

Two groups of dbt nodes, as Dagster's own platform splits them:
- reference: the seeds (municipalities, holidays, share rules, targets): unpartitioned,
  built once and on change;
- monthly models: the staging views over the raw tables (which exist only once ingest
  has created them) and the incremental marts, partitioned by month. A range of months
  runs as one dbt invocation (BackfillPolicy.single_run()), its window passed in the
  environment (dbt_args.py says why not as vars); the intermediate models are ephemeral
  and compile into the marts.

Each invocation starts from the warehouse's saved parse of the project, so dbt parses only
what changed (project.py, `restore_parse_state`).
"""


from collections.abc import Mapping
from datetime import date
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines.core.duckdb_tables import table_exists
from pipelines.core.private_files import make_database_private, make_tree_private, private_dir, private_umask
from pipelines.core.settings import Settings, secrets_withheld_from_children, variables_for_children
from pipelines.core.source_registry import JOBSEEKER_SPELLS
from pipelines.partitions import MONTHLY_PARTITIONS, WAREHOUSE_WRITER_POOL
from pipelines.resources import SettingsResource
from pipelines.validation.gx_runner import load_in_background
from pipelines.warehouse.dbt_args import dbt_build_args, dbt_vars, month_window_environment, month_windows
from pipelines.warehouse.profile import write_run_profile
from pipelines.warehouse.project import (
    KairaDbtCliResource,
    kaira_dbt_project,
    restore_parse_state,
    run_target_path,
    save_parse_state,
)
from pipelines.warehouse.reference_state import record_reference_built, seeds_fingerprint

MONTHLY_SELECTION = "path:models/staging path:models/marts"
REFERENCE_SELECTION = "resource_type:seed"


class KairaDbtTranslator(DagsterDbtTranslator):
    """Asset keys are the dbt names (`fct_indicators_monthly`, not `marts/...`); groups
    follow the dbt folders, so the asset graph reads as the data's path."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project=None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            # Keys from the sources' meta: the ingest assets that write them.
            return spec.replace_attributes(group_name="ingest")
        fqn = props.get("fqn", [])
        group = "reference" if props["resource_type"] == "seed" else (fqn[1] if len(fqn) > 2 else "warehouse")
        spec = spec.replace_attributes(key=dg.AssetKey(props["name"]), group_name=group)
        shared = shared_source_writers(manifest, unique_id)
        if shared:
            kept = [dep for dep in spec.deps if dep.asset_key not in shared]
            spec = spec.replace_attributes(deps=[*kept, *(dg.AssetDep(key) for writers in shared.values() for key in writers)])
        return spec


def shared_source_writers(manifest: Mapping[str, Any], unique_id: str) -> dict[dg.AssetKey, list[dg.AssetKey]]:
    """The node's parent sources that several assets write (meta `kaira.written_by`): the
    key Dagster would give the source -> the keys of the assets that write it."""
    shared = {}
    for parent in manifest.get("parent_map", {}).get(unique_id, []):
        source = manifest.get("sources", {}).get(parent)
        writers = ((source or {}).get("meta") or {}).get("kaira", {}).get("written_by")
        if writers:
            default_key = dg.AssetKey([source["source_name"], source["name"]])
            shared[default_key] = [dg.AssetKey(writer) for writer in writers]
    return shared


def dbt_for_run(dbt: DbtCliResource, settings: Settings) -> KairaDbtCliResource:
    """Kaira's dbt resource (project.py) pointed at the profile of this run's warehouse."""
    return KairaDbtCliResource(
        project_dir=dbt.project_dir, dbt_executable=dbt.dbt_executable, profiles_dir=str(write_run_profile(settings))
    )


def dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    settings: Settings,
    window: tuple[date, date] | None = None,
    *,
    stream: bool = True,
):
    """`dbt build` of the asset's selection for the months [start, end) of `window` (None:
    every month); with `stream` False: run to the end without reporting its events,
    raising if dbt failed. dbt's target and logs go into the warehouse folder: left to
    dagster-dbt they would go into the project, which in an installed package is
    site-packages. The invocation starts from the warehouse's saved parse state, and its
    own becomes the saved one when it succeeds.

    dbt is started (inside `cli()`) with the window in the environment that dagster-dbt
    copies for it, the pseudonymisation key withheld from it, and under umask 077, which
    the child keeps: the warehouse file, its WAL and dbt's target and logs it creates are
    owner-only (pipelines/core/private_files.py)."""
    target = run_target_path(settings.warehouse_dir, context)
    private_dir(target.parent)
    make_database_private(settings.warehouse_path)
    restore_parse_state(settings.warehouse_dir, target)
    window_environment = month_window_environment(*(window or (None, None)))
    with private_umask(), secrets_withheld_from_children(), variables_for_children(window_environment):
        invocation = dbt_for_run(dbt, settings).cli(
            dbt_build_args(dbt_vars(settings)), context=context, target_path=target
        )
    try:
        if stream:
            yield from invocation.stream()
        else:
            invocation.wait()
        save_parse_state(settings.warehouse_dir, target)  # reached only when dbt succeeded
    finally:
        # Without a saved parse state, dagster-dbt copies the project's in with its mode (shutil.copy).
        make_tree_private(target)
        make_database_private(settings.warehouse_path)


@dbt_assets(
    manifest=kaira_dbt_project().manifest_path,
    project=kaira_dbt_project(),
    select=REFERENCE_SELECTION,
    dagster_dbt_translator=KairaDbtTranslator(),
    pool=WAREHOUSE_WRITER_POOL,
    name="kaira_reference_models",
)
def kaira_reference_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: SettingsResource):
    config = settings.settings
    fingerprint = seeds_fingerprint()
    yield from dbt_build(context, dbt, config)
    # Only after a successful build (a failed one raises): `kaira run` skips the seeds next time.
    record_reference_built(config.warehouse_dir, fingerprint)


@dbt_assets(
    manifest=kaira_dbt_project().manifest_path,
    project=kaira_dbt_project(),
    select=MONTHLY_SELECTION,
    dagster_dbt_translator=KairaDbtTranslator(),
    partitions_def=MONTHLY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_WRITER_POOL,
    name="kaira_monthly_models",
)
def kaira_monthly_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: SettingsResource):
    """One dbt invocation for the run's months; a backfill too large for one (more delivered
    rows than Settings.dbt_window_rows) runs window after window, so memory stays bounded
    whatever its length. The windows before the last are built and tested without
    reporting their events (a failure raises and fails the step); the last one's events
    are the step's materializations and checks."""
    config = settings.settings
    # The checks after dbt need great_expectations (seconds to import): import it on the
    # other core while this process only waits for dbt.
    load_in_background()
    window = context.partition_time_window
    windows = month_windows(
        window.start.date(), window.end.date(), delivered_rows_by_month(config), config.dbt_window_rows
    )
    for number, (start, end) in enumerate(windows, start=1):
        part = f" ({number} of {len(windows)})" if len(windows) > 1 else ""
        context.log.info(f"dbt window {start.isoformat()} .. {end.isoformat()} (end exclusive){part}")
        yield from dbt_build(context, dbt, config, (start, end), stream=number == len(windows))


def delivered_rows_by_month(settings: Settings) -> dict[date, int]:
    """The jobseeker rows of each delivered month as last loaded (raw.deliveries)."""
    if not settings.warehouse_path.exists():
        return {}
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        if not table_exists(connection, "raw", "deliveries"):
            return {}
        rows = connection.execute(
            """
            select delivery_month, arg_max(rows_loaded, loaded_at)
            from raw.deliveries
            where source = ?
            group by delivery_month
            """,
            [JOBSEEKER_SPELLS.name],
        ).fetchall()
    finally:
        connection.close()
    return {month: count for month, count in rows}
