"""The follow-up reports of one month: the time of `write_followup_reports`, as the data run's
reports step calls it, on a published.duckdb that is already there.

What it measures
----------------
Copies the published file into a fresh work folder (it is never written where it lies),
points Kaira's settings there (KAIRA_WAREHOUSE_DIR, KAIRA_REPORTS_DIR, KAIRA_AREA_SCOPE,
which decides whether the municipalities get PDFs) and times `write_followup_reports` for
the file's latest month (or --month), `--repeats` times into empty report folders. Prints
each call's wall time, the HTML and PDF counts, the process's CPU time, the browser's, and
the load average before and after: the machine may be shared, and other work slows the
wall times down (CPU times much less). The browser's CPU is that of every process it
started: this process makes itself their subreaper (prctl), so even the helpers of a
browser that was killed are reaped, and counted, here. With --profile, the last call runs under
cProfile and the 25 most expensive functions (cumulative) are printed.

--keep-html DIR copies the last call's HTML files to DIR, so two versions of the code can be
compared file by file (`diff -r`): the reports must stay byte-identical.

How to run (from the repository root)
-------------------------------------
    .venv/bin/python bench/bench_reports.py /tmp/kaira-scale/warehouse/published.duckdb --scope MK18
    .venv/bin/python bench/bench_reports.py NATIONAL/published.duckdb --scope all --repeats 3
    .venv/bin/python bench/bench_reports.py PUBLISHED --scope all --no-pdf --profile

A national file: `kaira sample --scale finland` and `kaira run` on a few months with
KAIRA_MUNICIPALITY_SET=synthetic and KAIRA_AREA_SCOPE=all (about 320 areas a month).
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.core.settings import load_settings  # noqa: E402
from pipelines.reports.writer import write_followup_reports  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Make this process the reaper of its orphaned descendants: Chromium's helper processes
    (zygotes, renderers) outlive a browser that is killed, and would be counted by nobody."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap_descendants(seconds: float = 5.0) -> None:
    """Wait (a while) for every descendant left over, so that its CPU time is counted."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("published", type=Path, help="a published.duckdb (copied, never written)")
    parser.add_argument("--scope", default="MK18", help="KAIRA_AREA_SCOPE: MK18 (PDFs for all) or all (regions only)")
    parser.add_argument("--month", help="YYYY-MM (default: the latest published)")
    parser.add_argument("--lang", default="fi", choices=("fi", "en"))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-pdf", action="store_true", help="HTML only")
    parser.add_argument("--profile", action="store_true", help="profile the last call")
    parser.add_argument("--keep-html", type=Path, metavar="DIR", help="copy the last call's HTML files here")
    return parser.parse_args(argv)


def cpu_seconds() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    become_subreaper()
    with tempfile.TemporaryDirectory(prefix="kaira-bench-reports-") as work:
        root = Path(work)
        (root / "warehouse").mkdir()
        shutil.copy2(args.published, root / "warehouse" / "published.duckdb")
        settings = load_settings(
            {
                "PATH": os.environ.get("PATH", os.defpath),
                "KAIRA_LANDING_DIR": str(root / "landing"),
                "KAIRA_WAREHOUSE_DIR": str(root / "warehouse"),
                "KAIRA_REPORTS_DIR": str(root / "reports"),
                "KAIRA_QUARANTINE_DIR": str(root / "quarantine"),
                "KAIRA_AREA_SCOPE": args.scope,
                **({"KAIRA_CHROMIUM": os.environ["KAIRA_CHROMIUM"]} if os.environ.get("KAIRA_CHROMIUM") else {}),
            }
        )
        print(f"{args.published} (scope {args.scope}), load average before {os.getloadavg()[0]:.2f}")
        for repeat in range(1, args.repeats + 1):
            out = root / f"reports-{repeat}"
            profiler = cProfile.Profile() if args.profile and repeat == args.repeats else None
            own_before, children_before = cpu_seconds()
            began = time.perf_counter()
            if profiler:
                profiler.enable()
            batch = write_followup_reports(settings, month=args.month, lang=args.lang, out_dir=out, pdf=not args.no_pdf)
            if profiler:
                profiler.disable()
            wall = time.perf_counter() - began
            reap_descendants()
            own_after, children_after = cpu_seconds()
            browser_cpu = children_after - children_before
            html = sum(1 for written in batch.files if written.html.is_file())
            print(
                f"call {repeat}: {wall:.2f} s for {html} HTML and {batch.pdf_count} PDF of {batch.month}; "
                f"CPU {own_after - own_before:.2f} s here, {browser_cpu:.2f} s in the browser; "
                f"load average {os.getloadavg()[0]:.2f}"
                + (f"; warning: {batch.warning}" if batch.warning else "")
            )
            if profiler:
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
        if args.keep_html:
            args.keep_html.mkdir(parents=True, exist_ok=True)
            for written in batch.files:
                shutil.copy2(written.html, args.keep_html / written.html.name)
            print(f"HTML of the last call copied to {args.keep_html}")
    print(f"peak RSS: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
          f"largest reaped child {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
