"""The monthly schedule, the landing sensor and the failure alert, evaluated with Dagster's
own test contexts against a test instance. The ingest assets are stand-ins with the real
asset keys and the real metadata (`delivery_metadata`), so no pipeline runs here.

Protects: the schedule skips (naming the files) while a month is missing and when the same
files were already processed, and runs a month otherwise; the sensor requests new months,
requests nothing for unchanged files, requests a redelivered month together with the later
months already processed in one range run, waits for files still being copied; a failed
run leaves an alert file without identity codes.
"""

import os
import time
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.automation.decisions import HELSINKI, LandingCursor
from pipelines.automation.failure_alert import run_failure_alert
from pipelines.automation.history import (
    REFERENCE_ASSET_KEYS,
    active_monthly_runs,
    executing_writer_runs,
    ingested_month,
    materialized_months,
)
from pipelines.automation.schedule import evaluate_month, monthly_schedule
from pipelines.automation.sensor import landing_sensor
from pipelines.core.landing import delivery_paths, month_hashes
from pipelines.core.settings import load_settings
from pipelines.partitions import (
    MONTHLY_PARTITIONS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    WAREHOUSE_WRITER_POOL,
    partition_key_to_month,
    range_tags,
)
from pipelines.resources import SettingsResource
from pipelines.sources.assets import delivery_metadata
from pipelines.sources.loader import DeliveryReport
from tests.helpers import environment

LONG_AGO = time.time() - 3600


@pytest.fixture
def kaira_env(tmp_path, monkeypatch):
    for name, value in environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    settings.warehouse_dir.mkdir(parents=True)
    settings.warehouse_path.write_bytes(b"")  # exists; nothing here opens it
    with dg.DagsterInstance.ephemeral() as instance:  # in memory: a second faster than sqlite per test
        yield settings, instance


def land(settings, month: str, text: str = "rows") -> None:
    for path in delivery_paths(settings.landing_dir, month).values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{text} of {path.name}\n")
        os.utime(path, (LONG_AGO, LONG_AGO))


def report(source: str, month: str, landing: Path) -> DeliveryReport:
    path = delivery_paths(landing, month)[source]
    from pipelines.core.landing import file_sha256

    return DeliveryReport(
        source=source, month=month, source_file=path.relative_to(landing).as_posix(), sha256=file_sha256(path),
        encoding="utf-8", delimiter=";", rows_read=10, rows_loaded=9, rows_rejected=1, ignored_columns=(),
        padded_municipality_codes=0, reject_reasons={}, loaded_at=datetime(2024, 1, 1),
    )


def stand_in_ingest(name: str, source: str):
    @dg.asset(name=name, partitions_def=MONTHLY_PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run(),
              pool=WAREHOUSE_WRITER_POOL)
    def ingest(context: dg.AssetExecutionContext):
        landing = load_settings().landing_dir
        months = [partition_key_to_month(key) for key in sorted(context.partition_keys)]
        return dg.MaterializeResult(metadata=delivery_metadata([report(source, m, landing) for m in months]))

    return ingest


INGEST = [stand_in_ingest("raw_jobseeker_spells", "jobseeker_spells"), stand_in_ingest("raw_kela_payments", "kela_payments")]


@dg.asset(deps=["raw_jobseeker_spells", "raw_kela_payments"])
def published_tables():
    raise dg.Failure(description="not published: blocking check(s) failed: fct_indicators_monthly:counts_not_negative")


def process(instance, first: str, last: str, *, fail: bool = False) -> dg.ExecuteInProcessResult:
    """A stand-in monthly run of first..last: ingest records the files' hashes; with `fail`,
    publishing fails after ingest (the run fails)."""
    return dg.materialize([*INGEST, *([published_tables] if fail else [])], instance=instance,
                          tags=range_tags(first, last), raise_on_error=False)


def build_reference(instance) -> None:
    for key in REFERENCE_ASSET_KEYS:
        instance.report_runless_asset_event(dg.AssetMaterialization(key))


def tick(instance, month: str):
    """What the schedule decides for `month` (its tick on the 10th of the month after)."""
    return evaluate_month(instance, month, load_settings())


# --- what the instance remembers ------------------------------------------------------------


def test_the_instance_remembers_each_months_files_and_outcome(kaira_env):
    settings, instance = kaira_env
    for month in ("2024-01", "2024-02"):
        land(settings, month)
    assert ingested_month(instance, "2024-01") is None
    assert process(instance, "2024-01", "2024-02").success
    first = ingested_month(instance, "2024-01")
    assert first.hashes == month_hashes(settings.landing_dir, "2024-01") and first.succeeded
    assert materialized_months(instance) == {"2024-01", "2024-02"}
    assert not process(instance, "2024-02", "2024-02", fail=True).success
    assert not ingested_month(instance, "2024-02").succeeded


def test_active_runs_and_writer_runs_are_seen():
    seen = {}

    @dg.asset(pool=WAREHOUSE_WRITER_POOL)
    def writer(context: dg.AssetExecutionContext):
        seen["all"] = [run.run_id for run in executing_writer_runs(context.instance)]
        seen["others"] = executing_writer_runs(context.instance, exclude={context.run.run_id})

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([writer], instance=instance)
        assert seen["all"] == [result.run_id] and seen["others"] == []
        queued = instance.add_run(
            dg.DagsterRun(job_name="monthly_job", tags=range_tags("2024-01", "2024-02"), status=dg.DagsterRunStatus.STARTED)
        )
        assert active_monthly_runs(instance) == {"2024-01": queued.run_id, "2024-02": queued.run_id}


# --- monthly schedule -----------------------------------------------------------------------


def test_the_schedule_through_dagsters_schedule_context(tmp_path, monkeypatch):
    """The tick of 10 April 2024 06:00 Helsinki: March is missing, then lands, then is done."""
    for name, value in environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    settings.warehouse_dir.mkdir(parents=True)
    settings.warehouse_path.write_bytes(b"")
    when = datetime(2024, 4, 10, 6, 0, tzinfo=HELSINKI)
    with dg.instance_for_test() as instance:  # the schedule context wants a persistent instance
        build_reference(instance)

        def evaluate():
            # Closed after the tick: the context enters the instance, which sets Dagster's
            # current defs-state storage; left open, a later test's definitions would load
            # against this instance after it is gone.
            with dg.build_schedule_context(
                instance=instance, scheduled_execution_time=when, resources={"settings": SettingsResource()}
            ) as context:
                return monthly_schedule(context)

        missing = evaluate()
        assert isinstance(missing, dg.SkipReason) and "tmt_2024-03.csv" in missing.skip_message
        land(settings, "2024-03")
        request = evaluate()
        assert isinstance(request, dg.RunRequest) and request.partition_key == "2024-03-01"
        assert process(instance, "2024-03", "2024-03").success
        done = evaluate()
        assert isinstance(done, dg.SkipReason) and "already processed from these same files" in done.skip_message


def test_the_schedule_skips_while_the_files_are_missing_naming_them(kaira_env):
    settings, instance = kaira_env
    build_reference(instance)
    result = tick(instance, "2024-03")
    assert isinstance(result, dg.SkipReason)
    assert str(settings.landing_dir / "tyonhakijat" / "tyonhakijat_2024-03.csv") in result.skip_message
    assert str(settings.landing_dir / "kela" / "tmt_2024-03.csv") in result.skip_message
    land(settings, "2024-03")  # half a delivery: only the missing file is named
    delivery_paths(settings.landing_dir, "2024-03")["kela_payments"].unlink()
    result = tick(instance, "2024-03")
    assert "tmt_2024-03.csv" in result.skip_message and "tyonhakijat_2024-03" not in result.skip_message


def test_the_schedule_requests_the_previous_month_when_its_files_are_there(kaira_env):
    settings, instance = kaira_env
    build_reference(instance)
    land(settings, "2024-03")
    request = tick(instance, "2024-03")
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2024-03-01"
    assert request.run_key.startswith("2024-03@")


def test_the_schedule_skips_a_month_already_processed_from_the_same_files(kaira_env):
    settings, instance = kaira_env
    build_reference(instance)
    land(settings, "2024-03")
    assert process(instance, "2024-03", "2024-03").success
    result = tick(instance, "2024-03")
    assert isinstance(result, dg.SkipReason) and "already processed from these same files" in result.skip_message
    land(settings, "2024-03", text="corrected rows")  # redelivered
    assert isinstance(tick(instance, "2024-03"), dg.RunRequest)


def test_the_schedule_retries_a_month_whose_run_failed_and_waits_for_the_reference_data(kaira_env):
    settings, instance = kaira_env
    land(settings, "2024-03")
    result = tick(instance, "2024-03")
    assert isinstance(result, dg.SkipReason) and "reference_job" in result.skip_message
    build_reference(instance)
    assert not process(instance, "2024-03", "2024-03", fail=True).success
    assert isinstance(tick(instance, "2024-03"), dg.RunRequest)


# --- landing sensor -------------------------------------------------------------------------


def sense(instance, cursor=None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"settings": SettingsResource()}) as context:
        return landing_sensor(context)


def test_the_sensor_requests_new_months_in_one_run_and_builds_the_reference_first(kaira_env):
    settings, instance = kaira_env
    for month in ("2024-01", "2024-02"):
        land(settings, month)
    result = sense(instance)
    reference, monthly = result.run_requests
    assert reference.job_name == "reference_job"
    assert monthly.job_name == "monthly_job"
    assert (monthly.tags[RANGE_START_TAG], monthly.tags[RANGE_END_TAG]) == ("2024-01-01", "2024-02-01")
    assert set(LandingCursor.from_json(result.cursor).months) == {"2024-01", "2024-02"}

    build_reference(instance)
    again = sense(instance)
    assert [r.job_name for r in again.run_requests] == ["monthly_job"]
    assert again.run_requests[0].run_key == monthly.run_key  # same files, same key: Dagster runs it once


def test_the_sensor_requests_nothing_for_unchanged_files(kaira_env):
    settings, instance = kaira_env
    build_reference(instance)
    land(settings, "2024-01")
    first = sense(instance)
    assert len(first.run_requests) == 1 and first.run_requests[0].partition_key == "2024-01-01"
    second = sense(instance, first.cursor)
    assert not second.run_requests and "no new or changed deliveries" in second.skip_reason.skip_message
    assert second.cursor == first.cursor


def test_the_sensor_requests_a_changed_old_month_and_the_later_months(kaira_env):
    settings, instance = kaira_env
    build_reference(instance)
    for month in ("2024-01", "2024-02", "2024-03", "2024-04"):
        land(settings, month)
    assert process(instance, "2024-01", "2024-04").success
    # Processed before the sensor looked (e.g. `kaira run`): recorded, not run again.
    seen = sense(instance)
    assert not seen.run_requests and "already processed from the same files" in seen.skip_reason.skip_message

    land(settings, "2024-02", text="redelivered rows")
    result = sense(instance, seen.cursor)
    (request,) = result.run_requests
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2024-02-01", "2024-04-01")
    assert request.tags["kaira/changed_months"] == "2024-02"
    assert request.run_key.startswith("2024-02..2024-04@")
    assert LandingCursor.from_json(result.cursor).months["2024-02"] == month_hashes(settings.landing_dir, "2024-02")
    assert not sense(instance, result.cursor).run_requests


def test_the_sensor_waits_for_files_still_being_written_and_for_the_second_file(kaira_env):
    settings, instance = kaira_env
    build_reference(instance)
    land(settings, "2024-05")
    now = time.time()
    for path in delivery_paths(settings.landing_dir, "2024-05").values():
        os.utime(path, (now, now))
    result = sense(instance)
    assert not result.run_requests and "still arriving" in result.skip_reason.skip_message
    land(settings, "2024-06")
    delivery_paths(settings.landing_dir, "2024-06")["jobseeker_spells"].unlink()
    assert "2024-06 waits for tyonhakijat/tyonhakijat_2024-06.csv" in sense(instance, result.cursor).skip_reason.skip_message
    for path in delivery_paths(settings.landing_dir, "2024-05").values():
        os.utime(path, (LONG_AGO, LONG_AGO))
    assert [r.partition_key for r in sense(instance, result.cursor).run_requests] == ["2024-05-01"]


def test_the_sensor_does_not_double_a_month_a_run_is_already_on(kaira_env):
    settings, instance = kaira_env
    build_reference(instance)
    running = instance.add_run(
        dg.DagsterRun(job_name="monthly_job", tags={"dagster/partition": "2024-07-01"}, status=dg.DagsterRunStatus.STARTED)
    )
    land(settings, "2024-07")
    result = sense(instance)
    assert not result.run_requests
    assert f"2024-07 queued or running in run(s) {running.run_id}" in result.skip_reason.skip_message


# --- the requests fit the real job ------------------------------------------------------------


def test_the_requests_resolve_against_the_real_monthly_job(kaira_env):
    """What the daemon does with a request: a single month and a range are both valid
    partitions of monthly_job (which also holds the unpartitioned published_tables)."""
    from pipelines.definitions import defs

    job = defs.resolve_job_def("monthly_job")
    single = dg.RunRequest(partition_key="2024-03-01").with_resolved_tags_and_config(
        target_definition=job, dynamic_partitions_requests=[], dynamic_partitions_store=None
    )
    assert single.tags["dagster/partition"] == "2024-03-01"
    keys = job.partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange("2024-01-01", "2024-04-01"))
    assert keys == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    assert dg.AssetKey("published_tables") in job.asset_layer.executable_asset_keys


def test_the_definitions_hold_the_schedule_and_the_sensors():
    from pipelines.definitions import defs

    schedule = defs.resolve_schedule_def("monthly_schedule")
    assert schedule.cron_schedule == "0 6 10 * *" and schedule.execution_timezone == "Europe/Helsinki"
    assert schedule.job_name == "monthly_job"
    assert defs.resolve_sensor_def("landing_sensor").minimum_interval_seconds == 60
    assert defs.resolve_sensor_def("run_failure_alert")
    reference = {key for key in defs.resolve_job_def("reference_job").asset_layer.executable_asset_keys}
    assert set(REFERENCE_ASSET_KEYS) <= reference


# --- failure alert --------------------------------------------------------------------------


def test_a_failed_run_leaves_an_alert_file_without_identity_codes(kaira_env):
    settings, instance = kaira_env

    @dg.asset(name="raw_kela_payments", partitions_def=MONTHLY_PARTITIONS)
    def failing_ingest():
        raise ValueError("kela/tmt_2024-03.csv, line 7: unreadable row near 010203-123A")

    job = dg.Definitions(
        assets=[failing_ingest], jobs=[dg.define_asset_job("monthly_job")]
    ).resolve_job_def("monthly_job")
    result = job.execute_in_process(instance=instance, partition_key="2024-03-01", raise_on_error=False)
    assert not result.success

    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"settings": SettingsResource()},
    ).for_run_failure()
    run_failure_alert(context)

    (alert,) = (settings.warehouse_dir / "alerts").glob("*.txt")
    text = alert.read_text()
    assert alert.name.endswith(f"_{result.run_id}.txt")
    assert f"run id:      {result.run_id}" in text and "job:         monthly_job" in text
    assert "failed step: raw_kela_payments" in text and "months:      2024-03" in text
    assert "ValueError: kela/tmt_2024-03.csv, line 7: unreadable row near [redacted]" in text
    assert "010203-123A" not in text and "DagsterExecutionStepExecutionError" not in text
