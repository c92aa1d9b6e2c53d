"""The follow-up reports of one month, as the data run's `followup_reports` step writes them,
timed on a published.duckdb that is already there.

What it measures
----------------
Each case copies its published file into a fresh work folder (it is never written where it
lies) and calls `writer.write_all_reports(published, out, month, pdf=True, synthetic=True,
municipality_pdfs=...)` `--repeats` times into empty report folders, in a process of its
own, so that each case's peak RSS is its own. `municipality_pdfs` is what the step passes:
`Settings.municipality_pdfs` for KAIRA_AREA_SCOPE=`--scope` (`all`: the regions' PDFs only,
about 20 of 320 areas). For each call it prints:

- wall: the call itself (imports and the copy excluded);
- CPU here: this process's user + system time; CPU browser: that of every process the
  browser started (this process makes itself their subreaper, prctl, so the helpers of a
  browser are reaped, and counted, here);
- machine: the CPU time the whole machine spent busy meanwhile (/proc/stat, all cores) and
  "other", what is left of it after this case's own: other users' work, which slows the
  wall times down (CPU times much less). Load averages before and after too.

and, after the calls, the peak RSS of this process and of the largest reaped child (a
Chromium process). With --profile, the last call runs under cProfile and the 25 most
expensive functions (cumulative) are printed; --keep-html DIR copies the last call's HTML
files to DIR, so two versions of the code can be compared file by file (`diff -r`).

How to run (from the repository root)
-------------------------------------
The two cases of issue 12 (a month after twenty national years, and after 17 months), on
the published tables of bench_scale.py's work folders (/tmp/kaira-20y, /tmp/kaira-national):

    .venv/bin/python bench/bench_reports.py --case 20y --case 17m --repeats 3
    .venv/bin/python bench/bench_reports.py --case 20y --repeats 1 --profile
    .venv/bin/python bench/bench_reports.py --published FILE --month 2010-12 --scope MK18

A case is NAME=PUBLISHED_FILE@MONTH; `20y` and `17m` are short for those two files
(override with --case 20y=/path/published.duckdb@2024-12).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _measure import machine_busy_seconds  # noqa: E402  (bench/, this script's folder)

from pipelines.core.child_processes import become_subreaper, reap_descendants  # noqa: E402
from pipelines.core.settings import load_settings  # noqa: E402
from pipelines.reports.writer import write_all_reports  # noqa: E402

# The published files of bench_scale.py's work folders in the README (copied before use).
CASES = {
    "20y": ("/tmp/kaira-20y/warehouse/published.duckdb", "2024-12"),
    "17m": ("/tmp/kaira-national/warehouse/published.duckdb", "2007-06"),
}


def cpu_seconds() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def parse_case(text: str) -> tuple[str, Path, str]:
    name, _, where = text.partition("=")
    if not where:
        if name not in CASES:
            raise argparse.ArgumentTypeError(f"unknown case {name!r}: {', '.join(CASES)} or NAME=FILE@YYYY-MM")
        path, month = CASES[name]
        return name, Path(path), month
    path, _, month = where.rpartition("@")
    if not path or not month:
        raise argparse.ArgumentTypeError(f"a case is NAME=FILE@YYYY-MM, not {text!r}")
    return name, Path(path), month


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", type=parse_case, help="20y, 17m or NAME=FILE@YYYY-MM (repeatable)")
    parser.add_argument("--published", type=Path, help="one published.duckdb (copied, never written)")
    parser.add_argument("--month", help="with --published: YYYY-MM")
    parser.add_argument("--scope", default="all", help="KAIRA_AREA_SCOPE, which decides the municipalities' PDFs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-pdf", action="store_true", help="HTML only")
    parser.add_argument("--profile", action="store_true", help="profile the last call")
    parser.add_argument("--keep-html", type=Path, metavar="DIR", help="copy the last call's HTML files here")
    return parser.parse_args(argv)


def run_case(name: str, published: Path, month: str, args: argparse.Namespace) -> None:
    """The calls of one case, in this process (the parent starts one process per case)."""
    become_subreaper()
    # What the step passes: the settings decide whether municipalities get PDFs.
    municipality_pdfs = load_settings({"KAIRA_AREA_SCOPE": args.scope}).municipality_pdfs
    with tempfile.TemporaryDirectory(prefix="kaira-bench-reports-") as work:
        copy = Path(work) / "published.duckdb"
        shutil.copy2(published, copy)
        print(f"== {name}: {published} month {month}, scope {args.scope} (municipality PDFs: {municipality_pdfs}), "
              f"{os.cpu_count()} cores, load average before {os.getloadavg()[0]:.2f}", flush=True)
        for repeat in range(1, args.repeats + 1):
            out = Path(work) / f"reports-{repeat}"
            profiler = cProfile.Profile() if args.profile and repeat == args.repeats else None
            own_before, children_before = cpu_seconds()
            busy_before = machine_busy_seconds()
            began = time.perf_counter()
            if profiler:
                profiler.enable()
            written = write_all_reports(copy, out, month, pdf=not args.no_pdf, synthetic=True,
                                        municipality_pdfs=municipality_pdfs)
            if profiler:
                profiler.disable()
            wall = time.perf_counter() - began
            reap_descendants(seconds=5.0)
            busy = machine_busy_seconds() - busy_before
            own_after, children_after = cpu_seconds()
            own, browser = own_after - own_before, children_after - children_before
            pdfs = sum(1 for report in written if report.pdf is not None and report.pdf.is_file())
            print(
                f"{name} call {repeat}: wall {wall:.2f} s for {len(written)} HTML + {pdfs} PDF; "
                f"CPU here {own:.2f} s, browser {browser:.2f} s; machine busy {busy:.2f} CPU-s "
                f"(other {max(busy - own - browser, 0):.2f}); load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            if profiler:
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
        if args.keep_html:
            args.keep_html.mkdir(parents=True, exist_ok=True)
            for report in written:
                shutil.copy2(report.html, args.keep_html / report.html.name)
            print(f"HTML of the last call copied to {args.keep_html}")
    print(f"{name} peak RSS: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
          f"largest reaped child {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cases = list(args.case or [])
    if args.published:
        if not args.month:
            raise SystemExit("--published needs --month")
        cases.append((args.published.stem, args.published, args.month))
    if not cases:
        cases = [parse_case("20y"), parse_case("17m")]
    if len(cases) == 1:
        run_case(*cases[0], args)
        return 0
    # One process per case: ru_maxrss only grows, so a second case in the same process would
    # report the first one's peak.
    common = ["--scope", args.scope, "--repeats", str(args.repeats)]
    common += ["--no-pdf"] * args.no_pdf + ["--profile"] * args.profile
    for name, path, month in cases:
        keep = ["--keep-html", str(args.keep_html / name)] if args.keep_html else []
        command = [sys.executable, __file__, *common, *keep, "--case", f"{name}={path}@{month}"]
        if subprocess.run(command).returncode != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
