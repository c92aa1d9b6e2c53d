"""The GX check steps alone, on a warehouse that a backfill built: time per suite, the
import of Great Expectations, and the peak memory of this process.

    .venv/bin/python bench/bench_checks.py --warehouse /tmp/gxpush/warehouse --from 2011-07 --to 2013-12

`--warehouse` is the folder holding `kaira.duckdb` (a copy: the checks open it read-only,
but nothing here should depend on that for data someone else owns). The suites are the
run's own (`warehouse_checks.STEP_SUITES`), validated step by step as Dagster runs them
(`validate_suites` per step, one process for all, in the order the in-process executor
runs them, so the first step, gx_marts, pays the import of Great Expectations); `--steps` picks some. Prints per step
its seconds, its CPU seconds (DuckDB's threads included) and the peak RSS so far, per suite its rows, checks not met and observed
texts; then the process's peak RSS (`ru_maxrss`) and the load averages before and after,
since the machine is shared. `--repeat N` runs the steps N times (the first includes the
import) and prints each step's best time as well: on a busy machine the best is the
closest to an idle one.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system time of this process so far (DuckDB's threads included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", required=True, help="folder holding kaira.duckdb")
    parser.add_argument("--from", dest="first", default="2011-07", metavar="YYYY-MM")
    parser.add_argument("--to", dest="last", default="2013-12", metavar="YYYY-MM")
    parser.add_argument("--steps", help="comma-separated step names (default: every GX step)")
    parser.add_argument("--repeat", type=int, default=1, help="run the steps this many times (default 1)")
    args = parser.parse_args(argv)

    folder = Path(args.warehouse).resolve()
    if not (folder / "kaira.duckdb").is_file():
        parser.error(f"{folder / 'kaira.duckdb'} does not exist")

    import _measure

    from pipelines.core.months import parse_month
    from pipelines.resources import SettingsResource, WarehouseResource
    from pipelines.validation.checks import CheckScope, validate_suites
    from pipelines.validation.warehouse_checks import STEP_SUITES

    # Dagster's in-process executor runs the three steps in this order (by name): gx_marts
    # first, so it pays the import of GX.
    steps = args.steps.split(",") if args.steps else sorted(STEP_SUITES)
    unknown = set(steps) - set(STEP_SUITES)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; known: {sorted(STEP_SUITES)}")
    months = tuple(parse_month(m) for m in _measure.months_between(args.first, args.last))
    settings = SettingsResource(warehouse_dir=str(folder))
    scope = CheckScope(WarehouseResource(settings=settings), months)

    print(f"warehouse {folder / 'kaira.duckdb'}, months {args.first}..{args.last} ({len(months)})")
    print(f"load before: {load()}   peak RSS before the checks: {peak_mb():.0f} MB")
    best: dict[str, float] = {}
    failed = 0
    for round_ in range(1, args.repeat + 1):
        total = 0.0
        for step in steps:
            before, cpu_before = time.perf_counter(), cpu_seconds()
            results = validate_suites(STEP_SUITES[step], scope)
            seconds, cpu = time.perf_counter() - before, cpu_seconds() - cpu_before
            best[step] = min(best.get(step, seconds), seconds)
            total += seconds
            print(f"round {round_} {step:44} {seconds:7.2f} s  CPU {cpu:6.2f} s  peak RSS {peak_mb():6.0f} MB")
            if round_ > 1:
                continue
            for result in results:
                if result.error is not None:
                    failed += 1
                    print(f"    {result.suite.suite_name}: could not validate: {result.error!r}")
                not_met = [o.check_name for o in result.outcomes if not o.success]
                print(f"    {result.suite.suite_name}: {result.rows:,} rows, not met: {', '.join(not_met) or '-'}")
                for outcome in result.outcomes:
                    print(f"      {outcome.check_name}: {outcome.observed}")
        print(f"round {round_}: all GX steps {total:.2f} s")
    print("best per step: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in best.items())
          + f"; sum {sum(best.values()):.2f} s (the first round's first step includes the import)")
    print(f"peak RSS {peak_mb():.0f} MB; load after: {load()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
