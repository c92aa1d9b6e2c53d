"""Typed values out of landing-file text: dates, months, decimals, integers, codes.

Every parser takes a Series of trimmed strings ('' = empty) and returns the parsed
values plus a boolean mask of the non-empty values that did not parse, so the caller
decides what an empty value means. Registers repeat values a lot (dates, municipality
codes, amounts), so each distinct string is parsed once in Python and the result is
spread back with numpy: a million rows take well under a second per column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_FINNISH_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_FINNISH_MONTH = re.compile(r"(\d{1,2})\.(\d{4})")
# Optional sign (ASCII or the Unicode minus some Finnish locales write), integer part
# either plain or grouped by spaces (Excel's Finnish thousands separator is a no-break
# space), optional fraction after '.' or ','.
_DECIMAL = re.compile(r"([+\-\u2212]?)(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?")
_INTEGER = re.compile(r"\+?(\d{1,9})")
_MUNICIPALITY = re.compile(r"\d{1,3}")


def _distinct(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(position of each row's value in the distinct values, the distinct values)."""
    encoded = pc.dictionary_encode(pa.array(values.fillna(""), type=pa.large_string()))
    return np.asarray(encoded.indices, dtype=np.int64), encoded.dictionary.to_pylist()


def map_distinct(values: pd.Series, parse: Callable[[str], T], dtype=object) -> np.ndarray:
    """`parse` applied to each distinct value, spread back to every row."""
    positions, uniques = _distinct(values)
    parsed = np.array([parse(u) for u in uniques], dtype=dtype) if uniques else np.array([], dtype=dtype)
    return parsed[positions]


def parse_date_text(text: str) -> date | None:
    """ISO `YYYY-MM-DD` or Finnish `D.M.YYYY`; None if empty or not a real date."""
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _FINNISH_DATE.fullmatch(text)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date_or_nat(text: str) -> np.datetime64:
    parsed = parse_date_text(text)
    return np.datetime64("NaT", "s") if parsed is None else np.datetime64(parsed, "s")


def parse_dates(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(datetime64[s] Series with NaT for empty/invalid, mask of non-empty invalid values)."""
    parsed = map_distinct(values, _date_or_nat, dtype="datetime64[s]")
    empty = (values.fillna("") == "").to_numpy()
    return pd.Series(parsed, index=values.index), np.isnat(parsed) & ~empty


def _month_or_nat(text: str) -> np.datetime64:
    match = _YEAR_MONTH.fullmatch(text)
    if match:
        year, month = (int(g) for g in match.groups())
    else:
        match = _FINNISH_MONTH.fullmatch(text)
        if match:
            month, year = (int(g) for g in match.groups())
        else:
            # Excel turns "2024-03" into a date; any day of the month names the month.
            parsed = parse_date_text(text)
            if parsed is None:
                return np.datetime64("NaT", "s")
            year, month = parsed.year, parsed.month
    if not 1 <= month <= 12:
        return np.datetime64("NaT", "s")
    return np.datetime64(date(year, month, 1), "s")


def parse_months(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """`YYYY-MM` (also `M.YYYY`, or a date in the month) as the month's first day."""
    parsed = map_distinct(values, _month_or_nat, dtype="datetime64[s]")
    empty = (values.fillna("") == "").to_numpy()
    return pd.Series(parsed, index=values.index), np.isnat(parsed) & ~empty


def normalise_decimal_text(text: str, max_decimals: int = 2, max_integer_digits: int = 16) -> str | None:
    """'-1 234,50' -> '-1234.50'; None if not a decimal with at most `max_decimals`
    significant decimals (trailing zeros beyond them are fine)."""
    match = _DECIMAL.fullmatch(text)
    if not match:
        return None
    sign, whole, fraction = match.groups()
    if not whole.isdigit():
        whole = re.sub(r"[ \u00a0\u202f]", "", whole)
    fraction = (fraction or "").rstrip("0") if len(fraction or "") > max_decimals else (fraction or "")
    if len(fraction) > max_decimals or len(whole.lstrip("0")) > max_integer_digits:
        return None
    sign = "-" if sign in ("-", "\u2212") else ""
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def parse_decimals(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(Series of normalised decimal strings, '.' as separator, NA for empty/invalid;
    mask of non-empty invalid). Strings, not floats: cast to DECIMAL exactly later."""
    parsed = map_distinct(values, normalise_decimal_text)
    empty = (values.fillna("") == "").to_numpy()
    missing = pd.isna(parsed)
    return pd.Series(parsed, index=values.index, dtype="str"), missing & ~empty


def _integer_or_minus_one(text: str) -> int:
    match = _INTEGER.fullmatch(text)
    return int(match.group(1)) if match else -1


def parse_integers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Non-negative whole numbers (optional '+', up to 9 digits). Returns (Int64 Series,
    NA for empty/invalid; mask of non-empty invalid). '12.0' and '-1' are invalid."""
    parsed = map_distinct(values, _integer_or_minus_one, dtype=np.int64)
    empty = (values.fillna("") == "").to_numpy()
    bad = parsed < 0
    result = pd.Series(parsed, index=values.index, dtype="Int64").mask(bad)
    return result, bad & ~empty


def normalise_municipality_codes(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Three-digit municipality codes, restoring leading zeros that Excel dropped.

    Returns (codes, mask of non-empty invalid, mask of padded values). A municipality
    code is always three digits, so '5' and '05' can only mean '005': they are padded
    (and counted, for the load log) rather than rejected. Anything else that is not one
    to three digits is invalid.
    """

    positions, uniques = _distinct(values)
    fixed = np.array([u.zfill(3) if _MUNICIPALITY.fullmatch(u) else None for u in uniques] or [None], dtype=object)
    was_short = np.array([bool(_MUNICIPALITY.fullmatch(u)) and len(u) < 3 for u in uniques] or [False])
    codes = pd.Series(fixed[positions], index=values.index, dtype="str")
    empty = (values.fillna("") == "").to_numpy()
    return codes, codes.isna().to_numpy() & ~empty, was_short[positions]


def normalise_codes(values: pd.Series) -> pd.Series:
    """Code values (tila, palvelu, etuus) compared in upper case."""
    return values.fillna("").str.upper()


def normalise_code_array(values: pa.Array) -> pa.Array:
    """`normalise_codes` for an Arrow array of the reader's text ('' when empty)."""
    return pc.utf8_upper(values.fill_null(""))
