"""The relations between the rows of fct_indicators_monthly, as dbt tests them (their one
owner: the generic tests in dbt_project/tests/generic, configured in the marts' YAML).

A small indicator table is written straight into a warehouse of the test's own, one
month consistent and each other month broken in one way; one `dbt test --store-failures`
then runs every data test of the model, and the failing rows each test stored say which
wholes it caught. So a broken relation fails its named test, only where it is broken,
and what is not a rule (Kela recipients not adding up over a region, float noise in
euros, negative euros, an indicator NULL everywhere) fails nothing. An indicator
METRICS.md does not define fails indicator_known, whose list comes from the dbt macro.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from tests.helpers import dbt, indicator_cells

MONTHS = {
    "consistent": pd.Timestamp("2024-01-01"),
    "total": pd.Timestamp("2024-02-01"),
    "region": pd.Timestamp("2024-03-01"),
    "structural": pd.Timestamp("2024-04-01"),
    "half_null": pd.Timestamp("2024-05-01"),
    "negative": pd.Timestamp("2024-06-01"),
    "euro": pd.Timestamp("2024-07-01"),
    "unknown_indicator": pd.Timestamp("2024-08-01"),
}
RELATION_TESTS = (
    "counts_not_negative",
    "total_equals_male_plus_female",
    "region_equals_sum_of_municipalities",
    "structural_equals_sum_of_groups",
)


def add(frame: pd.DataFrame, cells: list[tuple[str, str]], indicator: str, amount: float) -> None:
    for area, sex in cells:
        row = (frame["area_code"] == area) & (frame["sex"] == sex) & (frame["indicator"] == indicator)
        assert row.sum() == 1
        frame.loc[row, "value"] += amount


def month(name: str) -> pd.DataFrame:
    frame = indicator_cells(MONTHS[name])
    if name == "consistent":
        # not broken: negative euros (every value of one indicator negated keeps its sums),
        # float noise in a euro sum, an indicator NULL everywhere
        euro = frame["indicator"] == "tmt_municipal_share_diff_eur"
        frame.loc[euro, "value"] = -frame.loc[euro, "value"]
        add(frame, [("MK18", "total")], "tmt_paid_eur", 1e-7)
        inflow = frame["indicator"] == "structural_inflow"
        frame.loc[inflow, ["value", "status"]] = [None, "not_available"]
    elif name == "total":  # the totals of KU205 and the region, not their sexes
        add(frame, [("KU205", "total"), ("MK18", "total")], "laid_off", 1)
    elif name == "region":  # the region's female count (and its total), not its municipalities'
        add(frame, [("MK18", "female"), ("MK18", "total")], "unemployed", 1)
    elif name == "structural":  # one group's count rises everywhere up the relations but not structural
        add(frame, [("KU578", "male"), ("KU578", "total"), ("MK18", "male"), ("MK18", "total")],
            "long_term_unemployed", 1)
    elif name == "half_null":  # a total computed while its sexes are not
        inflow = frame["indicator"] == "structural_inflow"
        frame.loc[inflow, ["value", "status"]] = [None, "not_available"]
        row = inflow & (frame["area_code"] == "KU205") & (frame["sex"] == "total")
        frame.loc[row, ["value", "status"]] = [3.0, "ok"]
    elif name == "negative":  # a count below zero; its total and region follow, so they still add up
        add(frame, [("KU205", "male"), ("KU205", "total"), ("MK18", "male"), ("MK18", "total")],
            "youth_unemployed", -frame.query("area_code == 'KU205' and sex == 'male' and "
                                             "indicator == 'youth_unemployed'")["value"].item() - 1)
    elif name == "euro":  # two cents off in a euro total: more than float noise
        add(frame, [("MK18", "total")], "tmt_paid_eur", 0.02)
    elif name == "unknown_indicator":  # a row of an indicator METRICS.md does not define
        ghost = frame.iloc[[0]].assign(indicator="ghost_indicator", sex="total", value=0.0)
        frame = pd.concat([frame, ghost], ignore_index=True)
    return frame


@pytest.fixture(scope="module")
def failures(tmp_path_factory):
    """test name -> the rows it stored as failing, as (month, area, sex, indicator) keys."""
    folder = tmp_path_factory.mktemp("dbt_data_tests")
    cells = pd.concat([month(name) for name in MONTHS], ignore_index=True)
    connection = duckdb.connect(str(folder / "kaira.duckdb"))
    try:
        connection.execute("create schema marts")
        connection.register("cells", cells)
        connection.execute("create table marts.fct_indicators_monthly as select * from cells")
    finally:
        connection.close()

    done = dbt(folder, "test", "--select", "fct_indicators_monthly,test_type:data", "--store-failures")
    statuses = {r["unique_id"].split(".")[2]: r for r in done.results}
    assert set(RELATION_TESTS) <= set(statuses), done.output[-4000:]
    # Of the model's other data tests (keys, accepted values), only the unknown indicator's fails.
    others = {name: r["status"] for name, r in statuses.items() if name not in RELATION_TESTS}
    assert others.pop("indicator_known") == "fail", done.output[-4000:]
    assert set(others.values()) == {"pass"}, done.output[-4000:]

    found = {}
    connection = duckdb.connect(str(folder / "kaira.duckdb"), read_only=True)
    try:
        for name in RELATION_TESTS:
            rows = connection.execute(f"select * from {statuses[name]['relation_name']}").df()
            found[name] = {_key(row) for row in rows.to_dict("records")}
        unknown = connection.execute(f"select value_field from {statuses['indicator_known']['relation_name']}")
        found["indicator_known"] = {row[0] for row in unknown.fetchall()}
    finally:
        connection.close()
    return found


def _key(row: dict) -> tuple:
    """A stored failing row as (month name, area, sex, indicator), None where the test's
    keys leave it out (structural has no indicator, total no sex)."""
    if "key_1" not in row:  # counts_not_negative stores the model's rows
        values = (row["month"], row["area_code"], row["sex"], row["indicator"])
    else:
        keys = [row[f"key_{i}"] for i in range(1, 5) if f"key_{i}" in row]
        values = tuple(keys) + (None,) * (4 - len(keys))
    name = next(name for name, when in MONTHS.items() if pd.Timestamp(values[0]) == when)
    return (name, *values[1:])


def test_a_consistent_month_fails_nothing(failures):
    assert not any(key[0] == "consistent" for name in RELATION_TESTS for key in failures[name])


def test_a_total_that_is_not_male_plus_female_fails_only_that_test(failures):
    # total's keys are (month, area, indicator): the third place is the indicator
    assert {k for k in failures["total_equals_male_plus_female"] if k[0] == "total"} == {
        ("total", "KU205", "laid_off", None),
        ("total", "MK18", "laid_off", None),
    }
    others = ("counts_not_negative", "region_equals_sum_of_municipalities", "structural_equals_sum_of_groups")
    assert not any(k[0] == "total" for name in others for k in failures[name])


def test_a_region_that_is_not_the_sum_of_its_municipalities_fails(failures):
    assert {k for k in failures["region_equals_sum_of_municipalities"] if k[0] == "region"} == {
        ("region", "MK18", "female", "unemployed"),
        ("region", "MK18", "total", "unemployed"),
    }
    assert not any(k[0] == "region" for k in failures["total_equals_male_plus_female"])


def test_kela_recipients_need_not_add_up_over_a_region(failures):
    # the fixture's region recipient counts are one less than the sum, in every month
    assert not any("tmt_recipients" in str(k[3]) for k in failures["region_equals_sum_of_municipalities"])


def test_structural_that_is_not_the_sum_of_its_groups_fails(failures):
    # structural's keys are (month, area, sex)
    assert {k for k in failures["structural_equals_sum_of_groups"] if k[0] == "structural"} == {
        ("structural", "KU578", "male", None),
        ("structural", "KU578", "total", None),
        ("structural", "MK18", "male", None),
        ("structural", "MK18", "total", None),
    }
    others = ("total_equals_male_plus_female", "region_equals_sum_of_municipalities")
    assert not any(k[0] == "structural" for name in others for k in failures[name])


def test_a_whole_known_while_its_parts_are_null_fails(failures):
    assert ("half_null", "KU205", "structural_inflow", None) in failures["total_equals_male_plus_female"]


def test_a_negative_count_fails_counts_not_negative(failures):
    # only KU205's male count goes below zero; the sums above it stay positive
    assert {k for k in failures["counts_not_negative"] if k[0] == "negative"} == {
        ("negative", "KU205", "male", "youth_unemployed"),
    }
    assert not any(k[0] == "negative" for k in failures["total_equals_male_plus_female"])


def test_euros_off_by_more_than_half_a_cent_fail(failures):
    assert ("euro", "MK18", "tmt_paid_eur", None) in failures["total_equals_male_plus_female"]


def test_only_an_indicator_outside_the_dbt_list_is_unknown(failures):
    assert failures["indicator_known"] == {"ghost_indicator"}
