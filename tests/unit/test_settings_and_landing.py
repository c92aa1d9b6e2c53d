"""Configuration from the environment, and what counts as a landed month."""

from datetime import date

import pytest

from pipelines.core.landing import landed_months
from pipelines.core.months import contiguous_ranges
from pipelines.core.settings import load_settings, parse_area_scope
from pipelines.partitions import month_dates_of_run as run_months
from pipelines.partitions import range_tags


def test_defaults_are_the_embedded_demo():
    settings = load_settings({})
    assert settings.area_scope == ("MK18",)
    assert settings.suppression_threshold == 5
    assert settings.reject_limit == 0.01
    assert settings.pseudonym_key is None
    assert settings.warehouse_path.name == "kaira.duckdb" and settings.warehouse_path.is_absolute()


def test_area_scope_accepts_lists_and_all_and_refuses_nonsense():
    assert parse_area_scope("mk18, MK17") == ("MK18", "MK17")
    assert parse_area_scope("all") is None
    with pytest.raises(ValueError):
        parse_area_scope("KU205")


def test_landed_months_need_both_registers(tmp_path):
    (tmp_path / "tyonhakijat").mkdir()
    (tmp_path / "kela").mkdir()
    for month in ("2010-01", "2010-02", "2010-04"):
        (tmp_path / "tyonhakijat" / f"tyonhakijat_{month}.csv").write_text("x")
    for month in ("2010-01", "2010-04", "2010-05"):
        (tmp_path / "kela" / f"tmt_{month}.csv").write_text("x")
    assert landed_months(tmp_path) == ["2010-01", "2010-04"]


def test_contiguous_ranges_split_at_gaps_and_years():
    assert contiguous_ranges(["2010-12", "2011-01", "2011-03"]) == [("2010-12", "2011-01"), ("2011-03", "2011-03")]


def test_run_months_from_tags():
    assert run_months({"dagster/partition": "2010-12-01"}) == [date(2010, 12, 1)]
    assert run_months(range_tags("2010-11", "2011-01")) == [date(2010, 11, 1), date(2010, 12, 1), date(2011, 1, 1)]
    assert run_months({}) is None

