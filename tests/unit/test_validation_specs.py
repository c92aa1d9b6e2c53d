"""Suite files, check declarations, observed texts, the HTML report and the warehouse
reader: everything of pipelines.validation that does not need Great Expectations
itself (and must not import it)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.validation import gx_runner
from pipelines.validation.gx_runner import (
    ExpectationOutcome,
    check_specs_for_suite,
    load_suite_spec,
    suite_names,
)
from pipelines.validation.report import (
    render_validation_report,
    write_validation_report,
)

REPO = Path(__file__).resolve().parents[2]

# The check names are the Dagster asset checks' names and the rows of run_checks: a
# rename is a change of contract, so they are spelled out here. These are GX's checks;
# dbt's are declared in the models' YAML (both show in tests/snapshots/asset_graph.txt).
EXPECTED_CHECKS = {
    "stg_register__jobseeker_spells": [
        ("person_id_is_pseudonym", True),
        ("spell_end_not_before_start", True),
        ("service_present_iff_in_service", True),
        ("municipality_code_three_digits", True),
    ],
    "stg_kela__tmt_payments": [
        ("person_id_is_pseudonym", True),
        ("paid_days_between_0_and_23", True),
        ("cumulative_days_not_negative", True),
        ("cumulative_days_not_below_paid_days", True),
        ("payment_month_equals_delivery_month", True),
        ("municipality_code_three_digits", True),
    ],
    "fct_person_month_status": [
        ("person_id_is_pseudonym", True),
        ("structural_groups_disjoint", True),
        ("structural_equals_any_group", True),
        ("structural_groups_match_state", True),
        ("run_start_not_after_count_date", True),
        ("unemployed_days_within_window", True),
    ],
    "fct_indicators_monthly": [
        ("value_null_iff_unavailable", True),
        ("status_consistent_with_lookback", True),
    ],
    "fct_kela_payment_shares": [
        ("days_before_period_not_negative", True),
        ("invoiced_share_matches_recomputed", False),
    ],
    "kela_counter_steps": [
        ("kela_counter_never_decreases", True),
        ("kela_counter_rises_by_paid_days", False),
    ],
    "indicators_monthly": [
        ("no_small_person_counts", True),
        ("status_in_allowed_set", True),
        ("value_null_iff_suppressed_or_unavailable", True),
        ("no_single_suppressed_cell_in_a_relation", True),
        ("no_identity_code_in_text", True),
        ("indicator_is_published", True),
    ],
}


def test_suites_are_the_expected_ones():
    assert suite_names() == sorted(EXPECTED_CHECKS)


@pytest.mark.parametrize("suite", sorted(EXPECTED_CHECKS))
def test_check_specs_match_the_suite_file(suite):
    specs = check_specs_for_suite(suite)
    assert [(name, blocking) for name, _, blocking in specs] == EXPECTED_CHECKS[suite]
    raw = json.loads((REPO / "expectations" / f"{suite}.json").read_text(encoding="utf-8"))
    for (name, description, blocking), expectation in zip(specs, raw["expectations"], strict=True):
        assert expectation["meta"]["check_name"] == name
        assert expectation["meta"]["description"] == description
        assert blocking == (expectation["meta"].get("severity", "error") == "error")
        assert description.strip() and description.isascii()  # English, plain text


def test_suites_that_may_share_an_asset_have_distinct_check_names():
    # The counter suite reads the Kela share rows: both may be attached to one asset.
    shares = {name for name, _ in EXPECTED_CHECKS["fct_kela_payment_shares"]}
    counter = {name for name, _ in EXPECTED_CHECKS["kela_counter_steps"]}
    assert not shares & counter


def write_suite(tmp_path, monkeypatch, name, expectations):
    monkeypatch.setattr(gx_runner, "EXPECTATIONS_DIR", tmp_path)
    (tmp_path / f"{name}.json").write_text(json.dumps({"name": name, "expectations": expectations}))


def expectation(**meta):
    return {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}, "meta": meta}


def test_severity_defaults_to_error(tmp_path, monkeypatch):
    write_suite(tmp_path, monkeypatch, "s", [expectation(check_name="a_present", description="a is there")])
    assert check_specs_for_suite("s") == [("a_present", "a is there", True)]


@pytest.mark.parametrize(
    "expectations,problem",
    [
        ([expectation(description="x")], "check_name"),
        ([expectation(check_name="Not Snake", description="x")], "check_name"),
        ([expectation(check_name="a", description="x"), expectation(check_name="a", description="y")], "twice"),
        ([expectation(check_name="a", description="x", severity="fatal")], "severity"),
        ([expectation(check_name="a")], "description"),
        ([], "no expectations"),
    ],
)
def test_malformed_suites_are_refused_by_name(tmp_path, monkeypatch, expectations, problem):
    write_suite(tmp_path, monkeypatch, "s", expectations)
    with pytest.raises(ValueError, match=problem):
        load_suite_spec("s")


def test_suite_file_name_must_match_and_exist(tmp_path, monkeypatch):
    write_suite(tmp_path, monkeypatch, "s", [expectation(check_name="a", description="x")])
    (tmp_path / "t.json").write_text((tmp_path / "s.json").read_text())
    with pytest.raises(ValueError, match="differs"):
        load_suite_spec("t")
    with pytest.raises(FileNotFoundError):
        load_suite_spec("missing")
    with pytest.raises(ValueError):
        load_suite_spec("../etc/passwd")


def test_loading_checks_does_not_import_great_expectations():
    code = textwrap.dedent(
        """
        import sys
        import dagster as dg
        import pipelines.validation
        import pipelines.validation.checks as checks
        from pipelines.validation.gx_runner import check_specs_for_suite, suite_names
        for suite in suite_names():
            check_specs_for_suite(suite)
            checks.gx_asset_checks(dg.AssetKey([suite]), suite, lambda: None)
        assert "great_expectations" not in sys.modules, "great_expectations was imported"
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


# --- observed texts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,shown",
    [
        ("TYOTON", "'TYOTON'"),
        (24, "24"),
        (float("nan"), "NULL"),
        (None, "NULL"),
        (pd.Timestamp("2024-02-01"), "2024-02-01"),
        (date(2024, 2, 1), "2024-02-01"),
        ("Kajaani 131052-308T", "[redacted]"),
        ("a" * 64, "[redacted]"),
        ("x" * 40, "'" + "x" * 23 + "…'"),
        ((4, 5), "(4, 5)"),
        (True, None),
    ],
)
def test_example_values_are_short_and_redacted(value, shown):
    assert gx_runner._safe_example(value) == shown


def test_values_of_person_columns_are_never_shown():
    exp = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "person_id"}, "meta": {}}
    result = {"unexpected_count": 1, "element_count": 2, "unexpected_percent": 50.0,
              "partial_unexpected_counts": [{"value": "abc", "count": 1}]}
    text = gx_runner._observed_text(exp, result, False, pd.DataFrame())
    assert text == "1 of 2 rows unexpected (50.00 %)"
    for column in ("person_id", "henkilotunnus", "birth_date", "spell_id"):
        assert gx_runner.is_sensitive_column(column)
    for column in ("area_name", "status", "municipality_code"):
        assert not gx_runner.is_sensitive_column(column)


def test_observed_text_is_one_redacted_line():
    text = gx_runner.observed_text("could not convert\n '131052-308T' or " + "ab" * 32 + " to float")
    assert text == "could not convert '[redacted]' or [redacted] to float"


def test_observed_text_is_clipped():
    exp = {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "status"},
           "meta": {"unexpected_label": "rows " + "very " * 60 + "unexpected"}}
    result = {"unexpected_count": 3, "element_count": 10, "unexpected_percent": 30.0}
    assert len(gx_runner._observed_text(exp, result, False, pd.DataFrame())) == gx_runner.OBSERVED_MAX_CHARS


# --- report ----------------------------------------------------------------------------------


def outcome(name, success, severity="error", observed="all 3 rows as expected", description="desc"):
    return ExpectationOutcome(name, "expect_column_values_to_be_in_set", severity, success, description, observed)


def test_report_shows_each_check_and_its_result(tmp_path):
    outcomes = {
        "kela_counter_steps": [
            outcome("kela_counter_never_decreases", False, observed="1 of 6 rows where the counter fell"),
            outcome("kela_counter_rises_by_paid_days", False, severity="warn"),
        ],
        "fct_indicators_monthly": [outcome("total_equals_male_plus_female", True, description="a <b>bold</b> claim")],
    }
    path = write_validation_report(outcomes, tmp_path / "reports" / "validation.html", context="run 42")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for name in ("kela_counter_never_decreases", "kela_counter_rises_by_paid_days", "total_equals_male_plus_female"):
        assert name in page
    assert "FAIL" in page and ">warn<" in page and ">pass<" in page
    assert "Blocking checks failed" in page
    assert "a &lt;b&gt;bold&lt;/b&gt; claim" in page  # escaped, not markup
    assert "Kela subsidy-day counter" in page  # the suite's English title
    assert "run 42" in page
    assert "<link" not in page and "<script" not in page  # self-contained
    assert list((tmp_path / "reports").iterdir()) == [path]  # no temporary file left


def test_report_all_passed():
    page = render_validation_report({"fct_person_month_status": [outcome("structural_groups_disjoint", True)]})
    assert "All blocking checks passed." in page


def test_outcomes_frame_has_the_run_checks_columns():
    frame = gx_runner.outcomes_frame(
        {"kela_counter_steps": [outcome("kela_counter_rises_by_paid_days", False, severity="warn")]},
        {"kela_counter_steps": "fct_kela_payment_shares"},
    )
    assert frame.to_dict("records") == [
        {
            "asset": "fct_kela_payment_shares",
            "check_name": "kela_counter_rises_by_paid_days",
            "severity": "warn",
            "passed": False,
            "description": "desc",
            "observed": "all 3 rows as expected",
        }
    ]
    assert gx_runner.blocking_failures([outcome("a", False), outcome("b", False, "warn"), outcome("c", True)]) == [
        outcome("a", False)
    ]


# --- reading the warehouse ------------------------------------------------------------------


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "kaira.duckdb"
    connection = duckdb.connect(str(path))
    connection.execute("create schema marts")
    connection.execute(
        "create table marts.t as select * from (values (date '2024-01-01', 1), (date '2024-02-01', 2),"
        " (date '2024-03-01', 3)) v(month, n)"
    )
    connection.close()
    return path


def test_read_table_whole_and_by_month(warehouse):
    from pipelines.validation.checks import read_table

    assert read_table(warehouse, "marts.t")["n"].tolist() == [1, 2, 3]
    assert sorted(read_table(warehouse, "marts.t", "month", ["2024-02", date(2024, 3, 1)])["n"]) == [2, 3]
    assert read_table(warehouse, "marts.t", "month", []).empty


def test_read_table_is_read_only_and_refuses_odd_names(warehouse):
    from pipelines.validation.checks import read_table

    with pytest.raises(ValueError):
        read_table(warehouse, "marts.t; drop table marts.t")
    with pytest.raises(ValueError):
        read_table(warehouse, "marts.t", months=["2024-01"])
    with pytest.raises(ValueError):
        read_table(warehouse, "marts.t", "month", ["January"])
    read_table(warehouse, "marts.t")
    # the file is unchanged and openable for writing again: no connection left open
    connection = duckdb.connect(str(warehouse))
    assert connection.execute("select count(*) from marts.t").fetchone() == (3,)
    connection.close()
