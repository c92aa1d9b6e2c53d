"""Reference benchmark: the Kainuu demo range, as `kaira demo` runs it.

What it measures
----------------
1. generate: the project's generator with its defaults (`scale="kainuu"`, 2004-09 .. 2013-12:
   Kainuu's nine municipalities, about 11,000 jobseekers registered at a time);
2. backfill: the whole range in one Dagster run, `run_months("2004-09", "2013-12")`
   (reference_job, then monthly_job: ingest, one dbt invocation, GX checks, publishing).

The figures are those of bench_national_backfill.py (see bench/_measure.py): wall time, CPU
time, peak resident memory of the worker process, of its largest child (dbt) and of the
sampled process tree, rows in (raw.jobseeker_spells, raw.kela_payments) and rows out
(fct_person_month_status, fct_indicators_monthly, published indicators_monthly), then the
run's Dagster steps and each dbt node's time from run_results.json.

The run is isolated in the work folder, with a bench pseudonym key and the demo's scope
(KAIRA_AREA_SCOPE=MK18, KAIRA_MUNICIPALITY_SET=real). It asserts only that the run succeeded.

How to run (from the repository root)
-------------------------------------
    .venv/bin/python bench/bench_kainuu.py
    .venv/bin/python bench/bench_kainuu.py --to 2008-12 --workdir /tmp/kaira-kainuu --keep
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _measure  # noqa: E402

FIRST_MONTH = "2004-09"
LAST_MONTH = "2013-12"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="first", default=FIRST_MONTH, metavar="YYYY-MM", help="first month")
    parser.add_argument("--to", dest="last", default=LAST_MONTH, metavar="YYYY-MM", help=f"last month ({LAST_MONTH})")
    parser.add_argument("--workdir", help="work folder (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--reuse-landing", action="store_true",
                        help="skip generating when the work folder's landing already holds the sample")
    args = parser.parse_args(argv)

    workdir = _measure.make_workdir(args.workdir, "kaira-kainuu-")
    environment = _measure.bench_environment(workdir, area_scope="MK18", municipality_set="real")
    _measure.apply_environment(environment)
    months = _measure.months_between(args.first, args.last)
    logs = workdir / "logs"
    print(f"Kainuu bench: {args.first} .. {args.last}, work folder {workdir}", flush=True)
    print(f"(the steps' Dagster and dbt output: {logs}/<step>.log)", flush=True)

    began = time.monotonic()
    steps: list[_measure.StepFigures] = []
    finished = False
    try:
        landing = Path(environment["KAIRA_LANDING_DIR"])
        if args.reuse_landing and (landing / "README.txt").exists():
            print("generate: skipped, reusing the landing folder", flush=True)
        else:
            generate = _measure.run_step("generate", "_measure:generate", months, log_dir=logs,
                                         out=str(landing), start=args.first, end=args.last, scale="kainuu")
            generate.rows_out = {f"landing {source}": rows for source, rows in generate.value["rows"].items()}
            steps.append(generate)
            print(f"generate: {generate.wall_s:,.1f} s", flush=True)

        backfill = _measure.run_step("backfill", "_measure:pipeline_run", months, log_dir=logs,
                                     first=months[0], last=months[-1])
        backfill.rows_in, backfill.rows_out = _measure.warehouse_rows(Path(environment["KAIRA_WAREHOUSE_DIR"]), months)
        steps.append(backfill)
        print(f"backfill: {backfill.wall_s:,.1f} s", flush=True)
        if not backfill.value["success"]:  # a failed Dagster run: show how far it got, then fail
            _measure.print_steps(f"Kainuu (MK18), {args.first} .. {args.last} (FAILED)", steps)
            _measure.print_run_breakdown("backfill", backfill.value["run_ids"], backfill.samples)
            raise AssertionError(f"backfill run failed: {backfill.value['failure']}")

        _measure.print_steps(f"Kainuu (MK18), {args.first} .. {args.last}", steps)
        _measure.print_run_breakdown(f"backfill ({months[0]} .. {months[-1]})", backfill.value["run_ids"],
                                     backfill.samples)
        print(f"\ntotal {time.monotonic() - began:,.0f} s", flush=True)
        finished = True
    finally:
        if args.keep or args.workdir or not finished:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
