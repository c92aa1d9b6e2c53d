"""Finnish personal identity codes (henkilötunnus): validate, derive, pseudonymise.

A code is `DDMMYYCZZZQ`: birth date, century sign, individual number `ZZZ` and a check
character `Q`. The check character is `CHECK_CHARACTERS[int(DDMMYYZZZ) % 31]`.

The code itself never leaves this module in any form but its keyed HMAC-SHA-256
pseudonym. Reason strings name the problem, never the code, so they may go to the
rejects table, logs and error messages.

Two implementations of the same rules: `validate`/`parse` for one code (readable,
the reference) and `parse_codes` for an Arrow array (numpy; `parse_series` wraps it for
a pandas Series), which ingest uses. The unit tests hold them equal. Pseudonyms of many
codes: `pseudonyms` (Arrow) and `pseudonymise_series` (pandas), each distinct code hashed
once, and with a run's `Pseudonymiser` once for the run.

The one detector of codes in free text and in values (`contains_code_like`, `redact`,
`code_like_mask`, `find_code_spans`): any case; with the century sign, without it
(DDMMYYZZZQ) or with a space for it; never glued to a letter or digit (ids, UUIDs and
hashes are left alone). A valid century sign is enough; the other forms count only when
the date is real and the check character matches (see `_counts_as_code`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"

CENTURY_BY_SIGN = {
    "+": 1800,
    "-": 1900,
    "Y": 1900,
    "X": 1900,
    "W": 1900,
    "V": 1900,
    "U": 1900,
    "A": 2000,
    "B": 2000,
    "C": 2000,
    "D": 2000,
    "E": 2000,
    "F": 2000,
}

# The sign make_identity_code writes for each century (the classic ones).
_SIGN_FOR_CENTURY = {1800: "+", 1900: "-", 2000: "A"}

# Reasons, in the order they are tested; the first that applies is reported.
REASON_MISSING = "identity code is missing"
REASON_LENGTH = "identity code is not 11 characters long"
REASON_FORMAT = "identity code is malformed (expected DDMMYYCZZZQ with digits in DDMMYY and ZZZ)"
REASON_CENTURY = "identity code has an unknown century sign (allowed: + - A B C D E F Y X W V U)"
REASON_DATE = "identity code's date part is not a real date"
REASON_INDIVIDUAL = "identity code's individual number is 000 or 001 (never assigned)"
REASON_CHECK = "identity code's check character does not match"

SEX_MALE = "male"
SEX_FEMALE = "female"

# The shape of a possible identity code in free text, in any case: six digits (DDMMYY), a
# century sign, a space or nothing, three digits (ZZZ) and a check character, with no
# letter or digit directly before or after (so that run ids, UUIDs, hashes and other ids,
# whose digit runs are longer or glued to letters, are left alone). Whether a candidate
# counts is decided by `_counts_as_code`: the date and the check character settle the forms
# without a century sign.
_CANDIDATE = re.compile(
    r"(?<![^\W_])(?P<date>[0-9]{6})(?P<sign>[-+A-Za-z \u00a0]?)(?P<individual>[0-9]{3})(?P<check>[0-9A-Za-z])(?![^\W_])"
)
# The same shape for RE2 (pyarrow), unbounded: a cheap superset that picks the values the
# exact rules above then look at.
_CANDIDATE_RE2 = "[0-9]{6}[-+A-Za-z \u00a0]?[0-9]{3}[0-9A-Za-z]"

# A plain regex for callers that need one (pandas `str.contains`, the published-table check):
# the forms with a valid century sign, in any case, bounded like `_CANDIDATE` -- exactly the
# part of the detector that needs no date or check character. It cannot see the forms
# without a sign or with a space, which need them to tell a code from any ten-digit number:
# `contains_code_like`, `code_like_mask` and `redact` are the complete detector, and what
# guards text leaving ingest.
CODE_LIKE = re.compile(r"(?<![^\W_])[0-9]{6}[-+A-Fa-fU-Yu-y][0-9]{3}[0-9A-Za-z](?![^\W_])")
REDACTED = "[redacted]"


class InvalidIdentityCode(ValueError):
    """Raised by `parse`; the message is the reason and never contains the code."""


@dataclass(frozen=True)
class PersonFacts:
    birth_date: date
    sex: str  # 'male' | 'female'


def normalise(code: str) -> str:
    """The canonical form that is validated and pseudonymised: trimmed, upper case.

    Both registers go through this, so the same person gets the same pseudonym even if
    one system exports a lower-case check character.
    """
    return code.strip().upper()


def check_character(ddmmyyzzz: str) -> str:
    """The check character for the nine digits DDMMYYZZZ."""
    if len(ddmmyyzzz) != 9 or not ddmmyyzzz.isascii() or not ddmmyyzzz.isdigit():
        raise ValueError("check_character takes the nine digits DDMMYYZZZ")
    return CHECK_CHARACTERS[int(ddmmyyzzz) % 31]


def validate(code: str | None) -> str | None:
    """None if the code is valid, else the reason (which does not contain the code)."""
    try:
        parse(code)
    except InvalidIdentityCode as problem:
        return str(problem)
    return None


def parse(code: str | None) -> PersonFacts:
    """Birth date and sex of a valid code; raises InvalidIdentityCode otherwise."""
    if code is None or not isinstance(code, str) or not code.strip():
        raise InvalidIdentityCode(REASON_MISSING)
    code = normalise(code)
    if len(code) != 11:
        raise InvalidIdentityCode(REASON_LENGTH)
    digits = code[0:6] + code[7:10]
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidIdentityCode(REASON_FORMAT)
    century = CENTURY_BY_SIGN.get(code[6])
    if century is None:
        raise InvalidIdentityCode(REASON_CENTURY)
    day, month, year = int(code[0:2]), int(code[2:4]), century + int(code[4:6])
    try:
        birth_date = date(year, month, day)
    except ValueError:
        raise InvalidIdentityCode(REASON_DATE) from None
    individual = int(code[7:10])
    if individual < 2:
        raise InvalidIdentityCode(REASON_INDIVIDUAL)
    if code[10] != check_character(digits):
        raise InvalidIdentityCode(REASON_CHECK)
    return PersonFacts(birth_date=birth_date, sex=SEX_MALE if individual % 2 else SEX_FEMALE)


def make_identity_code(birth_date: date, individual_number: int, sign: str | None = None) -> str:
    """Build a valid code, for synthetic data and tests.

    Synthetic data must use individual numbers 900-999 (reserved for temporary codes), so
    that no generated code is a real person's; this function does not enforce it, so
    tests can build codes of any shape.
    """
    century = birth_date.year // 100 * 100
    if sign is None:
        sign = _SIGN_FOR_CENTURY.get(century)
    if sign is None or CENTURY_BY_SIGN.get(sign) != century:
        raise ValueError(f"no century sign {sign!r} for year {birth_date.year}")
    if not 0 <= individual_number <= 999:
        raise ValueError("individual number is 0..999")
    digits = f"{birth_date:%d%m}{birth_date.year % 100:02d}{individual_number:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{check_character(digits)}"


# --- pseudonyms --------------------------------------------------------------------


def _key_bytes(key: str | bytes) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not key:
        raise ValueError("the pseudonymisation key is empty")
    return key


class _Hmac:
    """HMAC-SHA-256 with the key schedule done once (RFC 2104), ~2x faster per code than
    `hmac.digest` for a million short messages; equal to `hmac.new(key, msg, sha256)`."""

    def __init__(self, key: str | bytes):
        key = _key_bytes(key)
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def hexdigests(self, codes: list[str]) -> list[str]:
        """`hexdigest` of many ASCII strings, the loop inlined (this is the hot path)."""
        inner_start, outer_start = self._inner, self._outer
        result = []
        append = result.append
        for code in codes:
            inner = inner_start.copy()
            inner.update(code.encode("ascii"))
            outer = outer_start.copy()
            outer.update(inner.digest())
            append(outer.hexdigest())
        return result


def pseudonymise(code: str, key: str | bytes) -> str:
    """HMAC-SHA-256(key, normalised code), hex. Same person, same key: same pseudonym."""
    return _Hmac(key).hexdigest(normalise(code).encode("ascii"))


class Pseudonymiser:
    """HMAC pseudonyms that remember each code they have hashed, so that a run loading many
    months of the same register hashes a person once, not once a month (the hashing is
    most of ingest's time: a delivery holds mostly persons of the month before).

    A code is remembered by its number (`_code_numbers`: the code's own characters packed
    into an integer, so one number is one code), kept sorted beside where its pseudonym is
    stored: a delivery's codes are looked up with numpy, with no Python work for the persons
    already seen. Codes that have no number (not eleven ASCII characters with digits where
    the date and the individual number are: never a valid code) are hashed every time.

    The memory lives as long as the object: the ingest asset makes one per run and drops
    it with the run, so the codes stay inside ingest's own process and step. It forgets
    everything when it reaches `max_codes`, which bounds its memory (about 80 bytes a code).
    """

    def __init__(self, key: str | bytes, max_codes: int = 3_000_000):
        self._mac = _Hmac(key)
        self._max_codes = max_codes
        self._forget()

    def _forget(self) -> None:
        self._numbers = np.empty(0, dtype=np.int64)  # sorted
        self._slots = np.empty(0, dtype=np.int64)  # where each number's pseudonym is in _digests
        self._digests = np.empty(0, dtype="S64")  # in the order hashed; grows by doubling
        self._size = 0

    def pseudonyms(self, codes: pa.Array, numbers: np.ndarray | None = None) -> pa.LargeStringArray:
        """Pseudonyms of an array of normalised codes (null stays null). `numbers` are the
        codes' `_code_numbers` when the caller has them already."""
        codes = _combined(codes)
        numbers = _code_numbers(codes) if numbers is None else numbers
        numbered = np.flatnonzero(numbers >= 0)
        others = np.flatnonzero((numbers < 0) & np.asarray(codes.is_valid(), dtype=bool))
        index = np.full(len(codes), -1, dtype=np.int64)

        # The distinct numbers by sorting (numpy's sort is far faster than hashing here).
        order = np.argsort(numbers[numbered])
        ordered = numbers[numbered][order]
        starts_group = np.ones(len(ordered), dtype=bool)
        starts_group[1:] = ordered[1:] != ordered[:-1]
        starts = np.flatnonzero(starts_group)
        distinct = ordered[starts]
        group = np.empty(len(order), dtype=np.int64)
        group[order] = np.cumsum(starts_group) - 1
        first_row = numbered[np.minimum.reduceat(order, starts)] if len(starts) else numbered
        slots = self._slots_of(distinct, lambda which: codes.take(pa.array(first_row[which])).to_pylist())
        table = self._digests[slots]
        index[numbered] = group

        if len(others):  # no number, nothing remembered: hashed once per call
            unnumbered = pc.dictionary_encode(codes.take(pa.array(others)))
            hashed = np.array(self._mac.hexdigests(unnumbered.dictionary.to_pylist()), dtype="S64")
            index[others] = len(table) + np.asarray(unnumbered.indices, dtype=np.int64)
            table = np.concatenate([table, hashed])
        return _hex_array(table).take(pa.array(index, mask=index < 0))

    def _slots_of(self, distinct: np.ndarray, codes_of: Callable[[np.ndarray], list[str]]) -> np.ndarray:
        """Where the pseudonym of each of the sorted `distinct` numbers is; hashes the new
        ones (`codes_of(positions)` gives their codes)."""
        position = np.searchsorted(self._numbers, distinct)
        known = np.zeros(len(distinct), dtype=bool)
        inside = position < len(self._numbers)
        known[inside] = self._numbers[position[inside]] == distinct[inside]
        new = np.flatnonzero(~known)
        if len(new) == 0:
            return self._slots[position]
        if len(self._numbers) + len(new) > self._max_codes:
            self._forget()
            new = np.arange(len(distinct))
        hashed = np.array(self._mac.hexdigests(codes_of(new)), dtype="S64")
        at = np.searchsorted(self._numbers, distinct[new])
        self._numbers = np.insert(self._numbers, at, distinct[new])
        self._slots = np.insert(self._slots, at, np.arange(self._size, self._size + len(new), dtype=np.int64))
        self._store(hashed)
        return self._slots[np.searchsorted(self._numbers, distinct)]

    def _store(self, hashed: np.ndarray) -> None:
        size = self._size + len(hashed)
        if size > len(self._digests):
            grown = np.empty(max(size, 2 * len(self._digests), 1024), dtype="S64")
            grown[: self._size] = self._digests[: self._size]
            self._digests = grown
        self._digests[self._size : size] = hashed
        self._size = size


def _combined(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], type=values.type)
    return values.cast(pa.large_string())


def _hex_array(digests: np.ndarray) -> pa.LargeStringArray:
    """Fixed-width hex digests (numpy S64) as an Arrow string array, without Python objects."""
    offsets = np.arange(len(digests) + 1, dtype=np.int64) * 64
    return pa.LargeStringArray.from_buffers(len(digests), pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(digests)))


def pseudonyms(
    codes: pa.Array | pa.ChunkedArray, key: str | bytes | Pseudonymiser, numbers: np.ndarray | None = None
) -> pa.LargeStringArray:
    """Pseudonyms of an Arrow array of normalised codes (null stays null); hashes each
    distinct code once (and, with a Pseudonymiser, once for all the arrays it is given).
    `numbers`: the codes' numbers (ParsedCodes.numbers), when the caller has them."""
    codes = _combined(codes)
    if isinstance(key, Pseudonymiser):
        return key.pseudonyms(codes, numbers)
    encoded = pc.dictionary_encode(codes)  # null stays a null index
    digests = pa.array(_Hmac(key).hexdigests(encoded.dictionary.to_pylist()), type=pa.large_string())
    return pc.take(digests, encoded.indices)


def pseudonymise_series(codes: pd.Series, key: str | bytes | Pseudonymiser) -> pd.Series:
    """Pseudonyms of a Series of *valid* codes (NA stays NA); hashes each distinct code once
    (and, with a Pseudonymiser, once for all the Series it is given)."""
    normalised = pa.array(codes.str.strip().str.upper(), type=pa.large_string(), from_pandas=True)
    return pd.Series(pd.array(pseudonyms(normalised, key), dtype="str"), index=codes.index)


# --- vectorised validation -----------------------------------------------------------

_CENTURY_TABLE = np.full(256, -1, dtype=np.int32)
for _sign, _century in CENTURY_BY_SIGN.items():
    _CENTURY_TABLE[ord(_sign)] = _century
_CHECK_TABLE = np.frombuffer(CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


_REASONS = np.array(
    [None, REASON_MISSING, REASON_LENGTH, REASON_FORMAT, REASON_CENTURY, REASON_DATE, REASON_INDIVIDUAL, REASON_CHECK],
    dtype=object,
)
_OK, _MISSING, _LENGTH, _FORMAT, _CENTURY, _DATE, _INDIVIDUAL, _CHECK = range(len(_REASONS))


def _days_since_epoch(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 of valid proleptic Gregorian dates, in integer arithmetic
    (H. Hinnant's days_from_civil; numpy's datetime64[M] -> [D] cast is far slower)."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


@dataclass(frozen=True)
class ParsedCodes:
    """`parse_codes`' findings, one entry per value, as arrays."""

    normalised: pa.LargeStringArray  # trimmed, upper case ('' for a missing value)
    status: np.ndarray  # int8: 0 when valid, else the reason's position in _REASONS
    birth_days: np.ndarray  # int64 days since 1970-01-01 (valid codes only, else 0)
    male: np.ndarray  # bool (valid codes only)
    numbers: np.ndarray  # int64 `_code_numbers` of the normalised codes (-1: none)

    @property
    def valid(self) -> np.ndarray:
        return self.status == _OK

    def reasons(self) -> np.ndarray:
        """The reason of each value (None when valid), as an object array."""
        return _REASONS[self.status]

    def problems(self) -> list[tuple[np.ndarray, str]]:
        """(mask of the values, reason) for each reason that applies to some value."""
        return [(self.status == status, _REASONS[status]) for status in np.unique(self.status) if status != _OK]


# The positions of the nine digits DDMMYY and ZZZ in a code.
_DIGIT_POSITIONS = [0, 1, 2, 3, 4, 5, 7, 8, 9]


@dataclass(frozen=True)
class _Fixed:
    """The values of exactly eleven bytes, one row per character position (numpy works on
    such rows far faster than on an n x 11 matrix)."""

    positions: np.ndarray  # of these values among all
    bytes: np.ndarray  # uint8, 11 x len(positions)

    @staticmethod
    def of(codes: pa.Array) -> _Fixed:
        nbytes = np.asarray(pc.binary_length(codes).fill_null(0), dtype=np.int64)
        positions = np.flatnonzero(nbytes == 11)
        chosen = codes if len(positions) == len(codes) else pc.take(codes, pa.array(positions))
        fixed = chosen.cast(pa.large_binary()).cast(pa.binary(11))
        raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
        matrix = raw[fixed.offset * 11 : (fixed.offset + len(fixed)) * 11].reshape(-1, 11)
        return _Fixed(positions, np.ascontiguousarray(matrix.T))

    def digits(self) -> tuple[np.ndarray, np.ndarray]:
        """(the nine digits as int32 rows, whether all nine are digits)."""
        digits = self.bytes[_DIGIT_POSITIONS] - np.uint8(ord("0"))  # a non-digit wraps above 9
        return digits.astype(np.int32), digits.max(axis=0, initial=0) <= 9

    def numbers(self, digits: np.ndarray, all_digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(`_code_numbers` of these values, whether each has one)."""
        nine = ((digits[0] * 10 + digits[1]) * 10 + digits[2]) * 10 + digits[3]
        nine = nine.astype(np.int64) * 100_000 + ((((digits[4] * 10 + digits[5]) * 10 + digits[6]) * 10 + digits[7]) * 10 + digits[8])
        sign, check = self.bytes[6].astype(np.int64), self.bytes[10].astype(np.int64)
        # With digits in all nine places and ASCII in the other two, all eleven bytes are
        # ASCII: a multi-byte character would cover a digit's place.
        numbered = all_digits & (sign < 128) & (check < 128)
        return (nine << 14) | (sign << 7) | check, numbered


def _code_numbers(codes: pa.Array) -> np.ndarray:
    """Each value that is eleven ASCII characters with digits in DDMMYY and ZZZ as one
    integer, the nine digits then the century sign's and the check character's bytes
    (distinct codes, distinct numbers); -1 for any other value or null."""
    numbers = np.full(len(codes), -1, dtype=np.int64)
    fixed = _Fixed.of(codes)
    packed, numbered = fixed.numbers(*fixed.digits())
    numbers[fixed.positions[numbered]] = packed[numbered]
    return numbers


def parse_codes(codes: pa.Array | pa.ChunkedArray) -> ParsedCodes:
    """Validate an Arrow array of codes at once, with the same rules and reasons as `parse`."""
    text = pc.utf8_upper(pc.utf8_trim_whitespace(_combined(codes).fill_null("")))
    n = len(text)
    chars = np.asarray(pc.utf8_length(text), dtype=np.int64)
    status = np.full(n, _OK, dtype=np.int8)
    status[chars == 0] = _MISSING
    status[(chars != 0) & (chars != 11)] = _LENGTH
    fixed = _Fixed.of(text)
    numbers = np.full(n, -1, dtype=np.int64)
    birth_days = np.zeros(n, dtype=np.int64)
    male = np.zeros(n, dtype=bool)

    # Eleven characters but not eleven bytes: non-ASCII, rare; the scalar rules decide.
    nbytes = np.asarray(pc.binary_length(text), dtype=np.int64)
    for i in np.flatnonzero((chars == 11) & (nbytes != 11)):
        status[i] = int(np.flatnonzero(_REASONS == validate(text[int(i)].as_py()))[0])
    ascii_only = chars[fixed.positions] == 11  # eleven bytes and eleven characters

    if len(fixed.positions):
        d, all_digits = fixed.digits()
        packed, numbered = fixed.numbers(d, all_digits)
        numbers[fixed.positions[numbered]] = packed[numbered]
        candidates = fixed.positions[ascii_only]
        d, all_digits, sign = d[:, ascii_only], all_digits[ascii_only], fixed.bytes[6, ascii_only]
        malformed = ~all_digits
        century = _CENTURY_TABLE[sign]
        bad_century = ~malformed & (century < 0)
        day = d[0] * 10 + d[1]
        month = d[2] * 10 + d[3]
        year = century + d[4] * 10 + d[5]
        month_ok = (month >= 1) & (month <= 12)
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        dim = _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
        bad_date = ~malformed & ~bad_century & ~(month_ok & (day >= 1) & (day <= dim))
        individual = d[6] * 100 + d[7] * 10 + d[8]
        checked = ~malformed & ~bad_century & ~bad_date
        bad_individual = checked & (individual < 2)
        number = day.astype(np.int64) * 10_000_000 + month * 100_000 + (year % 100) * 1_000 + individual
        expected = _CHECK_TABLE[np.where(checked, number, 0) % 31]
        bad_check = checked & ~bad_individual & (fixed.bytes[10, ascii_only] != expected)
        local = np.full(len(candidates), _OK, dtype=np.int8)
        for mask, why in (
            (malformed, _FORMAT),
            (bad_century, _CENTURY),
            (bad_date, _DATE),
            (bad_individual, _INDIVIDUAL),
            (bad_check, _CHECK),
        ):
            local[mask] = why
        status[candidates] = local
        ok = local == _OK
        good = candidates[ok]
        birth_days[good] = _days_since_epoch(year[ok].astype(np.int64), month[ok].astype(np.int64), day[ok].astype(np.int64))
        male[good] = individual[ok] % 2 == 1
    return ParsedCodes(normalised=text, status=status, birth_days=birth_days, male=male, numbers=numbers)


def parse_series(codes: pd.Series) -> pd.DataFrame:
    """Validate a Series of codes at once.

    Returns a frame on the same index with `code` (normalised, NA unless valid),
    `birth_date` (datetime64[s], NaT unless valid), `sex` (NA unless valid) and `reason`
    (NA when valid), with the same rules and reasons as `parse`.
    """
    parsed = parse_codes(pa.array(codes, type=pa.large_string(), from_pandas=True))
    valid = parsed.valid
    valid_mask = pa.array(valid)
    birth = np.full(len(valid), np.datetime64("NaT"), dtype="datetime64[s]")
    birth[valid] = (parsed.birth_days[valid] * 86_400).astype("datetime64[s]")
    out = pd.DataFrame(index=codes.index)
    out["code"] = pd.array(pc.if_else(valid_mask, parsed.normalised, pa.scalar(None, pa.large_string())), dtype="str")
    out["birth_date"] = birth
    out["sex"] = pd.array(
        pc.if_else(valid_mask, pa.array(np.where(parsed.male, SEX_MALE, SEX_FEMALE), type=pa.large_string()), None),
        dtype="str",
    )
    out["reason"] = pd.array(pa.array(parsed.reasons(), type=pa.large_string()), dtype="str")
    return out


# --- finding codes in free text ---------------------------------------------------------


def _real_date_in_some_century(ddmmyy: str) -> bool:
    """Is DDMMYY a real date in one of the centuries a code can have (1800, 1900, 2000)?
    29 February is real when YY is divisible by four (2000 was a leap year)."""
    day, month, yy = int(ddmmyy[0:2]), int(ddmmyy[2:4]), int(ddmmyy[4:6])
    if not 1 <= month <= 12 or day < 1:
        return False
    days = int(_DAYS_IN_MONTH[month - 1]) + (month == 2 and yy % 4 == 0)
    return day <= days


def _counts_as_code(ddmmyy: str, sign: str, individual: str, check: str) -> bool:
    """Whether a candidate is treated as an identity code.

    - With a valid century sign (+ - A-F U-Y, any case): always, whatever the date and the
      check character; a mistyped real code is still personal data.
    - Without a sign, with a space for it, or with a letter that is no century sign: only
      when DDMMYY is a real date and the check character matches DDMMYYZZZ. Otherwise every
      ten-digit number would count; with both tests about one in 850 random ones does.
    """
    if sign.upper() in CENTURY_BY_SIGN:
        return True
    return _real_date_in_some_century(ddmmyy) and check.upper() == CHECK_CHARACTERS[int(ddmmyy + individual) % 31]


def _is_code_match(match: re.Match) -> bool:
    return _counts_as_code(match["date"], match["sign"], match["individual"], match["check"])


def find_code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every identity code in `text`, by the rules of `_counts_as_code`.

    Candidates cannot overlap (each is bounded by characters that are neither letters nor
    digits, and has at most one such character inside), so a scan that skips a rejected
    candidate misses nothing.
    """
    return [match.span() for match in _CANDIDATE.finditer(text) if _is_code_match(match)]


def contains_code_like(text: str) -> bool:
    """Does `text` hold anything treated as an identity code (in any form, any case)?"""
    return any(_is_code_match(match) for match in _CANDIDATE.finditer(text))


def redact(text: str) -> str:
    """`text` with every identity code (in any form, any case) replaced by [redacted]."""
    return _CANDIDATE.sub(lambda match: REDACTED if _is_code_match(match) else match.group(), text)


def code_like_mask(values: pd.Series) -> np.ndarray:
    """Per value of a Series of strings: does it hold an identity code? (NA: False.)

    Vectorised for whole columns of a delivery: an RE2 pass picks the few values shaped
    like a candidate, and the exact rules run once per distinct such value.
    """
    return _code_like(pa.array(values, type=pa.large_string(), from_pandas=True))


def code_like_masks(columns: Sequence[pa.Array]) -> list[np.ndarray]:
    """`code_like_mask` of several columns of the same rows, with one RE2 pass over each
    row's values joined by NUL instead of one pass per column: no candidate can span a
    NUL (it is not a character a code may hold), so a joined row is shaped like a
    candidate exactly when one of its values is. The exact rules then look only at the
    columns of the rows found (usually none)."""
    text = [_combined(column).fill_null("") for column in columns]
    masks = [np.zeros(len(column), dtype=bool) for column in text]
    # A candidate is at least ten characters: a column of shorter values holds none.
    looked_at = [i for i, column in enumerate(text) if (pc.max(pc.binary_length(column)).as_py() or 0) >= _SHORTEST_CANDIDATE]
    if not looked_at:
        return masks
    joined = pc.binary_join_element_wise(*(text[i] for i in looked_at), pa.scalar("\x00", type=pa.large_string()))
    rows = np.flatnonzero(np.asarray(pc.match_substring_regex(joined, _CANDIDATE_RE2), dtype=bool))
    if len(rows):
        chosen = pa.array(rows)
        for i in looked_at:
            masks[i][rows] = _code_like(text[i].take(chosen))
    return masks


# DDMMYY, ZZZ and the check character: the shortest text `_CANDIDATE_RE2` matches.
_SHORTEST_CANDIDATE = 10


def _code_like(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    text = _combined(text).fill_null("")
    shaped = np.asarray(pc.match_substring_regex(text, _CANDIDATE_RE2), dtype=bool)
    result = np.zeros(len(text), dtype=bool)
    positions = np.flatnonzero(shaped)
    if len(positions):
        encoded = pc.dictionary_encode(pc.take(text, pa.array(positions)))
        found = np.array([contains_code_like(v) for v in encoded.dictionary.to_pylist()], dtype=bool)
        result[positions] = found[np.asarray(encoded.indices, dtype=np.int64)]
    return result
