"""`kaira`: the command line of the data engineer.

    kaira sample   write synthetic landing files (the embedded demo data)
    kaira run      process a range of months through Dagster (ingest, dbt, checks, publish)
    kaira demo     the README's first command: a sample if the landing folder is empty, then run
    kaira report   the follow-up reports (HTML and PDF) from the published tables
    kaira dashboard  the Finnish dashboard (Streamlit) over the published tables
    kaira repseudonymise  after a change of the key: reload every landed month with the new key
    kaira calibrate  the synthetic sample against the official unemployed and KAIRA's reported figures

Each subcommand imports what it needs when it runs: Dagster and dbt take seconds to import.
"""

from __future__ import annotations

import argparse
import sys

from pipelines.cli.calibrate_command import add_calibrate_parser
from pipelines.cli.dashboard_command import add_dashboard_parser
from pipelines.cli.report_command import add_report_parser
from pipelines.cli.sample_command import add_sample_parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kaira", description=__doc__.split("\n\n")[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_sample_parser(subparsers)
    add_report_parser(subparsers)
    add_dashboard_parser(subparsers)

    from pipelines.cli.commands import add_operation_parsers

    add_operation_parsers(subparsers)
    add_calibrate_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
