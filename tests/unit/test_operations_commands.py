"""`kaira run` without the real pipeline: the runner is replaced by small stand-in runs in a
Dagster instance of the test's own, so the progress display, the summary, the log file, the
failure alert and the locks are exercised in a second or two each.

Protects: Dagster's and dbt's output goes to the log file, the terminal gets progress lines
and a summary; a failure exits non-zero with one line naming the run, the step and the
error, and leaves the alert file; a second run on the same warehouse fails at once with a
clear message, or waits with --wait; a run of the daemon writing the warehouse is respected.
"""

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime

import dagster as dg
import pytest

from pipelines.cli import commands
from pipelines.cli.progress import Progress, output_to_log
from pipelines.cli.run_lock import (
    WarehouseBusyError,
    exclusive_warehouse_lock,
    wait_for_writer_runs,
)
from pipelines.cli.runner import RunOutcome, first_failure
from pipelines.core.landing import delivery_paths, file_sha256
from pipelines.core.settings import load_settings
from pipelines.partitions import (
    MONTHLY_PARTITIONS,
    WAREHOUSE_WRITER_POOL,
    partition_key_to_month,
    range_tags,
)
from pipelines.sources.assets import delivery_metadata
from pipelines.sources.loader import DeliveryReport
from tests.helpers import environment


@pytest.fixture
def kaira_env(tmp_path, monkeypatch):
    for name, value in environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    for month in ("2024-01", "2024-02"):
        for path in delivery_paths(settings.landing_dir, month).values():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"rows of {path.name}\n")
    return settings


def stand_in_ingest(name: str, source: str):
    @dg.asset(name=name, partitions_def=MONTHLY_PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run(),
              pool=WAREHOUSE_WRITER_POOL)
    def ingest(context: dg.AssetExecutionContext):
        landing = load_settings().landing_dir
        reports = []
        for key in sorted(context.partition_keys):
            month = partition_key_to_month(key)
            path = delivery_paths(landing, month)[source]
            reports.append(DeliveryReport(
                source=source, month=month, source_file=path.relative_to(landing).as_posix(),
                sha256=file_sha256(path), encoding="utf-8", delimiter=";", rows_read=100, rows_loaded=98,
                rows_rejected=2, ignored_columns=(), padded_municipality_codes=0, reject_reasons={},
                loaded_at=datetime(2024, 1, 1),
            ))
        context.log.warning("tyonhakijat/x.csv: 2 row(s) rejected (identity code 010203-123A)")
        print("dbt-like chatter on stdout")
        return dg.MaterializeResult(metadata=delivery_metadata(reports))

    return ingest


INGEST = [stand_in_ingest("raw_jobseeker_spells", "jobseeker_spells"), stand_in_ingest("raw_kela_payments", "kela_payments")]


@dg.asset_check(asset="raw_kela_payments")
def kela_rows_present():
    # The validation stage links the run's report from its check results.
    report = load_settings().warehouse_dir / "validation" / "run-x.html"
    return dg.AssetCheckResult(passed=True, metadata={"validation_report": dg.MetadataValue.path(str(report))})


@dg.asset_check(asset="raw_kela_payments", blocking=False)
def kela_counter_rises():
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)


def published(fail: bool):
    @dg.asset(name="published_tables", deps=["raw_jobseeker_spells", "raw_kela_payments"])
    def published_tables():
        if fail:
            raise ValueError("no kela_payments delivery for 2024-02: expected the file kela/tmt_2024-02.csv (010203-123A)")
        settings = load_settings()
        return dg.MaterializeResult(metadata={
            "published": dg.MetadataValue.path(str(settings.published_path)),
            "months": "2024-01-01 .. 2024-02-01 (2)",
        })

    return published_tables


@dg.asset(deps=["published_tables"])
def followup_reports():
    folder = load_settings().reports_dir / "2024-02"
    return dg.MaterializeResult(metadata={"report_folder": dg.MetadataValue.path(str(folder)), "month": "2024-02",
                                          "reports": 10})


def stand_in_runner(fail: bool):
    """Replaces pipelines.runner.run_months: one stand-in monthly run, followed by `on_event`."""
    defs = dg.Definitions(assets=[*INGEST, published(fail), followup_reports],
                          asset_checks=[kela_rows_present, kela_counter_rises], jobs=[dg.define_asset_job("monthly_job")])

    def run_months(first, last, instance=None, *, on_event=None, publish=True):
        run_id = str(uuid.uuid4())
        instance.add_event_listener(run_id, on_event)
        result = defs.resolve_job_def("monthly_job").execute_in_process(
            instance=instance, tags=range_tags(first, last), run_id=run_id, raise_on_error=False
        )
        return RunOutcome(run_ids=[result.run_id], success=result.success,
                          failure=None if result.success else first_failure(result))

    return run_months


def kaira_run(**options) -> int:
    return commands.run_command(argparse.Namespace(**{"first": None, "last": None, "wait": False, **options}))


def test_kaira_run_shows_progress_and_a_summary_and_logs_dagster_to_a_file(kaira_env, monkeypatch, capfd):
    settings = kaira_env
    monkeypatch.setattr("pipelines.cli.runner.run_months", stand_in_runner(fail=False))
    assert kaira_run() == 0
    out, err = capfd.readouterr()
    assert err == ""
    assert " - dagster - " not in out and "dbt-like chatter" not in out
    for expected in (
        "2 months 2024-01..2024-02",
        "monthly_job: run ",
        "ingest the jobseeker register (tyonhakijat) ...",
        "ingest the Kela payments (tmt) ok in",
        "warning (WARN): raw_kela_payments kela_counter_rises",
        "warning: tyonhakijat/x.csv: 2 row(s) rejected (identity code [redacted])",
        "kaira: done in",
        "2024-01  tyonhakijat 98 / 2   kela 98 / 2",
        "total 392 rows loaded, 8 rejected (rejected lines and reasons: table raw.rejects",
        "checks: 1 passed, 0 failed, 1 warning",
        "(1 warning)",
        f"validation report: {settings.warehouse_dir / 'validation' / 'run-x.html'}",
        "warning: raw_kela_payments kela_counter_rises",
        f"published: {settings.published_path}",
        "months 2024-01 .. 2024-02 (2)",
        f"follow-up reports: {settings.reports_dir / '2024-02'} (10 reports for 2024-02)",
    ):
        assert expected in out, expected
    assert "010203-123A" not in out
    (log,) = (settings.warehouse_dir / "logs").glob("kaira-run-*.log")
    text = log.read_text()
    assert " - dagster - " in text and "dbt-like chatter" in text
    assert not (settings.warehouse_dir / "alerts").exists()


def test_a_failed_kaira_run_exits_non_zero_with_one_line_and_an_alert(kaira_env, monkeypatch, capfd):
    settings = kaira_env
    monkeypatch.setattr("pipelines.cli.runner.run_months", stand_in_runner(fail=True))
    assert kaira_run(first="2024-02") == 1
    out, err = capfd.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("kaira: run ") and "(monthly_job) failed in step published_tables" in lines[0]
    assert "ValueError: no kela_payments delivery for 2024-02" in lines[0] and "[redacted]" in lines[0]
    assert "publish FAILED after" in out and "kaira: FAILED in" in out
    assert "published: nothing new (the last published version is unchanged)" in out
    assert "(none written by this run)" in out and "follow-up reports not run (an earlier step failed)" in out
    assert "kaira: 1 month 2024-02;" in out
    (alert,) = (settings.warehouse_dir / "alerts").glob("*.txt")
    assert f"alert: {alert}" in out
    text = alert.read_text()
    assert "started by:  kaira run" in text and "months:      2024-02" in text and "010203-123A" not in text


def test_a_second_run_on_the_same_warehouse_fails_at_once_with_a_clear_message(kaira_env, capfd):
    settings = kaira_env
    with exclusive_warehouse_lock(settings.warehouse_dir):
        began = time.monotonic()
        assert kaira_run() == 1
        assert time.monotonic() - began < 5
    err = capfd.readouterr().err
    assert f"another run is writing the warehouse {settings.warehouse_dir}" in err and "--wait" in err
    assert "kaira run, pid" in err


def test_with_wait_the_second_run_waits_for_the_first(tmp_path):
    released = threading.Event()
    messages = []

    def hold():
        with exclusive_warehouse_lock(tmp_path):
            started.set()
            time.sleep(0.5)
        released.set()

    started = threading.Event()
    holder = threading.Thread(target=hold)
    holder.start()
    started.wait(5)
    with pytest.raises(WarehouseBusyError):
        with exclusive_warehouse_lock(tmp_path):
            pass
    with exclusive_warehouse_lock(tmp_path, wait=True, poll_seconds=0.05, on_wait=messages.append):
        assert released.is_set()
    holder.join()
    assert messages and "waiting for the other run" in messages[0]


def test_the_lock_holds_across_processes(tmp_path):
    code = (
        "import sys, time; from pathlib import Path\n"
        "from pipelines.cli.run_lock import exclusive_warehouse_lock\n"
        "with exclusive_warehouse_lock(Path(sys.argv[1])):\n"
        "    print('locked', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=os.getcwd())
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseBusyError, match="kaira run, pid"):
            with exclusive_warehouse_lock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    with exclusive_warehouse_lock(tmp_path):  # a killed holder leaves no stale lock
        pass


def test_a_dagster_run_writing_the_warehouse_is_respected():
    seen = {}

    @dg.asset(pool=WAREHOUSE_WRITER_POOL)
    def writing(context: dg.AssetExecutionContext):
        try:
            wait_for_writer_runs(context.instance, wait=False)
        except WarehouseBusyError as error:
            seen["error"] = str(error)
        wait_for_writer_runs(context.instance, wait=False, exclude={context.run.run_id})

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([writing], instance=instance)
    assert "a Dagster run is writing the warehouse" in seen["error"] and result.run_id in seen["error"]


def test_month_arguments_are_checked(kaira_env, capfd):
    assert kaira_run(first="2024-3") == 1
    assert "YYYY-MM" in capfd.readouterr().err
    assert kaira_run(first="2024-02", last="2024-01") == 1
    assert "before --from" in capfd.readouterr().err
    assert kaira_run(first="2025-01") == 1
    assert "no month with both register files" in capfd.readouterr().err


def test_output_to_log_catches_every_writer_of_stdout_and_stderr(tmp_path, capfd):
    log = tmp_path / "logs" / "run.log"
    with output_to_log(log) as console:
        console.write("progress line\n")
        print("python stdout")
        print("python stderr", file=sys.stderr)
        os.write(2, b"fd 2\n")
        subprocess.run(["echo", "child process"], check=True)
    out, err = capfd.readouterr()
    assert out == "progress line\n" and err == ""
    text = log.read_text()
    for expected in ("python stdout", "python stderr", "fd 2", "child process"):
        assert expected in text
    print("after")
    assert capfd.readouterr().out == "after\n"


def test_every_progress_line_is_redacted(tmp_path):
    lines = []

    class Out:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    Progress(Out()).line("monthly_job: run a6080679-4341-4a1b-9c1e-0123456789ab near 150685 908r, 150685908R")
    assert lines[0].endswith("monthly_job: run a6080679-4341-4a1b-9c1e-0123456789ab near [redacted], [redacted]\n")


def test_progress_lines_and_a_heartbeat_for_a_long_step(tmp_path):
    lines = []

    class Out:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    progress = Progress(Out(), heartbeat_seconds=0.0)
    progress._running["kaira_monthly_models"] = time.monotonic() - 75
    progress.beat()
    assert "dbt models and tests still running (1 min 15 s)" in "".join(lines)


# --- faults around the run (docs/faults.md) --------------------------------------------------


def test_a_misnamed_file_is_quarantined_named_and_alerted_and_the_valid_months_publish(kaira_env, monkeypatch, capfd):
    settings = kaira_env
    monkeypatch.setattr("pipelines.cli.runner.run_months", stand_in_runner(fail=False))
    bad = settings.landing_dir / "tyonhakijat" / "tyonhakijat_2010-13.csv"
    bad.write_text("rows\n")
    (settings.landing_dir / "kela" / "tmt_2024-03.csv").write_text("rows\n")  # Kela only: waits
    assert kaira_run() == 0
    out, err = capfd.readouterr()
    assert err == ""
    (copy,) = (settings.quarantine_dir / "jobseeker_spells" / "refused").glob("*_tyonhakijat_2010-13.csv")
    (alert,) = (settings.warehouse_dir / "alerts").glob("*.txt")
    for expected in (
        "refused landing files (not read; quarantined):",
        f"tyonhakijat/tyonhakijat_2010-13.csv: '2010-13' is not a month (YYYY-MM, the month 01-12); not read "
        f"(quarantined as {copy})",
        f"alert: {alert}",
        "waiting for their second file:",
        "2024-03: waits for tyonhakijat/tyonhakijat_2024-03.csv; not processed, not published",
        "kaira: done in", "2 months 2024-01..2024-02", "months 2024-01 .. 2024-02 (2)",
    ):
        assert expected in out, expected
    assert "tyonhakijat/tyonhakijat_2010-13.csv" in alert.read_text()


def test_a_run_left_started_by_a_killed_process_is_marked_failed_and_the_next_run_proceeds(kaira_env, monkeypatch, capfd):
    from dagster._core.storage.dagster_run import RunOpConcurrency

    from pipelines.automation.history import PID_TAG
    from pipelines.cli.dagster_home import prepare_dagster_home

    settings = kaira_env
    monkeypatch.setattr("pipelines.cli.runner.run_months", stand_in_runner(fail=False))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # Not opened in a `with`: that would leave Dagster's definitions-state variable pointing
    # at this instance once it is closed (tests/conftest.py).
    instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(settings.dagster_home)))
    killed = instance.add_run(dg.DagsterRun(
        job_name="monthly_job", status=dg.DagsterRunStatus.STARTED,
        tags={**range_tags("2024-01", "2024-02"), PID_TAG: str(dead.pid)},
        run_op_concurrency=RunOpConcurrency(root_key_counts={}, has_unconstrained_root_nodes=False,
                                            all_pools={WAREHOUSE_WRITER_POOL}),
    ))
    assert kaira_run() == 0  # refused before: "a Dagster run is writing the warehouse"
    out, _ = capfd.readouterr()
    assert "runs of killed processes, marked failed:" in out
    assert f"run {killed.run_id} (monthly_job) was left 'STARTED' by a process that is gone (no process {dead.pid}" in out
    (alert,) = (settings.warehouse_dir / "alerts").glob(f"*_{killed.run_id}.txt")
    assert "marked failed by kaira run" in alert.read_text()
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    instance.dispose()


def test_a_changed_scope_refuses_a_run_of_some_months_and_recomputes_a_run_of_all(kaira_env, monkeypatch, capfd):
    settings = kaira_env
    monkeypatch.setattr("pipelines.cli.runner.run_months", stand_in_runner(fail=False))
    monkeypatch.setattr("pipelines.cli.commands.held_months", lambda settings: ["2024-01", "2024-02"])
    settings.warehouse_dir.mkdir(parents=True)
    settings.warehouse_path.write_bytes(b"")  # the marts' months are the stand-in's above
    assert kaira_run() == 0
    capfd.readouterr()
    monkeypatch.setenv("KAIRA_AREA_SCOPE", "all")
    assert kaira_run(first="2024-02") == 1
    err = capfd.readouterr().err
    assert "computed with KAIRA_AREA_SCOPE=MK18" in err and "Run `kaira run` without --from/--to" in err
    assert kaira_run() == 0
    out = capfd.readouterr().out
    assert "settings changed: the warehouse's months 2024-01..2024-02 were computed with KAIRA_AREA_SCOPE=MK18" in out
    assert "recomputing every month (2024-01..2024-02) under these settings" in out


def test_gaps_run_as_ranges_and_only_the_last_range_publishes(kaira_env, monkeypatch, capfd):
    settings = kaira_env
    calls = []
    runner = stand_in_runner(fail=False)

    def recording(first, last, instance=None, *, on_event=None, publish=True):
        calls.append((first, last, publish))
        return runner(first, last, instance, on_event=on_event)

    monkeypatch.setattr("pipelines.cli.runner.run_months", recording)
    for path in delivery_paths(settings.landing_dir, "2024-05").values():
        path.write_text("rows\n")
    assert kaira_run() == 0
    assert calls == [("2024-01", "2024-02", False), ("2024-05", "2024-05", True)]
