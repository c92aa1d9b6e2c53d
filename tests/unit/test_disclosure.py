"""Disclosure control (docs/disclosure-control.md): pipelines.publish.disclosure.

Every hand-built case states the expected outcome worked out by hand, pass by pass.
The property tests compare the vectorised function with a plain, cell-by-cell
reference implementation of the rule written independently below, and check the
protection invariants on a few hundred random, internally consistent tables.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from pipelines.publish.disclosure import (
    CANONICAL_INDICATORS,
    COUNT_INDICATORS,
    EURO_BLOCK,
    INTERNAL_PERSONS_ANY_ROW,
    KELA_COUNTS,
    SOURCE1_COUNTS,
    STRUCTURAL_GROUPS,
    apply_disclosure_control,
)

M1 = dt.date(2024, 1, 1)
M2 = dt.date(2024, 2, 1)
COLUMNS = ["month", "area_code", "area_level", "parent_area_code", "sex", "indicator", "value", "status"]


def _level(area: str) -> str:
    return "country" if area == "SSS" else "region" if area.startswith("MK") else "municipality"


def frame(rows, parents=None, month=M1):
    """rows: (area, sex, indicator, value[, status]); parents: {area: parent code}."""
    parents = parents or {}
    records = []
    for row in rows:
        area, sex, indicator, value = row[:4]
        status = row[4] if len(row) > 4 else ("not_available" if value is None else "ok")
        records.append(
            {
                "month": pd.Timestamp(month),
                "area_code": area,
                "area_level": _level(area),
                "parent_area_code": parents.get(area),
                "sex": sex,
                "indicator": indicator,
                "value": np.nan if value is None else float(value),
                "status": status,
            }
        )
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def suppressed(out: pd.DataFrame) -> set[tuple[str, str, str]]:
    s = out[out["status"] == "suppressed"]
    return set(zip(s["area_code"], s["sex"], s["indicator"]))


def sexes(area, indicator, male, female):
    """The three sex cells of one count, total = male + female."""
    return [
        (area, "male", indicator, male),
        (area, "female", indicator, female),
        (area, "total", indicator, male + female),
    ]


def block(area, sex, persons, paid):
    """A euro block and its internal persons figure (share = 30 %, all four euros)."""
    share = round(paid * 0.3, 2)
    return [
        (area, sex, INTERNAL_PERSONS_ANY_ROW, persons),
        (area, sex, "tmt_paid_eur", paid),
        (area, sex, "tmt_municipal_share_eur", share),
        (area, sex, "tmt_municipal_share_expected_eur", share),
        (area, sex, "tmt_municipal_share_diff_eur", 0.0),
    ]


# ---------------------------------------------------------------- primary


def test_primary_suppresses_person_counts_1_to_4_but_publishes_0_and_5():
    # One area per value, total only: no relation instance exists, so only primary acts.
    rows = [(f"KU{100 + v:03d}", "total", "unemployed", v) for v in range(0, 8)]
    out = apply_disclosure_control(frame(rows))
    assert suppressed(out) == {(f"KU{100 + v:03d}", "total", "unemployed") for v in (1, 2, 3, 4)}
    sup = out["status"] == "suppressed"
    assert out.loc[sup, "value"].isna().all()
    assert out.loc[~sup, "value"].tolist() == [0.0, 5.0, 6.0, 7.0]
    assert (out.loc[~sup, "status"] == "ok").all()


@pytest.mark.parametrize("indicator", COUNT_INDICATORS)
def test_primary_applies_to_every_person_count_indicator(indicator):
    out = apply_disclosure_control(frame([("KU001", "total", indicator, 3), ("KU002", "total", indicator, 5)]))
    assert suppressed(out) == {("KU001", "total", indicator)}


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(3, {1, 2}), (5, {1, 2, 3, 4}), (10, {1, 2, 3, 4, 5, 6, 7, 8, 9}), (1, set())],
)
def test_threshold_is_configurable(threshold, expected):
    rows = [(f"KU{100 + v:03d}", "total", "unemployed", v) for v in range(0, 12)]
    out = apply_disclosure_control(frame(rows), threshold=threshold)
    assert suppressed(out) == {(f"KU{100 + v:03d}", "total", "unemployed") for v in expected}


def test_threshold_must_be_a_positive_int():
    df = frame([("KU001", "total", "unemployed", 3)])
    with pytest.raises(ValueError):
        apply_disclosure_control(df, threshold=0)
    with pytest.raises(TypeError):
        apply_disclosure_control(df, threshold=5.0)


def test_suppressed_status_takes_precedence_and_other_statuses_are_kept():
    rows = [
        ("KU001", "total", "unemployed", 3, "incomplete"),
        ("KU002", "total", "unemployed", 7, "incomplete"),
        ("KU003", "total", "structural_inflow", None, "not_available"),
    ]
    out = apply_disclosure_control(frame(rows))
    assert out["status"].tolist() == ["suppressed", "incomplete", "not_available"]
    assert out["value"].isna().tolist() == [True, False, True]


# ---------------------------------------------------------------- euro block


def test_euro_block_suppressed_together_by_persons_rule_even_when_euros_are_big():
    # persons 2 -> whole block goes, though every euro figure is large; persons 0 and 5
    # publish. tmt_recipients 0 (only corrections) does not save the block.
    rows = (
        block("KU001", "total", 2, 125_000.0)
        + [("KU001", "total", "tmt_recipients", 0)]
        + block("KU002", "total", 5, 10.0)
        + block("KU003", "total", 0, 0.0)
    )
    out = apply_disclosure_control(frame(rows))
    assert suppressed(out) == {("KU001", "total", ind) for ind in EURO_BLOCK}
    assert INTERNAL_PERSONS_ANY_ROW not in set(out["indicator"])
    assert ("KU001", "total", "tmt_recipients") not in suppressed(out)


def test_euro_block_follows_persons_threshold():
    rows = block("KU001", "total", 4, 900.0) + block("KU002", "total", 2, 900.0)
    out = apply_disclosure_control(frame(rows), threshold=3)
    assert suppressed(out) == {("KU002", "total", ind) for ind in EURO_BLOCK}


def test_euro_block_is_one_cell_valued_by_paid_eur_in_secondary():
    # Region MK18 = KU105 + KU205 + KU305 for the block (total only).
    # KU105's block is primary (3 persons). The block's value is tmt_paid_eur, so the
    # smallest other is KU305 (4 000 EUR, 40 persons), not KU205 (9 000 EUR, 8 persons):
    # the persons figure plays no part in the secondary choice. All four columns go.
    parents = {"KU105": "MK18", "KU205": "MK18", "KU305": "MK18"}
    rows = (
        block("KU105", "total", 3, 1_500.0)
        + block("KU205", "total", 8, 9_000.0)
        + block("KU305", "total", 40, 4_000.0)
        + block("MK18", "total", 51, 14_500.0)
    )
    out = apply_disclosure_control(frame(rows, parents))
    assert suppressed(out) == {(a, "total", ind) for a in ("KU105", "KU305") for ind in EURO_BLOCK}


def test_euro_block_total_equals_male_plus_female():
    # Male block 2 persons (primary); female block is the only other part -> goes too.
    rows = block("KU001", "male", 2, 700.0) + block("KU001", "female", 9, 5_000.0) + block(
        "KU001", "total", 11, 5_700.0
    )
    out = apply_disclosure_control(frame(rows))
    assert suppressed(out) == {("KU001", s, ind) for s in ("male", "female") for ind in EURO_BLOCK}


def test_euro_block_without_persons_figure_is_refused():
    rows = block("KU001", "total", 9, 5_000.0)[1:]  # drop the persons row
    with pytest.raises(ValueError, match=INTERNAL_PERSONS_ANY_ROW):
        apply_disclosure_control(frame(rows))


# ---------------------------------------------------------------- total = male + female


def test_sex_relation_suppresses_the_other_non_zero_part():
    # male 3 primary; female 8 is the only non-zero unsuppressed part -> suppressed;
    # the total 11 stays published (two unknowns, one equation).
    out = apply_disclosure_control(frame(sexes("KU001", "unemployed", 3, 8)))
    assert suppressed(out) == {("KU001", "male", "unemployed"), ("KU001", "female", "unemployed")}


def test_sex_relation_tie_chooses_female():
    # One area X, no other areas, structural groups by sex (S2S = 0 throughout):
    #            LT  EQ  RET  STR
    #   male      5   5   3   13
    #   female    6   5   0   11
    #   total    11  10   3   24
    # Primary: RET.male, RET.total.
    # Pass 1: structural/total -> smallest of LT.t 11, EQ.t 10 -> EQ.total;
    #         structural/male  -> LT.m 5 = EQ.m 5 tie, same sex and area -> canonical
    #         order, long_term first -> LT.male.
    # Pass 2: sex/EQ has only EQ.total (the whole) suppressed -> parts EQ.m 5 = EQ.f 5:
    #         tie -> FEMALE; sex/LT has only LT.male -> LT.female.
    # Pass 3: structural/female now has LT.f and EQ.f: nothing single. Done.
    rows = []
    for ind, m, f in [
        ("long_term_unemployed", 5, 6),
        ("equivalent_long_term_unemployed", 5, 5),
        ("returned_from_services", 3, 0),
        ("service_to_service", 0, 0),
        ("structural_unemployed", 13, 11),
    ]:
        rows += sexes("KU001", ind, m, f)
    out = apply_disclosure_control(frame(rows))
    assert suppressed(out) == {
        ("KU001", "male", "returned_from_services"),
        ("KU001", "total", "returned_from_services"),
        ("KU001", "total", "equivalent_long_term_unemployed"),
        ("KU001", "male", "long_term_unemployed"),
        ("KU001", "female", "equivalent_long_term_unemployed"),
        ("KU001", "female", "long_term_unemployed"),
    }
    assert ("KU001", "male", "equivalent_long_term_unemployed") not in suppressed(out)


def test_sex_relation_other_part_zero_suppresses_the_total():
    # Region MK18 = KU105 + KU205 + KU305, unemployed:
    #            male female total
    #   KU105      3     0     3     (male, total primary)
    #   KU205      6     0     6
    #   KU305      0     5     5
    #   MK18       9     5    14
    # Pass 1: region/male: KU105.m alone -> smallest non-zero: KU205.m 6 (KU305.m is 0);
    #         region/total: KU105.t alone -> KU305.t 5 < KU205.t 6 -> KU305.t.
    # Pass 2: sex/KU205: male alone, female is 0 -> no part qualifies -> the TOTAL KU205.t;
    #         sex/KU305: the whole alone -> a part: KU305.f 5 (KU305.m is 0).
    # Pass 3: region/female: KU305.f alone, other municipalities 0 -> the whole MK18.f.
    # Pass 4: sex/MK18: MK18.f alone -> MK18.m 9.
    # Pass 5: nothing single. MK18.total 14 stays published.
    parents = {"KU105": "MK18", "KU205": "MK18", "KU305": "MK18"}
    rows = (
        sexes("KU105", "unemployed", 3, 0)
        + sexes("KU205", "unemployed", 6, 0)
        + sexes("KU305", "unemployed", 0, 5)
        + sexes("MK18", "unemployed", 9, 5)
    )
    out = apply_disclosure_control(frame(rows, parents))
    got = suppressed(out)
    assert ("KU205", "total", "unemployed") in got  # the behaviour under test
    assert got == {
        ("KU105", "male", "unemployed"),
        ("KU105", "total", "unemployed"),
        ("KU205", "male", "unemployed"),
        ("KU305", "total", "unemployed"),
        ("KU205", "total", "unemployed"),
        ("KU305", "female", "unemployed"),
        ("MK18", "female", "unemployed"),
        ("MK18", "male", "unemployed"),
    }


# ---------------------------------------------------------------- region = sum of municipalities


def test_region_relation_smallest_non_zero_municipality_tie_lowest_code():
    # total only. MK18 = 16: KU305 2 (primary), KU205 7, KU105 7, KU405 0.
    # Smallest non-zero other: 7, tie -> lowest code KU105 (not the first row, KU205);
    # KU405 is 0 and does not qualify.
    parents = {a: "MK18" for a in ("KU305", "KU205", "KU105", "KU405")}
    rows = [
        ("KU305", "total", "unemployed", 2),
        ("KU205", "total", "unemployed", 7),
        ("KU105", "total", "unemployed", 7),
        ("KU405", "total", "unemployed", 0),
        ("MK18", "total", "unemployed", 16),
    ]
    out = apply_disclosure_control(frame(rows, parents))
    assert suppressed(out) == {("KU305", "total", "unemployed"), ("KU105", "total", "unemployed")}


def test_region_relation_whole_alone_suppressed_needs_a_part():
    # unemployed:   male female total
    #   KU105          2     0     2
    #   KU205          0     7     7
    #   MK18           2     7     9
    parents = {"KU105": "MK18", "KU205": "MK18"}
    rows = sexes("KU105", "unemployed", 2, 0) + sexes("KU205", "unemployed", 0, 7) + sexes("MK18", "unemployed", 2, 7)
    # Primary: KU105.m, KU105.t, MK18.m.
    # Pass 1: sex/MK18: male alone -> MK18.f 7. region/male: KU105.m and MK18.m -> 2.
    #         region/total: KU105.t alone -> KU205.t 7. sex/KU105: 2.
    # Pass 2: region/female: MK18.f (the whole) alone -> part KU205.f 7 (KU105.f is 0).
    #         sex/KU205: total alone -> KU205.f 7 (KU205.m is 0). Same cell.
    # Pass 3: nothing single.
    out = apply_disclosure_control(frame(rows, parents))
    assert suppressed(out) == {
        ("KU105", "male", "unemployed"),
        ("KU105", "total", "unemployed"),
        ("MK18", "male", "unemployed"),
        ("MK18", "female", "unemployed"),
        ("KU205", "total", "unemployed"),
        ("KU205", "female", "unemployed"),
    }


def test_country_relation_applies_only_where_regions_point_to_sss():
    rows = [
        ("MK01", "total", "unemployed", 3),
        ("MK02", "total", "unemployed", 20),
        ("MK03", "total", "unemployed", 9),
        ("SSS", "total", "unemployed", 32),
    ]
    with_country = apply_disclosure_control(frame(rows, {"MK01": "SSS", "MK02": "SSS", "MK03": "SSS"}))
    assert suppressed(with_country) == {("MK01", "total", "unemployed"), ("MK03", "total", "unemployed")}
    without = apply_disclosure_control(frame(rows[:3]))  # scope without the country row
    assert suppressed(without) == {("MK01", "total", "unemployed")}


def test_kela_recipients_are_not_made_additive_across_municipalities():
    # Recipients are distinct persons: MK18 12 < 3 + 10. Only KU105 goes; for a
    # source-1 count with the same figures KU205 would go too (contrast below).
    parents = {"KU105": "MK18", "KU205": "MK18"}
    for ind in ("tmt_recipients", "tmt_recipients_300_499", "tmt_recipients_over_500"):
        rows = [("KU105", "total", ind, 3), ("KU205", "total", ind, 10), ("MK18", "total", ind, 12)]
        assert suppressed(apply_disclosure_control(frame(rows, parents))) == {("KU105", "total", ind)}
    rows = [("KU105", "total", "unemployed", 3), ("KU205", "total", "unemployed", 10), ("MK18", "total", "unemployed", 13)]
    assert suppressed(apply_disclosure_control(frame(rows, parents))) == {
        ("KU105", "total", "unemployed"),
        ("KU205", "total", "unemployed"),
    }


def test_kela_recipients_are_additive_by_sex():
    out = apply_disclosure_control(frame(sexes("KU001", "tmt_recipients", 2, 30)))
    assert suppressed(out) == {("KU001", "male", "tmt_recipients"), ("KU001", "female", "tmt_recipients")}


# ---------------------------------------------------------------- structural = its four groups


def test_structural_relation_one_suppressed_group_takes_smallest_non_zero_group():
    # total only: LT 10, EQ 7, RET 2 (primary), S2S 6, STR 25 -> S2S 6 (smallest non-zero).
    rows = [
        ("KU001", "total", "long_term_unemployed", 10),
        ("KU001", "total", "equivalent_long_term_unemployed", 7),
        ("KU001", "total", "returned_from_services", 2),
        ("KU001", "total", "service_to_service", 6),
        ("KU001", "total", "structural_unemployed", 25),
    ]
    out = apply_disclosure_control(frame(rows))
    assert suppressed(out) == {
        ("KU001", "total", "returned_from_services"),
        ("KU001", "total", "service_to_service"),
    }


def test_structural_relation_tie_follows_canonical_indicator_order():
    # RET 1 (primary); EQ 6 = S2S 6 tie, LT 0 -> EQ (earlier in the canonical order).
    rows = [
        ("KU001", "total", "service_to_service", 6),
        ("KU001", "total", "equivalent_long_term_unemployed", 6),
        ("KU001", "total", "long_term_unemployed", 0),
        ("KU001", "total", "returned_from_services", 1),
        ("KU001", "total", "structural_unemployed", 13),
    ]
    out = apply_disclosure_control(frame(rows))
    assert suppressed(out) == {
        ("KU001", "total", "returned_from_services"),
        ("KU001", "total", "equivalent_long_term_unemployed"),
    }


# ---------------------------------------------------------------- passes


def test_cascading_passes_handle_new_single_suppressions():
    # Region MK18 = KU105 + KU205, unemployed:
    #            male female total
    #   KU105      6     6    12
    #   KU205      2     8    10     (male primary)
    #   MK18       8    14    22
    # Pass 1 (start {KU205.m}): sex/KU205 -> KU205.f 8; region/male -> KU105.m 6.
    # Pass 2: the choices of pass 1 created single suppressions:
    #         sex/KU105 (KU105.m alone) -> KU105.f 6; region/female (KU205.f alone) ->
    #         KU105.f 6 (same cell, chosen by two instances in the same pass).
    # Pass 3: nothing single; totals are all published.
    parents = {"KU105": "MK18", "KU205": "MK18"}
    rows = sexes("KU105", "unemployed", 6, 6) + sexes("KU205", "unemployed", 2, 8) + sexes("MK18", "unemployed", 8, 14)
    out = apply_disclosure_control(frame(rows, parents))
    assert suppressed(out) == {
        ("KU205", "male", "unemployed"),
        ("KU205", "female", "unemployed"),
        ("KU105", "male", "unemployed"),
        ("KU105", "female", "unemployed"),
    }


def test_cascade_across_structural_and_region_relations_with_whole_fallback():
    # total only (no sex relation); RET and S2S are 0 everywhere.
    # KU105: LT 3 (primary), EQ 9, STR 12. KU205: LT 5, STR 5. KU305: LT 7, STR 7.
    # MK18: LT 15, EQ 9, STR 24.
    # Pass 1 (start {KU105.LT}): structural/KU105 -> EQ 9; region/LT -> KU205.LT 5.
    # Pass 2: region/EQ: KU105.EQ alone, siblings 0 -> MK18.EQ; structural/KU205:
    #         KU205.LT alone, other groups 0 -> KU205.STR.
    # Pass 3: structural/MK18: EQ alone -> smallest non-zero: MK18.LT 15; region/STR:
    #         KU205.STR alone -> KU305.STR 7 (smallest non-zero; KU105.STR 12).
    # Pass 4: region/LT already has 3 suppressed; structural/KU305: STR (whole) alone ->
    #         KU305.LT 7; region/STR: KU205, KU305 -> 2.
    # Pass 5: region/LT: KU105, KU205, KU305, MK18 -> 4. Done.
    parents = {"KU105": "MK18", "KU205": "MK18", "KU305": "MK18"}
    vals = {
        "KU105": {"long_term_unemployed": 3, "equivalent_long_term_unemployed": 9},
        "KU205": {"long_term_unemployed": 5},
        "KU305": {"long_term_unemployed": 7},
        "MK18": {"long_term_unemployed": 15, "equivalent_long_term_unemployed": 9},
    }
    rows = []
    for area, v in vals.items():
        for ind in STRUCTURAL_GROUPS:
            rows.append((area, "total", ind, v.get(ind, 0)))
        rows.append((area, "total", "structural_unemployed", sum(v.values())))
    out = apply_disclosure_control(frame(rows, parents))
    assert suppressed(out) == {
        ("KU105", "total", "long_term_unemployed"),
        ("KU105", "total", "equivalent_long_term_unemployed"),
        ("KU205", "total", "long_term_unemployed"),
        ("MK18", "total", "equivalent_long_term_unemployed"),
        ("KU205", "total", "structural_unemployed"),
        ("MK18", "total", "long_term_unemployed"),
        ("KU305", "total", "structural_unemployed"),
        ("KU305", "total", "long_term_unemployed"),
    }


def test_choices_of_a_pass_are_applied_together():
    # total only, and only the rows needed, so that exactly three instances exist:
    #   structural/KU105 = LT + EQ, structural/KU205 = EQ, structural/KU305 = EQ,
    #   region MK18.EQ = KU105.EQ + KU205.EQ + KU305.EQ.
    # KU105: LT 3, EQ 9, STR 12. KU205: EQ 2, STR 2. KU305: EQ 6, STR 6. MK18: EQ 17.
    # Primary: KU105.LT, KU205.EQ, KU205.STR.
    # Pass 1, both read the start state: structural/KU105 (LT alone) -> KU105.EQ 9;
    #   region/EQ (KU205.EQ alone) -> smallest of KU105.EQ 9, KU305.EQ 6 -> KU305.EQ.
    #   (Applied one by one, structural/KU105 first, region/EQ would already see two
    #   suppressed cells and choose nothing: the result would depend on the order.)
    # Pass 2: structural/KU305: EQ alone, no other part -> the whole KU305.STR.
    # Pass 3: nothing single.
    parents = {"KU105": "MK18", "KU205": "MK18", "KU305": "MK18"}
    rows = [
        ("KU105", "total", "long_term_unemployed", 3),
        ("KU105", "total", "equivalent_long_term_unemployed", 9),
        ("KU105", "total", "structural_unemployed", 12),
        ("KU205", "total", "equivalent_long_term_unemployed", 2),
        ("KU205", "total", "structural_unemployed", 2),
        ("KU305", "total", "equivalent_long_term_unemployed", 6),
        ("KU305", "total", "structural_unemployed", 6),
        ("MK18", "total", "equivalent_long_term_unemployed", 17),
    ]
    out = apply_disclosure_control(frame(rows, parents))
    assert suppressed(out) == {
        ("KU105", "total", "long_term_unemployed"),
        ("KU205", "total", "equivalent_long_term_unemployed"),
        ("KU205", "total", "structural_unemployed"),
        ("KU105", "total", "equivalent_long_term_unemployed"),
        ("KU305", "total", "equivalent_long_term_unemployed"),
        ("KU305", "total", "structural_unemployed"),
    }


def test_relations_do_not_cross_months():
    # KU105 is in MK18 in January and in MK05 in February (like Vaala). January:
    # MK18 = KU105 3 + KU205 9 -> KU205. February: MK05 = KU105 3 + KU305 20 -> KU305;
    # MK18 = KU205 alone has nothing suppressed, so KU205 is published in February.
    jan = frame(
        [("KU105", "total", "unemployed", 3), ("KU205", "total", "unemployed", 9), ("MK18", "total", "unemployed", 12)],
        {"KU105": "MK18", "KU205": "MK18"},
        M1,
    )
    feb = frame(
        [
            ("KU105", "total", "unemployed", 3),
            ("KU205", "total", "unemployed", 9),
            ("KU305", "total", "unemployed", 20),
            ("MK18", "total", "unemployed", 9),
            ("MK05", "total", "unemployed", 23),
        ],
        {"KU105": "MK05", "KU205": "MK18", "KU305": "MK05"},
        M2,
    )
    out = apply_disclosure_control(pd.concat([jan, feb], ignore_index=True))
    s = out[out["status"] == "suppressed"]
    assert set(zip(s["month"].dt.month, s["area_code"])) == {(1, "KU105"), (1, "KU205"), (2, "KU105"), (2, "KU305")}


# ---------------------------------------------------------------- NULL (not available) cells


def test_not_available_cells_are_neither_suppressed_nor_candidates():
    # total only: MK18 = KU105 + KU205 + KU305; KU205 is NULL (not available), so it is
    # not counted as suppressed and never chosen: KU105 3 (primary) -> KU305 8.
    parents = {a: "MK18" for a in ("KU105", "KU205", "KU305")}
    rows = [
        ("KU105", "total", "unemployed", 3),
        ("KU205", "total", "unemployed", None, "not_available"),
        ("KU305", "total", "unemployed", 8),
        ("MK18", "total", "unemployed", 14),
    ]
    out = apply_disclosure_control(frame(rows, parents))
    assert suppressed(out) == {("KU105", "total", "unemployed"), ("KU305", "total", "unemployed")}
    assert out.loc[out["area_code"] == "KU205", "status"].item() == "not_available"


def test_an_all_null_indicator_stays_not_available():
    parents = {"KU105": "MK18"}
    rows = sexes("KU105", "unemployed", 3, 9) + [
        (a, s, "structural_inflow", None, "not_available")
        for a in ("KU105", "MK18")
        for s in ("male", "female", "total")
    ]
    out = apply_disclosure_control(frame(rows, parents))
    inflow = out[out["indicator"] == "structural_inflow"]
    assert (inflow["status"] == "not_available").all()


# ---------------------------------------------------------------- shape and contract


def test_output_keeps_rows_columns_and_order_and_drops_internal_indicator():
    df = frame(sexes("KU001", "unemployed", 3, 8) + block("KU001", "total", 9, 100.0))
    df["extra"] = "kept"
    before = df.copy()
    out = apply_disclosure_control(df)
    pd.testing.assert_frame_equal(df, before)  # input not modified
    assert list(out.columns) == list(df.columns)
    expected = df[df["indicator"] != INTERNAL_PERSONS_ANY_ROW]
    assert out.index.tolist() == expected.index.tolist()
    assert out[["area_code", "sex", "indicator"]].equals(expected[["area_code", "sex", "indicator"]])


def test_unknown_indicator_and_duplicates_are_refused():
    with pytest.raises(ValueError, match="unknown indicator"):
        apply_disclosure_control(frame([("KU001", "total", "mystery_count", 3)]))
    with pytest.raises(ValueError, match="duplicate"):
        apply_disclosure_control(frame([("KU001", "total", "unemployed", 3), ("KU001", "total", "unemployed", 3)]))
    with pytest.raises(ValueError, match="unknown sex"):
        apply_disclosure_control(frame([("KU001", "other", "unemployed", 3)]))


def test_integer_value_column_is_accepted_and_published_as_float():
    df = frame([("KU001", "total", "unemployed", 3), ("KU002", "total", "unemployed", 7)])
    df["value"] = df["value"].astype("int64")
    out = apply_disclosure_control(df)
    assert out["value"].dtype == np.float64
    assert out["value"].isna().tolist() == [True, False]


def test_empty_input():
    out = apply_disclosure_control(frame([]))
    assert out.empty and list(out.columns) == COLUMNS


# ================================================================= property tests
#
# A random generator of small, internally consistent tables (sums add up: municipality
# -> region -> SSS for source-1 counts and euros, total = male + female everywhere,
# structural = its four groups; Kela recipients and persons are distinct persons: a
# region has between the largest and the sum of its municipalities), and a plain
# cell-by-cell reference implementation of the rule (docs/disclosure-control.md).

_ORDER = {name: i for i, name in enumerate(CANONICAL_INDICATORS)}
_SEX_RANK = {"female": 0, "male": 1, "total": 2}
_BLOCK = "__euro_block__"


def _unit(indicator):
    return _BLOCK if indicator in EURO_BLOCK else indicator


def relation_instances(df):
    """[(month, whole unit key, [part unit keys])], unit key = (month, area, sex, unit)."""
    units = set()
    parent = {}
    for m, a, p, s, ind in zip(df["month"], df["area_code"], df["parent_area_code"], df["sex"], df["indicator"]):
        if ind == INTERNAL_PERSONS_ANY_ROW:
            continue
        units.add((m, a, s, _unit(ind)))
        parent[(m, a)] = p
    rel: dict = {}
    for key in units:
        m, a, s, u = key
        if s != "total":
            rel.setdefault(("sex", (m, a, "total", u)), []).append(key)
        p = parent[(m, a)]
        if isinstance(p, str) and (u in SOURCE1_COUNTS or u == _BLOCK):
            rel.setdefault(("hier", (m, p, s, u)), []).append(key)
        if u in STRUCTURAL_GROUPS:
            rel.setdefault(("str", (m, a, s, "structural_unemployed")), []).append(key)
    return [(whole, parts) for (_, whole), parts in rel.items() if whole in units]


def reference_control(df, threshold=5):
    value, persons = {}, {}
    for m, a, s, ind, v in zip(df["month"], df["area_code"], df["sex"], df["indicator"], df["value"]):
        if ind == INTERNAL_PERSONS_ANY_ROW:
            persons[(m, a, s)] = v
        elif ind in COUNT_INDICATORS:
            value[(m, a, s, ind)] = v
        elif ind == "tmt_paid_eur":
            value[(m, a, s, _BLOCK)] = v
    sup = set()
    for key, v in value.items():
        if key[3] == _BLOCK:
            p = persons[key[:3]]
            if 1 <= p <= threshold - 1:
                sup.add(key)
        elif 1 <= v <= threshold - 1:
            sup.add(key)

    def ok(key):
        v = value.get(key, math.nan)
        return not math.isnan(v)

    def tie(key):
        m, a, s, u = key
        return (abs(value[key]), _SEX_RANK[s], a, _ORDER["tmt_paid_eur" if u == _BLOCK else u])

    instances = relation_instances(df)
    while True:
        start = set(sup)
        chosen = set()
        for whole, parts in instances:
            members = [whole] + parts
            if sum(k in start for k in members) != 1:
                continue
            cands = [k for k in parts if k not in start and ok(k) and value[k] != 0]
            if cands:
                chosen.add(min(cands, key=tie))
            elif whole not in start and ok(whole):
                chosen.add(whole)
        if chosen <= start:
            break
        sup = start | chosen
    out = df[df["indicator"] != INTERNAL_PERSONS_ANY_ROW].copy()
    mask = [
        (m, a, s, _unit(ind)) in sup
        for m, a, s, ind in zip(out["month"], out["area_code"], out["sex"], out["indicator"])
    ]
    out.loc[mask, "value"] = np.nan
    out.loc[mask, "status"] = "suppressed"
    return out


def random_cells(rng: np.random.Generator) -> pd.DataFrame:
    # dense small figures (much suppression) or sparser, larger ones (long cascades)
    small = [
        np.array([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20]),
        np.array([0, 0, 1, 3, 5, 8, 13, 30, 60, 150, 400]),
    ][rng.integers(0, 2)]
    months = [M1, M2][: rng.integers(1, 3)]
    with_country = bool(rng.integers(0, 2))
    regions = sorted(rng.choice([f"MK{i:02d}" for i in range(1, 20)], size=rng.integers(1, 4), replace=False))
    munis = [f"KU{c:03d}" for c in rng.choice(np.arange(1, 999), size=3 * len(regions), replace=False)]
    home = {k: regions[i % len(regions)] for i, k in enumerate(munis)}
    records = []
    for mi, m in enumerate(months):
        # a municipality may change region between months (like Vaala)
        region_of = dict(home)
        if mi == 1 and len(regions) > 1 and rng.random() < 0.5:
            region_of[munis[0]] = regions[-1]
        members = {r: [k for k in munis if region_of[k] == r] for r in regions}
        members = {r: ks for r, ks in members.items() if ks}
        inflow_na = rng.random() < 0.3
        no_rule = rng.random() < 0.3
        base = {}  # (area, sex) -> {indicator: value}; municipalities, male/female
        for k in munis:
            for s in ("male", "female"):
                d = {ind: float(rng.choice(small)) for ind in SOURCE1_COUNTS if ind != "structural_unemployed"}
                d["structural_unemployed"] = sum(d[g] for g in STRUCTURAL_GROUPS)
                for ind in KELA_COUNTS:
                    d[ind] = float(rng.choice(small))
                p = float(rng.choice(small))
                d[INTERNAL_PERSONS_ANY_ROW] = p
                # persons > 0 means some money moved (possibly a negative correction)
                d["tmt_paid_eur"] = 0.0 if p == 0 else float(rng.choice([-1, 1, 1, 1]) * rng.integers(1, 5000) * p)
                base[(k, s)] = d
        distinct = KELA_COUNTS + (INTERNAL_PERSONS_ANY_ROW,)

        def aggregate(parts, distinct=distinct):
            agg = {}
            for ind in parts[0]:
                vals = [p[ind] for p in parts]
                if ind in distinct:  # distinct persons: between the max and the sum
                    agg[ind] = float(rng.integers(max(vals), sum(vals) + 1))
                else:
                    agg[ind] = float(sum(vals))
            return agg

        for r, ks in members.items():
            for s in ("male", "female"):
                base[(r, s)] = aggregate([base[(k, s)] for k in ks])
        if with_country:
            for s in ("male", "female"):
                base[("SSS", s)] = aggregate([base[(r, s)] for r in members])
        areas = list(munis) + list(members) + (["SSS"] if with_country else [])
        for a in areas:
            base[(a, "total")] = {ind: base[(a, "male")][ind] + base[(a, "female")][ind] for ind in base[(a, "male")]}
        for a in areas:
            parent = region_of[a] if a.startswith("KU") else ("SSS" if with_country and a != "SSS" else None)
            for s in ("male", "female", "total"):
                d = base[(a, s)]
                for ind in COUNT_INDICATORS + (INTERNAL_PERSONS_ANY_ROW, "tmt_paid_eur"):
                    if ind == "structural_inflow" and inflow_na:
                        records.append((m, a, parent, s, ind, np.nan, "not_available"))
                    else:
                        records.append((m, a, parent, s, ind, d[ind], "ok"))
                share = round(d["tmt_paid_eur"] * 0.3, 2)
                records.append((m, a, parent, s, "tmt_municipal_share_eur", share, "ok"))
                if no_rule:
                    records.append((m, a, parent, s, "tmt_municipal_share_expected_eur", np.nan, "no_rule"))
                    records.append((m, a, parent, s, "tmt_municipal_share_diff_eur", np.nan, "no_rule"))
                else:
                    records.append((m, a, parent, s, "tmt_municipal_share_expected_eur", share, "ok"))
                    records.append((m, a, parent, s, "tmt_municipal_share_diff_eur", 0.0, "ok"))
    df = pd.DataFrame.from_records(
        records, columns=["month", "area_code", "parent_area_code", "sex", "indicator", "value", "status"]
    )
    df["month"] = pd.to_datetime(df["month"])
    df["area_level"] = df["area_code"].map(_level)
    return df[COLUMNS]


RANDOM_SEEDS = range(300)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_property_random_tables_are_protected_and_match_reference(seed):
    rng = np.random.default_rng(seed)
    threshold = int(rng.choice([3, 5, 5, 5, 10]))
    df = random_cells(rng)
    out = apply_disclosure_control(df, threshold=threshold)

    # 1. matches the plain reference implementation of the rule, cell by cell
    ref = reference_control(df, threshold)
    pd.testing.assert_frame_equal(out, ref)

    # 2. no published person count in 1..threshold-1
    pub = out[(out["status"] != "suppressed") & out["indicator"].isin(COUNT_INDICATORS)]
    assert not ((pub["value"] >= 1) & (pub["value"] <= threshold - 1)).any()

    # 3. euro blocks go together, and follow the persons rule
    euro = out[out["indicator"].isin(EURO_BLOCK)]
    per_block = euro.assign(sup=euro["status"] == "suppressed").groupby(["month", "area_code", "sex"])["sup"]
    assert (per_block.nunique() == 1).all()
    persons = df[df["indicator"] == INTERNAL_PERSONS_ANY_ROW].set_index(["month", "area_code", "sex"])["value"]
    small_persons = persons[(persons >= 1) & (persons <= threshold - 1)].index
    assert per_block.all().loc[small_persons].all()

    # 4. no relation instance has exactly one suppressed cell whose value could be
    #    recovered (a NULL, not-available member makes an instance unrecoverable)
    status = {}
    for m, a, s, ind, st in zip(out["month"], out["area_code"], out["sex"], out["indicator"], out["status"]):
        key = (m, a, s, _unit(ind))
        if ind in COUNT_INDICATORS or ind == "tmt_paid_eur":
            status[key] = st
    for whole, parts in relation_instances(df):
        members = [whole] + parts
        if any(status[k] in ("not_available", "no_rule") for k in members):
            continue
        n_sup = sum(status[k] == "suppressed" for k in members)
        assert n_sup != 1, (whole, parts, [status[k] for k in members])

    # 5. published cells are unchanged
    kept = out["status"] != "suppressed"
    src = df.loc[out.index]
    pd.testing.assert_series_equal(out.loc[kept, "value"], src.loc[kept, "value"])
    assert (out.loc[kept, "status"] == src.loc[kept, "status"]).all()


@pytest.mark.parametrize("seed", range(20))
def test_property_result_does_not_depend_on_row_order(seed):
    rng = np.random.default_rng(1000 + seed)
    df = random_cells(rng)
    out = apply_disclosure_control(df)
    shuffled = df.sample(frac=1.0, random_state=seed)
    out2 = apply_disclosure_control(shuffled)
    pd.testing.assert_frame_equal(out2.sort_index(), out.sort_index())
