"""Numbers, euros, percentages and months written the Finnish way (and the English option)."""

from datetime import date

import pytest

from pipelines.core.months import month_text, parse_month_argument, shift_month
from pipelines.reports.formatting import (
    MINUS,
    NBSP,
    format_count,
    format_date,
    format_eur,
    format_month,
    format_month_short,
    format_number,
    format_percent,
    format_signed_count,
)


def test_finnish_numbers_group_thousands_with_a_no_break_space_and_use_a_decimal_comma():
    assert format_number(4489) == f"4{NBSP}489"
    assert format_number(1234567.891, 2) == f"1{NBSP}234{NBSP}567,89"
    assert format_number(999) == "999"
    assert format_number(0) == "0"


def test_negative_numbers_take_the_minus_sign_and_a_rounded_zero_has_none():
    assert format_number(-1246) == f"{MINUS}1{NBSP}246"
    assert format_number(-0.04, 1) == "0,0"


def test_rounding_is_half_away_from_zero_on_the_printed_decimal():
    assert format_number(2.5) == "3"
    assert format_number(-2.5) == f"{MINUS}3"
    assert format_number(12.805, 2) == "12,81"  # 12.805 is 12.8049999… in binary
    assert format_number(2.675, 2) == "2,68"


def test_euros_follow_the_amount_and_percent_takes_a_space():
    assert format_eur(896637.37) == f"896{NBSP}637,37{NBSP}€"
    assert format_eur(0) == f"0,00{NBSP}€"
    assert format_percent(27.7567) == f"27,8{NBSP}%"
    assert format_percent(55.51347738917354) == f"55,5{NBSP}%"


def test_counts_show_a_half_only_where_there_is_one():
    assert format_count(3243.0) == f"3{NBSP}243"
    assert format_count(2244.5) == f"2{NBSP}244,5"
    assert format_signed_count(39) == "+39"
    assert format_signed_count(-745) == f"{MINUS}745"
    assert format_signed_count(0) == "0"


def test_english_option():
    assert format_number(4489, lang="en") == "4,489"
    assert format_number(-1246.25, 2, lang="en") == "-1,246.25"
    assert format_eur(896637.37, lang="en") == "€896,637.37"
    assert format_eur(-5, lang="en") == "-€5.00"
    assert format_percent(27.76, lang="en") == "27.8%"
    assert format_month(date(2010, 12, 1), "en") == "December 2010"
    assert format_date(date(2010, 12, 31), "en") == "31 December 2010"


def test_months_and_dates():
    assert format_month(date(2010, 12, 1)) == "joulukuu 2010"
    assert format_month(date(2008, 2, 1)) == "helmikuu 2008"
    assert format_month_short(date(2008, 2, 1)) == "2/2008"
    assert format_date(date(2010, 12, 31)) == "31.12.2010"
    assert month_text(date(2010, 2, 1)) == "2010-02"
    assert shift_month(date(2010, 12, 1), 1) == date(2011, 1, 1)
    assert shift_month(date(2010, 1, 1), -13) == date(2008, 12, 1)


def test_a_month_argument_is_only_yyyy_mm():
    assert parse_month_argument("2010-12") == date(2010, 12, 1)
    for bad in ("2010-13", "2010-1", "201012", "2010-12-01", "joulukuu"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month_argument(bad)


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unsupported language"):
        format_number(1, lang="sv")


def test_raw_numbers_for_data_attributes_never_use_exponents():
    from pipelines.reports.formatting import raw_number

    assert raw_number(3243.0) == "3243"
    assert raw_number(2244.5) == "2244.5"
    assert raw_number(12345678.0) == "12345678"
    assert raw_number(-745.0) == "-745"
