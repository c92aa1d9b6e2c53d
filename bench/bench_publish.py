"""Publishing on a long history: the `published_tables` step of a run of one month.

Issue 12: "the cost of a month does not grow with the history already in the warehouse".
This driver times the publishing step alone (no ingest, no dbt, no reports) on a warehouse
whose indicator mart holds many years.

The long history
----------------
A national warehouse (`--source`, read only: by default /tmp/kaira-national/warehouse, the
17-18 national months bench_scale.py's national sample builds, scope `all`, synthetic
municipalities) is copied into `--workdir`, and in the copy the months of
`marts.fct_indicators_monthly` are appended again shifted by whole multiples of their span
(month + k x span, count date the shifted month's last day) until the mart holds `--years`
x 12 months. Only the copy's mart is changed; the figures are the source's, so disclosure
control and the checks do the same work each month. Nothing else of the warehouse is needed
by publishing except the follow-up targets and the official statistics, which are kept.

What is timed
-------------
Each measurement runs in a fresh process (so its peak memory is its own), materializing
`published_tables` with Dagster (an ephemeral instance) against the copy:

- `first`: an unpartitioned run, with no earlier publication: every month published;
- `month`: a run tagged with the last month's partition, as the monthly schedule runs it,
  `--repeats` times; each publishes on top of the previous one;
- `month, no basis`: the same after removing what an incremental publication builds on
  (the fingerprints file beside published.duckdb, when the code has one): a full
  republication, for comparison on the same code.

Great Expectations' context is built in the worker before the run, as the check steps
before publishing build it in a real run (about 3 s that do not depend on the history).
Printed per measurement: the step's time (Dagster's step start to step success), the
whole process, its peak RSS, and the months the step recontrolled and carried (from its
metadata, when the code reports them). `--code DIR` runs another checkout's `pipelines`
(e.g. /work/main) with this venv, for before/after figures on one warehouse.

An existing warehouse folder (`--warehouse`) is used as it is instead: nothing is prepared,
the database is only read (the publishing step opens it read-only), and only the runs of the
last month are timed (`--repeats` of them), on top of the publication already there. Give it
a folder of its own whose `kaira.duckdb` may be a symbolic link to a warehouse shared with
others and whose published files (published.duckdb, published.versions/, the `published`
link, published.fingerprints.json) and settings records are copies: those are replaced.
The landing folder beside it (`<folder>/../landing`) needs only the sample's README.txt.

How to run (from the repository root)
-------------------------------------
    .venv/bin/python bench/bench_publish.py --workdir /tmp/kaira-publish-bench
    .venv/bin/python bench/bench_publish.py --warehouse /tmp/kaira-publish-20y/warehouse --repeats 2
    .venv/bin/python bench/bench_publish.py --workdir /tmp/kaira-publish-bench --code /work/main
    .venv/bin/python bench/bench_publish.py --workdir /tmp/kaira-publish-bench --years 5 --repeats 1

The work folder is kept (preparing it takes a while); the warehouse copy is reused when it
already holds the wanted months. The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _measure import REPO_ROOT, bench_environment  # bench/, this script's folder

FINGERPRINTS_FILE = "published.fingerprints.json"  # the incremental publication's basis, if the code has one


def prepare(source: Path, workdir: Path, years: int) -> list[str]:
    """Copy the source warehouse's database and settings record into `workdir` and lengthen
    its indicator mart to `years` x 12 months. Returns the mart's months (YYYY-MM)."""
    import duckdb

    warehouse = workdir / "warehouse"
    database = warehouse / "kaira.duckdb"
    wanted = years * 12
    if database.exists():
        months = mart_months(database)
        if len(months) == wanted:
            return months
        shutil.rmtree(warehouse)
    warehouse.mkdir(parents=True)
    for name in ("kaira.duckdb", "computed_with.json"):
        shutil.copy2(source / name, warehouse / name)
    (workdir / "landing").mkdir(exist_ok=True)
    marker = source.parent / "landing" / "README.txt"
    if marker.is_file():
        shutil.copy2(marker, workdir / "landing" / "README.txt")
    connection = duckdb.connect(str(database))
    try:
        first, span = connection.execute(
            "select min(month), count(distinct month) from marts.fct_indicators_monthly").fetchone()
        columns = [row[0] for row in connection.execute("describe marts.fct_indicators_monthly").fetchall()]
        shifted = {
            "month": "cast(month + to_months(? * ?) as date)",
            "count_date": "last_day(cast(month + to_months(? * ?) as date))",
        }
        last_wanted = connection.execute("select cast(? + to_months(?) as date)", [first, wanted - 1]).fetchone()[0]
        copies = -(-wanted // span)  # ceiling
        for k in range(1, copies):
            select = ", ".join(shifted.get(column, column) for column in columns)
            connection.execute(
                f"insert into marts.fct_indicators_monthly select {select} from marts.fct_indicators_monthly "
                "where month < ? + to_months(?)",
                [k, span, k, span, first, span],
            )
        connection.execute("delete from marts.fct_indicators_monthly where month > ?", [last_wanted])
        connection.execute("checkpoint")
    finally:
        connection.close()
    return mart_months(database)


def mart_months(database: Path) -> list[str]:
    import duckdb

    connection = duckdb.connect(str(database), read_only=True)
    try:
        rows = connection.execute(
            "select distinct strftime(month, '%Y-%m') from marts.fct_indicators_monthly order by 1").fetchall()
    finally:
        connection.close()
    return [row[0] for row in rows]


def worker(month: str | None) -> dict:
    """In a fresh process: materialize published_tables (tagged with `month`'s partition, or
    untagged) and report the step's figures."""
    import dagster as dg

    from pipelines.partitions import range_tags
    from pipelines.publish.assets import published_tables
    from pipelines.resources import SettingsResource, WarehouseResource

    settings = SettingsResource()
    resources = {"settings": settings, "warehouse": WarehouseResource(settings=settings)}
    tags = range_tags(month, month) if month else {}
    # In a run the check steps before publishing have built Great Expectations' context (3 s,
    # the same for any history): built here first, so the step's time is publishing's own.
    from pipelines.validation import gx_runner

    with gx_runner._LOCK:
        gx_runner._data_source()
    started = time.perf_counter()
    result = dg.materialize([published_tables], resources=resources, tags=tags, raise_on_error=False)
    call = time.perf_counter() - started
    # Dagster's own measure of the step (start to success or failure).
    step_ms = [event.event_specific_data.duration_ms for event in result.all_events
               if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE")]
    metadata = {}
    for materialization in result.asset_materializations_for_node("published_tables"):
        metadata = {key: getattr(value, "value", value) for key, value in materialization.metadata.items()}
    return {
        "success": result.success,
        "step_s": round(step_ms[0] / 1000, 2) if step_ms else None,
        "call_s": round(call, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "indicator_rows": metadata.get("indicator_rows"),
        "recontrolled": metadata.get("recontrolled_months"),
        "carried": metadata.get("carried_months"),
    }


def measure(label: str, workdir: Path, code: Path, month: str | None) -> dict:
    env = {**os.environ, **bench_environment(workdir, area_scope="all", municipality_set="synthetic"),
           "PYTHONPATH": str(code)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", "--month", month or ""],
        env=env, cwd=code, capture_output=True, text=True, check=False,
    )
    process = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{label}: the worker failed:\n{done.stderr[-4000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_s"] = round(process, 1)
    load = os.getloadavg()
    print(f"{label:<16} step {figures['step_s']:>6} s  call {figures['call_s']:>6} s  process {figures['process_s']:>6} s"
          f"  peak RSS {figures['peak_rss_mb']:>5} MB  rows {figures['indicator_rows']}  success {figures['success']}"
          f"  load {load[0]:.1f}")
    if figures.get("recontrolled") is not None:
        print(f"{'':<16} recontrolled {figures['recontrolled']}; carried {figures['carried']}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="/tmp/kaira-publish-bench")
    parser.add_argument("--source", default="/tmp/kaira-national/warehouse", help="a national warehouse (read only)")
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--code", default=str(REPO_ROOT), help="the checkout whose pipelines to run")
    parser.add_argument("--skip-first", action="store_true", help="publish on top of the existing publication")
    parser.add_argument("--warehouse", default="", help="an existing warehouse folder, used as it is: only the "
                        "last month's runs are timed, on top of its publication (its database only read)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--month", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.month or None)))
        return 0

    code = Path(args.code).resolve()
    if args.warehouse:
        warehouse = Path(args.warehouse)
        if warehouse.name != "warehouse" or not (warehouse / "kaira.duckdb").exists():
            raise SystemExit(f"{warehouse}: not a folder named warehouse holding kaira.duckdb")
        months = mart_months(warehouse / "kaira.duckdb")
        print(f"warehouse: {warehouse} (as it is): {len(months)} months {months[0]} .. {months[-1]}; code: {code}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for _ in range(args.repeats):
            measure("month", warehouse.parent, code, months[-1])
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    workdir = Path(args.workdir)
    started = time.perf_counter()
    months = prepare(Path(args.source), workdir, args.years)
    print(f"warehouse: {workdir / 'warehouse'}: {len(months)} months {months[0]} .. {months[-1]} "
          f"(prepared in {time.perf_counter() - started:.0f} s); code: {code}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not args.skip_first:
        measure("first", workdir, code, None)
    for _ in range(args.repeats):
        measure("month", workdir, code, months[-1])
    basis = workdir / "warehouse" / FINGERPRINTS_FILE
    if basis.exists():
        basis.unlink()
        measure("month, no basis", workdir, code, months[-1])
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
