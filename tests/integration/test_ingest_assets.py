"""The ingest assets in real Dagster runs (`dg.materialize`): one month, a range of months
in one run, a failing month, and no identity code in the run's logs."""

from __future__ import annotations

import shutil
import warnings
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.core.identity_codes import make_identity_code
from pipelines.partitions import (
    MONTHLY_PARTITIONS,
    WAREHOUSE_WRITER_POOL,
    partition_key_to_month,
)
from pipelines.resources import SettingsResource
from pipelines.sources.loader import expected_path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # backfill_policy is a beta parameter
    from pipelines.sources.assets import raw_jobseeker_spells, raw_kela_payments

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ingest"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
CODES = [make_identity_code(date(1980, 1, 1 + i), 900 + i) for i in range(20)]

# Unset fields: the settings come from the environment each test sets.
RESOURCES = {"settings": SettingsResource()}


@pytest.fixture
def env(tmp_path, monkeypatch):
    values = {
        "KAIRA_LANDING_DIR": str(tmp_path / "landing"),
        "KAIRA_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "KAIRA_QUARANTINE_DIR": str(tmp_path / "quarantine"),
        "KAIRA_PSEUDONYM_KEY": "asset-test-key-not-secret-at-least-32-bytes",
        "KAIRA_REJECT_LIMIT": "0.01",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def land_spells(tmp_path: Path, month: str, n: int, extra: str = "") -> None:
    path = expected_path("jobseeker_spells", month, tmp_path / "landing")
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["henkilotunnus;jakso_id;alkupvm;loppupvm;tila;palvelu;kuntanumero;kommentti"]
    lines += [f"{CODES[i]};{month}-{i};{month}-01;;TYOTON;;205;x" for i in range(n)]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")


def count(tmp_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(tmp_path / "warehouse" / "kaira.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_assets_are_monthly_single_run_ingest_assets_in_the_writer_pool():
    for asset in (raw_jobseeker_spells, raw_kela_payments):
        assert asset.partitions_def == MONTHLY_PARTITIONS
        assert asset.backfill_policy == dg.BackfillPolicy.single_run()
        assert set(asset.group_names_by_key.values()) == {"ingest"}
        assert asset.op.pool == WAREHOUSE_WRITER_POOL == "warehouse_writer"
    assert raw_jobseeker_spells.key == dg.AssetKey("raw_jobseeker_spells")
    assert raw_kela_payments.key == dg.AssetKey("raw_kela_payments")
    assert partition_key_to_month("2024-03-01") == "2024-03"


def test_one_month_materializes_with_file_hash_and_counts(env):
    path = expected_path("kela_payments", "2024-03", env / "landing")
    path.parent.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "tmt_2024-03_iso885915.csv", path)
    result = dg.materialize(
        [raw_kela_payments], partition_key="2024-03-01", instance=dg.DagsterInstance.ephemeral(), resources=RESOURCES
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("raw_kela_payments")
    months = materialization.metadata["months"].data
    assert months["2024-03"]["file"] == "kela/tmt_2024-03.csv"
    assert months["2024-03"]["rows_loaded"] == 4 and months["2024-03"]["rows_rejected"] == 0
    assert len(months["2024-03"]["sha256"]) == 64
    assert count(env, "select count(*) from raw.kela_payments") == [(4,)]


def test_a_range_of_months_is_one_run_in_month_order_with_extra_columns_logged_once(env):
    for month, n in (("2024-01", 3), ("2024-02", 4), ("2024-03", 5)):
        land_spells(env, month, n)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [raw_jobseeker_spells],
        instance=instance,
        resources=RESOURCES,
        tags={RANGE_START: "2024-01-01", RANGE_END: "2024-03-01"},
    )
    assert result.success
    materializations = result.asset_materializations_for_node("raw_jobseeker_spells")
    assert sorted(m.partition for m in materializations) == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert count(env, "select delivery_month, count(*) from raw.jobseeker_spells group by 1 order by 1") == [
        (date(2024, 1, 1), 3),
        (date(2024, 2, 1), 4),
        (date(2024, 3, 1), 5),
    ]
    loaded_order = count(env, "select delivery_month from raw.deliveries order by loaded_at")
    assert loaded_order == [(date(2024, 1, 1),), (date(2024, 2, 1),), (date(2024, 3, 1),)]

    messages = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message]
    ignored = [m for m in messages if "ignored extra column" in m]
    assert len(ignored) == 1 and "kommentti" in ignored[0]


def test_a_failing_month_fails_the_run_with_the_loaders_message_and_leaks_no_code(env):
    land_spells(env, "2024-01", 3)
    land_spells(env, "2024-02", 3, extra=f"{CODES[10][:-1]}Q;J-bad;2024-02-01;;TYOTON;;205;x\n")  # 1 of 4 rejected
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [raw_jobseeker_spells],
        instance=instance,
        resources=RESOURCES,
        tags={RANGE_START: "2024-01-01", RANGE_END: "2024-03-01"},  # 2024-03 has no file either
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error.cause  # Dagster wraps the user code's error
    message = error.message
    assert error.cls_name == "RejectLimitExceeded"
    assert "tyonhakijat/tyonhakijat_2024-02.csv: 1 of 4 rows rejected (25.00%)" in message
    # the month before the failure is loaded (its own transaction); the failed one is not
    assert count(env, "select delivery_month, count(*) from raw.jobseeker_spells group by 1") == [(date(2024, 1, 1), 3)]

    texts = [e.user_message or "" for e in instance.all_logs(result.run_id)]
    texts += [str(e.event_specific_data) for e in result.all_events]
    everything = "\n".join(texts)
    assert "1 of 4 rows rejected" in everything
    assert not [c for c in CODES if c[:10] in everything]


def test_a_missing_month_names_the_expected_file(env):
    result = dg.materialize(
        [raw_jobseeker_spells],
        partition_key="2023-12-01",
        instance=dg.DagsterInstance.ephemeral(),
        resources=RESOURCES,
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error.cause
    assert error.cls_name == "MissingDeliveryError"
    assert str(env / "landing" / "tyonhakijat" / "tyonhakijat_2023-12.csv") in error.message
