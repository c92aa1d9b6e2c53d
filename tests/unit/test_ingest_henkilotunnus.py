"""Identity codes: validation (check character, century signs, real dates), derived
birth date and sex, keyed pseudonyms, and reasons that never contain the code."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from pipelines.core import identity_codes as hetu

# Synthetic codes only: individual numbers 900-999.
MALE_1970 = hetu.make_identity_code(date(1970, 1, 1), 901)  # 010170-901K
FEMALE_1985 = hetu.make_identity_code(date(1985, 6, 15), 902)


def test_check_character_follows_the_remainder_of_ddmmyyzzz_divided_by_31():
    # 010170901 % 31 = 18 -> 'K' (index 18 of 0123456789ABCDEFHJKLMNPRSTUVWXY)
    assert 10170901 % 31 == 18
    assert hetu.check_character("010170901") == "K"
    assert MALE_1970 == "010170-901K"
    # Digi- ja väestötietovirasto's published example
    assert hetu.validate("131052-308T") is None


@pytest.mark.parametrize(
    ("sign", "year"),
    [("+", 1899), ("-", 1999), ("Y", 1999), ("X", 1999), ("W", 1999), ("V", 1999), ("U", 1999)]
    + [(s, 2009) for s in "ABCDEF"],
)
def test_every_century_sign_gives_its_century(sign, year):
    birth = date(year, 7, 4)
    code = hetu.make_identity_code(birth, 950, sign)
    assert code[6] == sign
    facts = hetu.parse(code)
    assert facts.birth_date == birth


def test_same_digits_with_another_century_sign_is_another_birth_date():
    code_1900s = hetu.make_identity_code(date(1999, 7, 4), 950, "-")
    # The check character covers only DDMMYYZZZ, so the sign alone moves the century.
    as_2000s = code_1900s[:6] + "A" + code_1900s[7:]
    as_1800s = code_1900s[:6] + "+" + code_1900s[7:]
    assert hetu.parse(as_2000s).birth_date == date(2099, 7, 4)
    assert hetu.parse(as_1800s).birth_date == date(1899, 7, 4)


def test_sex_is_male_for_odd_and_female_for_even_individual_numbers():
    assert hetu.parse(MALE_1970).sex == "male"
    assert hetu.parse(FEMALE_1985).sex == "female"
    assert hetu.parse(hetu.make_identity_code(date(1990, 1, 1), 999)).sex == "male"
    assert hetu.parse(hetu.make_identity_code(date(1990, 1, 1), 900)).sex == "female"


def test_leap_days_are_real_dates_only_in_leap_years():
    assert hetu.parse(hetu.make_identity_code(date(2000, 2, 29), 910)).birth_date == date(2000, 2, 29)
    assert hetu.parse(hetu.make_identity_code(date(1992, 2, 29), 910, "Y")).birth_date == date(1992, 2, 29)
    # 29.2.1900 does not exist (1900 is not a leap year), whatever the check character
    digits = "290200910"
    assert hetu.validate(f"290200-910{hetu.check_character(digits)}") == hetu.REASON_DATE


def _with_check(ddmmyy: str, sign: str, zzz: str) -> str:
    return f"{ddmmyy}{sign}{zzz}{hetu.check_character(ddmmyy + zzz)}"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (None, hetu.REASON_MISSING),
        ("", hetu.REASON_MISSING),
        ("   ", hetu.REASON_MISSING),
        ("010170-901", hetu.REASON_LENGTH),
        ("010170-901KK", hetu.REASON_LENGTH),
        ("0101709901K", hetu.REASON_CENTURY),  # no sign: '9' is not a century sign
        ("010170G901K", hetu.REASON_CENTURY),
        ("01O170-901K", hetu.REASON_FORMAT),  # letter O for zero
        ("010170-9O1K", hetu.REASON_FORMAT),
        ("010170-901L", hetu.REASON_CHECK),
        (_with_check("320170", "-", "901"), hetu.REASON_DATE),
        (_with_check("311170", "-", "901"), hetu.REASON_DATE),  # 31 November
        (_with_check("011370", "-", "901"), hetu.REASON_DATE),
        (_with_check("000170", "-", "901"), hetu.REASON_DATE),
        (_with_check("010170", "-", "001"), hetu.REASON_INDIVIDUAL),
        (_with_check("010170", "-", "000"), hetu.REASON_INDIVIDUAL),
        ("01017０-901K", hetu.REASON_FORMAT),  # a full-width digit is not an ASCII digit
    ],
)
def test_invalid_codes_are_refused_with_a_reason(code, reason):
    assert hetu.validate(code) == reason
    with pytest.raises(hetu.InvalidIdentityCode, match="identity code"):
        hetu.parse(code)
    if code and code.strip():
        assert code.strip() not in reason


def test_whitespace_and_lower_case_are_normalised_not_refused():
    assert hetu.validate("  010170-901k ") is None
    assert hetu.pseudonymise(" 010170-901k", "key") == hetu.pseudonymise("010170-901K", "key")


def test_pseudonym_is_hmac_sha256_of_the_code_hex():
    expected = hmac.new(b"secret", MALE_1970.encode(), hashlib.sha256).hexdigest()
    assert hetu.pseudonymise(MALE_1970, "secret") == expected
    long_key = "k" * 100  # longer than the SHA-256 block: hashed first, as RFC 2104 says
    assert hetu.pseudonymise(MALE_1970, long_key) == hmac.new(long_key.encode(), MALE_1970.encode(), hashlib.sha256).hexdigest()


def test_pseudonyms_are_stable_and_depend_on_the_key():
    assert hetu.pseudonymise(MALE_1970, "a") == hetu.pseudonymise(MALE_1970, "a")
    assert hetu.pseudonymise(MALE_1970, "a") != hetu.pseudonymise(MALE_1970, "b")
    assert hetu.pseudonymise(MALE_1970, "a") != hetu.pseudonymise(FEMALE_1985, "a")
    assert MALE_1970 not in hetu.pseudonymise(MALE_1970, "a")


def test_empty_key_is_refused():
    with pytest.raises(ValueError, match="empty"):
        hetu.pseudonymise(MALE_1970, "")


def test_pseudonymise_series_matches_the_scalar_and_keeps_missing_values_missing():
    codes = pd.Series([MALE_1970, FEMALE_1985, None, MALE_1970.lower()], dtype="str")
    hashed = hetu.pseudonymise_series(codes, "key")
    assert hashed.iloc[0] == hetu.pseudonymise(MALE_1970, "key")
    assert hashed.iloc[1] == hetu.pseudonymise(FEMALE_1985, "key")
    assert pd.isna(hashed.iloc[2])
    assert hashed.iloc[3] == hashed.iloc[0]


def test_a_run_s_pseudonymiser_gives_the_same_pseudonyms_and_hashes_each_code_once(monkeypatch):
    pseudonymiser = hetu.Pseudonymiser("key", max_codes=3)
    hashed: list[str] = []
    original = hetu._Hmac.hexdigests
    monkeypatch.setattr(hetu._Hmac, "hexdigests", lambda self, codes: hashed.extend(codes) or original(self, codes))
    first = pd.Series([MALE_1970, None, FEMALE_1985], dtype="str")
    second = pd.Series([FEMALE_1985, MALE_1970, MALE_1970], dtype="str")
    assert hetu.pseudonymise_series(first, pseudonymiser).equals(hetu.pseudonymise_series(first, "key"))
    hashed.clear()
    assert hetu.pseudonymise_series(second, pseudonymiser).equals(hetu.pseudonymise_series(second, "key"))
    assert hashed == [FEMALE_1985, MALE_1970], "only the plain key's call hashed; the run's remembered both"
    # Full, it forgets and starts again rather than grow: the pseudonyms stay the same.
    third = pd.Series(["010101-9010", "020202-9026", MALE_1970], dtype="str")
    assert hetu.pseudonymise_series(third, pseudonymiser).equals(hetu.pseudonymise_series(third, "key"))


def _fuzz_codes(n: int, seed: int = 7) -> list[str | None]:
    """Valid codes with one character mutated, and random strings: every rule is hit."""
    rng = random.Random(seed)
    alphabet = "0123456789-+ABCDEFGHJKLMNPRSTUVWXYZa ä"
    codes: list[str | None] = [None, "", " "]
    for _ in range(n):
        birth = date(1850, 1, 1) + timedelta(days=rng.randrange(365 * 170))
        code = hetu.make_identity_code(birth, rng.randrange(1000))
        position = rng.randrange(14)
        if position < 11:
            code = code[:position] + rng.choice(alphabet) + code[position + 1 :]
        codes.append(code)
        codes.append("".join(rng.choice(alphabet) for _ in range(rng.choice([10, 11, 11, 12]))))
    return codes


def test_vectorised_validation_agrees_with_the_scalar_rules():
    codes = _fuzz_codes(5000)
    parsed = hetu.parse_series(pd.Series(codes, dtype="str"))
    valid = 0
    for code, row in zip(codes, parsed.itertuples(index=False)):
        reason = hetu.validate(code)
        assert (None if pd.isna(row.reason) else row.reason) == reason, code
        if reason is None:
            valid += 1
            facts = hetu.parse(code)
            assert row.birth_date.date() == facts.birth_date
            assert row.sex == facts.sex
            assert row.code == hetu.normalise(code)
        else:
            assert pd.isna(row.code) and pd.isna(row.sex) and pd.isna(row.birth_date)
    assert valid > 500  # the fuzz keeps enough valid codes to mean something


def test_redact_hides_anything_shaped_like_a_code():
    text = f"header: {MALE_1970};jakso_id and 010170-901X (invalid, still hidden)"
    redacted = hetu.redact(text)
    assert MALE_1970 not in redacted and "010170-901X" not in redacted
    assert hetu.contains_code_like(text) and not hetu.contains_code_like(redacted)


def test_make_identity_code_refuses_a_sign_of_another_century():
    with pytest.raises(ValueError):
        hetu.make_identity_code(date(1999, 1, 1), 950, "A")


# --- the Arrow path ingest uses ---------------------------------------------------------


def test_parse_codes_gives_each_code_its_own_number_and_none_to_what_is_no_code():
    codes = _fuzz_codes(3000, seed=11)
    parsed = hetu.parse_codes(pa.array(codes, type=pa.large_string()))
    normalised = parsed.normalised.to_pylist()
    numbered = parsed.numbers >= 0
    assert numbered[parsed.valid].all()  # every valid code has a number
    by_number: dict[int, str] = {}
    for code, number in zip(normalised, parsed.numbers):
        if number >= 0:
            assert by_number.setdefault(int(number), code) == code  # one number, one code
        else:  # not eleven ASCII characters with digits in DDMMYY and ZZZ
            assert not (len(code) == 11 and code.isascii() and (code[:6] + code[7:10]).isdigit())
    assert len(set(by_number.values())) == len(by_number) > 1000


def test_pseudonyms_of_an_array_are_the_hmac_with_or_without_a_run_s_pseudonymiser(monkeypatch):
    codes = [MALE_1970, None, FEMALE_1985, MALE_1970, "not a code", "", "010170 901K"]
    expected = [None if c is None else hmac.new(b"key", c.encode(), hashlib.sha256).hexdigest() for c in codes]
    array = pa.array(codes, type=pa.large_string())
    assert hetu.pseudonyms(array, "key").to_pylist() == expected
    pseudonymiser = hetu.Pseudonymiser("key")
    hashed: list[str] = []
    original = hetu._Hmac.hexdigests
    monkeypatch.setattr(hetu._Hmac, "hexdigests", lambda self, texts: hashed.extend(texts) or original(self, texts))
    assert hetu.pseudonyms(array, pseudonymiser).to_pylist() == expected
    assert sorted(hashed) == sorted({c for c in codes if c is not None}), "each distinct value hashed once"
    hashed.clear()
    again = pa.array([FEMALE_1985, "not a code", MALE_1970, "020202-9026"], type=pa.large_string())
    pseudonyms = hetu.pseudonyms(again, pseudonymiser).to_pylist()
    # The run remembers the codes (by number), not other text: that is hashed again.
    assert sorted(hashed) == ["020202-9026", "not a code"]
    assert pseudonyms == hetu.pseudonyms(again, "key").to_pylist()


def test_a_run_s_pseudonymiser_stays_right_across_many_batches_and_when_it_forgets():
    rng = random.Random(5)
    pool = [hetu.make_identity_code(date(1950, 1, 1) + timedelta(days=rng.randrange(20000)), rng.randrange(900, 1000))
            for _ in range(400)]
    pseudonymiser = hetu.Pseudonymiser("key", max_codes=300)
    for _ in range(12):
        batch = pa.array(rng.sample(pool, rng.randrange(1, 120)), type=pa.large_string())
        assert hetu.pseudonyms(batch, pseudonymiser).equals(hetu.pseudonyms(batch, "key"))
