"""Partition windows become dbt's window variables: the boundary month is processed once,
and a full refresh builds every month. The vars stay the same from run to run."""

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime

import pytest

from pipelines.core.settings import load_settings, variables_for_children
from pipelines.warehouse.dbt_args import dbt_build_args, dbt_vars, month_window_environment, month_windows


def test_single_month_window_ends_exclusively():
    assert month_window_environment(date(2010, 12, 1), date(2011, 1, 1)) == {
        "KAIRA_DBT_MONTH_START": "2010-12-01",
        "KAIRA_DBT_MONTH_END": "2011-01-01",
    }


def test_single_run_backfill_window_covers_the_whole_range():
    helsinki_start = datetime(2004, 9, 1, tzinfo=UTC)
    helsinki_end = datetime(2013, 12, 1, tzinfo=UTC)
    assert month_window_environment(helsinki_start, helsinki_end) == {
        "KAIRA_DBT_MONTH_START": "2004-09-01",
        "KAIRA_DBT_MONTH_END": "2013-12-01",
    }


def test_full_refresh_has_no_window_and_overrides_any_in_the_environment():
    assert month_window_environment(None, None) == {"KAIRA_DBT_MONTH_START": "", "KAIRA_DBT_MONTH_END": ""}


@pytest.mark.parametrize(
    "start, end",
    [(date(2010, 1, 1), None), (date(2010, 1, 15), date(2010, 2, 1)), (date(2010, 2, 1), date(2010, 2, 1))],
)
def test_bad_windows_are_refused(start, end):
    with pytest.raises(ValueError):
        month_window_environment(start, end)


def test_vars_carry_scope_and_municipality_set_and_no_window():
    """No window among the vars: dbt reuses its saved parse only while the vars stay the same."""
    settings = load_settings({"KAIRA_AREA_SCOPE": "all", "KAIRA_MUNICIPALITY_SET": "synthetic"})
    assert dbt_vars(settings) == {"area_scope": "all", "municipality_set": "synthetic"}


def test_build_args_exclude_unit_tests_and_pass_vars_as_json():
    args = dbt_build_args({"area_scope": "MK18"}, full_refresh=True)
    assert args[0] == "build"
    assert json.loads(args[args.index("--vars") + 1]) == {"area_scope": "MK18"}
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
    assert args[-1] == "--full-refresh"


# --- a long backfill runs dbt window by window ----------------------------------------------


def _months(first: date, count: int) -> list[date]:
    return [date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) for i in range(count)]


def test_a_backfill_that_fits_is_one_window():
    rows = {month: 240_000 for month in _months(date(2011, 7, 1), 30)}
    assert month_windows(date(2011, 7, 1), date(2014, 1, 1), rows, 8_000_000) == [(date(2011, 7, 1), date(2014, 1, 1))]


def test_windows_cover_the_range_in_order_without_gap_or_overlap_each_within_the_rows():
    months = _months(date(2004, 1, 1), 240)  # twenty years, the national size of a delivery
    rows = {month: 450_000 + 1_000 * (i % 7) for i, month in enumerate(months)}
    windows = month_windows(months[0], date(2024, 1, 1), rows, 8_000_000)
    assert windows[0][0] == months[0] and windows[-1][1] == date(2024, 1, 1)
    assert all(earlier[1] == later[0] for earlier, later in zip(windows, windows[1:], strict=False))
    for start, end in windows:
        assert sum(count for month, count in rows.items() if start <= month < end) <= 8_000_000
    assert 14 <= len(windows) <= 16  # about 17 months each, not one month each


def test_a_month_larger_than_the_limit_is_a_window_of_its_own():
    rows = {date(2020, 1, 1): 10, date(2020, 2, 1): 500, date(2020, 3, 1): 10}
    assert month_windows(date(2020, 1, 1), date(2020, 4, 1), rows, 100) == [
        (date(2020, 1, 1), date(2020, 2, 1)),
        (date(2020, 2, 1), date(2020, 3, 1)),
        (date(2020, 3, 1), date(2020, 4, 1)),
    ]


def test_months_without_deliveries_count_nothing():
    assert month_windows(date(2020, 1, 1), date(2021, 1, 1), {}, 1) == [(date(2020, 1, 1), date(2021, 1, 1))]


def test_the_window_rows_setting_is_read_and_checked():
    assert load_settings({"KAIRA_DBT_WINDOW_ROWS": "1000"}).dbt_window_rows == 1000
    assert load_settings({}).dbt_window_rows == 8_000_000
    with pytest.raises(ValueError, match="KAIRA_DBT_WINDOW_ROWS"):
        load_settings({"KAIRA_DBT_WINDOW_ROWS": "0"})


# --- the window reaches dbt through the environment dagster-dbt copies ----------------------


def test_the_window_is_in_a_childs_environment_inside_the_block_and_the_earlier_value_after(monkeypatch):
    monkeypatch.setenv("KAIRA_DBT_MONTH_START", "2001-01-01")  # left by someone's dbt by hand
    monkeypatch.delenv("KAIRA_DBT_MONTH_END", raising=False)
    script = "import os; print(os.environ.get('KAIRA_DBT_MONTH_START'), os.environ.get('KAIRA_DBT_MONTH_END', 'absent'))"
    with variables_for_children(month_window_environment(date(2010, 12, 1), date(2011, 1, 1))):
        # a child that inherits the environment, as dagster-dbt's dbt does
        seen = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        assert seen.split() == ["2010-12-01", "2011-01-01"]
    assert os.environ["KAIRA_DBT_MONTH_START"] == "2001-01-01"
    assert "KAIRA_DBT_MONTH_END" not in os.environ


def test_a_second_block_waits_for_the_first_so_windows_never_mix():
    entered = threading.Event()
    seen = []

    def second():
        with variables_for_children({"KAIRA_DBT_MONTH_START": "2011-01-01"}):
            seen.append(os.environ["KAIRA_DBT_MONTH_START"])
            entered.set()

    with variables_for_children({"KAIRA_DBT_MONTH_START": "2010-01-01"}):
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.2)
        assert os.environ["KAIRA_DBT_MONTH_START"] == "2010-01-01"
    thread.join(5)
    assert seen == ["2011-01-01"]


def test_a_secret_is_never_given_to_children():
    with pytest.raises(ValueError, match="KAIRA_PSEUDONYM_KEY is a secret"):
        with variables_for_children({"KAIRA_PSEUDONYM_KEY": "x" * 40}):
            pass
