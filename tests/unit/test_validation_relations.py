"""Helper columns of pipelines.validation.relations: hand-built frames where each
relation holds, and where it is broken (the helper column must then be False on the
rows of the broken instance, and only there). No Great Expectations here."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.validation import relations as r

M1 = pd.Timestamp("2024-01-01")
M2 = pd.Timestamp("2024-02-01")
M3 = pd.Timestamp("2024-03-01")
M4 = pd.Timestamp("2024-04-01")


# --- jobseeker spells ------------------------------------------------------------------------


def spells(rows):
    """rows: (spell_start, spell_end, status, service)."""
    return pd.DataFrame(
        {
            "spell_start": pd.to_datetime([row[0] for row in rows]),
            "spell_end": pd.to_datetime([row[1] for row in rows]),
            "status": [row[2] for row in rows],
            "service": [row[3] for row in rows],
        }
    )


def test_spell_end_on_or_after_start_and_open_spells_hold():
    frame = spells(
        [
            ("2024-01-01", "2024-01-31", "TYOTON", None),
            ("2024-01-01", "2024-01-01", "TYOTON", None),  # a one-day spell
            ("2024-01-01", None, "TYOTON", None),  # open
        ]
    )
    assert r.prepare_spells_frame(frame)["spell_end_not_before_start"].tolist() == [True, True, True]


def test_spell_ending_before_it_starts_is_flagged():
    frame = spells([("2024-02-01", "2024-01-31", "TYOTON", None), ("2024-01-01", None, "MUU", None)])
    assert r.prepare_spells_frame(frame)["spell_end_not_before_start"].tolist() == [False, True]


def test_service_present_exactly_for_spells_in_service():
    frame = spells(
        [
            ("2024-01-01", None, "PALVELU", "VALMENNUS"),
            ("2024-01-01", None, "TYOTON", None),
            ("2024-01-01", None, "PALVELU", None),  # in service without a service
            ("2024-01-01", None, "TYOTON", "VALMENNUS"),  # a service without being in one
            ("2024-01-01", None, "PALVELU", "  "),  # blank is no service
        ]
    )
    assert r.prepare_spells_frame(frame)["service_present_iff_in_service"].tolist() == [True, True, False, False, False]


def test_prepare_does_not_modify_its_input():
    frame = spells([("2024-01-01", None, "TYOTON", None)])
    before = frame.copy()
    r.prepare_spells_frame(frame)
    pd.testing.assert_frame_equal(frame, before)


# --- person-month status ------------------------------------------------------------------


def person_months(rows):
    """rows: dicts of flags overriding an unemployed, non-structural person."""
    records = []
    for row in rows:
        record = {
            "count_date": pd.Timestamp("2024-01-31"),
            "run_start": pd.Timestamp("2023-06-01"),
            "is_unemployed": True,
            "is_in_services": False,
            "is_long_term_unemployed": False,
            "is_equivalent_long_term_unemployed": False,
            "is_returned_from_services": False,
            "is_service_to_service": False,
            "is_structural_unemployed": False,
        }
        record.update(row)
        records.append(record)
    return pd.DataFrame(records)


def test_structural_groups_hold_for_consistent_persons():
    frame = person_months(
        [
            {},
            {"is_long_term_unemployed": True, "is_structural_unemployed": True},
            {
                "is_unemployed": False,
                "is_in_services": True,
                "run_start": pd.NaT,
                "is_service_to_service": True,
                "is_structural_unemployed": True,
            },
        ]
    )
    out = r.prepare_person_month_frame(frame)
    for column in (
        "structural_groups_disjoint",
        "structural_equals_any_group",
        "structural_groups_match_state",
        "run_start_not_after_count_date",
    ):
        assert out[column].all(), column


def test_a_person_in_two_structural_groups_is_flagged():
    frame = person_months(
        [{"is_long_term_unemployed": True, "is_returned_from_services": True, "is_structural_unemployed": True}, {}]
    )
    assert r.prepare_person_month_frame(frame)["structural_groups_disjoint"].tolist() == [False, True]


def test_structural_flag_must_be_the_or_of_the_groups():
    frame = person_months(
        [
            {"is_structural_unemployed": True},  # structural without a group
            {"is_equivalent_long_term_unemployed": True},  # a group without structural
        ]
    )
    assert r.prepare_person_month_frame(frame)["structural_equals_any_group"].tolist() == [False, False]


def test_groups_need_their_state_on_the_count_date():
    frame = person_months(
        [
            {"is_unemployed": False, "is_long_term_unemployed": True, "is_structural_unemployed": True},
            {"is_service_to_service": True, "is_structural_unemployed": True},  # not in services
        ]
    )
    assert r.prepare_person_month_frame(frame)["structural_groups_match_state"].tolist() == [False, False]


def test_run_starting_after_the_count_date_is_flagged():
    frame = person_months([{"run_start": pd.Timestamp("2024-02-01")}, {"run_start": pd.Timestamp("2024-01-31")}])
    assert r.prepare_person_month_frame(frame)["run_start_not_after_count_date"].tolist() == [False, True]


# --- monthly indicators (warehouse) --------------------------------------------------------

MUNICIPALITIES = ("KU205", "KU578")


def indicator_frame(month=M1, lookback_complete=True):
    """A consistent table: two municipalities of MK18, three sexes, every indicator.

    Parts are made up per (municipality, sex); totals, regions and structural are sums,
    except Kela's recipient counts in the region (distinct persons: less than the sum).
    """
    base: dict[tuple[str, str, str], float] = {}
    for m_index, area in enumerate(MUNICIPALITIES):
        for s_index, sex in enumerate(("male", "female")):
            for i_index, indicator in enumerate(r.WAREHOUSE_INDICATORS):
                value = float((m_index * 7 + s_index * 3 + i_index * 5) % 11 + 5)
                if indicator.endswith("_eur"):
                    value = value * 101.37 - 250.0  # euros can be negative
                base[(area, sex, indicator)] = value
            base[(area, sex, "structural_unemployed")] = sum(base[(area, sex, g)] for g in r.STRUCTURAL_GROUPS)
    for indicator in r.WAREHOUSE_INDICATORS:
        for sex in ("male", "female"):
            parts = sum(base[(area, sex, indicator)] for area in MUNICIPALITIES)
            region_value = parts if indicator in r.REGION_ADDITIVE_INDICATORS else parts - 2
            base[("MK18", sex, indicator)] = region_value
        for area in MUNICIPALITIES + ("MK18",):
            base[(area, "total", indicator)] = base[(area, "male", indicator)] + base[(area, "female", indicator)]
    records = []
    for (area, sex, indicator), value in base.items():
        jobseeker = indicator in r.JOBSEEKER_INDICATORS
        status = "ok" if lookback_complete or not jobseeker else "incomplete"
        records.append(
            {
                "month": month,
                "count_date": month + pd.offsets.MonthEnd(0),
                "area_code": area,
                "area_level": "region" if area.startswith("MK") else "municipality",
                "area_name": {"MK18": "Kainuu", "KU205": "Kajaani", "KU578": "Paltamo"}[area],
                "parent_area_code": "MK18" if area.startswith("KU") else None,
                "sex": sex,
                "indicator": indicator,
                "indicator_order": r.WAREHOUSE_INDICATORS.index(indicator) + 1,
                "value": value,
                "status": status,
                "lookback_complete": lookback_complete,
            }
        )
    return pd.DataFrame(records)


def set_value(frame, area, sex, indicator, value, status=None):
    frame = frame.copy()
    mask = (frame["area_code"] == area) & (frame["sex"] == sex) & (frame["indicator"] == indicator)
    assert mask.sum() == 1
    frame.loc[mask, "value"] = value
    if status is not None:
        frame.loc[mask, "status"] = status
    return frame


INDICATOR_HELPERS = (
    "value_null_iff_unavailable",
    "status_consistent_with_lookback",
)


def broken_rows(out, column):
    return set(map(tuple, out.loc[~out[column], ["area_code", "sex", "indicator"]].itertuples(index=False)))


def test_consistent_indicator_table_holds_every_relation():
    frame = pd.concat([indicator_frame(M1), indicator_frame(M2, lookback_complete=False)], ignore_index=True)
    out = r.prepare_indicators_frame(frame)
    for column in INDICATOR_HELPERS:
        assert out[column].dtype == bool
        assert out[column].all(), column


def test_additive_relations_are_not_checked_here():
    # dbt owns them (dbt_project/models/marts/_marts.yml): a broken total is no GX finding.
    frame = indicator_frame()
    total = frame.query("area_code == 'KU205' and sex == 'total' and indicator == 'laid_off'")["value"].item()
    out = r.prepare_indicators_frame(set_value(frame, "KU205", "total", "laid_off", total + 1))
    assert all(out[column].all() for column in INDICATOR_HELPERS)
    assert not {"total_equals_male_plus_female", "count_not_negative"} & set(out.columns)


def test_value_must_be_null_exactly_where_unavailable():
    frame = indicator_frame()
    out = r.prepare_indicators_frame(set_value(frame, "KU205", "male", "laid_off", 5.0, "not_available"))
    assert broken_rows(out, "value_null_iff_unavailable") == {("KU205", "male", "laid_off")}
    out = r.prepare_indicators_frame(set_value(frame, "KU205", "male", "laid_off", None, "ok"))
    assert ("KU205", "male", "laid_off") in broken_rows(out, "value_null_iff_unavailable")


def test_lookback_flag_and_statuses():
    complete = indicator_frame(M1, lookback_complete=True)
    short = indicator_frame(M2, lookback_complete=False)
    # structural_inflow can be incomplete in a complete month (the previous one was short)
    ok_frame = set_value(complete, "KU205", "male", "structural_inflow", None, "not_available")
    ok_frame = set_value(ok_frame, "KU578", "male", "structural_inflow", None, "not_available")
    ok_frame.loc[ok_frame["indicator"] == "structural_inflow", ["value", "status"]] = [None, "not_available"]
    for frame in (complete, short, ok_frame):
        assert r.prepare_indicators_frame(frame)["status_consistent_with_lookback"].all()
    inflow_incomplete = complete.copy()
    inflow_incomplete.loc[inflow_incomplete["indicator"] == "structural_inflow", "status"] = "incomplete"
    assert r.prepare_indicators_frame(inflow_incomplete)["status_consistent_with_lookback"].all()

    out = r.prepare_indicators_frame(set_value(complete, "KU205", "male", "unemployed", None, "incomplete"))
    assert broken_rows(out, "status_consistent_with_lookback") == {("KU205", "male", "unemployed")}
    out = r.prepare_indicators_frame(set_value(short, "KU205", "female", "in_services", None, "ok"))
    assert broken_rows(out, "status_consistent_with_lookback") == {("KU205", "female", "in_services")}
    out = r.prepare_indicators_frame(set_value(short, "MK18", "total", "tmt_recipients", None, "incomplete"))
    assert broken_rows(out, "status_consistent_with_lookback") == {("MK18", "total", "tmt_recipients")}


# --- Kela shares -------------------------------------------------------------------------------


def test_share_agreement_within_a_cent_where_a_rule_applies():
    frame = pd.DataFrame(
        {
            "has_rule": [True, True, True, False, True],
            "invoiced_share_eur": [281.93, 281.94, 281.95, 99.0, -45.36],
            "expected_share_eur": [281.93, 281.93, 281.93, None, -45.36],
            "share_difference_eur": [0.0, 0.01, 0.02, None, 0.0],
        }
    )
    out = r.prepare_kela_shares_frame(frame)
    assert out["share_agrees_within_cent"].tolist() == [True, True, False, True, True]


# --- Kela counter ------------------------------------------------------------------------------


def payments(rows):
    """rows: (person, month, paid_days, cumulative_days[, benefit])."""
    return pd.DataFrame(
        {
            "person_id": [row[0] for row in rows],
            "month": [row[1] for row in rows],
            "paid_days": [row[2] for row in rows],
            "cumulative_days": [row[3] for row in rows],
            "benefit": [row[4] if len(row) > 4 else "TMT" for row in rows],
            "source_line": list(range(2, len(rows) + 2)),
        }
    )


def steps_by_line(frame, **kwargs):
    out = r.prepare_counter_steps(frame, **kwargs)
    return {
        line: (not_decreasing, step_ok)
        for line, not_decreasing, step_ok in out[["source_line", "counter_not_decreasing", "counter_step_ok"]].itertuples(index=False)
    }


def test_counter_rising_by_paid_days_holds():
    frame = payments(
        [
            ("p", M1, 20, 300),
            ("p", M2, 21, 321),
            ("p", M3, 0, 321),  # a correction without days
            ("q", M1, 10, 10),
            ("q", M3, 5, 15),  # absent in a delivered month: nothing paid then
        ]
    )
    assert set(steps_by_line(frame).values()) == {(True, True)}


def test_two_periods_in_one_month_are_successive():
    frame = payments([("p", M1, 20, 480), ("p", M2, 10, 490), ("p", M2, 11, 501)])
    assert set(steps_by_line(frame).values()) == {(True, True)}
    # the input order does not matter
    assert set(steps_by_line(frame.iloc[::-1]).values()) == {(True, True)}


def test_a_correction_repeating_the_counter_follows_the_row_that_reached_it():
    frame = payments([("p", M1, 20, 490), ("p", M2, 0, 500), ("p", M2, 10, 500)])
    assert set(steps_by_line(frame).values()) == {(True, True)}


def test_counter_going_down_is_flagged_as_decreasing():
    frame = payments([("p", M1, 20, 520), ("p", M2, 20, 510), ("q", M1, 3, 3), ("q", M2, 3, 6)])
    result = steps_by_line(frame)
    assert result[3] == (False, False)
    assert result[2] == result[4] == result[5] == (True, True)


def test_counter_rising_by_other_than_paid_days_is_a_step_warning_only():
    frame = payments([("p", M1, 20, 300), ("p", M2, 20, 330)])
    assert steps_by_line(frame)[3] == (True, False)


def test_step_is_not_checked_across_an_undelivered_month_but_a_decrease_is():
    # M2 is not in the frame at all (not delivered): the days paid in it are unknown.
    frame = payments([("p", M1, 20, 300), ("p", M3, 20, 345), ("q", M1, 20, 300), ("q", M3, 20, 290)])
    result = steps_by_line(frame)
    assert result[3] == (True, True)
    assert result[5] == (False, True)
    # with M2 delivered (someone else paid), p's step is checked and fails
    frame = pd.concat([frame, payments([("z", M2, 1, 1)]).assign(source_line=99)], ignore_index=True)
    assert steps_by_line(frame)[3] == (True, False)


def test_counter_steps_keep_only_tmt_and_hold_no_person_identifier():
    frame = payments([("p", M1, 20, 300), ("p", M2, 20, 5, "PPR"), ("p", M2, 20, 320)])
    out = r.prepare_counter_steps(frame)
    assert len(out) == 2
    assert "person_id" not in out.columns
    assert out["counter_not_decreasing"].all() and out["counter_step_ok"].all()


def test_counter_steps_months_filter_keeps_earlier_rows_as_previous():
    frame = payments([("p", M1, 20, 520), ("p", M2, 20, 510), ("p", M3, 20, 530)])
    out = r.prepare_counter_steps(frame, months=["2024-02-01"])
    assert out["source_line"].tolist() == [3]
    assert out["counter_not_decreasing"].tolist() == [False]
    assert out["previous_cumulative_days"].tolist() == [520]


def test_counter_steps_accept_delivery_month_and_empty_frames():
    frame = payments([("p", M1, 20, 300), ("p", M2, 20, 320)]).rename(columns={"month": "delivery_month"})
    assert set(steps_by_line(frame).values()) == {(True, True)}
    empty = r.prepare_counter_steps(frame.iloc[0:0])
    assert len(empty) == 0 and "counter_step_ok" in empty.columns


# --- published indicators -------------------------------------------------------------------


def published(rows):
    """rows: (area_name, indicator, value, status)."""
    return pd.DataFrame(
        {
            "month": [M1] * len(rows),
            "count_date": [pd.Timestamp("2024-01-31")] * len(rows),
            "area_code": ["KU205"] * len(rows),
            "area_level": ["municipality"] * len(rows),
            "area_name": [row[0] for row in rows],
            "parent_area_code": ["MK18"] * len(rows),
            "sex": ["total"] * len(rows),
            "indicator": [row[1] for row in rows],
            "value": [row[2] for row in rows],
            "status": [row[3] for row in rows],
            "lookback_complete": [True] * len(rows),
        }
    )


@pytest.mark.parametrize("threshold,small", [(5, [1, 2, 3, 4]), (3, [1, 2]), (1, [])])
def test_small_person_counts_follow_the_threshold(threshold, small):
    rows = [("Kajaani", "unemployed", float(v), "ok") for v in range(0, 8)]
    out = r.prepare_published_frame(published(rows), threshold=threshold)
    flagged = sorted(int(v) for v in out.loc[~out["count_not_small"], "value"])
    assert flagged == small


def test_small_euros_and_suppressed_cells_are_not_small_counts():
    rows = [
        ("Kajaani", "tmt_paid_eur", 3.0, "ok"),
        ("Kajaani", "unemployed", None, "suppressed"),
        ("Kajaani", "tmt_recipients", 4.0, "ok"),
    ]
    out = r.prepare_published_frame(published(rows))
    assert out["count_not_small"].tolist() == [True, True, False]


def test_published_value_null_exactly_where_suppressed_or_unavailable():
    rows = [
        ("Kajaani", "unemployed", None, "suppressed"),
        ("Kajaani", "structural_inflow", None, "not_available"),
        ("Kajaani", "tmt_municipal_share_expected_eur", None, "no_rule"),
        ("Kajaani", "laid_off", 7.0, "incomplete"),
        ("Kajaani", "laid_off", 7.0, "suppressed"),
        ("Kajaani", "in_services", None, "ok"),
    ]
    out = r.prepare_published_frame(published(rows))
    assert out["value_null_iff_suppressed_or_unavailable"].tolist() == [True, True, True, True, False, False]


@pytest.mark.parametrize(
    "text,found",
    [
        ("Kajaani", False),
        ("010190-912X", True),
        ("Kajaani 131052-308T", True),
        ("010100A9012", True),  # 2000s century sign
        ("010190Y912X", True),  # the new century signs of 2023
        ("2024-01-31", False),
        ("KU205", False),
        ("0101901-912X", False),  # seven digits: bounded, like the digits of a UUID or a hash
        ("01019-0912X", False),
    ],
)
def test_identity_code_shapes(text, found):
    assert r.contains_identity_code(pd.Series([text])).tolist() == [found]


def test_identity_code_in_any_text_column_is_flagged():
    frame = published([("Kajaani", "unemployed", 10.0, "ok"), ("Paltamo 010190-912X", "unemployed", 10.0, "ok")])
    frame.loc[0, "sex"] = "131052-308T"
    out = r.prepare_published_frame(frame)
    assert out["no_identity_code"].tolist() == [False, False]


def test_threshold_below_one_is_refused():
    with pytest.raises(ValueError):
        r.prepare_published_frame(published([("Kajaani", "unemployed", 1.0, "ok")]), threshold=0)


# --- no recoverable suppressed cell in the published relations ---------------------------------


def cells(rows, parents=None):
    """rows: (area_code, sex, indicator, value) with value None meaning suppressed, or
    (area_code, sex, indicator, None, status) for a NULL of another status."""
    parents = parents or {"KU205": "MK18", "KU578": "MK18"}
    records = []
    for row in rows:
        area, sex, indicator, value = row[:4]
        status = row[4] if len(row) > 4 else ("suppressed" if value is None else "ok")
        records.append((M1, area, parents.get(area), sex, indicator, value, status))
    return pd.DataFrame.from_records(
        records, columns=["month", "area_code", "parent_area_code", "sex", "indicator", "value", "status"]
    )


def by_sex(area, indicator, male, female, total):
    return [(area, "male", indicator, male), (area, "female", indicator, female), (area, "total", indicator, total)]


def exposed(frame):
    ok = r.suppression_not_recoverable(frame)
    assert ok.dtype == bool and ok.index.equals(frame.index)
    return set(map(tuple, frame.loc[~ok, ["area_code", "sex", "indicator"]].itertuples(index=False)))


def test_two_suppressed_cells_in_a_relation_protect_each_other():
    assert exposed(cells(by_sex("KU205", "unemployed", None, None, 10.0))) == set()


def test_a_single_suppressed_cell_is_recoverable_by_subtraction():
    frame = cells(by_sex("KU205", "unemployed", None, 7.0, 10.0))
    assert exposed(frame) == {("KU205", s, "unemployed") for s in ("male", "female", "total")}


def test_an_unknown_cell_hides_the_difference():
    rows = [
        ("KU205", "male", "structural_inflow", None),
        ("KU205", "female", "structural_inflow", 7.0),
        ("KU205", "total", "structural_inflow", None, "not_available"),
    ]
    assert exposed(cells(rows)) == set()


def test_region_relation_reads_the_parent_area_and_skips_kela_recipients():
    rows = [
        *by_sex("KU205", "unemployed", None, None, None),
        *by_sex("KU578", "unemployed", 6.0, 8.0, 14.0),
        *by_sex("MK18", "unemployed", 9.0, 11.0, 20.0),
        *by_sex("KU205", "tmt_recipients", None, None, None),
        *by_sex("KU578", "tmt_recipients", 6.0, 8.0, 14.0),
        *by_sex("MK18", "tmt_recipients", 8.0, 11.0, 19.0),
    ]
    found = exposed(cells(rows))
    assert found == {(a, s, "unemployed") for a in ("KU205", "KU578", "MK18") for s in ("male", "female", "total")}
    # the whole country adds up its regions the same way
    country = cells(
        [*by_sex("MK18", "laid_off", None, None, None), *by_sex("MK01", "laid_off", 6.0, 6.0, 12.0),
         *by_sex("SSS", "laid_off", 9.0, 9.0, 18.0)],
        parents={"MK18": "SSS", "MK01": "SSS"},
    )
    assert ("SSS", "total", "laid_off") in exposed(country)


def test_structural_relation_and_the_euro_block_as_one_cell():
    groups = [("KU205", "total", g, 6.0) for g in r.STRUCTURAL_GROUPS[1:]]
    rows = [("KU205", "total", r.STRUCTURAL_GROUPS[0], None), *groups, ("KU205", "total", "structural_unemployed", 21.0)]
    assert ("KU205", "total", "structural_unemployed") in exposed(cells(rows))

    block = [
        (area_sex[0], area_sex[1], indicator, None if area_sex[1] == "male" else 100.0)
        for area_sex in (("KU205", "male"), ("KU205", "female"), ("KU205", "total"))
        for indicator in r.EURO_INDICATORS
    ]
    found = exposed(cells(block))
    assert found == {("KU205", s, i) for s in ("male", "female", "total") for i in r.EURO_INDICATORS}


def test_published_frame_flags_a_recoverable_cell_for_its_suite():
    frame = cells(by_sex("KU205", "unemployed", None, 7.0, 10.0)).assign(area_name="Kajaani")
    out = r.prepare_published_frame(frame)
    assert out["suppression_not_recoverable"].tolist() == [False, False, False]


# --- consistency with the rest of the project ---------------------------------------------


def test_indicator_lists_match_the_dbt_macro():
    import re
    from pathlib import Path

    macro = (Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "indicators.sql").read_text()

    def listed(name):
        body = re.search(r"macro " + name + r"\(\).*?return\(\[(.*?)\]\)", macro, re.S).group(1)
        return tuple(re.findall(r"'([a-z0-9_]+)'", body))

    assert listed("jobseeker_indicators") == r.JOBSEEKER_INDICATORS
    assert listed("kela_count_indicators") == r.KELA_COUNT_INDICATORS
    assert listed("kela_euro_indicators") == r.EURO_INDICATORS
    assert listed("internal_indicators") == r.INTERNAL_INDICATORS


def test_every_prepare_function_is_registered_for_an_existing_suite():
    from pipelines.validation.gx_runner import load_suite_spec, suite_names

    assert set(r.PREPARE_BY_SUITE) <= set(suite_names())
    for suite in suite_names():
        declared = load_suite_spec(suite)["meta"].get("prepare")
        registered = r.PREPARE_BY_SUITE.get(suite)
        assert (registered.__name__ if registered else None) == declared, suite
