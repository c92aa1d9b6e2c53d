"""The suites' rows grouped in DuckDB (pipelines/validation/pushdown.py), on real DuckDB
files: each group stands for the number of rows it holds, a planted bad row keeps its
value and is counted once per row, the rows GX surely accepts collapse into one group,
and only the run's months are grouped. No Great Expectations here (it validates the
groups in tests/integration/test_validation_grouped.py)."""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb
import pandas as pd
import pytest

from pipelines.validation.gx_runner import ROW_COUNT_COLUMN, accepted_column, load_suite_spec
from pipelines.validation.pushdown import accepted_sql, group_rows, grouped_sql, month_condition
from pipelines.validation.relations import CHECKED_ROWS

M1, M2, M3 = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def pseudonym(n: int) -> str:
    return hashlib.sha256(f"person-{n}".encode()).hexdigest()


def payment_rows(n: int, month: date = M1) -> list[dict]:
    """n good staged Kela rows of different persons."""
    return [
        {
            "delivery_month": month,
            "person_id": pseudonym(i),
            "payment_month": month,
            "municipality_code": ("205", "578", "005")[i % 3],
            "benefit": "TMT",
            "paid_days": i % 24,
            "cumulative_days": 300 + i,
            "source_line": i + 2,
        }
        for i in range(n)
    ]


@pytest.fixture
def warehouse(tmp_path):
    """A DuckDB file with `staging.stg_kela__tmt_payments` made of the given rows."""
    path = tmp_path / "kaira.duckdb"

    def write(rows: list[dict], table: str = "staging.stg_kela__tmt_payments") -> duckdb.DuckDBPyConnection:
        frame = pd.DataFrame(rows)
        connection = duckdb.connect(str(path))
        connection.execute(f"create schema if not exists {table.split('.')[0]}")
        connection.register("frame", frame)
        connection.execute(f"create or replace table {table} as select * from frame")
        connection.close()
        return duckdb.connect(str(path), read_only=True)

    return write


def test_good_rows_collapse_into_one_group_standing_for_all_of_them(warehouse):
    connection = warehouse(payment_rows(600))
    grouped = group_rows(connection, "stg_kela__tmt_payments", '"staging"."stg_kela__tmt_payments"')
    assert len(grouped) == 1
    assert grouped[ROW_COUNT_COLUMN].tolist() == [600]
    # the group's values are one real row's, which every expectation accepts
    row = grouped.iloc[0]
    assert row["person_id"] in {pseudonym(i) for i in range(600)}
    assert 0 <= row["paid_days"] <= 23 and row["cumulative_days"] >= row["paid_days"]
    for expectation in load_suite_spec("stg_kela__tmt_payments")["expectations"]:
        assert row[accepted_column(expectation["meta"]["check_name"])]


def test_a_planted_bad_row_is_counted_once_per_row_and_keeps_its_value(warehouse):
    rows = payment_rows(600)
    for i in (10, 250, 400):  # three persons, three municipalities: one bad value
        rows[i]["paid_days"] = 24
    rows[7]["paid_days"] = 31
    rows[8]["person_id"] = "131052-308T"
    connection = warehouse(rows)
    grouped = group_rows(connection, "stg_kela__tmt_payments", '"staging"."stg_kela__tmt_payments"')
    assert grouped[ROW_COUNT_COLUMN].sum() == 600
    bad_days = grouped[~grouped[accepted_column("paid_days_between_0_and_23")]]
    assert sorted(zip(bad_days["paid_days"], bad_days[ROW_COUNT_COLUMN], strict=True)) == [(24, 3), (31, 1)]
    bad_person = grouped[~grouped[accepted_column("person_id_is_pseudonym")]]
    assert bad_person["person_id"].tolist() == ["131052-308T"] and bad_person[ROW_COUNT_COLUMN].tolist() == [1]
    # one group per class, not per row: the 595 good rows are one group
    assert len(grouped) == 4 and grouped[ROW_COUNT_COLUMN].max() == 595


def test_only_the_given_months_are_grouped(warehouse):
    connection = warehouse(payment_rows(50, M1) + payment_rows(70, M2) + payment_rows(90, M3))
    relation = '"staging"."stg_kela__tmt_payments"'
    assert group_rows(connection, "stg_kela__tmt_payments", relation, months=[M2])[ROW_COUNT_COLUMN].sum() == 70
    assert group_rows(connection, "stg_kela__tmt_payments", relation, months=[M1, M3])[ROW_COUNT_COLUMN].sum() == 140
    assert group_rows(connection, "stg_kela__tmt_payments", relation, months=[]).empty
    assert group_rows(connection, "stg_kela__tmt_payments", relation)[ROW_COUNT_COLUMN].sum() == 210


def shares(rows):
    """rows: (person, month, paid_days, cumulative_days, invoiced, expected)."""
    return [
        {"month": row[1], "source_line": k + 2, "person_id": pseudonym(row[0]), "paid_days": row[2],
         "cumulative_days": row[3], "days_before_period": row[3] - row[2], "has_rule": True,
         "invoiced_share_eur": row[4], "expected_share_eur": row[5], "share_difference_eur": round(row[4] - row[5], 2)}
        for k, row in enumerate(rows)
    ]


def test_the_counter_reads_the_previous_month_as_context_only(warehouse):
    connection = warehouse(
        shares([(1, M1, 20, 300, 1.0, 1.0), (1, M2, 20, 290, 1.0, 1.0), (2, M1, 5, 5, 1.0, 1.0), (2, M2, 5, 10, 1.0, 1.0),
                (3, M3, 1, 1, 1.0, 1.0)]),
        "marts.fct_kela_payment_shares",
    )
    grouped = group_rows(connection, "kela_counter_steps", '"marts"."fct_kela_payment_shares"', months=[M2])
    # February's two rows, compared with January's (read, not counted): person 1 went down
    assert grouped[ROW_COUNT_COLUMN].sum() == 2
    fell = grouped[~grouped["counter_not_decreasing"]]
    assert fell[ROW_COUNT_COLUMN].tolist() == [1]


def test_observed_sums_are_summed_over_each_group(warehouse):
    rows = shares([(i, M1, 10, 100, 50.0, 50.0) for i in range(20)])
    for k, difference in ((3, 4.25), (5, 1.5), (6, -0.75)):
        rows[k]["invoiced_share_eur"] = 50.0 + difference
        rows[k]["share_difference_eur"] = difference
    connection = warehouse(rows, "marts.fct_kela_payment_shares")
    grouped = group_rows(connection, "fct_kela_payment_shares", '"marts"."fct_kela_payment_shares"')
    off = grouped[~grouped["share_agrees_within_cent"]]
    assert off[ROW_COUNT_COLUMN].sum() == 3
    assert off["share_difference_eur"].sum() == pytest.approx(5.0)


def test_every_warehouse_suite_has_an_sql_form_for_each_expectation():
    from pipelines.validation.warehouse_checks import STEP_SUITES

    suites = {entry.suite_name for entries in STEP_SUITES.values() for entry in entries}
    assert suites == set(CHECKED_ROWS)
    for suite in suites:
        sql = grouped_sql(suite, CHECKED_ROWS[suite], "select * from t")
        for expectation in load_suite_spec(suite)["expectations"]:
            assert accepted_column(expectation["meta"]["check_name"]) in sql


@pytest.mark.parametrize(
    "expectation,problem",
    [
        ({"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "a", "value_set": [1], "mostly": 0.9}},
         "mostly"),
        ({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "a", "min_value": 1}}, "no SQL form"),
        ({"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "a; drop table t", "value_set": [1]}},
         "not a plain column name"),
    ],
)
def test_what_cannot_be_grouped_is_refused_by_name(expectation, problem):
    with pytest.raises(ValueError, match=problem):
        accepted_sql(expectation)


def test_consecutive_months_are_a_range_others_a_list():
    assert month_condition('"m"', [M1, M2, M3]) == ('"m" between ? and ?', [M1, M3])
    assert month_condition('"m"', [M1, M3]) == ('"m" in (?, ?)', [M1, M3])
    assert month_condition('"m"', []) == ("false", [])
