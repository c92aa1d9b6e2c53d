"""Finnish personal identity codes (henkilötunnus): validate, derive, pseudonymise.

A code is `DDMMYYCZZZQ`: birth date, century sign, individual number `ZZZ` and a check
character `Q`. The check character is `CHECK_CHARACTERS[int(DDMMYYZZZ) % 31]`.

The code itself never leaves this module in any form but its keyed HMAC-SHA-256
pseudonym. Reason strings name the problem, never the code, so they may go to the
rejects table, logs and error messages.

Two implementations of the same rules: `validate`/`parse` for one code (readable,
the reference) and `parse_series` for a pandas Series (numpy, ~1 s per million codes).
The unit tests hold them equal.

The one detector of codes in free text and in values (`contains_code_like`, `redact`,
`code_like_mask`, `find_code_spans`): any case; with the century sign, without it
(DDMMYYZZZQ) or with a space for it; never glued to a letter or digit (ids, UUIDs and
hashes are left alone). A valid century sign is enough; the other forms count only when
the date is real and the check character matches (see `_counts_as_code`).
"""

from __future__ import annotations

import hashlib
import re
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

    The memory lives as long as the object: the ingest asset makes one per run and drops
    it with the run, so the codes stay inside ingest's own process and step. It forgets
    everything when it reaches `max_codes`, which bounds its memory (about 200 bytes a code).
    """

    def __init__(self, key: str | bytes, max_codes: int = 3_000_000):
        self._mac = _Hmac(key)
        self._known: dict[str, str] = {}
        self._max_codes = max_codes

    def hexdigests(self, codes: list[str]) -> list[str]:
        known = self._known
        new = [code for code in codes if code not in known]
        if new:
            if len(known) + len(new) > self._max_codes:
                known.clear()
                new = codes
            known.update(zip(new, self._mac.hexdigests(new)))
        return [known[code] for code in codes]


def pseudonymise_series(codes: pd.Series, key: str | bytes | Pseudonymiser) -> pd.Series:
    """Pseudonyms of a Series of *valid* codes (NA stays NA); hashes each distinct code once
    (and, with a Pseudonymiser, once for all the Series it is given)."""
    mac = key if isinstance(key, Pseudonymiser) else _Hmac(key)
    normalised = pa.array(codes.str.strip().str.upper(), type=pa.large_string(), from_pandas=True)
    encoded = pc.dictionary_encode(normalised)  # NA stays a null index
    digests = pa.array(mac.hexdigests(encoded.dictionary.to_pylist()), type=pa.large_string())
    hashed = pc.take(digests, encoded.indices)
    return pd.Series(pd.array(hashed, dtype="str"), index=codes.index)


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


def parse_series(codes: pd.Series) -> pd.DataFrame:
    """Validate a Series of codes at once.

    Returns a frame on the same index with `code` (normalised, NA unless valid),
    `birth_date` (datetime64[s], NaT unless valid), `sex` (NA unless valid) and `reason`
    (NA when valid), with the same rules and reasons as `parse`.
    """
    n = len(codes)
    text = pa.array(codes, type=pa.large_string(), from_pandas=True).fill_null("")
    text = pc.utf8_upper(pc.utf8_trim_whitespace(text))
    chars = np.asarray(pc.utf8_length(text), dtype=np.int64)
    nbytes = np.asarray(pc.binary_length(text), dtype=np.int64)
    status = np.full(n, _OK, dtype=np.int8)
    status[chars == 0] = _MISSING
    status[(chars != 0) & (chars != 11)] = _LENGTH

    # Eleven characters but not eleven bytes: non-ASCII, rare; the scalar rules decide.
    for i in np.flatnonzero((chars == 11) & (nbytes != 11)):
        status[i] = int(np.flatnonzero(_REASONS == validate(text[int(i)].as_py()))[0])

    candidates = np.flatnonzero((chars == 11) & (nbytes == 11))
    birth = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    male = np.zeros(n, dtype=bool)
    if len(candidates):
        fixed = pc.take(text, pa.array(candidates)).cast(pa.large_binary()).cast(pa.binary(11))
        raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
        m = raw[fixed.offset * 11 : (fixed.offset + len(fixed)) * 11].reshape(-1, 11)
        d = m.astype(np.int32) - ord("0")
        malformed = ((d[:, 0:6] < 0) | (d[:, 0:6] > 9)).any(axis=1) | ((d[:, 7:10] < 0) | (d[:, 7:10] > 9)).any(axis=1)
        century = _CENTURY_TABLE[m[:, 6]]
        bad_century = ~malformed & (century < 0)
        day = d[:, 0] * 10 + d[:, 1]
        month = d[:, 2] * 10 + d[:, 3]
        year = century + d[:, 4] * 10 + d[:, 5]
        month_ok = (month >= 1) & (month <= 12)
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        dim = _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
        bad_date = ~malformed & ~bad_century & ~(month_ok & (day >= 1) & (day <= dim))
        individual = d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
        checked = ~malformed & ~bad_century & ~bad_date
        bad_individual = checked & (individual < 2)
        number = day.astype(np.int64) * 10_000_000 + month * 100_000 + (year % 100) * 1_000 + individual
        expected = _CHECK_TABLE[np.where(checked, number, 0) % 31]
        bad_check = checked & ~bad_individual & (m[:, 10] != expected)
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
        days = _days_since_epoch(year[ok].astype(np.int64), month[ok].astype(np.int64), day[ok].astype(np.int64))
        birth[good] = (days * 86_400).astype("datetime64[s]")
        male[good] = individual[ok] % 2 == 1

    valid = status == _OK
    valid_mask = pa.array(valid)
    out = pd.DataFrame(index=codes.index)
    out["code"] = pd.array(pc.if_else(valid_mask, text, pa.scalar(None, pa.large_string())), dtype="str")
    out["birth_date"] = birth
    out["sex"] = pd.array(
        pc.if_else(valid_mask, pa.array(np.where(male, SEX_MALE, SEX_FEMALE), type=pa.large_string()), None), dtype="str"
    )
    out["reason"] = pd.array(pa.array(_REASONS[status], type=pa.large_string()), dtype="str")
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
    text = pa.array(values, type=pa.large_string(), from_pandas=True).fill_null("")
    shaped = np.asarray(pc.match_substring_regex(text, _CANDIDATE_RE2), dtype=bool)
    result = np.zeros(len(values), dtype=bool)
    positions = np.flatnonzero(shaped)
    if len(positions):
        encoded = pc.dictionary_encode(pc.take(text, pa.array(positions)))
        found = np.array([contains_code_like(v) for v in encoded.dictionary.to_pylist()], dtype=bool)
        result[positions] = found[np.asarray(encoded.indices, dtype=np.int64)]
    return result
