"""The committed seeds equal what their generating modules compute."""

from datetime import date
from pathlib import Path

from pipelines.core import holidays
from pipelines.sample import seeds as synthetic_seeds

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def test_holiday_seed_matches_the_computed_holidays():
    lines = (SEEDS / "finnish_public_holidays.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1:] == [f"{day},{name}" for day, name in holidays.seed_rows()]


def test_easter_dates_are_right_for_known_years():
    # Good Friday 29.3.2024 makes 28.3.2024 the count date of March 2024 (docs/definitions.md).
    assert holidays.easter_sunday(2024) == date(2024, 3, 31)
    assert holidays.easter_sunday(2010) == date(2010, 4, 4)
    assert holidays.easter_sunday(2008) == date(2008, 3, 23)
    assert holidays.easter_sunday(2038) == date(2038, 4, 25)


def test_midsummer_and_all_saints_fall_on_saturday():
    days = dict((name, day) for day, name in holidays.finnish_holidays(2010))
    assert days["Juhannuspäivä"] == date(2010, 6, 26)
    assert days["Juhannusaatto"] == date(2010, 6, 25)
    assert days["Pyhäinpäivä"] == date(2010, 11, 6)


def test_synthetic_seeds_match_the_generator_geography():
    assert (SEEDS / "synthetic_municipalities.csv").read_text(encoding="utf-8") == synthetic_seeds.municipalities_seed_text()
    assert (SEEDS / "synthetic_regions.csv").read_text(encoding="utf-8") == synthetic_seeds.regions_seed_text()


def test_real_municipality_seed_moves_vaala_to_mk17_in_2016():
    rows = (SEEDS / "municipalities.csv").read_text(encoding="utf-8").splitlines()
    vaala = [row.split(",") for row in rows if row.startswith("785,")]
    assert [(r[3], r[4], r[5]) for r in vaala] == [("MK18", "1900-01-01", "2015-12-31"), ("MK17", "2016-01-01", "9999-12-31")]
