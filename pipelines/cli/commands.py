"""The CLI's operating commands: `kaira run`, `kaira demo`, `kaira calibrate`."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from dataclasses import dataclass, field

from pipelines.core.kaira_report import KAINUU, REPORTED_FIGURES
from pipelines.core.settings import load_settings


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
    print(f"kaira: {message}", file=sys.stderr, flush=True)
    return 1


def _say(message: str) -> None:
    print(f"kaira: {message}", flush=True)


def month_window(first: str | None, last: str | None) -> tuple[str | None, str | None]:
    """--from/--to as YYYY-MM (None: open); raises ValueError on a malformed or reversed range."""
    from pipelines.core.months import month_text, parse_month_argument

    first = month_text(parse_month_argument(first)) if first else None
    last = month_text(parse_month_argument(last)) if last else None
    if first and last and last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return first, last


def _within(month: str, window: tuple[str | None, str | None]) -> bool:
    first, last = window
    return (not first or month >= first) and (not last or month <= last)


def selected_months(landing_dir, first: str | None, last: str | None) -> list[str]:
    """Landed months within --from/--to; raises ValueError on a malformed or reversed range."""
    from pipelines.core.landing import landed_months

    window = month_window(first, last)
    return [m for m in landed_months(landing_dir) if _within(m, window)]


def run_command(args: argparse.Namespace) -> int:
    from pipelines.cli.run_lock import WarehouseBusyError, exclusive_warehouse_lock

    settings = load_settings()
    try:
        window = month_window(args.first, args.last)
    except ValueError as error:
        return _fail(str(error))
    if settings.pseudonym_key is None:
        return _fail("KAIRA_PSEUDONYM_KEY is not set: person-level data is not loaded without a key")
    # The lock first, before seconds of imports: a second run fails at once.
    try:
        with exclusive_warehouse_lock(settings.warehouse_dir, wait=args.wait, on_wait=_say):
            return run_window(window, settings, wait=args.wait)
    except WarehouseBusyError as error:
        return _fail(str(error))


@dataclass
class Preamble:
    """What `kaira run` found before running, for its summary: files refused, months
    waiting for their second file, runs of killed processes marked failed, a recompute."""

    refused: list[str] = field(default_factory=list)
    refusal_alert: str | None = None  # the alert file naming newly refused files
    waiting: list[str] = field(default_factory=list)
    marked_failed: list[str] = field(default_factory=list)
    recompute: str | None = None


def run_window(window: tuple[str | None, str | None], settings, *, wait: bool) -> int:
    """The landing folder's months in the window (the warehouse lock held): files that are
    not deliveries are quarantined and named, then the valid months run."""
    from pipelines.automation.refusals import refuse_landing_files
    from pipelines.core.landing import half_landed_months, landed_months

    preamble = Preamble()
    refusals, alert = refuse_landing_files(settings, seen_by="kaira run", log=False)  # the CLI says it itself
    for refusal in refusals:
        preamble.refused.append(refusal.line())
        _say(f"refused {refusal.line()}")
    if alert is not None:
        preamble.refusal_alert = str(alert)
        _say(f"alert: {alert}")
    for month, missing in half_landed_months(settings.landing_dir).items():
        if _within(month, window):
            names = " and ".join(_relative(path, settings.landing_dir) for path in missing)
            preamble.waiting.append(f"{month}: waits for {names}; not processed, not published")
    months = [m for m in landed_months(settings.landing_dir) if _within(m, window)]
    if not months:
        waiting = f" ({'; '.join(preamble.waiting)})" if preamble.waiting else ""
        return _fail(f"no month with both register files in {settings.landing_dir} for that range{waiting}")
    return run_locked(months, settings, wait=wait, preamble=preamble)


def _relative(path, folder) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def held_months(settings) -> list[str]:
    """The months the marts hold (YYYY-MM); none without a warehouse or marts yet."""
    import duckdb

    if not settings.warehouse_path.exists():
        return []
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name = 'fct_indicators_monthly'"
        ).fetchone()[0]
        if not exists:
            return []
        rows = con.execute("select distinct strftime(month, '%Y-%m') from marts.fct_indicators_monthly").fetchall()
        return sorted(row[0] for row in rows)
    finally:
        con.close()


def run_locked(months: list[str], settings, *, wait: bool, preamble: Preamble | None = None) -> int:
    """Run the months through Dagster (the warehouse lock held): progress, summary, alert."""
    import duckdb

    from pipelines.cli.dagster_home import prepare_dagster_home
    from pipelines.cli.progress import Progress, output_to_log, plural
    from pipelines.cli.run_lock import wait_for_writer_runs
    from pipelines.core.configuration import ConfigurationMismatchError, RunPlan, mark_computed, plan_run
    from pipelines.core.months import contiguous_ranges, describe_months, months_between

    preamble = preamble or Preamble()
    began = time.monotonic()
    home = prepare_dagster_home(settings.dagster_home)
    log_path = settings.warehouse_dir / "logs" / f"kaira-run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    _say(f"{plural(len(months), 'month')} {describe_months(months)}; Dagster instance {home}")
    _say(f"Dagster's and dbt's own output goes to {log_path}")

    run_ids: list[str] = []
    failed_run: str | None = None
    crash: BaseException | None = None
    refusal: str | None = None
    with output_to_log(log_path) as console:
        progress = Progress(console)
        try:
            import dagster as dg

            from pipelines.automation.history import mark_abandoned_runs
            from pipelines.cli.runner import run_months

            # The instance of the settings' DAGSTER_HOME, opened without touching the environment.
            instance = dg.DagsterInstance.from_config(str(home))
            # Runs left 'started' by a killed process would hold the warehouse for ever: the
            # lock is ours, so no other `kaira run` is running; a run whose process is gone ended.
            for abandoned in mark_abandoned_runs(instance, by=f"kaira run (pid {os.getpid()})"):
                line = (f"run {abandoned.run.run_id} ({abandoned.run.job_name}) was left "
                        f"'{abandoned.run.status.value}' by a process that is gone ({abandoned.why}): marked failed")
                preamble.marked_failed.append(line)
                progress.line(line)
                write_abandoned_alert(instance, abandoned.run.run_id, settings)
            wait_for_writer_runs(instance, wait=wait, exclude=set(run_ids), on_wait=progress.line)
            try:
                plan = plan_run(settings, months, held_months(settings))
            except ConfigurationMismatchError as error:
                refusal = str(error)
                plan = None
            except duckdb.Error as error:  # the warehouse is busy or unreadable: publishing checks last
                progress.line(f"could not compare the settings with the warehouse's ({error}); publishing will")
                plan = RunPlan(False, None)
            if plan is not None and plan.recompute:
                preamble.recompute = plan.note
                progress.line(plan.note)
            ranges = contiguous_ranges(months) if plan is not None else []
            with progress.heartbeat():
                for index, (first, last) in enumerate(ranges):
                    wait_for_writer_runs(instance, wait=wait, exclude=set(run_ids), on_wait=progress.line)
                    progress.line(f"months {first} .. {last}")
                    # One publication per `kaira run`, after its last range: never a
                    # publication of some months recomputed and others not yet.
                    final = index == len(ranges) - 1
                    options = {} if final else {"publish": False}
                    outcome = run_months(first, last, instance=instance, on_event=progress.on_event, **options)
                    run_ids += outcome.run_ids
                    if not outcome.success:
                        failed_run = outcome.run_ids[-1] if outcome.run_ids else None
                        break
                    mark_computed(settings, months_between(first, last))
        except Exception as error:  # the traceback stays in the log; the user gets one line
            traceback.print_exc()
            crash = error

    if crash is not None:
        from pipelines.cli.run_lock import WarehouseBusyError

        if isinstance(crash, WarehouseBusyError):
            raise crash
        reason = next(iter(str(crash).strip().splitlines()), "")
        return _fail(f"{type(crash).__name__}: {reason} (details in {log_path})")
    if refusal is not None:
        return _fail(refusal)
    return report_runs(instance, run_ids, failed_run, settings, log_path=log_path,
                       elapsed=time.monotonic() - began, preamble=preamble)


def write_abandoned_alert(instance, run_id: str, settings) -> None:
    """The alert a killed run could not write itself."""
    from pipelines.automation.alerts import alert_for_run, write_alert

    write_alert(settings.warehouse_dir, alert_for_run(instance, instance.get_run_by_id(run_id)), log=False)


def report_runs(instance, run_ids: list[str], failed_run: str | None, settings, *, log_path, elapsed: float,
                preamble: Preamble | None = None) -> int:
    """Print the summary; on failure write the alert (in-process runs trigger no sensor)."""
    from pipelines.automation.alerts import alert_for_run, write_alert
    from pipelines.cli.summary import format_summary, summarize_runs
    from pipelines.core.identity_codes import redact

    preamble = preamble or Preamble()
    summary = summarize_runs(instance, run_ids)
    alert = alert_path = None
    if failed_run is not None:
        alert = alert_for_run(instance, instance.get_run_by_id(failed_run), started="kaira run")
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(alert.text())
        alert_path = write_alert(settings.warehouse_dir, alert, log=False)  # the CLI prints its own line
    print(
        format_summary(
            summary,
            elapsed=elapsed,
            reports_dir=settings.reports_dir,
            log_path=log_path,
            success=failed_run is None,
            alert_path=alert_path,
            notes=preamble_lines(preamble),
        ),
        flush=True,
    )
    if alert is not None:
        return _fail(redact(alert.summary()))
    return 0


def preamble_lines(preamble: Preamble) -> list[str]:
    lines = []
    if preamble.recompute:
        lines.append(f"  settings changed: {preamble.recompute}")
    if preamble.refused:
        lines.append("  refused landing files (not read; quarantined):")
        lines += [f"    {line}" for line in preamble.refused]
        if preamble.refusal_alert:
            lines.append(f"    alert: {preamble.refusal_alert}")
    if preamble.waiting:
        lines.append("  waiting for their second file:")
        lines += [f"    {line}" for line in preamble.waiting]
    if preamble.marked_failed:
        lines.append("  runs of killed processes, marked failed:")
        lines += [f"    {line}" for line in preamble.marked_failed]
    return lines


def demo_command(args: argparse.Namespace) -> int:
    from pipelines.core.landing import landed_months
    from pipelines.sample import generate_sample

    settings = load_settings()
    if not landed_months(settings.landing_dir):
        print(f"kaira: writing the synthetic sample into {settings.landing_dir} "
              "(Synteettinen esimerkkiaineisto – ei todellisia henkilöitä)", flush=True)
        generate_sample(settings.landing_dir)
    return run_command(args)


def calibration_figures(warehouse_path) -> dict[str, float]:
    """Each of KAIRA's reported figures as the warehouse has it for Kainuu (NaN if missing)."""
    import duckdb

    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        figures = {}
        for figure in REPORTED_FIGURES:
            (value,) = con.execute(
                "select avg(value) from marts.fct_indicators_monthly "
                "where area_code = ? and sex = 'total' and indicator = ? and strftime(month, '%Y-%m') in ?",
                [KAINUU, figure.indicator, list(figure.months)],
            ).fetchone()
            figures[figure.name] = float(value) if value is not None else float("nan")
        return figures
    finally:
        con.close()


def calibrate_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    figures = calibration_figures(settings.warehouse_path)
    print("Kainuu (MK18), synthetic sample against KAIRA's reported figures")
    all_within = True
    for figure in REPORTED_FIGURES:
        got = figures[figure.name]
        deviation = (got - figure.value) / figure.value
        within = abs(deviation) <= figure.tolerance
        all_within &= within
        print(f"  {figure.name:38s} {got:8.0f}  KAIRA {figure.value:6.0f}  {deviation:+6.1%}  "
              f"{'ok' if within else 'OUTSIDE'} (±{figure.tolerance:.0%})")
    return 0 if all_within else 1
