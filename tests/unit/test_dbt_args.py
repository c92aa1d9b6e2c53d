"""Partition windows become dbt vars: the boundary month is processed once, and a full
refresh builds every month."""

import json
from datetime import UTC, date, datetime

import pytest

from pipelines.core.settings import load_settings
from pipelines.warehouse.dbt_args import dbt_build_args, dbt_vars, month_window_vars


def test_single_month_window_ends_exclusively():
    assert month_window_vars(date(2010, 12, 1), date(2011, 1, 1)) == {
        "month_start": "2010-12-01",
        "month_end": "2011-01-01",
    }


def test_single_run_backfill_window_covers_the_whole_range():
    helsinki_start = datetime(2004, 9, 1, tzinfo=UTC)
    helsinki_end = datetime(2013, 12, 1, tzinfo=UTC)
    assert month_window_vars(helsinki_start, helsinki_end) == {"month_start": "2004-09-01", "month_end": "2013-12-01"}


def test_full_refresh_has_no_window():
    assert month_window_vars(None, None) == {"month_start": None, "month_end": None}


@pytest.mark.parametrize(
    "start, end",
    [(date(2010, 1, 1), None), (date(2010, 1, 15), date(2010, 2, 1)), (date(2010, 2, 1), date(2010, 2, 1))],
)
def test_bad_windows_are_refused(start, end):
    with pytest.raises(ValueError):
        month_window_vars(start, end)


def test_vars_carry_scope_and_municipality_set():
    settings = load_settings({"KAIRA_AREA_SCOPE": "all", "KAIRA_MUNICIPALITY_SET": "synthetic"})
    assert dbt_vars(settings, None, None) == {
        "month_start": None,
        "month_end": None,
        "area_scope": "all",
        "municipality_set": "synthetic",
    }


def test_build_args_exclude_unit_tests_and_pass_vars_as_json():
    args = dbt_build_args({"month_start": "2010-01-01"}, full_refresh=True)
    assert args[0] == "build"
    assert json.loads(args[args.index("--vars") + 1]) == {"month_start": "2010-01-01"}
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
    assert args[-1] == "--full-refresh"
