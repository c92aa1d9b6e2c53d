"""The Dagster definitions load, and the asset graph is what the snapshot says.

Any change to the graph (an asset, a dependency, a group, a partitioning, a check, a job)
shows in review as a change of tests/snapshots/asset_graph.txt. After an intended change:
    KAIRA_UPDATE_SNAPSHOTS=1 python -m pytest tests/unit/test_definitions.py
"""

import os
from pathlib import Path

from pipelines.definitions import defs

SNAPSHOT = Path(__file__).parents[1] / "snapshots" / "asset_graph.txt"


def describe_graph() -> str:
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitioned = "monthly" if node.partitions_def else "-"
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys)) or "-"
        lines.append(f"asset {key.to_user_string()} [{node.group_name}; {partitioned}] <- {parents}")
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        blocking = "blocking" if graph.get(check_key).blocking else "non-blocking"
        lines.append(f"check {check_key.asset_key.to_user_string()}:{check_key.name} ({blocking})")
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if not job.name.startswith("__"):
            lines.append(f"job {job.name}")
    for schedule in sorted(defs.schedules or [], key=lambda s: s.name):
        lines.append(f"schedule {schedule.name} {schedule.cron_schedule} {schedule.execution_timezone}")
    for sensor in sorted(defs.sensors or [], key=lambda s: s.name):
        lines.append(f"sensor {sensor.name}")
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_the_snapshot():
    current = describe_graph()
    if os.environ.get("KAIRA_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert current == SNAPSHOT.read_text(encoding="utf-8")


def test_monthly_assets_share_the_writer_pool_and_run_ranges_in_one_run():
    graph = defs.resolve_asset_graph()
    for name in ("raw_jobseeker_spells", "raw_kela_payments", "fct_indicators_monthly", "fct_person_month_status"):
        node = graph.get(next(k for k in graph.get_all_asset_keys() if k.to_user_string() == name))
        assert node.backfill_policy is not None and node.backfill_policy.max_partitions_per_run is None, name
    pools = {
        step.pool
        for job in [defs.resolve_job_def("monthly_job")]
        for step in job.graph.node_dict.values()
        if getattr(step, "pool", None)
    }
    assert pools <= {"warehouse_writer"}
