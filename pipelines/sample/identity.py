"""Synthetic Finnish personal identity codes (henkilötunnus) `DDMMYYCZZZQ`.

Only individual numbers 900-999 are used: the range reserved for temporary codes, so no
generated code can be a real person's. That leaves 50 odd (male) and 50 even (female)
numbers per birth date, so codes are allocated per (birth date, sex), and a person whose
date is full is moved to the nearest date with a free number (a few days at most in
practice; an error if the whole range is exhausted).
"""

from __future__ import annotations

import numpy as np

from pipelines.core.identity_codes import CHECK_CHARACTERS

FIRST_INDIVIDUAL_NUMBER = 900
SLOTS_PER_SEX = 50
# Spread the numbers within a date (a bijection on 0..49), so that not every date starts at 900.
_SLOT_STRIDE = 17
# Nearest free date: try these offsets (days) in turn.
_MAX_SHIFT_DAYS = 3650


def allocate_codes(birth_day: np.ndarray, male: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give each person a unique (birth date, individual number); returns both arrays.

    Persons are served in array order, so the caller's order decides who keeps their date.
    """
    n = birth_day.size
    final_day = birth_day.astype(np.int64).copy()
    slot = np.full(n, -1, dtype=np.int64)
    male = male.astype(bool)
    lowest = int(birth_day.min(initial=0)) - _MAX_SHIFT_DAYS
    span = int(birth_day.max(initial=0)) - lowest + _MAX_SHIFT_DAYS + 1
    used = np.zeros((span, 2), dtype=np.int64)  # numbers taken per date and sex
    pending = np.arange(n)
    for shift in _shift_sequence():
        if pending.size == 0:
            break
        candidate_day = final_day[pending] + shift
        key = (candidate_day - lowest) * 2 + male[pending]
        # Rank within the key, in the caller's order (stable sort keeps it).
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        group_start = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
        rank_sorted = np.arange(sorted_key.size) - np.repeat(group_start, np.diff(np.r_[group_start, sorted_key.size]))
        rank = np.empty_like(rank_sorted)
        rank[order] = rank_sorted
        day_index = candidate_day - lowest
        sex_index = male[pending].astype(np.int64)
        taken = used[day_index, sex_index] + rank
        fits = taken < SLOTS_PER_SEX
        chosen = pending[fits]
        slot[chosen] = taken[fits]
        final_day[chosen] = candidate_day[fits]
        np.add.at(used, (day_index[fits], sex_index[fits]), 1)
        pending = pending[~fits]
    if pending.size:
        raise ValueError(
            f"temporary identity codes exhausted for {pending.size} persons: "
            "the range is too long for this scale; generate a shorter range"
        )
    spread = (slot * _SLOT_STRIDE + final_day) % SLOTS_PER_SEX
    individual = FIRST_INDIVIDUAL_NUMBER + 2 * spread + male
    return final_day, individual


def _shift_sequence():
    yield 0
    for distance in range(1, _MAX_SHIFT_DAYS + 1):
        yield distance
        yield -distance


def format_codes(birth_day: np.ndarray, individual: np.ndarray) -> np.ndarray:
    """Identity code strings (numpy StringDType) for birth days and individual numbers."""
    dates = birth_day.astype("datetime64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    number = day * 10_000_000 + month * 100_000 + (year % 100) * 1_000 + individual
    check = np.array(list(CHECK_CHARACTERS), dtype=np.dtypes.StringDType())[number % 31]
    century = np.where(year >= 2000, "A", np.where(year >= 1900, "-", "+")).astype(np.dtypes.StringDType())
    digits = np.strings.zfill(number.astype(np.dtypes.StringDType()), 9)
    return np.strings.add(
        np.strings.add(np.strings.add(np.strings.slice(digits, 0, 6), century), np.strings.slice(digits, 6, 9)),
        check,
    )
