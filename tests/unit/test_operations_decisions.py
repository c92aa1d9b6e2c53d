"""The automation's pure helpers: which month a tick is due for, run-or-skip with a reason,
the runs a landing change needs, run keys, the sensor cursor, file hashes, alert redaction.

Protects: the schedule never runs a month twice from the same files, says which file it
waits for, and a redelivery reruns its month and the later ones in one range.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.automation.alerts import Alert, redact, write_alert
from pipelines.automation.decisions import (
    HELSINKI,
    LandingCursor,
    changed_months,
    decide_month,
    month_due,
    plan_runs,
    run_key,
)
from pipelines.core.landing import (
    delivery_paths,
    file_sha256,
    file_state,
    half_landed_months,
    missing_files,
)
from pipelines.core.months import describe_months, month_text, previous_month

A, B, C = ("a" * 64, "b" * 64), ("c" * 64, "d" * 64), ("e" * 64, "f" * 64)


@pytest.mark.parametrize(
    "tick, due",
    [
        (datetime(2024, 4, 10, 6, 0, tzinfo=HELSINKI), "2024-03"),
        (datetime(2024, 1, 10, 6, 0, tzinfo=HELSINKI), "2023-12"),
        # 22:30 UTC on the last day of February is already 1 March in Helsinki
        (datetime(2024, 2, 29, 22, 30, tzinfo=UTC), "2024-02"),
        (datetime(2024, 2, 29, 21, 30, tzinfo=UTC), "2024-01"),
        (datetime(2024, 2, 29, 22, 30), "2024-02"),  # naive: taken as UTC
        (datetime(2024, 2, 29, 21, 30), "2024-01"),
    ],
)
def test_the_month_due_is_the_one_before_the_tick_in_helsinki(tick, due):
    assert month_due(tick) == due


def test_previous_month_and_month_arguments():
    assert previous_month("2024-01") == "2023-12"
    assert month_text("2024-03") == "2024-03"
    for bad in ("2024-3", "2024-13", "24-03", "2024/03", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            month_text(bad)


def decide(**facts):
    defaults = dict(missing=[], hashes=A, ingested_hashes=None, ingested_run_id=None, ingested_succeeded=False)
    return decide_month("2024-03", **{**defaults, **facts})


def test_missing_files_skip_with_the_paths_named(tmp_path):
    missing = missing_files(tmp_path, "2024-03")
    decision = decide(missing=missing, hashes=None)
    assert not decision.run
    assert str(tmp_path / "tyonhakijat" / "tyonhakijat_2024-03.csv") in decision.reason
    assert str(tmp_path / "kela" / "tmt_2024-03.csv") in decision.reason


def test_a_month_processed_from_the_same_files_is_skipped_and_a_changed_file_runs():
    same = decide(ingested_hashes=A, ingested_run_id="r1", ingested_succeeded=True)
    assert not same.run and "same files" in same.reason and "r1" in same.reason
    changed = decide(ingested_hashes=(A[0], "0" * 64), ingested_run_id="r1", ingested_succeeded=True)
    assert changed.run and "redelivered" in changed.reason


def test_a_failed_or_lost_run_runs_again_and_an_active_one_is_not_doubled():
    assert decide(ingested_hashes=A, ingested_run_id="r1", ingested_succeeded=False).run
    assert decide(ingested_hashes=A, ingested_succeeded=True, warehouse_exists=False).run
    assert decide().run and "not been processed" in decide().reason
    active = decide(active_run_id="r9")
    assert not active.run and "r9" in active.reason


def test_no_monthly_run_before_the_reference_data_exists():
    decision = decide(reference_ready=False)
    assert not decision.run and "reference_job" in decision.reason


def test_changed_months_are_new_or_different_pairs():
    assert changed_months({"2024-01": A, "2024-02": B}, {"2024-01": A}) == ["2024-02"]
    assert changed_months({"2024-01": A, "2024-02": B}, {"2024-01": C, "2024-02": B}) == ["2024-01"]
    assert changed_months({"2024-01": A}, {"2024-01": A, "2023-12": B}) == []


def test_a_new_month_runs_alone_and_a_redelivery_runs_up_to_the_latest_materialized():
    landed = {f"2024-0{i}" for i in range(1, 7)}
    assert plan_runs(["2024-06"], {"2024-01", "2024-02", "2024-03", "2024-04", "2024-05"}, landed) == [
        ("2024-06", "2024-06")
    ]
    assert plan_runs(["2024-02"], {"2024-01", "2024-02", "2024-03", "2024-04"}, landed) == [("2024-02", "2024-04")]
    # a redelivery and a new month at once: one range
    assert plan_runs(["2024-02", "2024-06"], {"2024-01", "2024-02", "2024-03"}, landed) == [("2024-02", "2024-06")]
    # a month without files splits the span
    assert plan_runs(["2024-01"], {"2024-01", "2024-02", "2024-04"}, landed - {"2024-03"}) == [
        ("2024-01", "2024-02"),
        ("2024-04", "2024-04"),
    ]
    assert plan_runs([], {"2024-01"}, landed) == []


def test_run_keys_follow_the_months_and_their_files():
    landed = {"2024-01": A, "2024-02": B}
    key = run_key("2024-01", "2024-02", landed)
    assert key.startswith("2024-01..2024-02@")
    assert run_key("2024-01", "2024-02", dict(landed)) == key
    assert run_key("2024-01", "2024-02", {**landed, "2024-02": C}) != key
    assert run_key("2024-01", "2024-01", landed).startswith("2024-01@")


def test_the_cursor_round_trips():
    cursor = LandingCursor(months={"2024-01": A}, files={"kela/tmt_2024-01.csv": [1, 2, "x"]})
    again = LandingCursor.from_json(cursor.to_json())
    assert again.months == {"2024-01": A} and again.files == cursor.files
    assert LandingCursor.from_json(None).months == {}


def test_describe_months_collapses_runs():
    assert describe_months(["2024-01", "2024-02", "2024-05"]) == "2024-01..2024-02, 2024-05"


def write_month(landing: Path, month: str, text: str = "x") -> dict[str, Path]:
    paths = delivery_paths(landing, month)
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{text} {path.name}")
    return paths


def test_file_hashes_are_the_sha256_ingest_records_and_the_cache_is_used(tmp_path):
    paths = write_month(tmp_path, "2024-03")
    path = paths["kela_payments"]
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    state = file_state(path)
    cache = {"k": [state.size, state.mtime_ns, "from-cache"]}
    assert file_state(path, cache, "k").sha256 == "from-cache"
    path.write_text("changed, longer than before")
    assert file_state(path, cache, "k").sha256 == file_sha256(path)


def test_the_landing_paths_are_the_ones_ingest_reads(tmp_path):
    from pipelines.sources.loader import expected_path

    for source, path in delivery_paths(tmp_path, "2024-03").items():
        assert path == expected_path(source, "2024-03", tmp_path)


def test_a_half_landed_month_names_the_file_it_waits_for(tmp_path):
    paths = write_month(tmp_path, "2024-03")
    paths["kela_payments"].unlink()
    assert half_landed_months(tmp_path) == {"2024-03": [paths["kela_payments"]]}


def test_identity_codes_are_redacted_from_alerts(tmp_path):
    assert redact("rivi 7: 010203-123A ja 311299A9876 ja 150505+0011") == "rivi 7: [redacted] ja [redacted] ja [redacted]"
    assert redact("2024-03-01 12:00:00, 1234567 rows") == "2024-03-01 12:00:00, 1234567 rows"
    alert = Alert(run_id="abc", job_name="monthly_job", step_key="raw_kela_payments",
                  message="ValueError: bad row for 010203-123A\nsecond line", months="2024-03")
    path = write_alert(tmp_path, alert)
    assert path.parent == tmp_path / "alerts" and path.name.endswith("_abc.txt")
    text = path.read_text()
    assert "010203-123A" not in text and "[redacted]" in text
    for expected in ("run id:      abc", "job:         monthly_job", "failed step: raw_kela_payments", "2024-03"):
        assert expected in text
    assert "010203" not in alert.summary()
    assert not list((tmp_path / "alerts").glob(".alert-*"))  # no temporary file left behind


def test_alerts_redact_every_form_of_a_code_and_leave_run_ids_whole(tmp_path):
    run_id = "a6080679-4341-4a1b-9c1e-0123456789ab"  # once mangled into 'a6[redacted]-...'
    message = "kela/tmt_2024-03.csv, line 1: near 150685 908r and 150685908R and 150685-908r"
    alert = Alert(run_id=run_id, job_name="monthly_job", step_key="raw_kela_payments", message=message)
    path = write_alert(tmp_path, alert)
    text = path.read_text()
    assert f"run id:      {run_id}" in text and path.name.endswith(f"_{run_id}.txt")
    assert "near [redacted] and [redacted] and [redacted]" in text and "908" not in text
    assert alert.summary().startswith(f"run {run_id} (monthly_job) failed in step raw_kela_payments: kela/tmt_2024-03.csv")
    assert "908" not in alert.summary()
