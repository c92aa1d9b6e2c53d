"""The CLI's operating commands: `kaira run`, `kaira demo`, `kaira calibrate`."""

from __future__ import annotations

import argparse
import sys
import time

from pipelines.settings import load_settings


def add_operation_parsers(subparsers) -> None:
    run = subparsers.add_parser("run", help="process a range of months through Dagster")
    run.add_argument("--from", dest="first", metavar="YYYY-MM", help="first month (default: the first landed)")
    run.add_argument("--to", dest="last", metavar="YYYY-MM", help="last month (default: the last landed)")
    run.add_argument("--wait", action="store_true", help="wait while another run writes the warehouse")
    run.set_defaults(handler=run_command)

    demo = subparsers.add_parser("demo", help="generate the synthetic sample if nothing has landed, then run it")
    demo.add_argument("--wait", action="store_true", help=argparse.SUPPRESS)
    demo.set_defaults(handler=demo_command, first=None, last=None)

    calibrate = subparsers.add_parser("calibrate", help="the sample's Kainuu figures against KAIRA's reported ones")
    calibrate.set_defaults(handler=calibrate_command)


def _fail(message: str) -> int:
    print(f"kaira: {message}", file=sys.stderr)
    return 1


def run_command(args: argparse.Namespace) -> int:
    from pipelines.operations.dagster_home import prepare_dagster_home
    from pipelines.operations.landing import contiguous_ranges, landed_months
    from pipelines.operations.run_lock import WarehouseBusyError, exclusive_warehouse_lock

    settings = load_settings()
    months = landed_months(settings.landing_dir)
    if args.first:
        months = [m for m in months if m >= args.first]
    if args.last:
        months = [m for m in months if m <= args.last]
    if not months:
        return _fail(f"no month with both register files in {settings.landing_dir} for that range")
    if settings.pseudonym_key is None:
        return _fail("KAIRA_PSEUDONYM_KEY is not set: person-level data is not loaded without a key")

    prepare_dagster_home()
    import dagster as dg

    from pipelines.runner import run_months

    began = time.monotonic()
    try:
        with exclusive_warehouse_lock(settings.warehouse_dir, wait=args.wait):
            instance = dg.DagsterInstance.get()
            for first, last in contiguous_ranges(months):
                print(f"kaira: running {first} .. {last}", flush=True)
                outcome = run_months(first, last, instance=instance)
                if not outcome.success:
                    return _fail(f"run {outcome.run_ids[-1]} failed: {outcome.failure}")
    except WarehouseBusyError as error:
        return _fail(str(error))
    print(f"kaira: {len(months)} months processed in {time.monotonic() - began:.0f} s; warehouse {settings.warehouse_path}")
    return 0


def demo_command(args: argparse.Namespace) -> int:
    from pipelines.operations.landing import landed_months
    from pipelines.sample import generate_sample

    settings = load_settings()
    if not landed_months(settings.landing_dir):
        print(f"kaira: writing the synthetic sample into {settings.landing_dir} "
              "(Synteettinen esimerkkiaineisto – ei todellisia henkilöitä)", flush=True)
        generate_sample(settings.landing_dir)
    return run_command(args)


# KAIRA's final report (METRICS.md): structural unemployment fell by 1,117 persons (about
# 25 %) from early 2008 to the end of 2010, close to 3,000 at the end of 2012, long-term
# unemployment near 800 in 2010-2012.
KAIRA_FIGURES = {
    "structural_unemployed 2008-02": (4470, 0.10),
    "structural_unemployed 2010-12": (4470 - 1117, 0.10),
    "structural_unemployed 2012-12": (3000, 0.10),
    "long_term_unemployed mean 2010-2012": (800, 0.20),
}


def calibration_figures(warehouse_path) -> dict[str, float]:
    import duckdb

    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        def value(sql: str) -> float:
            row = con.execute(sql).fetchone()
            return float(row[0]) if row and row[0] is not None else float("nan")

        base = "from marts.fct_indicators_monthly where area_code = 'MK18' and sex = 'total'"
        figures = {
            f"structural_unemployed {month}": value(
                f"select value {base} and indicator = 'structural_unemployed' and month = date '{month}-01'"
            )
            for month in ("2008-02", "2010-12", "2012-12")
        }
        figures["long_term_unemployed mean 2010-2012"] = value(
            f"select avg(value) {base} and indicator = 'long_term_unemployed' "
            "and month >= date '2010-01-01' and month < date '2013-01-01'"
        )
        return figures
    finally:
        con.close()


def calibrate_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    figures = calibration_figures(settings.warehouse_path)
    print("Kainuu (MK18), synthetic sample against KAIRA's reported figures")
    all_within = True
    for name, (reported, tolerance) in KAIRA_FIGURES.items():
        got = figures[name]
        deviation = (got - reported) / reported
        within = abs(deviation) <= tolerance
        all_within &= within
        print(f"  {name:38s} {got:8.0f}  KAIRA {reported:6d}  {deviation:+6.1%}  "
              f"{'ok' if within else 'OUTSIDE'} (±{tolerance:.0%})")
    return 0 if all_within else 1
