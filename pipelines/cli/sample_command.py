"""`kaira sample`: the generator's subcommand for the project's argparse CLI."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.sample.options import (
    DEFAULT_END,
    DEFAULT_SEED,
    DEFAULT_START,
    FAULTS,
    SCALES,
)


def add_sample_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "sample",
        help="write synthetic landing files (jobseeker spells and Kela TMT payments)",
        description="Write synthetic landing files for every month of a range. "
        "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä.",
    )
    parser.add_argument(
        "--out", type=Path, help="landing folder to write into (default: the settings' landing folder, KAIRA_LANDING_DIR)"
    )
    parser.add_argument(
        "--from", dest="start", default=DEFAULT_START, metavar="YYYY-MM", help=f"first month (default {DEFAULT_START})"
    )
    parser.add_argument(
        "--to", dest="end", default=DEFAULT_END, metavar="YYYY-MM", help=f"last month (default {DEFAULT_END})"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--scale", choices=SCALES, default="kainuu", help="kainuu (default) or finland")
    parser.add_argument(
        "--population",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply the scale's jobseekers (default 1; e.g. 20 puts about 200,000 persons into each Kainuu delivery)",
    )
    parser.add_argument(
        "--fault",
        dest="faults",
        action="append",
        choices=FAULTS,
        default=[],
        metavar="NAME",
        help=f"inject a fault, repeatable: {', '.join(FAULTS)}",
    )
    parser.set_defaults(handler=run_sample)
    return parser


def run_sample(args: argparse.Namespace) -> int:
    from pipelines.sample import generate_sample

    began = time.monotonic()
    if args.out is None:
        from pipelines.core.settings import load_settings

        args.out = load_settings().landing_dir
    try:
        summary = generate_sample(
            args.out,
            start=args.start,
            end=args.end,
            seed=args.seed,
            scale=args.scale,
            faults=frozenset(args.faults),
            population=args.population,
        )
    except ValueError as error:
        print(f"kaira sample: {error}", file=sys.stderr)
        return 2
    months = len(summary["rows_per_month"])
    print(
        f"wrote {months} months of synthetic data to {summary['out_dir']}: "
        f"{summary['rows']['tyonhakijat']} jobseeker rows, {summary['rows']['kela']} Kela rows, "
        f"{summary['persons']} persons ({time.monotonic() - began:.1f} s)"
    )
    for fault, detail in sorted(summary["faults"].items()):
        print(f"  fault {fault}: {detail}")
    return 0
