"""The published tables' shape and the target follow-up's arithmetic and statuses."""

from datetime import date

import pandas as pd
import pytest

from pipelines.publish.tables import (
    INDICATORS_COLUMNS,
    TARGET_COLUMNS,
    indicators_monthly,
    target_followup,
)


def cell(month, area, sex, indicator, value, status="ok"):
    return {"month": pd.Timestamp(month), "area_code": area, "sex": sex, "indicator": indicator,
            "value": value, "status": status}


TARGETS = pd.DataFrame(
    [
        {"target_id": "halve", "description_fi": "puolitus", "indicator": "structural_unemployed",
         "area_code": "*", "sex": "total", "baseline_month": date(2008, 2, 1),
         "target_month": date(2010, 12, 1), "target_ratio": 0.5},
        {"target_id": "watch", "description_fi": "seuranta", "indicator": "structural_inflow",
         "area_code": "MK18", "sex": "*", "baseline_month": date(2008, 2, 1),
         "target_month": None, "target_ratio": None},
    ]
)


def test_progress_is_the_share_of_the_way_from_baseline_to_target():
    published = pd.DataFrame(
        [
            cell("2008-01-01", "MK18", "total", "structural_unemployed", 4500.0),
            cell("2008-02-01", "MK18", "total", "structural_unemployed", 4000.0),
            cell("2010-12-01", "MK18", "total", "structural_unemployed", 3000.0),
        ]
    )
    result = target_followup(published, TARGETS)
    halve = result[result["target_id"] == "halve"]
    # rows from the baseline month on, not before
    assert list(halve["month"]) == [pd.Timestamp("2008-02-01"), pd.Timestamp("2010-12-01")]
    last = halve.iloc[-1]
    assert last["baseline_value"] == 4000.0 and last["target_value"] == 2000.0
    assert last["progress_pct"] == pytest.approx(50.0)  # 100 * (4000 - 3000) / (4000 - 2000)
    assert last["status"] == "ok"
    assert list(result.columns) == list(TARGET_COLUMNS)


def test_a_suppressed_baseline_hides_baseline_target_and_progress():
    published = pd.DataFrame(
        [
            cell("2008-02-01", "KU697", "total", "structural_unemployed", None, "suppressed"),
            cell("2008-03-01", "KU697", "total", "structural_unemployed", 12.0),
        ]
    )
    result = target_followup(published, TARGETS)
    assert list(result["status"]) == ["suppressed", "no_baseline"]
    assert result["baseline_value"].isna().all() and result["target_value"].isna().all()
    assert result["progress_pct"].isna().all()
    assert result.iloc[1]["value"] == 12.0


def test_a_suppressed_value_keeps_the_baseline_but_has_no_progress():
    published = pd.DataFrame(
        [
            cell("2008-02-01", "MK18", "total", "structural_unemployed", 40.0),
            cell("2008-03-01", "MK18", "total", "structural_unemployed", None, "suppressed"),
        ]
    )
    row = target_followup(published, TARGETS).iloc[-1]
    assert row["status"] == "suppressed" and row["baseline_value"] == 40.0 and pd.isna(row["progress_pct"])


def test_a_monitoring_target_has_no_target_and_expands_to_every_sex():
    published = pd.DataFrame(
        [cell("2008-02-01", "MK18", sex, "structural_inflow", 10.0 + i) for i, sex in enumerate(["total", "male", "female"])]
    )
    result = target_followup(published, TARGETS)
    watch = result[result["target_id"] == "watch"]
    assert sorted(watch["sex"]) == ["female", "male", "total"]
    assert set(watch["status"]) == {"no_target"}
    assert watch["target_value"].isna().all() and watch["progress_pct"].isna().all()


def test_baseline_equal_to_target_gives_no_progress():
    targets = TARGETS.iloc[:1].assign(target_ratio=1.0)
    published = pd.DataFrame([cell("2008-02-01", "MK18", "total", "structural_unemployed", 100.0)])
    assert pd.isna(target_followup(published, targets).iloc[0]["progress_pct"])


def test_indicators_monthly_has_the_contract_columns_in_a_stable_order():
    controlled = pd.DataFrame(
        [
            {**cell("2010-12-01", area, sex, "unemployed", 1.0), "count_date": pd.Timestamp("2010-12-31"),
             "area_level": level, "area_name": area, "lookback_complete": True, "indicator_order": 1,
             "parent_area_code": None}
            for area, level in (("KU205", "municipality"), ("MK18", "region"))
            for sex in ("female", "total", "male")
        ]
    )
    result = indicators_monthly(controlled)
    assert list(result.columns) == list(INDICATORS_COLUMNS)
    assert list(zip(result["area_code"], result["sex"]))[:3] == [("MK18", "total"), ("MK18", "male"), ("MK18", "female")]


def test_publication_records_the_synthetic_flag_and_the_months():
    from pipelines.publish.tables import (
        PUBLICATION_COLUMNS,
        SYNTHETIC_NOTE_FI,
        publication,
    )

    published = pd.DataFrame([cell("2010-11-01", "MK18", "total", "unemployed", 1.0),
                              cell("2010-12-01", "MK18", "total", "unemployed", 1.0)])
    row = publication("run-1", published, "MK18", 5, synthetic=True, municipality_set="real").iloc[0]
    assert list(row.index) == list(PUBLICATION_COLUMNS)
    assert (row["area_scope"], row["municipality_set"], row["suppression_threshold"]) == ("MK18", "real", 5)
    assert row["synthetic"] and row["data_note_fi"] == SYNTHETIC_NOTE_FI
    assert (row["first_month"], row["last_month"]) == (pd.Timestamp("2010-11-01"), pd.Timestamp("2010-12-01"))
    assert pd.isna(publication("run-2", published, "all", 5, synthetic=False,
                               municipality_set="synthetic").iloc[0]["data_note_fi"])


def test_run_checks_columns_are_the_rows_the_validation_record_gives():
    from pipelines.publish.tables import RUN_CHECKS_COLUMNS
    from pipelines.validation.run_record import RUN_CHECK_FIELDS

    assert tuple(RUN_CHECKS_COLUMNS) == RUN_CHECK_FIELDS
