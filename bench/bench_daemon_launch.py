"""The national month as Dagster's daemon launches it (the schedule, the sensor, the UI):
by Dagster's default way, the code server starting the run in a fresh interpreter, and by
Kaira's run launcher with `kaira worker` running, the run in a fork of the worker
(pipelines/worker/run_launcher.py). Both against the bare DuckDB derivation of the same
month (_reference.py), in the same rounds.

It needs the warehouse of a national scale bench, which it runs the last month again on:

    .venv/bin/python bench/bench_scale.py --sample national --workdir /tmp/kaira-nat --keep
    .venv/bin/python bench/bench_daemon_launch.py --workdir /tmp/kaira-nat --repeat 3

One daemon (`dagster-daemon run`, with the repository's workspace.yaml) runs for the whole
bench; each round launches the month with `dagster job launch` into its queue twice, once
with no worker (the default launcher) and once with a worker started for it (its start not
timed), then runs the reference. A run's time is Dagster's own, from RUN_STARTING (the
queue hands the run to the launcher) to the run's end, from its event log: what the daemon's
month costs, without the launch command's own start or the queue's polling. Its memory is the
peak of the daemon's process tree (the code server and the runs it started) and the worker's
(its forks: the run, dbt, Chromium), sampled every 0.2 s while the run lasts. The ratios set
each run's time against the round's reference process time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _measure  # noqa: E402

BENCH_TAG = "kaira/bench_launch"
BIN = Path(sys.executable).parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True, help="the work folder of a kept national scale bench")
    parser.add_argument("--month", default="2007-06", help="the month to run again (default 2007-06, the last)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(args.workdir).resolve()
    if not (workdir / "warehouse" / "kaira.duckdb").exists():
        print(f"{workdir}: no warehouse; run bench_scale.py --sample national --workdir {workdir} --keep first")
        return 2
    environment = _measure.bench_environment(workdir, area_scope="all", municipality_set="synthetic")
    _measure.apply_environment(environment)
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    # Where the daemon's launcher looks for the worker: set for the daemon, which keeps it,
    # though no worker listens there in the default rounds.
    socket_path = Path(tempfile.mkdtemp(prefix="kaira-bench-launch-")) / "worker.sock"
    os.environ["KAIRA_WORKER_SOCKET"] = str(socket_path)
    os.environ.pop("KAIRA_WORKER", None)
    print(f"daemon launch bench, national month {args.month}; work folder {workdir}", flush=True)

    import dagster as dg

    instance = dg.DagsterInstance.get()
    with open(logs / "launch-daemon.log", "w") as log:
        daemon = subprocess.Popen([BIN / "dagster-daemon", "run", "-w", "workspace.yaml"], cwd=_measure.REPO_ROOT,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    rows = []
    try:
        for number in range(1, args.repeat + 1):
            row = {"round": number}
            row["default"] = launched_run(instance, daemon.pid, None, args.month, f"{number} default")
            worker = _measure.start_resident_worker(logs / "launch-worker.log", socket_path)
            try:
                row["worker"] = launched_run(instance, daemon.pid, worker.pid, args.month, f"{number} worker")
            finally:
                _measure.stop_resident_worker(worker)
            reference = _measure.run_step(f"launch reference {number}", "_reference:derive", [args.month],
                                          log_dir=logs, landing=str(workdir / "landing"), first=args.month,
                                          last=args.month, scope="all", municipality_set="synthetic",
                                          out=str(workdir / "reference.parquet"))
            row["reference"] = reference.process_s
            rows.append(row)
            print(f"round {number}: default launcher {row['default'][0]:.1f} s, through the worker "
                  f"{row['worker'][0]:.1f} s, reference {reference.process_s:.1f} s", flush=True)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=120)
        instance.dispose()
    print_table(rows)
    return 0


def launched_run(instance, daemon_pid: int, worker_pid: int | None, month: str, label: str) -> tuple[float, float]:
    """Launch the month into the daemon's queue and wait for it; (seconds from RUN_STARTING
    to the run's end, peak MiB of the daemon's and the worker's process trees)."""
    import dagster as dg

    from pipelines.partitions import range_tags
    from pipelines.worker.run_launcher import WORKER_FORK_TAG

    tags = {**range_tags(month, month), BENCH_TAG: label}
    subprocess.run([BIN / "dagster", "job", "launch", "-w", "workspace.yaml", "-j", "monthly_job",
                    "--tags", json.dumps(tags)], cwd=_measure.REPO_ROOT, check=True, capture_output=True)
    sampler = _measure._TreeSampler(daemon_pid, also=worker_pid)
    sampler.start()
    try:
        while True:
            runs = instance.get_runs(filters=dg.RunsFilter(tags={BENCH_TAG: label}))
            if runs and runs[0].is_finished:
                run = runs[0]
                break
            time.sleep(0.2)
    finally:
        sampler.stop()
    if run.status != dg.DagsterRunStatus.SUCCESS:
        raise RuntimeError(f"run {run.run_id} ({label}) ended {run.status.value}: see the UI or the daemon's log")
    if (worker_pid is not None) != run.tags.get(WORKER_FORK_TAG, "").isdigit():
        raise RuntimeError(f"run {run.run_id} ({label}) was not launched the way this round measures")
    starting = event_time(instance, run.run_id, dg.DagsterEventType.RUN_STARTING)
    ended = event_time(instance, run.run_id, dg.DagsterEventType.RUN_SUCCESS)
    return ended - starting, sampler.peak_bytes / 2**20


def event_time(instance, run_id: str, kind) -> float:
    records = instance.get_records_for_run(run_id, of_type=kind).records
    return records[0].event_log_entry.timestamp


def print_table(rows: list[dict]) -> None:
    print()
    print("| round | default launcher | through the worker | reference | default / reference | worker / reference "
          "| peak MiB default, worker |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        (default_s, default_mb), (worker_s, worker_mb), reference_s = row["default"], row["worker"], row["reference"]
        print(f"| {row['round']} | {default_s:.1f} s | {worker_s:.1f} s | {reference_s:.1f} s | "
              f"{default_s / reference_s:.2f}x | {worker_s / reference_s:.2f}x | {default_mb:,.0f}, {worker_mb:,.0f} |")
    medians = [statistics.median(row[key][0] / row["reference"] for row in rows) for key in ("default", "worker")]
    print(f"\nmedian ratio: default launcher {medians[0]:.2f}x, through the worker {medians[1]:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
