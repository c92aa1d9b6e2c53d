"""Faults handled without the real pipeline (docs/faults.md): landing files that are not
deliveries of a supported month, runs left 'started' by a killed process, the settings a
publication was computed under, crash leftovers beside the published file, and the
test-only fault pause.

Protects: a misnamed or out-of-range file is quarantined with a reason and named while the
valid months go on (sensor, schedule, `kaira run`); the supported range is defined once and
the partitions, the holiday seed and the dbt calendar agree with it; a run whose process is
gone is marked failed with a note and no longer blocks anyone, a live one still does; a
change of settings is refused unless every month is recomputed, and a publication never
mixes two; the writer removes a stray WAL and partial versions, fsyncs before it renames,
and builds no SQL from a path.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.automation.history import HOST_TAG, PID_TAG, abandoned_runs, mark_abandoned_runs
from pipelines.cli.run_lock import WarehouseBusyError, wait_for_writer_runs
from pipelines.core import configuration
from pipelines.core.holidays import FIRST_YEAR, LAST_YEAR, seed_rows
from pipelines.core.landing import half_landed_months, landed_months, refused_files
from pipelines.core.settings import FAULT_POINTS, load_settings, parse_fault_pause
from pipelines.core.supported_months import (
    CALENDAR_LAST_MONTH,
    FIRST_MONTH,
    last_complete_month,
    month_problem,
    supported_range,
)
from pipelines.partitions import MONTHLY_PARTITIONS, partition_key
from pipelines.publish import writer
from pipelines.sources.loader import quarantine_refused_file
from tests.helpers import environment
from tests.unit.test_operations_automation import (  # noqa: F401 (kaira_env is a fixture)
    build_reference,
    kaira_env,
    land,
    process,
    sense,
    tick,
)

PACKAGE = Path(__file__).resolve().parents[2] / "pipelines"
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def put(settings, relative: str, text: str = "rows\n") -> Path:
    path = settings.landing_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    old = NOW.timestamp() - 3600
    os.utime(path, (old, old))
    return path


# --- the supported months: one place -------------------------------------------------------


def test_the_supported_range_is_from_2000_01_to_the_last_complete_month_within_the_calendar():
    assert last_complete_month(datetime(2026, 11, 30, 21, 59, tzinfo=UTC)) == "2026-10"
    assert last_complete_month(datetime(2026, 11, 30, 22, 0, tzinfo=UTC)) == "2026-11"  # midnight in Helsinki
    assert supported_range(NOW) == ("2000-01", "2026-10")
    assert supported_range(datetime(2045, 1, 1, tzinfo=UTC)) == ("2000-01", "2040-12")


@pytest.mark.parametrize(
    ("month", "problem"),
    [
        ("2010-13", "'2010-13' is not a month"),
        ("2010-00", "'2010-00' is not a month"),
        ("1999-12", "1999-12 is before 2000-01"),
        ("2026-11", "2026-11 has not ended yet (the last complete month is 2026-10)"),
        ("2041-01", "2041-01 is after 2040-12, the last month of the calendar"),
    ],
)
def test_a_month_outside_the_supported_range_has_a_reason(month, problem):
    assert problem in month_problem(month, NOW)


def test_the_partitions_the_holiday_seed_and_the_dbt_calendar_agree_with_the_range():
    assert MONTHLY_PARTITIONS.start.strftime("%Y-%m") == FIRST_MONTH
    assert MONTHLY_PARTITIONS.end.strftime("%Y-%m-%d") == "2041-01-01"  # exclusive: the calendar's end
    assert (FIRST_YEAR, LAST_YEAR) == (2000, 2040) and CALENDAR_LAST_MONTH == f"{LAST_YEAR}-12"
    assert seed_rows()[0][0].startswith(str(FIRST_YEAR)) and seed_rows()[-1][0].startswith(str(LAST_YEAR))
    spine = (DBT_PROJECT / "models" / "intermediate" / "int_count_dates.sql").read_text()
    assert f"cast('{FIRST_YEAR}-01-01' as date)" in spine and f"cast('{LAST_YEAR + 1}-01-01' as date)" in spine
    assert f"{FIRST_MONTH} .. {CALENDAR_LAST_MONTH}" in spine  # the error names the same range


# --- refused landing files -----------------------------------------------------------------


def test_misnamed_and_out_of_range_files_are_refused_and_the_valid_months_land(tmp_path):
    settings = load_settings(environment(tmp_path))
    for month in ("2009-01", "2009-02"):
        put(settings, f"tyonhakijat/tyonhakijat_{month}.csv")
        put(settings, f"kela/tmt_{month}.csv")
    put(settings, "tyonhakijat/tyonhakijat_2010-13.csv")
    put(settings, "kela/tmt_1999-12.csv")
    put(settings, "kela/tmt_2099-01.csv")
    put(settings, "tyonhakijat/tyonhakijat_2009-3.csv")
    put(settings, "tyonhakijat/.tyonhakijat_2009-03.csv.part")  # a copy in progress: not a delivery
    put(settings, "kela/notes.txt")  # not named like a delivery: not ours to judge

    assert landed_months(settings.landing_dir) == ["2009-01", "2009-02"]
    assert half_landed_months(settings.landing_dir) == {}
    refused = {file.relative_name: file.reason for file in refused_files(settings.landing_dir, NOW)}
    assert set(refused) == {"tyonhakijat/tyonhakijat_2010-13.csv", "tyonhakijat/tyonhakijat_2009-3.csv",
                            "kela/tmt_1999-12.csv", "kela/tmt_2099-01.csv"}
    assert "is not a month" in refused["tyonhakijat/tyonhakijat_2010-13.csv"]
    assert "the name is not tyonhakijat_YYYY-MM.csv" in refused["tyonhakijat/tyonhakijat_2009-3.csv"]
    assert "before 2000-01" in refused["kela/tmt_1999-12.csv"]
    assert "after 2040-12" in refused["kela/tmt_2099-01.csv"]


def test_a_refused_file_is_quarantined_once_with_its_reason_and_owner_only(tmp_path):
    settings = load_settings(environment(tmp_path))
    put(settings, "tyonhakijat/tyonhakijat_2010-13.csv", "henkilotunnus;jakso_id\n010203-123A;1\n")
    (file,) = refused_files(settings.landing_dir)
    copy, new = quarantine_refused_file(file, settings.quarantine_dir)
    assert new and copy.parent == settings.quarantine_dir / "jobseeker_spells" / "refused"
    assert copy.read_bytes() == file.path.read_bytes() and file.path.exists()  # copied, not moved
    reason = copy.with_name(copy.name + ".reason.txt").read_text()
    assert "tyonhakijat/tyonhakijat_2010-13.csv: not read: '2010-13' is not a month" in reason
    assert copy.stat().st_mode & 0o077 == 0
    assert quarantine_refused_file(file, settings.quarantine_dir) == (copy, False)  # same bytes: once
    file.path.write_text("henkilotunnus;jakso_id\n")  # redelivered under the same wrong name
    assert quarantine_refused_file(file, settings.quarantine_dir)[1]


def test_a_refused_symbolic_link_is_named_but_its_target_is_never_copied(tmp_path):
    settings = load_settings(environment(tmp_path))
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("henkilotunnus;jakso_id\n010203-123A;1\n")
    link = settings.landing_dir / "kela" / "tmt_2010-13.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    (file,) = refused_files(settings.landing_dir)
    reason_path, new = quarantine_refused_file(file, settings.quarantine_dir)
    assert new and reason_path.name.endswith(".reason.txt")
    assert "a symbolic link in the landing folder is not a delivery" in reason_path.read_text()
    quarantined = [path for path in settings.quarantine_dir.rglob("*") if path.is_file()]
    assert quarantined == [reason_path]  # nothing of the link's target was copied
    assert reason_path.stat().st_mode & 0o077 == 0
    assert quarantine_refused_file(file, settings.quarantine_dir) == (reason_path, False)


def test_the_sensor_quarantines_a_misnamed_file_and_requests_the_valid_months(kaira_env):  # noqa: F811
    settings, instance = kaira_env
    build_reference(instance)
    for month in ("2024-01", "2024-02"):
        land(settings, month)
    put(settings, "tyonhakijat/tyonhakijat_2010-13.csv")
    put(settings, "kela/tmt_1990-01.csv")
    result = sense(instance)  # raised DagsterUnknownPartitionError before
    (request,) = result.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2024-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2024-02-01"
    assert len(list((settings.quarantine_dir / "jobseeker_spells" / "refused").glob("*_tyonhakijat_2010-13.csv"))) == 1
    (alert,) = (settings.warehouse_dir / "alerts").glob("*_landing-*.txt")
    text = alert.read_text()
    assert "KAIRA ALERT: landing file(s) refused" in text and "seen by:     sensor landing_sensor" in text
    assert "tyonhakijat/tyonhakijat_2010-13.csv: '2010-13' is not a month" in text and "kela/tmt_1990-01.csv" in text

    idle = sense(instance, result.cursor)  # nothing new: the skip reason names the refused files
    assert not idle.run_requests
    message = idle.skip_reason.skip_message
    assert "refused, not read (quarantined): tyonhakijat/tyonhakijat_2010-13.csv ('2010-13' is not a month" in message
    assert len(list((settings.warehouse_dir / "alerts").glob("*.txt"))) == 1  # no alert every minute


def test_the_schedule_skips_refused_files_with_a_reason_and_requests_the_due_month(kaira_env):  # noqa: F811
    settings, instance = kaira_env
    build_reference(instance)
    put(settings, "tyonhakijat/tyonhakijat_2010-13.csv")
    waiting = tick(instance, "2024-03")
    assert isinstance(waiting, dg.SkipReason)
    assert "tmt_2024-03.csv" in waiting.skip_message and "tyonhakijat/tyonhakijat_2010-13.csv" in waiting.skip_message
    land(settings, "2024-03")
    assert isinstance(tick(instance, "2024-03"), dg.RunRequest)
    beyond = tick(instance, "2041-01")
    assert isinstance(beyond, dg.SkipReason) and "after 2040-12, the last month of the calendar" in beyond.skip_message


def test_an_earlier_month_delivered_late_runs_with_the_later_months_it_changes(kaira_env):  # noqa: F811
    """Deliveries out of order: 2024-03 and 2024-04 processed, then 2024-02 lands. Its
    figures feed the later months' look-back, so they are recomputed in the same run."""
    settings, instance = kaira_env
    build_reference(instance)
    for month in ("2024-03", "2024-04"):
        land(settings, month)
    assert process(instance, "2024-03", "2024-04").success
    seen = sense(instance)
    assert not seen.run_requests
    land(settings, "2024-02")
    (request,) = sense(instance, seen.cursor).run_requests
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        "2024-02-01", "2024-04-01")
    assert request.tags["kaira/changed_months"] == "2024-02"


# --- runs left 'started' by a killed process ------------------------------------------------


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def writer_run(instance, pid: int, **tags) -> dg.DagsterRun:
    """A run as a killed `kaira run` leaves it: STARTED, in the writer pool, with its pid."""
    from dagster._core.storage.dagster_run import RunOpConcurrency

    run = instance.add_run(dg.DagsterRun(
        job_name="monthly_job", status=dg.DagsterRunStatus.STARTED,
        tags={"dagster/partition": "2024-03-01", PID_TAG: str(pid), **tags},
        run_op_concurrency=RunOpConcurrency(root_key_counts={}, has_unconstrained_root_nodes=False,
                                            all_pools={"warehouse_writer"}),
    ))
    return run


def test_a_run_whose_process_is_gone_is_marked_failed_with_a_note_and_blocks_nobody():
    with dg.DagsterInstance.ephemeral() as instance:
        killed = writer_run(instance, dead_pid())
        alive = writer_run(instance, os.getpid())
        elsewhere = writer_run(instance, dead_pid(), **{HOST_TAG: "another-host"})
        assert [found.run.run_id for found in abandoned_runs(instance)] == [killed.run_id]

        with pytest.raises(WarehouseBusyError) as busy:  # the live one still counts
            wait_for_writer_runs(instance, wait=False)
        assert killed.run_id not in str(busy.value) and alive.run_id in str(busy.value)
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        failure = instance.get_records_for_run(killed.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        note = failure[0].event_log_entry.dagster_event.message
        assert "marked failed by kaira run" in note and "its process is gone" in note and "no process" in note
        assert instance.get_run_by_id(elsewhere.run_id).status == dg.DagsterRunStatus.STARTED
        wait_for_writer_runs(instance, wait=False, exclude={alive.run_id, elsewhere.run_id})  # no longer busy


def test_the_sensor_marks_a_killed_run_failed_so_its_month_runs_again(kaira_env):  # noqa: F811
    settings, instance = kaira_env
    build_reference(instance)
    land(settings, "2024-07")
    killed = writer_run(instance, dead_pid())
    killed_run = instance.get_run_by_id(killed.run_id)
    assert killed_run.status == dg.DagsterRunStatus.STARTED
    result = sense(instance)
    assert [request.partition_key for request in result.run_requests] == [partition_key("2024-07")]
    assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
    assert mark_abandoned_runs(instance, by="test") == []


def test_a_reused_pid_is_not_taken_for_the_runs_process():
    from pipelines.automation.history import process_gone

    assert process_gone(os.getpid(), run_started=None) is None
    assert "started after the run" in process_gone(os.getpid(), run_started=datetime(2000, 1, 1).timestamp())
    assert "no process" in process_gone(dead_pid(), run_started=None)


# --- one publication, one configuration ------------------------------------------------------


def settings_with(tmp_path, **overrides):
    settings = load_settings(environment(tmp_path, **overrides))
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.warehouse_path.write_bytes(b"")  # a warehouse exists; nothing here opens it
    return settings


def test_a_fresh_warehouse_records_its_settings_and_runs_freely(tmp_path):
    settings = settings_with(tmp_path)
    assert not configuration.plan_run(settings, ["2009-03"], []).recompute
    assert configuration.read_record(settings) == configuration.Record(configuration.Computation("MK18", "real"))
    assert not configuration.plan_run(settings, ["2009-03"], ["2009-01", "2009-02", "2009-03"]).recompute
    configuration.check_publication(settings, ["2009-01", "2009-02", "2009-03"], ["2009-03"])
    assert configuration.automation_refusal(settings) is None


def test_a_change_of_scope_is_refused_for_some_months_and_recomputes_all_months(tmp_path):
    before = settings_with(tmp_path)
    configuration.plan_run(before, ["2009-01", "2009-02", "2009-03"], [])
    after = settings_with(tmp_path, KAIRA_AREA_SCOPE="all")
    held = ["2009-01", "2009-02", "2009-03"]

    with pytest.raises(configuration.ConfigurationMismatchError) as refused:
        configuration.plan_run(after, ["2009-03"], held)
    message = str(refused.value)
    assert "computed with KAIRA_AREA_SCOPE=MK18, KAIRA_MUNICIPALITY_SET=real" in message
    assert "these settings are KAIRA_AREA_SCOPE=all" in message and "Run `kaira run` without --from/--to" in message
    assert "2009-01..2009-02 would be left out" in message
    with pytest.raises(configuration.ConfigurationMismatchError, match="publishing would mix the two"):
        configuration.check_publication(after, held, ["2009-03"])  # e.g. a run from the UI
    assert "no run, it would publish a mix" in configuration.automation_refusal(after)

    plan = configuration.plan_run(after, held, held)  # `kaira run` over every month
    assert plan.recompute and "recomputing every month (2009-01..2009-03)" in plan.note
    assert configuration.read_record(after).pending == tuple(held)
    # Interrupted after the first range: the rest still holds the old figures.
    configuration.mark_computed(after, ["2009-01"])
    with pytest.raises(configuration.ConfigurationMismatchError, match="months 2009-03 still hold"):
        configuration.check_publication(after, held, ["2009-02"])
    assert "unfinished" in configuration.automation_refusal(after)
    with pytest.raises(configuration.ConfigurationMismatchError, match="is unfinished"):
        configuration.plan_run(after, ["2009-02"], held)
    # Set back to the old settings after the interruption: the recomputed months are now the odd ones.
    with pytest.raises(configuration.ConfigurationMismatchError):
        configuration.plan_run(before, ["2009-02"], held)
    configuration.check_publication(after, held, ["2009-02", "2009-03"])  # the last range publishes all
    assert configuration.read_record(after) == configuration.Record(configuration.Computation("all", "real"))
    assert configuration.automation_refusal(after) is None


def test_a_warehouse_without_a_record_is_recomputed_whole_once(tmp_path):
    settings = settings_with(tmp_path, KAIRA_MUNICIPALITY_SET="synthetic")
    with pytest.raises(configuration.ConfigurationMismatchError, match="are not recorded"):
        configuration.plan_run(settings, ["2009-03"], ["2009-02", "2009-03"])
    with pytest.raises(configuration.ConfigurationMismatchError, match="are not recorded"):
        configuration.check_publication(settings, ["2009-02", "2009-03"], ["2009-03"])
    assert configuration.plan_run(settings, ["2009-02", "2009-03"], ["2009-02", "2009-03"]).recompute


def test_the_threshold_is_not_part_of_the_record_it_applies_to_every_month_at_publication(tmp_path):
    settings = settings_with(tmp_path)
    configuration.plan_run(settings, ["2009-01"], [])
    stricter = settings_with(tmp_path, KAIRA_SUPPRESSION_THRESHOLD="10")
    assert not configuration.plan_run(stricter, ["2009-01"], ["2009-01", "2009-02"]).recompute


# --- the published file: leftovers, fsync, no SQL from paths ------------------------------------


TABLES = {"indicators_monthly": (pd.DataFrame({"month": [date(2009, 1, 1)], "value": [1.0]}),
                                 {"month": "DATE", "value": "DOUBLE"})}


def test_a_stray_wal_and_partial_versions_are_removed_and_the_new_file_opens(tmp_path):
    folder = tmp_path / "ware'house"  # a quote in the path: no SQL is built from it
    database, link = folder / "published.duckdb", folder / "published"
    writer.publish_atomically(database, link, TABLES)
    # What a crash can leave: a WAL beside the published file, a temporary file, a partial version.
    (folder / "published.duckdb.wal").write_bytes(b"not a WAL of this file")
    (folder / ".published.duckdb.1234.tmp").write_bytes(b"half")
    partial = folder / "published.versions" / ".20260101T000000Z-deadbeef.partial"
    partial.mkdir()
    (partial / "indicators_monthly.parquet").write_bytes(b"half")

    writer.publish_atomically(database, link, TABLES)
    assert not (folder / "published.duckdb.wal").exists() and not partial.exists()
    assert not list(folder.glob(".*.tmp"))
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("select value from indicators_monthly").fetchall() == [(1.0,)]
    con.close()
    assert duckdb.sql("select count(*) from read_parquet(?)", params=[str(link / "indicators_monthly.parquet")]
                      ).fetchall() == [(1,)]


def test_every_file_is_fsynced_before_it_is_renamed_into_place(tmp_path, monkeypatch):
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = writer._fsync, os.replace
    monkeypatch.setattr(writer, "_fsync", lambda path: (events.append(("fsync", Path(path).name)), real_fsync(path)))
    monkeypatch.setattr(writer.os, "replace",
                        lambda source, target: (events.append(("rename", Path(target).name)),
                                                real_replace(source, target)))
    writer.publish_atomically(tmp_path / "published.duckdb", tmp_path / "published", TABLES)
    order = [f"{kind} {name}" for kind, name in events]
    version = next(name for kind, name in events if kind == "rename" and "-" in name)
    assert order.index("fsync indicators_monthly.parquet") < order.index(f"rename {version}")
    assert order.index(f"rename {version}") < order.index("fsync published.versions")
    temporary = next(name for kind, name in events if kind == "fsync" and name.endswith(".tmp"))
    assert order.index(f"fsync {temporary}") < order.index("rename published.duckdb")
    assert order.index("rename published") < order.index(f"fsync {tmp_path.name}")  # the folder after the renames


SQL_FILE_FUNCTIONS = re.compile(r"\b(copy|attach|read_csv\w*|read_parquet|read_json\w*|export database|import database)\b",
                                re.IGNORECASE)


def test_no_sql_is_built_from_a_path_by_string_formatting():
    """An f-string holding SQL that reads or writes a file breaks on a quote in the path
    (KAIRA_WAREHOUSE_DIR="/data/o'brien") and is an injection: such SQL takes parameters."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                literal = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
                if SQL_FILE_FUNCTIONS.search(literal) and re.search(r"\b(from|to|select)\b", literal, re.I):
                    offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert offenders == []


# --- the fault pause (test-only) ---------------------------------------------------------------


def test_the_fault_pause_names_a_point_and_seconds():
    assert parse_fault_pause(None) is None and parse_fault_pause("") is None
    assert parse_fault_pause("dbt:2.5").seconds == 2.5
    assert set(FAULT_POINTS) == {"ingest", "dbt", "checks", "publish", "swap", "reports"}
    for wrong in ("dbt", "nowhere:3", "dbt:soon", "dbt:-1"):
        with pytest.raises(ValueError, match="KAIRA_FAULT_PAUSE"):
            parse_fault_pause(wrong)


# Modules that hand (part of) the environment to a child process (dbt, Chromium, the command
# a resident worker runs for its client); they read no setting from it.
PASS_ENVIRONMENT_TO_CHILDREN = {"pipelines/warehouse/project.py", "pipelines/reports/browser.py",
                                "pipelines/worker/server.py", "pipelines/worker/client.py"}


def test_only_the_settings_module_reads_the_environment():
    """The fault pause is a setting too: no module but settings.py reads the environment
    (the writer's own pause variable is gone)."""
    readers = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name != "settings.py" and re.search(r"os\.(environ|getenv)", path.read_text(encoding="utf-8")):
            readers.add(path.relative_to(PACKAGE.parent).as_posix())
    assert readers <= PASS_ENVIRONMENT_TO_CHILDREN
