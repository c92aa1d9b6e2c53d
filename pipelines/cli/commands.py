"""The CLI's operating commands: `kaira run`, `kaira demo`, `kaira repseudonymise`."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from dataclasses import dataclass, field

from pipelines.core.duckdb_tables import table_exists
from pipelines.core.identity_codes import redact
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

    repseudonymise = subparsers.add_parser(
        "repseudonymise",
        help="after a change of the pseudonymisation key: reload every landed month with the new key",
        description="Rebuild the working warehouse from the landing files with the key set now: every "
        "landed month runs through the pipeline into a new warehouse; the one with the old pseudonyms "
        "is deleted when that has succeeded, and kept as it was if it fails.",
    )
    repseudonymise.add_argument("--wait", action="store_true", help="wait while another run writes the warehouse")
    repseudonymise.set_defaults(handler=repseudonymise_command)


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


def run_command(args: argparse.Namespace) -> int:
    from pipelines.cli.run_lock import WarehouseBusyError, exclusive_warehouse_lock

    settings = load_settings()
    try:
        window = month_window(args.first, args.last)
    except ValueError as error:
        return _fail(str(error))
    # Public-data mode: only official statistics landed, no register: no key is needed.
    public_data = public_data_mode(settings.landing_dir)
    if settings.pseudonym_key is None and not public_data:
        return _fail(settings.pseudonym_key_problem or MISSING_KEY)
    # The lock first, before seconds of imports: a second run fails at once.
    try:
        with exclusive_warehouse_lock(settings.warehouse_dir, wait=args.wait, on_wait=_say):
            # Refused before any Dagster run: a refused key changes nothing at all.
            refusal = None if public_data else key_refusal(settings) or interrupted_repseudonymisation(settings)
            if refusal:
                return _fail(refusal)
            return run_window(window, settings, wait=args.wait)
    except WarehouseBusyError as error:
        return _fail(str(error))


def public_data_mode(landing_dir) -> bool:
    """Only official statistics have landed: no register file of any month, some StatFin file."""
    from pipelines.core.landing import half_landed_months, landed_months
    from pipelines.sources.official import has_official_files

    return not landed_months(landing_dir) and not half_landed_months(landing_dir) and has_official_files(landing_dir)


MISSING_KEY = "KAIRA_PSEUDONYM_KEY is not set: person-level data is not loaded without a key"
# Where `kaira repseudonymise` keeps the warehouse with the old pseudonyms until the reload has succeeded.
SET_ASIDE_SUFFIX = ".before-repseudonymisation"


def key_refusal(settings, *, check_fingerprint: bool = True) -> str | None:
    """Why ingest would refuse the settings' key (as pipelines/sources/loader.py checks it),
    or None. The message never contains the key."""
    from pipelines.core.pseudonym_key import PseudonymKeyError, check_key_unchanged, fingerprint
    from pipelines.sources.errors import PseudonymKeyMissingError
    from pipelines.sources.loader import recorded_key_fingerprints, usable_pseudonym_key

    try:
        key = usable_pseudonym_key(settings)
        if check_fingerprint:
            recorded = recorded_key_fingerprints(settings.warehouse_path)
            check_key_unchanged(settings.warehouse_path, recorded, fingerprint(key))
    except (PseudonymKeyError, PseudonymKeyMissingError) as error:
        return str(error)
    return None


def set_aside_path(warehouse_path):
    return warehouse_path.with_name(warehouse_path.name + SET_ASIDE_SUFFIX)


def interrupted_repseudonymisation(settings) -> str | None:
    aside = set_aside_path(settings.warehouse_path)
    if aside.exists():
        return (
            f"an interrupted `kaira repseudonymise` left the warehouse with the old pseudonyms in {aside}; "
            "run `kaira repseudonymise` again to finish it"
        )
    return None


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
    if not months and public_data_mode(settings.landing_dir):
        return run_locked([], settings, wait=wait, preamble=preamble)
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
        if not table_exists(con, "marts", "fct_indicators_monthly"):
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
    if months:
        _say(f"{plural(len(months), 'month')} {describe_months(months)}; Dagster instance {home}")
    else:
        _say(f"public-data mode: only official statistics in {settings.landing_dir}; Dagster instance {home}")
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
            from pipelines.core.private_files import private_umask

            # The instance of the settings' DAGSTER_HOME, opened without touching the
            # environment; its SQLite storage is created owner-only.
            with private_umask():
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
                if not months and plan is not None:
                    from pipelines.cli.runner import run_public_data

                    progress.line("official statistics (public-data mode)")
                    outcome = run_public_data(instance=instance, on_event=progress.on_event)
                    run_ids += outcome.run_ids
                    if not outcome.success:
                        failed_run = outcome.run_ids[-1] if outcome.run_ids else None
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
        finally:
            from pipelines.core.private_files import make_tree_private

            make_tree_private(home)  # what Dagster created during the runs (event logs, compute logs)

    if crash is not None:
        from pipelines.cli.run_lock import WarehouseBusyError

        if isinstance(crash, WarehouseBusyError):
            raise crash
        reason = next(iter(str(crash).strip().splitlines()), "")
        return _fail(redact(f"{type(crash).__name__}: {reason} (details in {log_path})"))
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
    from pipelines.sources.official import land_real_kainuu_series

    landed = land_real_kainuu_series(settings.landing_dir)
    if landed is not None:
        print(f"kaira: landed the real official series of Kainuu (StatFin 12r5, 2006-01 … 2023-10) as {landed} "
              "(Lähde: Tilastokeskus / KEHA-keskus, työnvälitystilasto, CC BY 4.0)", flush=True)
    return run_command(args)


def repseudonymise_command(args: argparse.Namespace) -> int:
    """Rebuild the working warehouse from the landing files with the key set now.

    The warehouse with the old pseudonyms is moved aside and every landed month runs
    through the normal pipeline (`run_locked`, as `kaira run`) into a new, empty
    warehouse file: nothing of the old file is reused, so no old pseudonym survives in
    its tables or in its free pages. On success the old file is deleted; on failure the
    new one is, and the old one is put back as it was. Published tables hold no
    pseudonyms, and the same persons give the same figures under any key.
    """
    from pipelines.cli.run_lock import WarehouseBusyError, exclusive_warehouse_lock
    from pipelines.core.landing import landed_months

    settings = load_settings()
    if settings.pseudonym_key is None:
        return _fail(settings.pseudonym_key_problem or MISSING_KEY)
    months = landed_months(settings.landing_dir)
    if not months:
        return _fail(f"no month with both register files in {settings.landing_dir}: nothing to reload")
    try:
        with exclusive_warehouse_lock(settings.warehouse_dir, wait=args.wait, on_wait=_say):
            refusal = key_refusal(settings, check_fingerprint=False)
            if refusal:
                return _fail(refusal)
            return _repseudonymise_locked(months, settings, wait=args.wait)
    except WarehouseBusyError as error:
        return _fail(str(error))


def _repseudonymise_locked(months: list[str], settings, *, wait: bool) -> int:
    import dagster as dg

    from pipelines.cli.dagster_home import prepare_dagster_home
    from pipelines.cli.run_lock import wait_for_writer_runs
    from pipelines.core.private_files import make_database_private, private_umask
    from pipelines.core.pseudonym_key import fingerprint
    from pipelines.sources.loader import recorded_key_fingerprints

    warehouse = settings.warehouse_path
    aside = set_aside_path(warehouse)
    # After a killed repseudonymisation the warehouse is partial and the one set aside is whole.
    old = aside if aside.exists() else warehouse
    missing = sorted(set(delivered_months(old)) - set(months))
    if missing:
        return _fail(
            f"the working warehouse holds month(s) whose landing files are not in {settings.landing_dir}: "
            f"{', '.join(missing)}. `kaira repseudonymise` reloads every month from the landing files: "
            "put those files back first (nothing was changed)"
        )
    if old == aside:
        _say(f"finishing an interrupted repseudonymisation: the partial warehouse is discarded, {aside} is kept")
        _remove_database(warehouse)
    new_fingerprint = fingerprint(settings.pseudonym_key)
    recorded = recorded_key_fingerprints(old)
    if old == warehouse and recorded == {new_fingerprint} and not _deliveries_without_fingerprint(old):
        _say(f"the warehouse is already pseudonymised with this key (fingerprint {new_fingerprint}): nothing to do")
        return 0

    # No Dagster run may be writing the warehouse while it is swapped (the lock keeps out other `kaira` commands).
    prepare_dagster_home(settings.dagster_home)
    with private_umask():
        instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    try:
        wait_for_writer_runs(instance, wait=wait, on_wait=_say)
    finally:
        instance.dispose()

    if old == warehouse and warehouse.exists():
        _move_database(warehouse, aside)
    before = ", ".join(sorted(recorded)) or "none recorded"
    _say(
        f"reloading {len(months)} landed month(s) with the key of fingerprint {new_fingerprint} "
        f"(the warehouse had {before}); the warehouse with the old pseudonyms waits in {aside} "
        "until the reload has succeeded"
    )
    try:
        code = run_locked(months, settings, wait=wait)
    except BaseException:
        _restore(warehouse, aside)
        raise
    if code != 0:
        _restore(warehouse, aside)
        return _fail(
            f"repseudonymisation failed: the warehouse is as it was before (old key, fingerprint {before}); "
            "fix the failure and run `kaira repseudonymise` again"
        )
    _remove_database(aside)
    make_database_private(warehouse)
    _say(f"repseudonymised: every landed month reloaded with the new key; the old warehouse {aside} is deleted")
    return 0


def delivered_months(warehouse_path) -> list[str]:
    """YYYY-MM of every month in the warehouse's delivery log (empty without a warehouse)."""
    import duckdb

    if not warehouse_path.is_file():
        return []
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        if not table_exists(con, "raw", "deliveries"):
            return []
        rows = con.execute("select distinct strftime(delivery_month, '%Y-%m') from raw.deliveries order by 1").fetchall()
        return [month for (month,) in rows]
    finally:
        con.close()


def _deliveries_without_fingerprint(warehouse_path) -> bool:
    """Deliveries loaded before fingerprints were recorded: their key is unknown."""
    import duckdb

    if not warehouse_path.is_file():
        return False
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        has_column = con.execute(
            "select count(*) from information_schema.columns where table_schema = 'raw' "
            "and table_name = 'deliveries' and column_name = 'key_fingerprint'"
        ).fetchone()[0]
        where = "key_fingerprint is null" if has_column else "true"
        return bool(con.execute(f"select count(*) from raw.deliveries where {where}").fetchone()[0])
    finally:
        con.close()


def _database_files(path):
    """A DuckDB database and its WAL (DuckDB pairs them by name)."""
    return [path, path.with_name(path.name + ".wal")]


def _move_database(source, target) -> None:
    import os

    for old, new in zip(_database_files(source), _database_files(target)):
        if old.exists():
            os.replace(old, new)
    _remove_spill_folder(source)


def _remove_database(path) -> None:
    for file in _database_files(path):
        file.unlink(missing_ok=True)
    _remove_spill_folder(path)


def _remove_spill_folder(path) -> None:
    import shutil

    shutil.rmtree(path.with_name(path.name + ".tmp"), ignore_errors=True)  # DuckDB's temporary spill files


def _restore(warehouse, aside) -> None:
    if aside.exists():
        _remove_database(warehouse)
        _move_database(aside, warehouse)

