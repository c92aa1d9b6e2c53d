"""The GX check steps alone, on a warehouse that a backfill built: time per suite, the
import of Great Expectations, and the peak memory of this process.

    .venv/bin/python bench/bench_checks.py --warehouse /tmp/gxpush/warehouse --from 2011-07 --to 2013-12

`--warehouse` is the folder holding `kaira.duckdb` (a copy: the checks open it read-only,
but nothing here should depend on that for data someone else owns). The suites are the
run's own (`warehouse_checks.STEP_SUITES`), validated step by step as Dagster would, one
process for all, as the in-process executor runs them; `--steps` picks some. Prints, per
suite, seconds, rows, checks not met and the growth of peak RSS; then per step; then the
process's peak RSS (`ru_maxrss`) and the load averages before and after, since the machine
is shared.
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


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", required=True, help="folder holding kaira.duckdb")
    parser.add_argument("--from", dest="first", default="2011-07", metavar="YYYY-MM")
    parser.add_argument("--to", dest="last", default="2013-12", metavar="YYYY-MM")
    parser.add_argument("--steps", help="comma-separated step names (default: every GX step)")
    args = parser.parse_args(argv)

    folder = Path(args.warehouse).resolve()
    if not (folder / "kaira.duckdb").is_file():
        parser.error(f"{folder / 'kaira.duckdb'} does not exist")

    import _measure

    from pipelines.core.months import parse_month
    from pipelines.resources import SettingsResource, WarehouseResource
    from pipelines.validation import gx_runner
    from pipelines.validation.checks import CheckScope, validate_suites
    from pipelines.validation.warehouse_checks import STEP_SUITES

    steps = args.steps.split(",") if args.steps else list(STEP_SUITES)
    unknown = set(steps) - set(STEP_SUITES)
    if unknown:
        parser.error(f"unknown steps {sorted(unknown)}; known: {sorted(STEP_SUITES)}")
    months = tuple(parse_month(m) for m in _measure.months_between(args.first, args.last))
    settings = SettingsResource(warehouse_dir=str(folder))
    scope = CheckScope(WarehouseResource(settings=settings), months)

    print(f"warehouse {folder / 'kaira.duckdb'}, months {args.first}..{args.last} ({len(months)})")
    print(f"load before: {load()}   peak RSS before GX: {peak_mb():.0f} MB")
    started = time.perf_counter()
    gx_runner._data_source()  # the import of GX and its context: paid once by the first step
    imported = time.perf_counter() - started
    print(f"GX import and context: {imported:.2f} s, peak RSS {peak_mb():.0f} MB")
    print(f"{'step / suite':58} {'s':>7} {'rows':>11} {'peak MB':>8}  not met")
    total = imported
    failed = 0
    for step in steps:
        step_seconds = 0.0
        for entry in STEP_SUITES[step]:
            before = time.perf_counter()
            (result,) = validate_suites([entry], scope)
            seconds = time.perf_counter() - before
            step_seconds += seconds
            if result.error is not None:
                failed += 1
                print(f"  {entry.suite_name}: could not validate: {result.error!r}")
            not_met = [o.check_name for o in result.outcomes if not o.success]
            print(f"  {entry.suite_name:56} {seconds:7.2f} {result.rows:11,} {peak_mb():8.0f}  {', '.join(not_met) or '-'}")
            for outcome in result.outcomes:
                print(f"      {outcome.check_name}: {outcome.observed}")
        total += step_seconds
        print(f"{step:58} {step_seconds:7.2f}")
    print(f"all GX steps, import included: {total:.2f} s; peak RSS {peak_mb():.0f} MB; load after: {load()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
