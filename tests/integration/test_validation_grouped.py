"""Great Expectations on grouped rows (pipelines/validation/pushdown.py) through real GX and
real DuckDB files: validating the groups says what validating every row says (the same
checks fail, with the same counts of rows and the same observed texts), a bad value in
many rows is counted per row, and no observed text shows a pseudonym or an identity code.
"""

from __future__ import annotations

import hashlib
import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.resources import SettingsResource, WarehouseResource
from pipelines.validation import relations as r
from pipelines.validation.checks import CheckScope, SuiteOnAsset, validate_suites, warehouse_table_loader
from pipelines.validation.gx_runner import ROW_COUNT_COLUMN, accepted_column, validate_frame
from pipelines.validation.pushdown import group_rows
from tests.helpers import indicator_cells

M1, M2, M3 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")
CODE = "131052-308T"


def pseudonym(n: int) -> str:
    return hashlib.sha256(f"person-{n}".encode()).hexdigest()


# --- tables of a few hundred rows, with faults planted ---------------------------------------


def spells(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    status = rng.choice(["TYOTON", "PALVELU", "LOMAUTETTU", "MUU"], n)
    frame = pd.DataFrame(
        {
            "delivery_month": M1,
            "person_id": [pseudonym(i // 2) for i in range(n)],
            "spell_start": start,
            "spell_end": (start + pd.to_timedelta(rng.integers(0, 90, n), unit="D")).where(rng.random(n) < 0.7),
            "status": status,
            "service": np.where(status == "PALVELU", "VALMENNUS", None),
            "municipality_code": rng.choice(["205", "578", "005", "777"], n),
        }
    )
    frame.loc[[3, 40, 41], "spell_end"] = frame.loc[[3, 40, 41], "spell_start"] - pd.Timedelta(days=2)
    frame.loc[[5, 6], "service"] = ["VALMENNUS", " "]
    frame.loc[[7, 8], "status"] = "PALVELU"
    frame.loc[9, "person_id"] = CODE
    frame.loc[[11, 12, 13], "municipality_code"] = ["5", "5", "KU205"]
    return frame


def payments(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    paid = rng.integers(0, 24, n)
    month = np.where(np.arange(n) % 2 == 0, M1, M2)
    frame = pd.DataFrame(
        {
            "delivery_month": month,
            "person_id": [pseudonym(i) for i in range(n)],
            "payment_month": month,
            "municipality_code": rng.choice(["205", "578", "005"], n),
            "paid_days": paid,
            "cumulative_days": paid + rng.integers(0, 1500, n),
        }
    )
    frame.loc[[1, 2, 3], "paid_days"] = 24
    frame.loc[4, "paid_days"] = 30
    frame.loc[[5, 6], ["paid_days", "cumulative_days"]] = [[20, 10], [20, 10]]
    frame.loc[7, "cumulative_days"] = -4
    frame.loc[8, "payment_month"] = M3
    frame.loc[[9, 10], "person_id"] = [CODE, "ABC"]
    frame.loc[11, "municipality_code"] = "2050"
    frame.loc[[12, 13], "municipality_code"] = None  # NULL: missing, not checked
    frame.loc[14, "cumulative_days"] = None  # missing for the range, unexpected for the pair
    return frame


def person_months(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    group = rng.integers(0, 5, n)  # 0: none, 1..4: one of the four structural groups
    frame = pd.DataFrame(
        {
            "month": M1,
            "count_date": pd.Timestamp("2024-01-31"),
            "person_id": [pseudonym(i) for i in range(n)],
            "run_start": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 390, n), unit="D"),
            "unemployed_days_in_window": rng.integers(0, 490, n).astype(float),
            "is_unemployed": group != 4,
            "is_in_services": group == 4,
            "is_structural_unemployed": group > 0,
        }
    )
    for k, name in enumerate(r.STRUCTURAL_GROUPS, start=1):
        frame[f"is_{name}"] = group == k
    frame.loc[frame["is_in_services"], "run_start"] = pd.NaT
    first = frame.index[group == 1][:2]
    frame.loc[first, "is_returned_from_services"] = True  # in two groups
    frame.loc[frame.index[group == 0][:3], "is_structural_unemployed"] = True  # structural without a group
    frame.loc[frame.index[group == 4][:1], "is_in_services"] = False  # service to service, not in services
    frame.loc[[20, 21], "run_start"] = pd.Timestamp("2024-02-03")
    frame.loc[[22, 23, 24], "unemployed_days_in_window"] = [490.0, 490.0, -1.0]
    frame.loc[25, "person_id"] = CODE
    return frame


def indicators() -> pd.DataFrame:
    frame = pd.concat([indicator_cells(M1), indicator_cells(M2, lookback_complete=False)], ignore_index=True)
    frame.loc[[0, 1], "status"] = "not_available"  # a value where there is no figure
    frame.loc[frame.index[frame["indicator"] == "tmt_recipients"][:2], "status"] = "incomplete"
    return frame


def kela_shares(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    person = np.arange(n) // 3
    month = np.array([M1, M2, M3])[np.arange(n) % 3]
    paid = rng.integers(0, 24, n)
    cumulative = np.zeros(n, dtype=int)
    for i in range(n):  # each person's counter rises by the paid days
        cumulative[i] = (cumulative[i - 1] if i % 3 else 200) + paid[i]
    expected = np.round(rng.uniform(-50, 400, n), 2)
    frame = pd.DataFrame(
        {
            "month": month,
            "source_line": np.arange(n) + 2,
            "person_id": [pseudonym(p) for p in person],
            "paid_days": paid,
            "cumulative_days": cumulative,
            "days_before_period": cumulative - paid,
            "has_rule": True,
            "invoiced_share_eur": expected,
            "expected_share_eur": expected,
            "share_difference_eur": 0.0,
        }
    )
    frame.loc[[4, 7], "cumulative_days"] = frame.loc[[4, 7], "cumulative_days"] - 60  # falls
    frame.loc[[10, 13, 16], "cumulative_days"] = frame.loc[[10, 13, 16], "cumulative_days"] + 2  # rises by more
    frame.loc[[20], "days_before_period"] = -3
    for i, difference in ((30, 4.25), (31, 1.5), (32, -0.75), (33, 0.01)):
        frame.loc[i, ["invoiced_share_eur", "share_difference_eur"]] = [expected[i] + difference, difference]
    return frame


TABLES = {
    "stg_register__jobseeker_spells": spells,
    "stg_kela__tmt_payments": payments,
    "fct_person_month_status": person_months,
    "fct_indicators_monthly": indicators,
    "fct_kela_payment_shares": kela_shares,
    "kela_counter_steps": kela_shares,
}


def grouped(frame: pd.DataFrame, suite: str) -> pd.DataFrame:
    connection = duckdb.connect()
    try:
        connection.register("rows", frame)
        return group_rows(connection, suite, "rows")
    finally:
        connection.close()


@pytest.mark.parametrize("suite", sorted(TABLES))
def test_grouped_rows_say_what_every_row_says(suite):
    frame = TABLES[suite]()
    prepare = r.PREPARE_BY_SUITE.get(suite)
    by_row = validate_frame(prepare(frame) if prepare else frame, suite)
    groups = grouped(frame, suite)
    by_group = validate_frame(groups, suite, grouped=True)
    assert len(groups) < len(frame) / 4  # groups, not rows
    assert not all(o.success for o in by_row)  # faults were planted
    for row, group in zip(by_row, by_group, strict=True):
        assert (group.check_name, group.success) == (row.check_name, row.success)
        assert (group.unexpected_count, group.element_count) == (row.unexpected_count, row.element_count)
        # the same text; examples tied on their count may come in another order (GX orders
        # a NULL among them by where its rows lie in the table, the groups by value)
        text, _, examples = row.observed.partition("; e.g. ")
        assert group.observed.startswith(text)
        assert sorted(group.observed.partition("; e.g. ")[2].split(", ")) == sorted(examples.split(", "))


@pytest.mark.parametrize("suite", sorted(TABLES))
def test_no_rows_is_no_rows_to_check(suite):
    outcomes = validate_frame(grouped(TABLES[suite]().iloc[0:0], suite), suite, grouped=True)
    assert all(o.success and o.observed == "no rows to check" for o in outcomes)


def test_a_bad_value_in_many_rows_is_counted_per_row(tmp_path):
    frame = payments()
    frame.loc[100:159, "paid_days"] = 25  # sixty rows: more than GX lists as examples row by row
    path = tmp_path / "warehouse" / "kaira.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema staging")
        connection.register("frame", frame)
        connection.execute("create table staging.stg_kela__tmt_payments as select * from frame")
    warehouse = WarehouseResource(settings=SettingsResource(warehouse_dir=str(path.parent)))
    suite = SuiteOnAsset(None, "stg_kela__tmt_payments", warehouse_table_loader("staging.stg_kela__tmt_payments"))
    (result,) = validate_suites([suite], CheckScope(warehouse))
    assert result.error is None and result.rows == 400
    outcomes = {o.check_name: o for o in result.outcomes}
    days = outcomes["paid_days_between_0_and_23"]
    assert not days.success and days.unexpected_count == 64 and days.element_count == 400
    assert days.observed == "64 of 400 rows unexpected (16.00 %); e.g. 25 ×60, 24 ×3, 30"
    person = outcomes["person_id_is_pseudonym"]
    assert person.unexpected_count == 2 and person.observed == "2 of 400 rows unexpected (0.50 %)"
    # no observed text shows a pseudonym of the table or the identity code
    shown = " ".join(o.observed for o in result.outcomes)
    assert not re.search(r"[0-9a-f]{32,}", shown)
    assert CODE not in shown and "131052" not in shown
    assert not any(pseudonym(i) in shown for i in range(400))


def test_gx_rejecting_a_group_duckdb_accepted_stops_the_validation():
    groups = grouped(payments(), "stg_kela__tmt_payments")
    bad = groups.index[~groups[accepted_column("paid_days_between_0_and_23")]][0]
    groups.loc[bad, accepted_column("paid_days_between_0_and_23")] = True  # as a wrong SQL form would say
    with pytest.raises(RuntimeError, match="paid_days_between_0_and_23: GX rejects rows that the SQL form"):
        validate_frame(groups, "stg_kela__tmt_payments", grouped=True)
    assert groups[ROW_COUNT_COLUMN].sum() == 400


def test_an_error_quoting_a_value_is_logged_without_the_identity_code(tmp_path):
    import dagster as dg

    from pipelines.validation.checks import gx_asset_checks

    frame = kela_shares().astype({"paid_days": "object"})
    frame.loc[2, "paid_days"] = CODE  # DuckDB's failed cast quotes the value
    with duckdb.connect(str(tmp_path / "kaira.duckdb")) as connection:
        connection.execute("create schema marts")
        connection.register("frame", frame)
        connection.execute("create table marts.fct_kela_payment_shares as select * from frame")
    shares = dg.AssetKey("fct_kela_payment_shares")

    @dg.asset(key=shares)
    def fct_kela_payment_shares():
        return dg.MaterializeResult()

    checks = gx_asset_checks(shares, "kela_counter_steps", warehouse_table_loader("marts.fct_kela_payment_shares"),
                             pool=None)
    settings = SettingsResource(warehouse_dir=str(tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([fct_kela_payment_shares, checks], instance=instance, raise_on_error=False,
                            resources={"settings": settings, "warehouse": WarehouseResource(settings=settings)})
    assert not result.success
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.metadata["observed"].value.startswith("could not validate") for e in evaluations)
    logged = [record.user_message for record in instance.all_logs(result.run_id)]
    assert any("could not validate" in message and "[redacted]" in message for message in logged)
    assert not any("131052" in message for message in logged)
    assert not any(CODE in str(e.metadata) for e in evaluations)
