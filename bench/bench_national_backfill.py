"""Benchmark of issue 3: a national-scale backfill, then one incremental month.

What it measures
----------------
1. generate: the project's generator at national scale,
   `generate_sample(out, start="2004-09", end=<--to>, scale="finland")` (about 300 synthetic
   municipalities in 19 regions, about 500,000 jobseekers registered at a time);
2. backfill: every month but the last in one Dagster run, `run_months(first, last_but_one)`
   (reference_job, then monthly_job: ingest, one dbt invocation, GX checks, publishing);
3. incremental: the last month alone, `run_months(last, last)`.

For each step: wall time, CPU time, peak resident memory (each step runs in its own worker
process; see bench/_measure.py for how the worker, the dbt child and the whole tree are
measured), rows in (rows of raw.jobseeker_spells and raw.kela_payments for the step's
months) and rows out (rows of marts.fct_person_month_status, marts.fct_indicators_monthly
and the published indicators_monthly for the step's months). Then the Dagster steps of the
backfill and incremental runs and, per dbt invocation, each dbt node's execution time from
its run_results.json (dbt_project/target/<op>-<run id>-<uuid>/).

The run is isolated: landing, warehouse, quarantine, reports and DAGSTER_HOME are in the
work folder, with a bench pseudonym key, KAIRA_AREA_SCOPE=all and
KAIRA_MUNICIPALITY_SET=synthetic (the seed `synthetic_municipalities`). It asserts only that
the runs succeeded.

How to run (from the repository root)
-------------------------------------
    .venv/bin/python bench/bench_national_backfill.py                 # 2004-09 .. 2007-12
    .venv/bin/python bench/bench_national_backfill.py --to 2005-12    # a shorter try
    .venv/bin/python bench/bench_national_backfill.py --workdir /tmp/kaira-national --keep

The full range takes many minutes: run it with nohup in the background. The work folder
(a temporary one by default) is removed at the end unless --keep or --workdir is given;
`--reuse-landing` skips the generate step when the work folder already holds the sample.
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
LAST_MONTH = "2007-12"
STEPS = ("generate", "backfill", "incremental")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="first", default=FIRST_MONTH, metavar="YYYY-MM", help="first month")
    parser.add_argument("--to", dest="last", default=LAST_MONTH, metavar="YYYY-MM",
                        help=f"last month (default {LAST_MONTH}); the incremental step runs it alone")
    parser.add_argument("--workdir", help="work folder (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--reuse-landing", action="store_true",
                        help="skip generating when the work folder's landing already holds the sample")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help=f"the steps to run, of {','.join(STEPS)} (default all); e.g. 'incremental' "
                        "with --workdir reruns the last month on a kept work folder")
    args = parser.parse_args(argv)
    args.steps = [name.strip() for name in args.steps.split(",") if name.strip()]
    if not args.steps or set(args.steps) - set(STEPS):
        parser.error(f"--steps: choose from {', '.join(STEPS)}")
    if len(_measure.months_between(args.first, args.last)) < 2:
        parser.error("give at least two months: a backfill and an incremental month")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = _measure.make_workdir(args.workdir, "kaira-national-")
    environment = _measure.bench_environment(workdir, area_scope="all", municipality_set="synthetic")
    _measure.apply_environment(environment)
    months = _measure.months_between(args.first, args.last)
    backfill_months, incremental_months = months[:-1], months[-1:]
    logs = workdir / "logs"
    print(f"national backfill bench: {args.first} .. {args.last}, work folder {workdir}", flush=True)
    print(f"(the steps' Dagster and dbt output: {logs}/<step>.log)", flush=True)

    began = time.monotonic()
    steps: list[_measure.StepFigures] = []
    finished = False
    try:
        landing = Path(environment["KAIRA_LANDING_DIR"])
        if "generate" not in args.steps or (args.reuse_landing and (landing / "README.txt").exists()):
            print("generate: skipped, reusing the landing folder", flush=True)
        else:
            generate = _measure.run_step("generate", "_measure:generate", months, log_dir=logs,
                                         out=str(landing), start=args.first, end=args.last, scale="finland")
            generate.rows_out = {f"landing {source}": rows for source, rows in generate.value["rows"].items()}
            steps.append(generate)
            _progress(generate)

        for name, step_months in (("backfill", backfill_months), ("incremental", incremental_months)):
            if name not in args.steps:
                continue
            try:
                step = _measure.run_step(name, "_measure:pipeline_run", step_months, log_dir=logs,
                                         first=step_months[0], last=step_months[-1])
            except _measure.StepFailed as failure:
                # Killed (out of memory) or crashed: print what was measured, and how far the runs got.
                failure.figures.rows_in, failure.figures.rows_out = _measure.warehouse_rows(
                    Path(environment["KAIRA_WAREHOUSE_DIR"]), step_months)
                steps.append(failure.figures)
                _measure.print_steps(f"national scale, {args.first} .. {args.last} (FAILED in {name})", steps)
                _measure.print_run_breakdown(f"{name} (failed)", _measure.runs_since(failure.figures.started_at),
                                             failure.figures.samples)
                raise
            step.rows_in, step.rows_out = _measure.warehouse_rows(Path(environment["KAIRA_WAREHOUSE_DIR"]), step_months)
            steps.append(step)
            _progress(step)
            if not step.value["success"]:  # a failed Dagster run: show how far it got, then fail
                _measure.print_steps(f"national scale, {args.first} .. {args.last} (FAILED in {name})", steps)
                _measure.print_run_breakdown(name, step.value["run_ids"], step.samples)
                raise AssertionError(f"{name} run failed: {step.value['failure']}")

        _measure.print_steps(f"national scale, {args.first} .. {args.last}", steps)
        for step in (s for s in steps if s.name != "generate"):
            _measure.print_run_breakdown(f"{step.name} ({step.months[0]} .. {step.months[-1]})", step.value["run_ids"],
                                         step.samples)
        print(f"\ntotal {time.monotonic() - began:,.0f} s", flush=True)
        finished = True
    finally:
        if args.keep or args.workdir or not finished:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _progress(step: _measure.StepFigures) -> None:
    print(f"{step.name}: {step.wall_s:,.1f} s, peak RSS tree {step.tree_peak_mb:,.0f} MiB", flush=True)


if __name__ == "__main__":
    sys.exit(main())
