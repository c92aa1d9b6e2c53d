"""`kaira report`: write the follow-up reports from the published tables.

    kaira report                          every area, the latest published month, Finnish, HTML + PDF
    kaira report --month 2010-12 --area MK18 --lang en
    kaira report --no-pdf                 HTML only (no browser needed)

Without an installed Chromium the HTML is written and a warning says what to install
(exit 0); a configured KAIRA_CHROMIUM that is not there, or a browser that fails, is an
error. Settings come from the environment (pipelines.core.settings), loaded once here:
KAIRA_WAREHOUSE_DIR for published.duckdb, KAIRA_REPORTS_DIR for the output,
KAIRA_LANDING_DIR for the synthetic marker, KAIRA_CHROMIUM for the browser. Nothing here
imports Dagster.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.core.settings import load_settings


def add_report_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report",
        help="write the follow-up reports (HTML, and PDF where Chromium is installed) from the published tables",
        description="Write KAIRA's follow-up reports for the region and its municipalities from "
        "published.duckdb: <reports dir>/<YYYY-MM>/kaira_<area>_<YYYY-MM>_<lang>.html and .pdf.",
    )
    parser.add_argument("--month", metavar="YYYY-MM", help="the report month (default: the latest published)")
    parser.add_argument(
        "--area",
        dest="areas",
        action="append",
        metavar="CODE",
        help="an area code such as MK18 or KU205, repeatable (default: every published area)",
    )
    parser.add_argument("--lang", choices=("fi", "en"), default="fi", help="language (default fi)")
    parser.add_argument("--out", type=Path, help="output folder (default: $KAIRA_REPORTS_DIR)")
    parser.add_argument("--no-pdf", dest="pdf", action="store_false", help="write HTML only")
    parser.set_defaults(handler=run_report)
    return parser


def run_report(args: argparse.Namespace) -> int:
    from pipelines.reports import (
        ChromiumConfigError,
        ChromiumError,
        ReportDataError,
        write_followup_reports,
    )

    settings = load_settings()
    began = time.monotonic()
    try:
        batch = write_followup_reports(
            settings, month=args.month, lang=args.lang, areas=args.areas, out_dir=args.out, pdf=args.pdf
        )
    except (ChromiumConfigError, ChromiumError, ReportDataError, FileNotFoundError, LookupError, ValueError) as error:
        print(f"kaira report: {error}", file=sys.stderr)
        return 1
    for written in batch.files:
        print(written.html)
        if written.pdf:
            print(written.pdf)
    if batch.warning:
        print(f"kaira report: warning: {batch.warning}", file=sys.stderr)
    print(f"kaira report: {len(batch.files)} reports in {time.monotonic() - began:.1f} s", file=sys.stderr)
    return 0
