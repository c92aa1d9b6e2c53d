"""Benchmark of issue 12: the whole pipeline against a bare DuckDB derivation of the same
person indicators from the same files, side by side in one run.

Two samples
-----------
- `--sample mk18` (default): the generator's Kainuu scale with `--population 20`, about
  200,000 persons in each delivery, 2011-07 .. 2013-12 (30 months), scope MK18. Steps:
  generate; `backfill` = the whole range through Dagster (`run_months`, as `kaira run`
  does: reference data, ingest, one dbt invocation, GX checks, publishing, reports);
  `reference backfill` = bench/_reference.py over the same 30 files.
- `--sample national`: the national scale (about 500,000 jobseekers at a time, ~300
  synthetic municipalities), scope `all`, KAIRA_MUNICIPALITY_SET=synthetic, 2006-01 ..
  2007-06 by default. Steps: generate; `backfill` of every month but the last; then
  `incremental` = the last month alone, as the monthly schedule runs it (reports included);
  `reference month` = the bare derivation of that month from its 17-file window (M-16 .. M).

Each step runs in its own worker process (bench/_measure.py): wall time, process time
(imports included), CPU, peak memory of the worker, of its largest child and of the
sampled process tree, and the share of the machine's CPU that other work used meanwhile.
The ratios set the pipeline's process time against the reference's. Then the reference's
counts are compared with the warehouse's uncensored `marts.fct_indicators_monthly`; any
mismatch is printed and fails the bench (exit 1), so the yardstick is known to compute the
same figures. Last, the Dagster steps of each run (with the memory sampled while each ran)
and the dbt nodes.

`--repeat N` runs the national month and its reference N times, one after the other (mk18:
the reference N times after the one backfill), and prints every pair's ratio and their
median: the other work on a shared machine changes from minute to minute, and one pair's
ratio moved by 10 % from one run to the next.

The step `resident` (national, not in the default steps) starts `kaira worker` once
(pipelines/worker/server.py; its start is not timed: it is started once, not every month),
then in every round types `kaira run` for the national month, which the worker runs in a
fork of itself: the month as it runs with a resident worker, set against the same round's
reference. Its time is what the `kaira run` command took; its CPU, the client's and the
worker's forks' (the run, dbt, Chromium); its memory, the worker's whole tree.

How to run (from the repository root; the full runs take minutes, use nohup)
---------------------------------------------------------------------------
    .venv/bin/python bench/bench_scale.py                                  # 200,000 x 30, MK18
    .venv/bin/python bench/bench_scale.py --population 2 --from 2012-07    # a quick try
    .venv/bin/python bench/bench_scale.py --sample national --workdir /tmp/kaira-nat --keep
    .venv/bin/python bench/bench_scale.py --sample national --workdir /tmp/kaira-nat --reuse-landing \
        --steps incremental,reference --repeat 5                          # five pairs on its warehouse
    .venv/bin/python bench/bench_scale.py --sample national --workdir /tmp/kaira-nat --reuse-landing \
        --steps incremental,resident,reference --repeat 5                 # also through a resident worker
    .venv/bin/python bench/bench_scale.py --workdir /tmp/k --reuse-landing --steps backfill,reference

The work folder (a temporary one by default) is removed at the end unless --keep or
--workdir is given.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _measure  # noqa: E402

SAMPLES = {
    # name: (scale, default population factor, first, last, scope, municipality set)
    "mk18": ("kainuu", 20.0, "2011-07", "2013-12", "MK18", "real"),
    "national": ("finland", 1.0, "2006-01", "2007-06", "all", "synthetic"),
}
STEPS = ("generate", "backfill", "incremental", "reference")
OPTIONAL_STEPS = ("resident",)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", choices=sorted(SAMPLES), default="mk18")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM", help="first month (default: the sample's)")
    parser.add_argument("--to", dest="last", metavar="YYYY-MM", help="last month (default: the sample's)")
    parser.add_argument("--population", type=float, help="the generator's population factor (default: the sample's)")
    parser.add_argument("--workdir", help="work folder (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--reuse-landing", action="store_true",
                        help="skip generating when the work folder's landing already holds the sample")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help=f"of {','.join(STEPS + OPTIONAL_STEPS)} (default {','.join(STEPS)})")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run the incremental month (national) or the reference (mk18) and its partner N times, "
                             "alternately, and print every pair's ratio and their median")
    args = parser.parse_args(argv)
    scale, population, first, last, scope, municipality_set = SAMPLES[args.sample]
    args.scale, args.scope, args.municipality_set = scale, scope, municipality_set
    args.population = args.population or population
    args.first, args.last = args.first or first, args.last or last
    args.steps = [name.strip() for name in args.steps.split(",") if name.strip()]
    if not args.steps or set(args.steps) - set(STEPS + OPTIONAL_STEPS):
        parser.error(f"--steps: choose from {', '.join(STEPS + OPTIONAL_STEPS)}")
    if "resident" in args.steps and args.sample != "national":
        parser.error("--steps resident: the national sample only (it is a monthly run)")
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    if args.sample == "national" and len(_measure.months_between(args.first, args.last)) < 2:
        parser.error("the national sample needs at least two months: a backfill and an incremental month")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = _measure.make_workdir(args.workdir, f"kaira-scale-{args.sample}-")
    environment = _measure.bench_environment(workdir, area_scope=args.scope, municipality_set=args.municipality_set)
    _measure.apply_environment(environment)
    landing, warehouse = Path(environment["KAIRA_LANDING_DIR"]), Path(environment["KAIRA_WAREHOUSE_DIR"])
    months = _measure.months_between(args.first, args.last)
    national = args.sample == "national"
    pipeline_months = {"backfill": months[:-1] if national else months, "incremental": months[-1:] if national else []}
    reference_months = pipeline_months["incremental"] if national else months
    logs = workdir / "logs"
    title = (f"{args.sample}: {args.first} .. {args.last}, scope {args.scope}, {args.municipality_set} municipalities, "
             f"population x{args.population:g}")
    print(f"scale bench, {title}; work folder {workdir}", flush=True)
    print(f"(the steps' Dagster and dbt output: {logs}/<step>.log)", flush=True)

    began = time.monotonic()
    steps: list[_measure.StepFigures] = []
    resident_worker = None
    finished = False
    try:
        if "generate" not in args.steps or (args.reuse_landing and (landing / "README.txt").exists()):
            print("generate: skipped, reusing the landing folder", flush=True)
        else:
            generate = _measure.run_step("generate", "_measure:generate", months, log_dir=logs, out=str(landing),
                                         start=args.first, end=args.last, scale=args.scale,
                                         population=args.population)
            generate.rows_out = {f"landing {source}": rows for source, rows in generate.value["rows"].items()}
            steps.append(generate)
            _progress(generate, f"{generate.value['persons']:,} persons, {generate.value['rows']}")

        backfill = None
        if "backfill" in args.steps and pipeline_months["backfill"]:
            backfill = _pipeline_step("backfill", pipeline_months["backfill"], logs, warehouse, title, steps)
            steps.append(backfill)

        # A pair (the national sample's month, then its reference) per round: the machine's
        # other work varies from minute to minute, and alternating spreads it over both.
        incremental, reference, pairs = None, None, []
        resident_pairs, resident = [], None
        if "resident" in args.steps:
            resident_worker = _measure.start_resident_worker(logs / "kaira-worker.log")
        for number in range(1, args.repeat + 1):
            suffix = f" {number}" if args.repeat > 1 else ""
            if "incremental" in args.steps and pipeline_months["incremental"]:
                incremental = _pipeline_step("incremental" + suffix, pipeline_months["incremental"], logs, warehouse,
                                             title, steps)
                steps.append(incremental)
            if resident_worker is not None:
                resident = _resident_step("resident" + suffix, pipeline_months["incremental"], logs,
                                          resident_worker.pid)
                steps.append(resident)
            if "reference" in args.steps:
                name = ("reference month" if national else "reference backfill") + suffix
                reference = _measure.run_step(name, "_reference:derive", reference_months, log_dir=logs,
                                              landing=str(landing), first=reference_months[0],
                                              last=reference_months[-1], scope=args.scope,
                                              municipality_set=args.municipality_set,
                                              out=str(workdir / "reference.parquet"))
                reference.rows_out = {"person-months derived": reference.value["person_months"]}
                steps.append(reference)
                _progress(reference)
                pipeline = incremental if national else backfill  # mk18: the backfill is its partner
                if pipeline is not None:
                    pairs.append((pipeline, reference))
                if resident is not None:
                    resident_pairs.append((resident, reference))
        if resident_worker is not None:
            _measure.stop_resident_worker(resident_worker)
            resident_worker = None

        comparison = None
        if reference is not None:  # every round's reference writes the same file: compared once
            import _reference

            comparison = _reference.compare(str(workdir / "reference.parquet"), str(warehouse / "kaira.duckdb"),
                                            reference_months[0], reference_months[-1])

        _measure.print_steps(title, steps)
        _print_ratios(pairs)
        _print_ratios(resident_pairs)
        for step in (run for run in (backfill, incremental, resident) if run is not None):  # the last of each
            _measure.print_run_breakdown(f"{step.name} ({step.months[0]} .. {step.months[-1]})",
                                         step.value["run_ids"], step.samples)
        mismatched = _print_comparison(comparison)
        print(f"\ntotal {time.monotonic() - began:,.0f} s", flush=True)
        finished = True
        return 1 if mismatched else 0
    finally:
        if resident_worker is not None:  # a step failed: the worker must not outlive the bench
            _measure.stop_resident_worker(resident_worker)
        if args.keep or args.workdir or not finished:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _pipeline_step(name: str, months: list[str], logs: Path, warehouse: Path, title: str,
                   steps: list[_measure.StepFigures]) -> _measure.StepFigures:
    """`run_months` over `months` in a worker; a failed run prints its steps and raises."""
    step = _measure.run_step(name, "_measure:pipeline_run", months, log_dir=logs, first=months[0], last=months[-1])
    step.rows_in, step.rows_out = _measure.warehouse_rows(warehouse, months)
    _progress(step)
    if not step.value["success"]:
        _measure.print_steps(f"{title} (FAILED in {name})", [*steps, step])
        _measure.print_run_breakdown(name, step.value["run_ids"], step.samples)
        raise AssertionError(f"{name} run failed: {step.value['failure']}")
    return step


def _resident_step(name: str, months: list[str], logs: Path, worker_pid: int) -> _measure.StepFigures:
    """`kaira run` for `months` handed to the resident worker; a failed run raises. Its CPU
    is the client's and the worker's children's (the run's and dbt's forks, Chromium and its
    helpers: the worker reaps them all), read once the worker has reaped them."""
    forks_cpu = _measure.children_cpu_s(worker_pid)
    step = _measure.run_step(name, "_measure:resident_run", months, log_dir=logs, also_sample=worker_pid,
                             first=months[0], last=months[-1])
    time.sleep(1.0)  # the worker reaps twice a second
    forks_cpu = _measure.children_cpu_s(worker_pid) - forks_cpu
    # The command's own time: the step's process only started the client and waited.
    step.wall_s = step.value["client_wall_s"]
    step.cpu_s += forks_cpu
    step.other_cpu_share = max(0.0, step.other_cpu_share - forks_cpu / (step.process_s * _measure.CORES))
    _progress(step)
    if not step.value["success"]:
        raise AssertionError(f"{name} run failed: {step.value['failure']}")
    return step


def _print_ratios(pairs: list[tuple[_measure.StepFigures, _measure.StepFigures]]) -> None:
    """Each (pipeline, reference) pair's ratios; with several pairs, their median too."""
    for pipeline, reference in pairs:
        goal = 4 if pipeline.name == "backfill" else 3
        print(f"\n== ratio {pipeline.name} / {reference.name} (goal <= {goal}x, peak <= 4 GiB)")
        print(f"   process time (imports included): {pipeline.process_s:,.1f} s / {reference.process_s:,.1f} s = "
              f"{pipeline.process_s / reference.process_s:.1f}x")
        print(f"   wall time of the call:           {pipeline.wall_s:,.1f} s / {reference.wall_s:,.1f} s = "
              f"{pipeline.wall_s / reference.wall_s:.1f}x")
        print(f"   peak RSS of the process tree:    {pipeline.tree_peak_mb:,.0f} MiB / "
              f"{reference.tree_peak_mb:,.0f} MiB")
        print(f"   other CPU share meanwhile:       {100 * pipeline.other_cpu_share:.0f} % / "
              f"{100 * reference.other_cpu_share:.0f} %")
    if len(pairs) > 1:
        walls = sorted(pipeline.wall_s / reference.wall_s for pipeline, reference in pairs)
        processes = sorted(pipeline.process_s / reference.process_s for pipeline, reference in pairs)
        print(f"\n== {len(pairs)} pairs of {pairs[0][0].name.split()[0]}: wall-time ratio median {statistics.median(walls):.2f}x "
              f"(from {walls[0]:.2f}x to {walls[-1]:.2f}x); process-time ratio median "
              f"{statistics.median(processes):.2f}x; pipeline wall median "
              f"{statistics.median(p.wall_s for p, _ in pairs):.1f} s, reference "
              f"{statistics.median(r.wall_s for _, r in pairs):.1f} s; largest tree peak "
              f"{max(p.tree_peak_mb for p, _ in pairs):,.0f} MiB")


def _print_comparison(comparison: dict | None) -> int:
    if comparison is None:
        return 0
    print(f"\n== reference vs marts.fct_indicators_monthly: {comparison['cells']:,} cells compared, "
          f"{comparison['mismatched']:,} differ")
    print("   cells per indicator: " + ", ".join(f"{k} {v:,}" for k, v in comparison["cells_by_indicator"].items()))
    for month, area, sex, indicator, pipeline, reference in comparison["examples"]:
        print(f"   DIFFERS {month} {area} {sex} {indicator}: pipeline {pipeline}, reference {reference}")
    if not comparison["cells"]:
        print("   NOTHING COMPARED: the mart holds none of the reference's months")
        return 1
    return comparison["mismatched"]


def _progress(step: _measure.StepFigures, detail: str = "") -> None:
    print(f"{step.name}: {step.wall_s:,.1f} s, peak RSS tree {step.tree_peak_mb:,.0f} MiB {detail}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
