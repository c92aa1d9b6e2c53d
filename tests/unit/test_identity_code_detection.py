"""The one detector and redactor of identity codes in free text and values
(pipelines.core.identity_codes): which forms count, what is left alone, and that the
scalar, the redacting and the vectorised paths agree.

Protects: a code in any case, with its century sign, without it or with a space for it,
is found wherever it stands between non-alphanumerics; run ids, UUIDs, hashes,
pseudonyms, dates, times, counts and area codes are never mangled; a ten-digit number
counts only when its date is real and its check character matches.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pytest

from pipelines.core import identity_codes as hetu

# Synthetic codes only: individual numbers 900-999.
CODE = hetu.make_identity_code(date(1985, 6, 15), 908)  # 150685-908R
CODE_2000S = hetu.make_identity_code(date(2003, 2, 1), 951)
CODE_1800S = hetu.make_identity_code(date(1899, 12, 31), 977, "+")


def forms(code: str) -> list[str]:
    """Every way a code may be written: with its sign, without it, with a space; both cases."""
    signless = code[:6] + code[7:]
    spaced = code[:6] + " " + code[7:]
    return [f(x) for x in (code, signless, spaced) for f in (str.upper, str.lower)]


def signless_code_with_digit_check(rng: random.Random) -> str:
    """A valid code whose sign-less form is ten digits (its check character a digit)."""
    while True:
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(25_000))
        code = hetu.make_identity_code(birth, rng.randrange(900, 1000))
        if code[-1].isdigit():
            return code[:6] + code[7:]


# --- what counts ----------------------------------------------------------------------


@pytest.mark.parametrize("code", [CODE, CODE_2000S, CODE_1800S])
def test_every_form_of_a_code_is_found_and_redacted(code):
    for text in forms(code):
        assert hetu.contains_code_like(text), text
        assert hetu.redact(text) == hetu.REDACTED, text
        assert hetu.find_code_spans(f"x {text} y") == [(2, 2 + len(text))]


@pytest.mark.parametrize("sign", sorted(hetu.CENTURY_BY_SIGN))
def test_every_century_sign_counts_in_either_case(sign):
    year = {1800: 1899, 1900: 1975, 2000: 2005}[hetu.CENTURY_BY_SIGN[sign]]
    code = hetu.make_identity_code(date(year, 3, 9), 933, sign)
    assert hetu.contains_code_like(code) and hetu.contains_code_like(code.lower())
    assert hetu.CODE_LIKE.search(code) and hetu.CODE_LIKE.search(code.lower())


@pytest.mark.parametrize(
    "text",
    [
        f"header: kunta;{CODE.lower()};jakso_id",
        f"the header has 8 column(s): {CODE[:6]} {CODE[7:].lower()}, 2009-04, 205",
        f'"{CODE}"',
        f"({CODE})",
        f"line 7: {CODE}.",
        f"henkilo_{CODE}",  # an underscore is no letter or digit
        f"{CODE[:6]}{CODE[7:]};x",
        f"{CODE[:6]}\u00a0{CODE[7:]}",  # a no-break space for the sign
        f"ä {CODE} ö",
        "rivi 7: 010203-123A",  # valid sign, wrong check character: a mistyped code is personal
        "311299A9876",
        "150505+0011",
        "010170-901X",
        "999999-9999",  # valid sign, no real date: still counts (a mistyped code)
    ],
)
def test_codes_in_context_are_found(text):
    assert hetu.contains_code_like(text)
    assert not hetu.contains_code_like(hetu.redact(text))


def test_only_the_code_is_replaced():
    text = f"run a6080679-4341-4a1b-9c1e-0123456789ab: rivi 7: {CODE.lower()} ja {CODE_2000S[:6]} {CODE_2000S[7:]}, KU205."
    assert hetu.redact(text) == "run a6080679-4341-4a1b-9c1e-0123456789ab: rivi 7: [redacted] ja [redacted], KU205."


def test_sign_less_and_space_forms_need_a_real_date_and_the_right_check_character():
    digits = CODE[:6] + CODE[7:10]
    wrong = next(c for c in hetu.CHECK_CHARACTERS if c != CODE[-1])
    assert not hetu.contains_code_like(digits + wrong)
    assert not hetu.contains_code_like(CODE[:6] + " " + CODE[7:10] + wrong)
    assert hetu.contains_code_like(CODE[:6] + "-" + CODE[7:10] + wrong)  # the sign settles it
    # 31 June is no date, whatever the check character
    for check in hetu.CHECK_CHARACTERS:
        assert not hetu.contains_code_like("310685908" + check)
    # 29 February: real in years divisible by four (2000 was a leap year), not otherwise
    leap = "290200951"
    assert hetu.contains_code_like(leap + hetu.check_character(leap))
    not_leap = "290201951"
    assert not hetu.contains_code_like(not_leap + hetu.check_character(not_leap))


def test_a_letter_that_is_no_century_sign_counts_only_with_a_real_date_and_check():
    assert hetu.contains_code_like(CODE[:6] + "G" + CODE[7:])
    assert not hetu.contains_code_like(CODE[:6] + "G" + CODE[7:10] + ("0" if CODE[-1] != "0" else "1"))
    assert not hetu.contains_code_like("310685G908R")


# --- what is left alone ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a6080679-4341-4a1b-9c1e-1234567890ab",
        "A6080679-4341-4A1B-9C1E-1234567890AB",
        "2024-03-01", "1.3.2024", "2024-03", "3.2024", "20240301", "2024-03-01T12:00:00Z", "20240301T120000Z",
        "12:00:00", "12.30", "2024-03-01 12:00:00,123",
        "1234567", "1 234 567", "12345678901", "123456789012", "1234567890",  # 34th month: no date
        "KU205", "MK18", "kuntanumero 205", "J00001234", "J-150685",
        f"x{CODE}", f"{CODE}1", f"1{CODE}", f"{CODE[:6]}{CODE[7:]}5", f"a{CODE[:6]}{CODE[7:]}",
        "01019-0912X", "0101901-912X", f"{CODE[:6]}--{CODE[7:]}",
        hashlib.sha256(b"kaira").hexdigest(),
        hashlib.sha256(b"kaira").hexdigest().upper(),
        hetu.pseudonymise(CODE, "a key of the tests"),
        "run 3f2a1c9e-0b7d-4e6f-8a5b-2c4d6e8f0a1b finished in 12.3 s, 1709294400.123456",
    ],
)
def test_ids_hashes_dates_times_counts_and_area_codes_are_left_alone(text):
    assert not hetu.contains_code_like(text), text
    assert hetu.redact(text) == text
    assert not hetu.CODE_LIKE.search(text)


def test_random_uuids_are_never_redacted():
    rng = random.Random(10)
    for _ in range(5000):
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        for text in (run_id, run_id.upper(), run_id.replace("-", ""), f"run {run_id} failed"):
            assert hetu.redact(text) == text, text
    for _ in range(200):
        assert not hetu.contains_code_like(str(uuid.uuid4()))


def test_random_sha256_hex_and_pseudonyms_are_never_redacted():
    rng = random.Random(11)
    for _ in range(3000):
        digest = hashlib.sha256(rng.randbytes(16)).hexdigest()
        assert hetu.redact(digest) == digest
        assert hetu.redact(f"sha256 {digest[:12]}…") == f"sha256 {digest[:12]}…"
    codes = pd.Series([hetu.make_identity_code(date(1950, 1, 1) + timedelta(days=i * 7), 900 + i % 100) for i in range(2000)])
    for pseudonym in hetu.pseudonymise_series(codes, "a key of the tests"):
        assert not hetu.contains_code_like(pseudonym)


def test_few_random_ten_digit_numbers_count_and_each_that_does_is_a_real_date_with_its_check():
    rng = random.Random(12)
    numbers = [f"{rng.randrange(10**10):010d}" for _ in range(50_000)]
    found = [n for n in numbers if hetu.contains_code_like(n)]
    # about 3.7 % have a real DDMM, one in 31 of those the right check digit (10 of 31 are digits)
    assert len(found) < 0.003 * len(numbers)
    for number in found:
        assert hetu.check_character(number[:9]) == number[9]
        date(2000 + int(number[4:6]), int(number[2:4]), int(number[0:2]))  # real (raises if not)


def test_valid_codes_written_without_their_sign_are_always_found():
    rng = random.Random(13)
    for _ in range(2000):
        assert hetu.contains_code_like(signless_code_with_digit_check(rng))


# --- the paths agree -----------------------------------------------------------------------


def _fuzz_texts(n: int) -> list[str | None]:
    rng = random.Random(14)
    texts: list[str | None] = [None, "", "x"]
    for _ in range(n):
        birth = date(1900, 1, 1) + timedelta(days=rng.randrange(40_000))
        code = hetu.make_identity_code(birth, rng.randrange(900, 1000))
        form = rng.choice(forms(code))
        if rng.random() < 0.3:  # a wrong check character
            form = form[:-1] + rng.choice(hetu.CHECK_CHARACTERS)
        if rng.random() < 0.2:  # a wrong date
            form = f"{rng.randrange(100):02d}" + form[2:]
        prefix = rng.choice(["", " ", "a", "1", "_", ";", "x-"])
        suffix = rng.choice(["", " ", "b", "2", ".", ";"])
        texts.append(prefix + form + suffix)
        texts.append(f"{rng.randrange(10**10):010d}")
        texts.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    return texts


def test_the_vectorised_mask_agrees_with_the_scalar_detector():
    texts = _fuzz_texts(3000)
    mask = hetu.code_like_mask(pd.Series(texts, dtype="str"))
    expected = [t is not None and hetu.contains_code_like(t) for t in texts]
    assert mask.tolist() == expected
    assert 1000 < sum(expected) < len(texts) - 1000  # both kinds are well represented
    assert hetu.code_like_mask(pd.Series([], dtype="str")).tolist() == []
    assert hetu.code_like_mask(pd.Series(["a", "b"], dtype=object)).tolist() == [False, False]


def test_the_masks_of_several_columns_agree_with_one_mask_per_column():
    texts = _fuzz_texts(3000)
    rng = random.Random(8)
    columns = [rng.sample(texts, 2000) for _ in range(4)] + [["x"] * 2000]
    masks = hetu.code_like_masks([pa.array(column, type=pa.large_string()) for column in columns])
    for column, mask in zip(columns, masks):
        assert mask.tolist() == hetu.code_like_mask(pd.Series(column, dtype="str")).tolist()
    assert masks[0].any() and not masks[0].all() and not masks[-1].any()
    # A code is a value's, never one made of two neighbouring values.
    halves = hetu.code_like_masks([pa.array([CODE[:6]]), pa.array([CODE[6:]])])
    assert [m.tolist() for m in halves] == [[False], [False]]
    assert hetu.code_like_masks([]) == []


def test_redaction_is_complete_and_idempotent():
    for text in _fuzz_texts(1000):
        if text is None:
            continue
        once = hetu.redact(text)
        assert not hetu.contains_code_like(once)
        assert hetu.redact(once) == once
        assert hetu.contains_code_like(text) == (once != text)


def test_the_plain_regex_is_the_signed_part_of_the_detector():
    for text in _fuzz_texts(1000):
        if text is not None and hetu.CODE_LIKE.search(text):
            assert hetu.contains_code_like(text), text
    assert hetu.CODE_LIKE.search(CODE.lower()) and not hetu.CODE_LIKE.search(CODE[:6] + CODE[7:])
