"""Ingest throughput: on a generated national-scale file, or on the months of a landing
folder as the ingest assets load them; prints figures.

    .venv/bin/python bench/bench_ingest.py [--rows 1500000] [--source jobseeker_spells|kela_payments]
    .venv/bin/python bench/bench_ingest.py --landing /tmp/kaira-scale/landing [--months 30] [--key KEY] [--workdir DIR]
    .venv/bin/python bench/bench_ingest.py --landing /tmp/kaira-scale/landing --dagster

Generated file (default): writes a synthetic file (identity codes with individual numbers
900-999 only) to a temporary folder, runs `ingest_month` on it into a fresh DuckDB file and
prints the rows per second of the whole load and of its stages.

`--landing DIR`: loads the first `--months` months of DIR (all by default; the folder is
only read) into a fresh warehouse in a temporary folder (or in `--workdir`, a new folder
that is kept, e.g. to compare the tables with another build's), both registers, each in its own
worker process running the months as the ingest asset does (one run, oldest month
first). Per register it prints the months, rows read, wall seconds, CPU seconds (all
threads), rows per second and the worker's peak RSS (`ru_maxrss`: imports included, no
Dagster). The key is the public demo key unless `--key` is given, so DIR must carry the
sample's synthetic marker. Other work on the machine slows the wall time far more than
the CPU time: the load average is printed before and after.

`--dagster`: instead, both ingest assets in one in-process Dagster run over those months
(as a backfill runs them, one step after the other in one process); prints each step's
time from the run's events (what bench_scale.py's Dagster step table shows), and the
process's peak RSS, Dagster included.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.core.identity_codes import make_identity_code
from pipelines.core.pseudonym_key import DEMO_PSEUDONYM_KEY
from pipelines.core.settings import load_settings
from pipelines.sources import jobseeker, kela
from pipelines.sources.csv_reader import read_landing_csv
from pipelines.sources.loader import SOURCES, expected_path, ingest_month, ingest_months

MONTH = "2024-03"


def synthetic_codes(n: int, seed: int = 1) -> list[str]:
    """n distinct codes: birth dates 1960-2004, individual numbers 900-999."""
    rng = np.random.default_rng(seed)
    days = 365 * 45
    if n > days * 100:
        raise ValueError(f"at most {days * 100:,} distinct synthetic codes")
    picks = rng.choice(days * 100, size=n, replace=False)
    start = date(1960, 1, 1)
    return [make_identity_code(start + timedelta(days=int(p // 100)), 900 + int(p % 100)) for p in picks]


def spells_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    """Three consecutive, non-overlapping spells per person, all overlapping MONTH."""
    persons = -(-rows // 3)
    codes = np.repeat(np.array(synthetic_codes(persons, seed), dtype=object), 3)[:rows]
    k = np.tile(np.arange(3), persons)[:rows]
    starts = np.array(["2023-11-01", "2024-03-06", "21.3.2024"])[k]
    ends = np.array(["2024-03-05", "20.3.2024", ""])[k]
    status = np.array(["TYOTON", "PALVELU", "LOMAUTETTU"])[k]
    service = np.array(["", "TYOVOIMAKOULUTUS", ""])[k]
    municipalities = np.array(["205", "105", "290", "578", "620", "697", "765", "777", "091", "005"])
    return pd.DataFrame(
        {
            "henkilotunnus": codes,
            "jakso_id": [f"J{i:08d}" for i in range(rows)],
            "alkupvm": starts,
            "loppupvm": ends,
            "tila": status,
            "palvelu": service,
            "kuntanumero": municipalities[np.repeat(np.arange(persons) % 10, 3)[:rows]],
        }
    )


def payments_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 24, size=rows)
    return pd.DataFrame(
        {
            "henkilotunnus": synthetic_codes(rows, seed),
            "maksukuukausi": MONTH,
            "kuntanumero": "205",
            "etuus": "TMT",
            "maksetut_paivat": days,
            "kertyneet_paivat": days + rng.integers(0, 2000, size=rows),
            "maksettu_eur": [f"{v / 100:.2f}".replace(".", ",") for v in rng.integers(-5000, 200000, size=rows)],
            "kuntaosuus_eur": [f"{v / 100:.2f}" for v in rng.integers(-2000, 100000, size=rows)],
        }
    )


def landing_months(landing: Path, source: str) -> list[str]:
    """The months of `source` that landed in `landing`, oldest first."""
    pattern = expected_path(source, "2000-01", landing)
    return sorted(p.stem.rsplit("_", 1)[1] for p in pattern.parent.glob(pattern.name.replace("2000-01", "????-??")))


def load_months(source: str, months: list[str], settings_env: dict[str, str]) -> dict[str, float]:
    """In a worker: the months of `source` loaded as the ingest asset loads them."""
    settings = load_settings(settings_env)
    began, cpu_began = time.perf_counter(), time.process_time()
    reports = ingest_months(source, months, settings, report_ignored_columns=False)
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu_began
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rows_read": sum(r.rows_read for r in reports),
        "rows_rejected": sum(r.rows_rejected for r in reports),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def load_months_in_dagster(months: list[str], settings_env: dict[str, str]) -> dict[str, object]:
    """In a worker: both ingest assets over `months` in one in-process Dagster run, as a
    backfill runs them; each step's time from the run's events."""
    import warnings

    import dagster as dg

    from pipelines.resources import SettingsResource

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # backfill_policy is a beta parameter
        from pipelines.sources.assets import raw_jobseeker_spells, raw_kela_payments

    os.environ.update(settings_env)  # the SettingsResource reads the environment
    instance = dg.DagsterInstance.ephemeral()
    began, cpu_began = time.perf_counter(), time.process_time()
    result = dg.materialize(
        [raw_jobseeker_spells, raw_kela_payments],
        instance=instance,
        resources={"settings": SettingsResource()},
        tags={
            "dagster/asset_partition_range_start": f"{months[0]}-01",
            "dagster/asset_partition_range_end": f"{months[-1]}-01",
        },
    )
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu_began
    started: dict[str, float] = {}
    steps: dict[str, float] = {}
    for record in instance.all_logs(result.run_id):
        event = record.dagster_event
        if event is not None and event.event_type_value == "STEP_START":
            started[event.step_key] = record.timestamp
        elif event is not None and event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = record.timestamp - started[event.step_key]
    # The run's metadata: the same on the materialization of each partition.
    rows = {step: result.asset_materializations_for_node(step)[0].metadata["rows_loaded"].value for step in steps}
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "steps": steps,
        "rows_loaded": rows,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def bench_landing(landing: Path, months: int | None, key: str, workdir: Path | None, *, dagster: bool = False) -> None:
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    if workdir is not None and workdir.exists():
        raise SystemExit(f"--workdir {workdir} exists: give a new folder (the warehouse must start empty)")
    with tempfile.TemporaryDirectory(prefix="kaira-bench-ingest-") as scratch:
        tmp = str(workdir) if workdir is not None else scratch
        env = {
            "KAIRA_LANDING_DIR": str(landing),
            "KAIRA_WAREHOUSE_DIR": f"{tmp}/warehouse",
            "KAIRA_QUARANTINE_DIR": f"{tmp}/quarantine",
            "KAIRA_PSEUDONYM_KEY": key,
        }
        if dagster:
            chosen = sorted(set(landing_months(landing, jobseeker.SOURCE)) & set(landing_months(landing, kela.SOURCE)))
            figures = _worker({"dagster": True, "months": chosen[:months], "env": env}, "Dagster")
            for step, seconds in figures["steps"].items():
                rows = figures["rows_loaded"][step]
                print(f"{step:21s} {len(chosen[:months]):3d} months {rows:>10,} rows loaded {seconds:6.1f} s {rows / seconds:>9,.0f} rows/s")
            print(f"{'the run':21s} {'':10s} {sum(figures['rows_loaded'].values()):>10,} rows        {figures['seconds']:6.1f} s "
                  f"(CPU {figures['cpu_seconds']:5.1f} s)  peak RSS {figures['peak_rss_mb']:,.0f} MB")
        else:
            total_rows, total_s, total_cpu = 0, 0.0, 0.0
            for source in (jobseeker.SOURCE, kela.SOURCE):
                chosen = landing_months(landing, source)[:months]
                figures = _worker({"source": source, "months": chosen, "env": env}, source)
                total_rows, total_s = total_rows + figures["rows_read"], total_s + figures["seconds"]
                total_cpu += figures["cpu_seconds"]
                print(
                    f"{source:17s} {len(chosen):3d} months {figures['rows_read']:>10,} rows "
                    f"({figures['rows_rejected']:,} rejected) {figures['seconds']:6.1f} s (CPU {figures['cpu_seconds']:5.1f} s) "
                    f"{figures['rows_read'] / figures['seconds']:>9,.0f} rows/s  peak RSS {figures['peak_rss_mb']:,.0f} MB"
                )
            print(f"{'both':17s} {'':10s} {total_rows:>10,} rows {'':{len(' (0 rejected)')}s}{total_s:6.1f} s "
                  f"(CPU {total_cpu:5.1f} s) {total_rows / total_s:>9,.0f} rows/s")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def _worker(spec: dict, what: str) -> dict:
    """Run this script as a worker process (its peak RSS is its own) and return its figures."""
    worker = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True)
    if worker.returncode:
        raise SystemExit(f"{what}: the worker failed:\n{worker.stderr}")
    return json.loads(worker.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--source", choices=sorted(SOURCES), default=jobseeker.SOURCE)
    parser.add_argument("--landing", type=Path, help="load the months of this landing folder instead")
    parser.add_argument("--months", type=int, help="with --landing: only the first N months")
    parser.add_argument("--key", default=DEMO_PSEUDONYM_KEY, help="with --landing: the pseudonymisation key")
    parser.add_argument("--workdir", type=Path, help="with --landing: a new folder for the warehouse, kept")
    parser.add_argument("--dagster", action="store_true", help="with --landing: both assets in one Dagster run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        if spec.get("dagster"):
            print(json.dumps(load_months_in_dagster(spec["months"], spec["env"])))
        else:
            print(json.dumps(load_months(spec["source"], spec["months"], spec["env"])))
        return
    if args.landing:
        bench_landing(args.landing.resolve(), args.months, args.key, args.workdir, dagster=args.dagster)
        return
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {
                "KAIRA_LANDING_DIR": f"{tmp}/landing",
                "KAIRA_WAREHOUSE_DIR": f"{tmp}/warehouse",
                "KAIRA_QUARANTINE_DIR": f"{tmp}/quarantine",
                "KAIRA_PSEUDONYM_KEY": "benchmark-key-not-secret-at-least-32-bytes",
            }
        )
        path = expected_path(args.source, MONTH, settings.landing_dir)
        path.parent.mkdir(parents=True)
        t = time.perf_counter()
        frame = spells_frame(args.rows) if args.source == jobseeker.SOURCE else payments_frame(args.rows)
        frame.to_csv(path, sep=";", index=False)
        print(f"generated {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")

        spec = SOURCES[args.source]
        t = time.perf_counter()
        landing = read_landing_csv(path, spec.columns, name=path.name)
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        spec.validate(landing, MONTH, settings.pseudonym_key)
        validate_s = time.perf_counter() - t
        t = time.perf_counter()
        report = ingest_month(args.source, MONTH, settings)
        total_s = time.perf_counter() - t
        print(f"read:     {read_s:6.1f} s  ({args.rows / read_s:,.0f} rows/s)")
        print(f"validate: {validate_s:6.1f} s  ({args.rows / validate_s:,.0f} rows/s)")
        print(
            f"ingest_month (read + validate + load into DuckDB): {total_s:.1f} s, "
            f"{report.rows_read / total_s:,.0f} rows/s; loaded {report.rows_loaded:,}, rejected {report.rows_rejected:,}"
        )


if __name__ == "__main__":
    main()
