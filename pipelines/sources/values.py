"""Typed values out of landing-file text: dates, months, decimals, integers, codes.

Every parser takes a Series of trimmed strings ('' = empty) and returns the parsed
values plus a boolean mask of the non-empty values that did not parse, so the caller
decides what an empty value means. Registers repeat values a lot (dates, municipality
codes, amounts), so each distinct string is parsed once and the result is spread back
with Arrow and numpy. The scalar parsers below (`parse_date_text`, `_month_or_nat`,
`normalise_decimal_text`, `_integer_or_minus_one`) are the rules; the distinct values in
the plain form nearly every register writes (ASCII `YYYY-MM-DD`, `1234.50`, `23`) are
parsed by vectorised twins of them, and every other distinct value by the rule itself.
The unit tests hold the twins equal to the rules.
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


def _text(values: pd.Series) -> pa.Array:
    """The Series as an Arrow string array, '' for NA (the reader's columns: no copy)."""
    array = pa.array(values, type=pa.large_string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], type=pa.large_string())
    return array.fill_null("") if array.null_count else array


def _distinct(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """(position of each row's value in the distinct values, the distinct values)."""
    encoded = pc.dictionary_encode(_text(values))
    return np.asarray(encoded.indices, dtype=np.int64), encoded.dictionary


def _plain(distinct: pa.Array, pattern: str) -> np.ndarray:
    """Which distinct values match an (ASCII) RE2 pattern: those the vectorised twin parses."""
    return np.asarray(pc.match_substring_regex(distinct, pattern), dtype=bool)


def map_distinct(values: pd.Series, parse: Callable[[str], T], dtype=object) -> np.ndarray:
    """`parse` applied to each distinct value, spread back to every row."""
    positions, distinct = _distinct(values)
    uniques = distinct.to_pylist()
    parsed = np.array([parse(u) for u in uniques], dtype=dtype) if uniques else np.array([], dtype=dtype)
    return parsed[positions]


def _is_empty(values: pd.Series) -> np.ndarray:
    return np.asarray(pc.equal(_text(values), ""), dtype=bool)


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
    positions, distinct = _distinct(values)
    parsed = np.full(len(distinct), np.datetime64("NaT"), dtype="datetime64[s]")
    plain = _plain(distinct, _PLAIN_ISO_DATE)
    parsed[plain] = iso_dates(distinct.filter(pa.array(plain)))
    for i in np.flatnonzero(~plain):
        parsed[i] = _date_or_nat(distinct[int(i)].as_py())
    parsed = parsed[positions]
    return pd.Series(parsed, index=values.index), np.isnat(parsed) & ~_is_empty(values)


# The ISO dates `iso_dates` parses: four, two and two ASCII digits.
_PLAIN_ISO_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def iso_dates(texts: pa.Array) -> np.ndarray:
    """`parse_date_text` of texts matching _PLAIN_ISO_DATE, vectorised: datetime64[s],
    NaT where the date is not real (2023-02-30, month 13, year 0)."""
    def part(start: int, stop: int) -> np.ndarray:
        return np.asarray(pc.cast(pc.utf8_slice_codeunits(texts, start, stop), pa.int64()), dtype=np.int64)

    year, month, day = part(0, 4), part(5, 7), part(8, 10)
    ok = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
    first = ((np.where(ok, year, 1970) - 1970) * 12 + np.where(ok, month, 1) - 1).astype("datetime64[M]")
    length = (first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")
    ok &= day <= length.astype(np.int64)
    result = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[s]")
    result[ok] = first[ok].astype("datetime64[D]") + (day[ok] - 1)
    return result


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
    return pd.Series(parsed, index=values.index), np.isnat(parsed) & ~_is_empty(values)


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


# Amounts `normalise_decimal_text` leaves as they are: an optional '-', at most 16 digits,
# optionally a point and one or two decimals (how registers write amounts).
_NORMAL_DECIMAL = "^-?[0-9]{1,16}([.][0-9]{1,2})?$"


def parse_decimals(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(Series of normalised decimal strings, '.' as separator, NA for empty/invalid;
    mask of non-empty invalid). Strings, not floats: cast to DECIMAL exactly later."""
    positions, distinct = _distinct(values)
    normal = _plain(distinct, _NORMAL_DECIMAL)
    if not normal.all():
        texts = distinct.to_pylist()
        distinct = pa.array(
            [text if plain else normalise_decimal_text(text) for text, plain in zip(texts, normal)], type=pa.large_string()
        )
    parsed = distinct.take(pa.array(positions))
    invalid = np.asarray(parsed.is_null(), dtype=bool)
    return pd.Series(parsed, index=values.index, dtype="str"), invalid & ~_is_empty(values)


def _integer_or_minus_one(text: str) -> int:
    match = _INTEGER.fullmatch(text)
    return int(match.group(1)) if match else -1


def parse_integers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Non-negative whole numbers (optional '+', up to 9 digits). Returns (Int64 Series,
    NA for empty/invalid; mask of non-empty invalid). '12.0' and '-1' are invalid."""
    positions, distinct = _distinct(values)
    parsed = np.full(len(distinct), -1, dtype=np.int64)
    plain = _plain(distinct, "^[0-9]{1,9}$")  # what _INTEGER takes, in ASCII and without '+'
    parsed[plain] = np.asarray(pc.cast(distinct.filter(pa.array(plain)), pa.int64()), dtype=np.int64)
    for i in np.flatnonzero(~plain):
        parsed[i] = _integer_or_minus_one(distinct[int(i)].as_py())
    parsed = parsed[positions]
    bad = parsed < 0
    result = pd.Series(parsed, index=values.index, dtype="Int64").mask(bad)
    return result, bad & ~_is_empty(values)


def normalise_municipality_codes(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Three-digit municipality codes, restoring leading zeros that Excel dropped.

    Returns (codes, mask of non-empty invalid, mask of padded values). A municipality
    code is always three digits, so '5' and '05' can only mean '005': they are padded
    (and counted, for the load log) rather than rejected. Anything else that is not one
    to three digits is invalid.
    """

    positions, distinct = _distinct(values)
    uniques = distinct.to_pylist()
    fixed = pa.array([u.zfill(3) if _MUNICIPALITY.fullmatch(u) else None for u in uniques], type=pa.large_string())
    was_short = np.array([bool(_MUNICIPALITY.fullmatch(u)) and len(u) < 3 for u in uniques] or [False])
    codes = fixed.take(pa.array(positions))
    invalid = np.asarray(codes.is_null(), dtype=bool)
    return pd.Series(codes, index=values.index, dtype="str"), invalid & ~_is_empty(values), was_short[positions]


def normalise_codes(values: pa.Array) -> pa.Array:
    """Code values (tila, palvelu, etuus) compared in upper case ('' when empty)."""
    return pc.utf8_upper(values.fill_null(""))
