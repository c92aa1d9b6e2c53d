"""Every suite in expectations/ run through real Great Expectations 1.x: a small good
frame meets every expectation; a frame broken in one way fails the named check, and
the observed text says how without showing a person identifier.

One GX context serves the whole module (the runner keeps one per process); the
module-scoped fixture pays the import once.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from pipelines.publish.disclosure import apply_disclosure_control
from pipelines.validation import relations as r
from pipelines.validation.gx_runner import (
    OBSERVED_MAX_CHARS,
    load_suite_spec,
    suite_names,
    validate_frame,
)
from tests.helpers import indicator_cells

M1 = pd.Timestamp("2024-01-01")
M2 = pd.Timestamp("2024-02-01")
M3 = pd.Timestamp("2024-03-01")


def pseudonym(n: int) -> str:
    return hashlib.sha256(f"person-{n}".encode()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def gx_context():
    """Import GX and build its context once for the module (validating any frame does)."""
    validate_frame(good_payments(), "stg_kela__tmt_payments")


def outcomes_by_name(frame: pd.DataFrame, suite: str):
    prepare = r.PREPARE_BY_SUITE.get(suite)
    prepared = prepare(frame) if prepare else frame
    outcomes = validate_frame(prepared, suite)
    assert [o.check_name for o in outcomes] == [
        e["meta"]["check_name"] for e in load_suite_spec(suite)["expectations"]
    ]
    return {o.check_name: o for o in outcomes}


def failed(outcomes) -> set[str]:
    return {name for name, o in outcomes.items() if not o.success}


# --- good frames, one per suite ------------------------------------------------------------


def good_spells() -> pd.DataFrame:
    rows = [
        (1, "1980-08-20", "female", "S1", "2023-11-01", None, "PALVELU", "VALMENNUS", "578"),
        (2, "1975-01-02", "male", "S2", "2023-01-01", "2024-01-15", "TYOTON", None, "205"),
        (2, "1975-01-02", "male", "S3", "2024-01-16", None, "LOMAUTETTU", None, "005"),
        (3, "2001-05-05", "female", "S4", "2024-01-10", "2024-01-10", "MUU", None, "777"),
    ]
    return pd.DataFrame(
        {
            "delivery_month": [M1] * len(rows),
            "person_id": [pseudonym(row[0]) for row in rows],
            "birth_date": pd.to_datetime([row[1] for row in rows]),
            "sex": [row[2] for row in rows],
            "spell_id": [row[3] for row in rows],
            "spell_start": pd.to_datetime([row[4] for row in rows]),
            "spell_end": pd.to_datetime([row[5] for row in rows]),
            "status": [row[6] for row in rows],
            "service": [row[7] for row in rows],
            "municipality_code": [row[8] for row in rows],
            "source_file": ["tyonhakijat/tyonhakijat_2024-01.csv"] * len(rows),
            "source_line": list(range(2, len(rows) + 2)),
        }
    )


def good_payments() -> pd.DataFrame:
    rows = [
        (1, M1, "205", "TMT", 21, 321, 680.40, 0.00),
        (1, M2, "205", "TMT", 20, 341, 648.00, 324.00),
        (2, M1, "578", "TMT", 0, 1200, -64.80, -45.36),
        (3, M2, "777", "PPR", 23, 23, 900.00, 0.00),
    ]
    return pd.DataFrame(
        {
            "delivery_month": [row[1] for row in rows],
            "person_id": [pseudonym(row[0]) for row in rows],
            "birth_date": pd.to_datetime(["1970-01-01"] * len(rows)),
            "sex": ["male", "male", "female", "female"],
            "payment_month": [row[1] for row in rows],
            "municipality_code": [row[2] for row in rows],
            "benefit": [row[3] for row in rows],
            "paid_days": [row[4] for row in rows],
            "cumulative_days": [row[5] for row in rows],
            "paid_eur": [row[6] for row in rows],
            "invoiced_share_eur": [row[7] for row in rows],
            "source_file": ["kela/tmt_2024-01.csv"] * len(rows),
            "source_line": list(range(2, len(rows) + 2)),
        }
    )


def good_person_months() -> pd.DataFrame:
    flags = [
        # unemployed, in_services, long, equivalent, returned, s2s, youth, laid_off
        (True, False, True, False, False, False, False, False),
        (True, False, False, True, False, False, True, True),
        (True, False, False, False, True, False, False, False),
        (False, True, False, False, False, True, False, False),
        (True, False, False, False, False, False, True, False),
    ]
    n = len(flags)
    frame = pd.DataFrame(
        {
            "month": [M1] * n,
            "count_date": [pd.Timestamp("2024-01-31")] * n,
            "person_id": [pseudonym(i) for i in range(n)],
            "sex": ["male", "female", "male", "female", "male"],
            "age_on_count_date": [50, 24, 40, 33, 19],
            "municipality_code": ["205"] * n,
            "status": ["TYOTON", "LOMAUTETTU", "TYOTON", "PALVELU", "TYOTON"],
            "service": [None, None, None, "VALMENNUS", None],
            "run_start": pd.to_datetime(["2022-12-01", "2023-09-01", "2024-01-02", None, "2024-01-31"]),
            "unemployed_days_in_window": [487.0, 400.0, 30.0, 0.0, 1.0],
        }
    )
    names = ["unemployed", "in_services", "long_term_unemployed", "equivalent_long_term_unemployed",
             "returned_from_services", "service_to_service", "youth_unemployed", "laid_off"]
    for i, name in enumerate(names):
        frame[f"is_{name}"] = [row[i] for row in flags]
    frame["is_structural_unemployed"] = frame[[f"is_{g}" for g in r.STRUCTURAL_GROUPS]].any(axis=1)
    return frame


def good_indicators(month=M1, lookback_complete=True) -> pd.DataFrame:
    return indicator_cells(month, lookback_complete)


def good_shares() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [M1, M1, M2],
            "source_line": [2, 3, 2],
            "person_id": [pseudonym(1), pseudonym(2), pseudonym(1)],
            "sex": ["male", "female", "male"],
            "payment_month": [M1, M1, M2],
            "municipality_code": ["205", "578", "205"],
            "paid_days": [22, 0, 21],
            "cumulative_days": [532, 1200, 553],
            "days_before_period": [510, 1200, 532],
            "paid_eur": [563.86, -64.80, 538.23],
            "invoiced_share_eur": [281.93, -45.36, 269.12],
            "has_rule": [True, True, True],
            "municipal_rate": [0.5, 0.7, 0.5],
            "expected_share_eur": [281.93, -45.36, 269.12],
            "share_difference_eur": [0.0, 0.0, 0.0],
        }
    )


def good_counter_payments() -> pd.DataFrame:
    rows = [(1, M1, 20, 300), (1, M2, 21, 321), (1, M3, 19, 340), (2, M1, 10, 10), (2, M3, 5, 15), (2, M3, 3, 18)]
    return pd.DataFrame(
        {
            "month": [row[1] for row in rows],
            "source_line": list(range(2, len(rows) + 2)),
            "person_id": [pseudonym(row[0]) for row in rows],
            "paid_days": [row[2] for row in rows],
            "cumulative_days": [row[3] for row in rows],
        }
    )


def good_published() -> pd.DataFrame:
    """Disclosure control's output on the good indicators, with each area's parent (which
    the published-table check reads the relations from)."""
    cells = good_indicators().drop(columns=["indicator_order"])
    cells.loc[cells["indicator"] == "tmt_municipal_share_expected_eur", ["value", "status"]] = [None, "no_rule"]
    frame = apply_disclosure_control(cells, threshold=7)
    assert frame["status"].eq("suppressed").any()
    return frame.reset_index(drop=True)


GOOD = {
    "stg_register__jobseeker_spells": good_spells,
    "stg_kela__tmt_payments": good_payments,
    "fct_person_month_status": good_person_months,
    "fct_indicators_monthly": lambda: pd.concat([good_indicators(M1), good_indicators(M2, False)], ignore_index=True),
    "fct_kela_payment_shares": good_shares,
    "kela_counter_steps": good_counter_payments,
    "indicators_monthly": good_published,
}


def test_every_suite_has_a_good_frame_here():
    assert set(GOOD) == set(suite_names())


@pytest.mark.parametrize("suite", sorted(GOOD))
def test_good_frame_meets_every_expectation(suite):
    outcomes = outcomes_by_name(GOOD[suite](), suite)
    assert failed(outcomes) == set(), {n: o.observed for n, o in outcomes.items() if not o.success}
    for outcome in outcomes.values():
        assert outcome.observed and len(outcome.observed) <= OBSERVED_MAX_CHARS


@pytest.mark.parametrize("suite", sorted(GOOD))
def test_empty_frame_meets_every_expectation(suite):
    outcomes = outcomes_by_name(GOOD[suite]().iloc[0:0], suite)
    assert failed(outcomes) == set()


# --- broken frames fail the named check -------------------------------------------------------


def test_spell_ending_before_it_starts_fails_its_check():
    frame = good_spells()
    frame.loc[1, "spell_end"] = pd.Timestamp("2022-12-31")
    outcomes = outcomes_by_name(frame, "stg_register__jobseeker_spells")
    assert failed(outcomes) == {"spell_end_not_before_start"}
    outcome = outcomes["spell_end_not_before_start"]
    assert outcome.severity == "error" and outcome.blocking and outcome.outcome == "fail"
    assert outcome.unexpected_count == 1
    assert outcome.observed.startswith("1 of 4 rows unexpected")


def test_a_service_while_unemployed_fails_its_check():
    frame = good_spells()
    frame.loc[1, "service"] = "VALMENNUS"
    outcomes = outcomes_by_name(frame, "stg_register__jobseeker_spells")
    assert failed(outcomes) == {"service_present_iff_in_service"}


def test_identity_code_instead_of_pseudonym_fails_and_is_not_shown():
    frame = good_spells()
    frame.loc[2, "person_id"] = "131052-308T"
    outcomes = outcomes_by_name(frame, "stg_register__jobseeker_spells")
    assert failed(outcomes) == {"person_id_is_pseudonym"}
    observed = outcomes["person_id_is_pseudonym"].observed
    assert "131052" not in observed and "308T" not in observed
    assert observed.startswith("1 of 4 rows unexpected")


@pytest.mark.parametrize(
    "column,value,check",
    [
        ("paid_days", 24, "paid_days_between_0_and_23"),
        ("cumulative_days", -1, "cumulative_days_not_negative"),
        ("payment_month", M2, "payment_month_equals_delivery_month"),
        ("municipality_code", "5", "municipality_code_three_digits"),
    ],
)
def test_broken_payment_fails_named_check(column, value, check):
    frame = good_payments()
    frame.loc[0, column] = value
    assert check in failed(outcomes_by_name(frame, "stg_kela__tmt_payments"))


def test_counter_below_paid_days_fails():
    frame = good_payments()
    frame.loc[3, "cumulative_days"] = 10
    outcomes = outcomes_by_name(frame, "stg_kela__tmt_payments")
    assert failed(outcomes) == {"cumulative_days_not_below_paid_days"}
    assert "(10, 23)" in outcomes["cumulative_days_not_below_paid_days"].observed


def test_person_in_two_structural_groups_fails_disjoint():
    frame = good_person_months()
    frame.loc[0, "is_returned_from_services"] = True
    outcomes = outcomes_by_name(frame, "fct_person_month_status")
    assert failed(outcomes) == {"structural_groups_disjoint"}


def test_structural_flag_not_or_of_groups_fails():
    frame = good_person_months()
    frame.loc[4, "is_structural_unemployed"] = True
    assert failed(outcomes_by_name(frame, "fct_person_month_status")) == {"structural_equals_any_group"}


def test_run_after_count_date_and_too_many_days_fail():
    frame = good_person_months()
    frame.loc[2, "run_start"] = pd.Timestamp("2024-02-01")
    frame.loc[1, "unemployed_days_in_window"] = 490.0
    outcomes = outcomes_by_name(frame, "fct_person_month_status")
    assert failed(outcomes) == {"run_start_not_after_count_date", "unemployed_days_within_window"}
    assert "490" in outcomes["unemployed_days_within_window"].observed


def test_incomplete_status_in_a_complete_month_fails():
    frame = good_indicators()
    frame.loc[frame["indicator"] == "in_services", "status"] = "incomplete"
    outcomes = outcomes_by_name(frame, "fct_indicators_monthly")
    assert failed(outcomes) == {"status_consistent_with_lookback"}


def test_share_disagreement_is_a_warning_with_the_total_difference():
    frame = good_shares()
    frame.loc[0, ["invoiced_share_eur", "share_difference_eur"]] = [290.00, 8.07]
    frame.loc[2, ["invoiced_share_eur", "share_difference_eur"]] = [269.13, 0.01]  # within a cent
    outcomes = outcomes_by_name(frame, "fct_kela_payment_shares")
    assert failed(outcomes) == {"invoiced_share_matches_recomputed"}
    outcome = outcomes["invoiced_share_matches_recomputed"]
    assert outcome.severity == "warn" and not outcome.blocking and outcome.outcome == "warn"
    assert outcome.observed == (
        "1 of 3 rows disagree by more than 0.01 EUR (33.33 %); "
        "total difference (invoiced - recomputed): 8.07 EUR"
    )


def test_negative_counter_before_period_fails():
    frame = good_shares()
    frame.loc[1, "days_before_period"] = -3
    assert failed(outcomes_by_name(frame, "fct_kela_payment_shares")) == {"days_before_period_not_negative"}


def test_counter_that_goes_down_fails_never_decreases():
    frame = good_counter_payments()
    frame.loc[1, "cumulative_days"] = 290  # p: 300 in January, 290 in February
    outcomes = outcomes_by_name(frame, "kela_counter_steps")
    assert "kela_counter_never_decreases" in failed(outcomes)
    assert outcomes["kela_counter_never_decreases"].blocking
    assert outcomes["kela_counter_never_decreases"].unexpected_count == 1


def test_counter_rising_by_other_than_paid_days_only_warns():
    frame = good_counter_payments()
    frame.loc[2, "cumulative_days"] = 345  # rises by 24, paid 19
    outcomes = outcomes_by_name(frame, "kela_counter_steps")
    assert failed(outcomes) == {"kela_counter_rises_by_paid_days"}
    assert outcomes["kela_counter_rises_by_paid_days"].outcome == "warn"


def test_published_person_count_of_three_fails():
    frame = good_published()
    row = frame.index[(frame["indicator"] == "youth_unemployed") & (frame["area_code"] == "KU205")][0]
    frame.loc[row, ["value", "status"]] = [3.0, "ok"]
    outcomes = outcomes_by_name(frame, "indicators_monthly")
    assert failed(outcomes) == {"no_small_person_counts"}


def test_published_threshold_is_a_parameter():
    frame = good_published()
    row = frame.index[frame["indicator"] == "tmt_recipients"][0]
    frame.loc[row, ["value", "status"]] = [7.0, "ok"]
    prepared = r.prepare_published_frame(frame, threshold=10)
    outcomes = {o.check_name: o for o in validate_frame(prepared, "indicators_monthly")}
    assert not outcomes["no_small_person_counts"].success
    prepared = r.prepare_published_frame(frame, threshold=5)
    assert all(o.success for o in validate_frame(prepared, "indicators_monthly"))


def test_identity_code_in_area_name_fails_and_is_not_shown():
    frame = good_published()
    frame.loc[4, "area_name"] = "Kajaani 131052-308T"
    outcomes = outcomes_by_name(frame, "indicators_monthly")
    assert failed(outcomes) == {"no_identity_code_in_text"}
    observed = outcomes["no_identity_code_in_text"].observed
    assert "131052" not in observed and "Kajaani" not in observed


def test_a_recoverable_suppressed_cell_fails_the_relation_check():
    frame = good_published()
    # publish one cell of a pair that disclosure control suppressed together
    cell = frame.index[(frame["status"] == "suppressed") & (frame["area_code"] == "KU205")
                       & (frame["indicator"] == "unemployed")][0]
    original = good_indicators().drop(columns=["indicator_order"])
    key = frame.loc[cell, ["area_code", "sex", "indicator"]].tolist()
    value = original.set_index(["area_code", "sex", "indicator"]).loc[tuple(key), "value"]
    frame.loc[cell, ["value", "status"]] = [value, "ok"]
    outcomes = outcomes_by_name(frame, "indicators_monthly")
    assert failed(outcomes) == {"no_single_suppressed_cell_in_a_relation"}
    # the cell's partners in at least its sex relation (male, female, total) are exposed
    assert outcomes["no_single_suppressed_cell_in_a_relation"].unexpected_count >= 3


def test_value_without_figure_status_and_internal_indicator_fail():
    frame = good_published()
    suppressed = frame.index[frame["status"] == "suppressed"][0]
    frame.loc[suppressed, "value"] = 12.0
    frame.loc[0, "indicator"] = "tmt_persons_any_row"
    outcomes = outcomes_by_name(frame, "indicators_monthly")
    assert {"value_null_iff_suppressed_or_unavailable", "indicator_is_published"} <= failed(outcomes)


def test_unprepared_frame_fails_loudly_naming_the_missing_column():
    outcomes = {o.check_name: o for o in validate_frame(good_spells(), "stg_register__jobseeker_spells")}
    outcome = outcomes["spell_end_not_before_start"]
    assert not outcome.success
    assert outcome.observed.startswith("could not evaluate")
    assert "spell_end_not_before_start" in outcome.observed
    assert len(outcome.observed) <= OBSERVED_MAX_CHARS


def test_every_suite_file_builds_a_gx_suite():
    import great_expectations as gx

    for suite in suite_names():
        built = gx.ExpectationSuite(**load_suite_spec(suite))
        assert len(built.expectations) == len(load_suite_spec(suite)["expectations"])
