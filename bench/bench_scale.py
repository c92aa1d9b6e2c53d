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

The step `warm` (national, not in the default steps) runs the national month `--warm-runs`
times in one worker process and prints each run's time, and against the median reference
of the same bench: the runs after the first find the modules imported and the definitions
loaded, which is what a Kaira process kept between months would save (dbt's subprocess and
Chromium still start each time). A measurement for a design change, not a way `kaira run`
works.

How to run (from the repository root; the full runs take minutes, use nohup)
---------------------------------------------------------------------------
    .venv/bin/python bench/bench_scale.py                                  # 200,000 x 30, MK18
    .venv/bin/python bench/bench_scale.py --population 2 --from 2012-07    # a quick try
    .venv/bin/python bench/bench_scale.py --sample national --workdir /tmp/kaira-nat --keep
    .venv/bin/python bench/bench_scale.py --sample national --workdir /tmp/kaira-nat --reuse-landing \
        --steps incremental,reference --repeat 5                          # five pairs on its warehouse
    .venv/bin/python bench/bench_scale.py --sample national --workdir /tmp/kaira-nat --reuse-landing \
        --steps reference,warm --repeat 3                                 # the month in a warm process
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
OPTIONAL_STEPS = ("warm",)


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
    parser.add_argument("--warm-runs", type=int, default=3, metavar="N",
                        help="the step warm: the national month N times in one process (default 3)")
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
    if "warm" in args.steps and (args.sample != "national" or args.warm_runs < 2):
        parser.error("--steps warm: the national sample, and --warm-runs of at least 2")
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
        incremental, reference, pairs, references = None, None, [], []
        for number in range(1, args.repeat + 1):
            suffix = f" {number}" if args.repeat > 1 else ""
            if "incremental" in args.steps and pipeline_months["incremental"]:
                incremental = _pipeline_step("incremental" + suffix, pipeline_months["incremental"], logs, warehouse,
                                             title, steps)
                steps.append(incremental)
            if "reference" in args.steps:
                name = ("reference month" if national else "reference backfill") + suffix
                reference = _measure.run_step(name, "_reference:derive", reference_months, log_dir=logs,
                                              landing=str(landing), first=reference_months[0],
                                              last=reference_months[-1], scope=args.scope,
                                              municipality_set=args.municipality_set,
                                              out=str(workdir / "reference.parquet"))
                reference.rows_out = {"person-months derived": reference.value["person_months"]}
                steps.append(reference)
                references.append(reference)
                _progress(reference)
                pipeline = incremental if national else backfill  # mk18: the backfill is its partner
                if pipeline is not None:
                    pairs.append((pipeline, reference))

        warm = None
        if "warm" in args.steps:
            warm = _measure.run_step("warm", "_measure:pipeline_runs", pipeline_months["incremental"], log_dir=logs,
                                     first=pipeline_months["incremental"][0], last=pipeline_months["incremental"][-1],
                                     times=args.warm_runs)
            steps.append(warm)
            _progress(warm)
            if not warm.value["success"]:
                raise AssertionError(f"warm run failed: {warm.value['failure']}")

        comparison = None
        if reference is not None:  # every round's reference writes the same file: compared once
            import _reference

            comparison = _reference.compare(str(workdir / "reference.parquet"), str(warehouse / "kaira.duckdb"),
                                            reference_months[0], reference_months[-1])

        _measure.print_steps(title, steps)
        _print_ratios(pairs)
        if warm is not None:
            _print_warm(warm, statistics.median(step.wall_s for step in references) if references else None)
        for step in (run for run in (backfill, incremental) if run is not None):  # the last of each
            _measure.print_run_breakdown(f"{step.name} ({step.months[0]} .. {step.months[-1]})",
                                         step.value["run_ids"], step.samples)
        mismatched = _print_comparison(comparison)
        print(f"\ntotal {time.monotonic() - began:,.0f} s", flush=True)
        finished = True
        return 1 if mismatched else 0
    finally:
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
        print(f"\n== {len(pairs)} pairs: wall-time ratio median {statistics.median(walls):.2f}x "
              f"(from {walls[0]:.2f}x to {walls[-1]:.2f}x); process-time ratio median "
              f"{statistics.median(processes):.2f}x; pipeline wall median "
              f"{statistics.median(p.wall_s for p, _ in pairs):.1f} s, reference "
              f"{statistics.median(r.wall_s for _, r in pairs):.1f} s; largest tree peak "
              f"{max(p.tree_peak_mb for p, _ in pairs):,.0f} MiB")


def _print_warm(warm: _measure.StepFigures, reference_wall: float | None) -> None:
    """Each run of the warm step, against the median reference when there is one."""
    print(f"\n== the national month {len(warm.value['runs'])} times in one process (peak RSS of the tree "
          f"{warm.tree_peak_mb:,.0f} MiB)")
    for number, run in enumerate(warm.value["runs"], start=1):
        ratio = f" = {run['wall_s'] / reference_wall:.2f}x the median reference ({reference_wall:.1f} s)" \
            if reference_wall else ""
        kind = "cold: imports and definitions included" if number == 1 else "warm"
        print(f"   run {number} ({kind}): {run['wall_s']:.1f} s{ratio}")


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
