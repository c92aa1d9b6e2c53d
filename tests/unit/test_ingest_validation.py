"""Row validation of the two registers: what loads, what is rejected and why, and that
twins of one file in different formats load exactly the same rows."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.core.identity_codes import make_identity_code, pseudonymise
from pipelines.sources import jobseeker, kela, values
from pipelines.sources.csv_reader import parse_text, read_landing_csv
from pipelines.sources.raw_schema import DDL

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ingest"
KEY = "test-key"
MONTH = "2024-03"

P1 = make_identity_code(date(1970, 1, 1), 901)
P2 = make_identity_code(date(1985, 6, 15), 902)
P3 = make_identity_code(date(2001, 12, 31), 903, "A")

SPELL_HEADER = "henkilotunnus;jakso_id;alkupvm;loppupvm;tila;palvelu;kuntanumero"
PAYMENT_HEADER = "henkilotunnus;maksukuukausi;kuntanumero;etuus;maksetut_paivat;kertyneet_paivat;maksettu_eur;kuntaosuus_eur"


def spells(*lines: str, month: str = MONTH):
    landing = parse_text("\n".join([SPELL_HEADER, *lines]) + "\n", jobseeker.COLUMNS, name="tyonhakijat/t.csv")
    return jobseeker.validate_spells(landing, month, KEY)


def payments(*lines: str, month: str = MONTH):
    landing = parse_text("\n".join([PAYMENT_HEADER, *lines]) + "\n", kela.COLUMNS, name="kela/t.csv")
    return kela.validate_payments(landing, month, KEY)


def reasons(result) -> dict[int, str]:
    return dict(zip(result.rejects["source_line"].tolist(), result.rejects["reason"].tolist()))


def raw_columns(table: str) -> list[str]:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(DDL[table])
    return [row[0] for row in con.execute(f"describe raw.{table}").fetchall()]


# --- shape ------------------------------------------------------------------------------


def test_output_columns_are_exactly_the_raw_tables():
    assert list(spells(f"{P1};J1;2024-03-01;;TYOTON;;205").rows.columns) == raw_columns("jobseeker_spells")
    assert list(payments(f"{P1};2024-03;205;TMT;20;100;1.00;0").rows.columns) == raw_columns("kela_payments")
    assert list(spells(f"{P1};J1;bad;;TYOTON;;205").rejects.columns) == raw_columns("rejects")


def test_a_valid_spell_becomes_a_pseudonymised_row():
    result = spells(f"{P1};J1;2024-01-08;10.3.2024;tyoton;;205")
    assert result.rejects.empty
    row = result.rows.iloc[0].to_dict()
    assert row == {
        "delivery_month": date(2024, 3, 1),
        "source_file": "tyonhakijat/t.csv",
        "source_line": 2,
        "person_id": pseudonymise(P1, KEY),
        "birth_date": date(1970, 1, 1),
        "sex": "male",
        "spell_id": "J1",
        "start_date": date(2024, 1, 8),
        "end_date": date(2024, 3, 10),
        "status": "TYOTON",
        "service": row["service"],
        "municipality_code": "205",
    }
    assert pd.isna(row["service"])


# --- jobseeker rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("010170-901X;J1;2024-03-01;;TYOTON;;205", "identity code's check character does not match"),
        (";J1;2024-03-01;;TYOTON;;205", "identity code is missing"),
        (f"{P1};;2024-03-01;;TYOTON;;205", "jakso_id is missing"),
        (f"{P1};J1;;;TYOTON;;205", "alkupvm is missing"),
        (f"{P1};J1;2024-02-30;;TYOTON;;205", "alkupvm is not a date"),
        (f"{P1};J1;2024-03-01;31.3.24;TYOTON;;205", "loppupvm is not a date"),
        (f"{P1};J1;2024-03-10;2024-03-09;TYOTON;;205", "loppupvm is before alkupvm"),
        (f"{P1};J1;2024-04-01;;TYOTON;;205", "spell does not overlap the delivery month 2024-03"),
        (f"{P1};J1;2024-01-01;2024-02-29;TYOTON;;205", "spell does not overlap the delivery month 2024-03"),
        (f"{P1};J1;2024-03-01;;TYÖTÖN;;205", "tila is not one of TYOTON"),
        (f"{P1};J1;2024-03-01;;;;205", "tila is missing"),
        (f"{P1};J1;2024-03-01;;PALVELU;;205", "palvelu is missing (required when tila = PALVELU)"),
        (f"{P1};J1;2024-03-01;;TYOTON;VALMENNUS;205", "palvelu must be empty unless tila = PALVELU"),
        (f"{P1};J1;2024-03-01;;PALVELU;KURSSI;205", "palvelu is not one of PALKKATUKI"),
        (f"{P1};J1;2024-03-01;;TYOTON;;2050", "kuntanumero is not a three-digit municipality code"),
        (f"{P1};J1;2024-03-01;;TYOTON;;K205", "kuntanumero is not a three-digit municipality code"),
        (f"{P1};J1;2024-03-01;;TYOTON;;", "kuntanumero is missing"),
        (f"{P1};J1;2024-03-01;;TYOTON", "row has 5 fields, the header has 7"),
        (f"{make_identity_code(date(2024, 4, 2), 950, 'A')};J1;2024-03-01;;TYOTON;;205", "birth date"),
    ],
)
def test_bad_spell_rows_are_rejected_with_their_reason(line, reason):
    good = f"{P3};J9;2024-03-01;;MUU;;205"
    result = spells(good, line)
    assert reasons(result)[3].startswith(reason) or reason in reasons(result)[3]
    assert result.rows["source_line"].tolist() == [2]


def test_boundaries_of_the_month_overlap_are_inclusive():
    result = spells(
        f"{P1};J1;2024-01-01;2024-03-01;TYOTON;;205",  # ends on the first day
        f"{P2};J2;2024-03-31;;TYOTON;;205",  # starts on the last day
    )
    assert result.rejects.empty


def test_all_reasons_of_a_row_are_kept_and_no_code_appears_in_them():
    bad_code = "010170-901X"
    result = spells(f"{bad_code};J1;2024-05-01;;NOPE;;12345")
    (reason,) = result.rejects["reason"].tolist()
    assert "identity code's check character" in reason
    assert "does not overlap" in reason and "tila is not one of" in reason and "kuntanumero" in reason
    assert bad_code not in reason and "010170" not in reason


def test_overlapping_spells_of_one_person_reject_both_rows():
    result = spells(
        f"{P1};J1;2024-01-01;2024-03-10;TYOTON;;205",
        f"{P1};J2;2024-03-10;;PALVELU;VALMENNUS;205",  # shares 10 March with J1
        f"{P2};J3;2024-01-01;2024-03-10;TYOTON;;205",
        f"{P2};J4;2024-03-11;;TYOTON;;205",  # starts the next day: no overlap
    )
    assert reasons(result) == {2: "overlapping spells of one person", 3: "overlapping spells of one person"}
    assert result.rows["spell_id"].tolist() == ["J3", "J4"]


def test_a_chain_of_overlaps_and_an_open_spell_reject_every_row_involved():
    result = spells(
        f"{P1};J1;2024-03-01;;TYOTON;;205",  # open: overlaps everything after it
        f"{P1};J2;2024-03-05;2024-03-06;TYOTON;;205",
        f"{P1};J3;2024-03-20;2024-03-25;MUU;;205",
        f"{P2};J4;2024-02-01;2024-03-05;TYOTON;;205",
        f"{P2};J5;2024-03-04;2024-03-08;TYOTON;;205",
        f"{P2};J6;2024-03-08;2024-03-09;TYOTON;;205",  # overlaps J5 only: all three go
        f"{P3};J7;2024-03-01;;TYOTON;;205",
    )
    assert sorted(reasons(result)) == [2, 3, 4, 5, 6, 7]
    assert result.rows["spell_id"].tolist() == ["J7"]


def test_a_rejected_row_does_not_make_another_row_overlap():
    result = spells(
        f"{P1};J1;2024-03-01;;TYOTON;;205",
        f"{P1};J2;2024-03-05;;NOPE;;205",  # rejected for its status: counts as not delivered
    )
    assert reasons(result) == {3: "tila is not one of TYOTON, LOMAUTETTU, LYHENNETTY, PALVELU, TYOLLINEN, MUU"}


def test_duplicate_spell_ids_reject_every_row_with_the_id():
    result = spells(
        f"{P1};J1;2024-03-01;2024-03-02;TYOTON;;205",
        f"{P2};J1;2024-03-01;;TYOTON;;205",
        f"{P3};J2;2024-03-01;;TYOTON;;205",
    )
    assert reasons(result) == {2: "duplicate jakso_id in this delivery", 3: "duplicate jakso_id in this delivery"}


# A code whose sign-less form is ten digits (its check character is a digit).
DIGIT_CHECK = next(
    code for code in (make_identity_code(date(1980, 5, day), 960) for day in range(1, 29)) if code[-1].isdigit()
)


def code_forms(code: str) -> list[str]:
    return [code, code.lower(), code[:6] + code[7:], code[:6] + " " + code[7:].lower()]


@pytest.mark.parametrize("form", code_forms(P2))
def test_an_identity_code_as_jakso_id_rejects_its_row_without_repeating_it(form):
    result = spells(f"{P1};{form};2024-03-01;;TYOTON;;205", f"{P3};J2;2024-03-01;;TYOTON;;205")
    assert reasons(result) == {2: "jakso_id holds an identity code (only henkilotunnus may; the value is not shown)"}
    assert result.rows["spell_id"].tolist() == ["J2"]
    assert not any(f in "".join(result.rejects["reason"]) for f in code_forms(P2))


@pytest.mark.parametrize(
    ("line", "column"),
    [
        (f"{P1};J1;{P2};;TYOTON;;205", "alkupvm"),
        (f"{P1};J1;2024-03-01;{P2.lower()};TYOTON;;205", "loppupvm"),
        (f"{P1};J1;2024-03-01;;TYOTON {P2};;205", "tila"),
        (f"{P1};J1;2024-03-01;;PALVELU;{P2[:6]} {P2[7:]};205", "palvelu"),
        (f"{P1};J1;2024-03-01;;TYOTON;;{DIGIT_CHECK[:6]}{DIGIT_CHECK[7:]}", "kuntanumero"),
    ],
)
def test_an_identity_code_in_any_spell_column_but_henkilotunnus_rejects_the_row(line, column):
    (reason,) = spells(line).rejects["reason"].tolist()
    assert f"{column} holds an identity code" in reason


@pytest.mark.parametrize("column", ["maksukuukausi", "kuntanumero", "etuus", "maksetut_paivat", "kertyneet_paivat",
                                    "maksettu_eur", "kuntaosuus_eur"])
def test_an_identity_code_in_any_payment_column_but_henkilotunnus_rejects_the_row(column):
    row = {"henkilotunnus": P1, "maksukuukausi": "2024-03", "kuntanumero": "205", "etuus": "TMT",
           "maksetut_paivat": "20", "kertyneet_paivat": "100", "maksettu_eur": "1.00", "kuntaosuus_eur": "0"}
    row[column] = DIGIT_CHECK[:6] + DIGIT_CHECK[7:]  # ten digits: as an amount it would even parse
    result = payments(";".join(row.values()), f"{P2};2024-03;205;TMT;20;100;1.00;0")
    assert list(reasons(result)) == [2]
    assert reasons(result)[2].startswith(f"{column} holds an identity code (only henkilotunnus may; the value is not shown)")
    assert DIGIT_CHECK[:6] not in reasons(result)[2]
    assert len(result.rows) == 1


def test_a_row_rejected_for_a_code_takes_no_other_row_with_it():
    result = spells(
        f"{P1};J1;2024-03-01;;TYOTON;;205",
        f"{P1};{P2};2024-03-05;;TYOTON;;205",  # would overlap J1 if it counted
        f"{P3};J1x;2024-03-01;;TYOTON;;205",
    )
    assert sorted(reasons(result)) == [3]
    assert result.rows["spell_id"].tolist() == ["J1", "J1x"]


def test_ten_digit_ids_that_are_no_identity_code_load():
    ids = ["1234567890", "9999999999", "3106859089"]  # no real date in any of them
    result = spells(*(f"{p};{i};2024-03-01;;TYOTON;;205" for p, i in zip([P1, P2, P3], ids)))
    assert result.rejects.empty
    assert result.rows["spell_id"].tolist() == ids


def test_municipality_codes_that_lost_their_leading_zeros_are_padded_and_counted():
    result = spells(f"{P1};J1;2024-03-01;;TYOTON;;5", f"{P2};J2;2024-03-01;;TYOTON;;91", f"{P3};J3;2024-03-01;;TYOTON;;205")
    assert result.rows["municipality_code"].tolist() == ["005", "091", "205"]
    assert result.padded_municipality_codes == 2


def test_spell_twins_load_identical_rows():
    canonical = _validated("tyonhakijat_2024-03_canonical.csv", jobseeker)
    legacy = _validated("tyonhakijat_2024-03_legacy_cp1252.csv", jobseeker)
    assert canonical.rejects.empty and legacy.rejects.empty
    assert len(canonical.rows) == 6
    pd.testing.assert_frame_equal(canonical.rows.drop(columns="source_file"), legacy.rows.drop(columns="source_file"))


# --- Kela rules --------------------------------------------------------------------------


def test_a_valid_payment_becomes_a_pseudonymised_row_with_exact_decimals():
    result = payments(f"{P2};2024-03;91;tmt;21;610;-1 234,56;0,1")
    assert result.rejects.empty
    row = result.rows.iloc[0].to_dict()
    assert row == {
        "delivery_month": date(2024, 3, 1),
        "source_file": "kela/t.csv",
        "source_line": 2,
        "person_id": pseudonymise(P2, KEY),
        "birth_date": date(1985, 6, 15),
        "sex": "female",
        "payment_month": date(2024, 3, 1),
        "municipality_code": "091",
        "benefit": "TMT",
        "paid_days": 21,
        "cumulative_days": 610,
        "paid_eur": Decimal("-1234.56"),
        "municipal_share_eur": Decimal("0.10"),
    }


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (f"{P1};2024-02;205;TMT;20;100;1.00;0", "maksukuukausi is not the file's month 2024-03"),
        (f"{P1};maaliskuu;205;TMT;20;100;1.00;0", "maksukuukausi is not a month"),
        (f"{P1};;205;TMT;20;100;1.00;0", "maksukuukausi is missing"),
        (f"{P1};2024-03;205;XYZ;20;100;1.00;0", "etuus is not one of TMT, PPR, APR"),
        (f"{P1};2024-03;205;TMT;24;100;1.00;0", "maksetut_paivat is not a whole number 0..23"),
        (f"{P1};2024-03;205;TMT;-1;100;1.00;0", "maksetut_paivat is not a whole number 0..23"),
        (f"{P1};2024-03;205;TMT;2.5;100;1.00;0", "maksetut_paivat is not a whole number 0..23"),
        (f"{P1};2024-03;205;TMT;20;-5;1.00;0", "kertyneet_paivat is not a whole number >= 0"),
        (f"{P1};2024-03;205;TMT;20;100;1.005;0", "maksettu_eur is not a euro amount"),
        (f"{P1};2024-03;205;TMT;20;100;1e3;0", "maksettu_eur is not a euro amount"),
        (f"{P1};2024-03;205;TMT;20;100;1.00;", "kuntaosuus_eur is missing"),
        (f"{P1};2024-03;0205;TMT;20;100;1.00;0", "kuntanumero is not a three-digit municipality code"),
        (f"{P1[:-1]}A;2024-03;205;TMT;20;100;1.00;0", "identity code's check character does not match"),
    ],
)
def test_bad_payment_rows_are_rejected_with_their_reason(line, reason):
    result = payments(f"{P3};2024-03;205;TMT;0;0;0;0", line)
    assert reasons(result)[3].startswith(reason)
    assert result.rows["source_line"].tolist() == [2]


def test_negative_amounts_are_valid_corrections():
    result = payments(f"{P1};2024-03;205;TMT;0;600;-64.80;-45.36")
    assert result.rejects.empty
    assert result.rows["paid_eur"].tolist() == [Decimal("-64.80")]


def test_payment_twins_load_identical_rows():
    canonical = _validated("tmt_2024-03_canonical.csv", kela)
    for twin in ("tmt_2024-03_comma_bom.csv", "tmt_2024-03_iso885915.csv"):
        other = _validated(twin, kela)
        assert other.rejects.empty
        pd.testing.assert_frame_equal(canonical.rows.drop(columns="source_file"), other.rows.drop(columns="source_file"))
    assert canonical.rows["paid_eur"].tolist() == [Decimal("812.34"), Decimal("-120.50"), Decimal("1745.80"), Decimal("160.00")]


def _validated(name: str, module):
    columns = module.COLUMNS
    landing = read_landing_csv(FIXTURES / name, columns, name=name)
    validate = jobseeker.validate_spells if module is jobseeker else kela.validate_payments
    return validate(landing, MONTH, KEY)


# --- value parsers ------------------------------------------------------------------------


def test_dates_iso_and_finnish():
    parsed, bad = values.parse_dates(pd.Series(["2024-03-05", "5.3.2024", "05.03.2024", "", "2024-02-30", "3/5/2024"], dtype="str"))
    assert parsed.iloc[:3].dt.date.tolist() == [date(2024, 3, 5)] * 3
    assert pd.isna(parsed.iloc[3])
    assert bad.tolist() == [False, False, False, False, True, True]


def test_decimals_with_point_comma_thousands_spaces_and_minus_signs():
    parsed, bad = values.parse_decimals(
        pd.Series(["1234.5", "1234,50", "1 234,50", "1\u00a0234,50", "\u22121,5", "-0", "1.230", "1,234.5", ""], dtype="str")
    )
    assert parsed.tolist()[:7] == ["1234.5", "1234.50", "1234.50", "1234.50", "-1.5", "-0", "1.23"]
    assert bad.tolist() == [False] * 7 + [True, False]


def test_integers_are_plain_whole_numbers():
    parsed, bad = values.parse_integers(pd.Series(["0", "023", "+5", "5.0", "-1", " ", ""], dtype="str").str.strip())
    assert parsed.tolist()[:3] == [0, 23, 5]
    assert bad.tolist() == [False, False, False, True, True, False, False]


# --- the vectorised twins of the rules ---------------------------------------------------------


def _date_texts(n: int, seed: int = 3) -> list[str]:
    """ISO and Finnish dates, real and impossible, and near misses."""
    rng = random.Random(seed)
    texts = ["2023-02-30", "2024-02-29", "2023-02-29", "2100-02-29", "2000-02-29", "0000-01-01", "0001-01-01",
             "9999-12-31", "2024-13-01", "2024-00-10", "2024-01-00", "2024-04-31", "30.2.2023", "29.2.2024", "1.3.2024",
             "01.03.2024", "2024-3-5", "2024-03-05 ", "\u0662\u0660\u0662\u0664-03-05", "2024/03/05", "", "x"]
    for _ in range(n):
        y, m, d = rng.randrange(0, 10000), rng.randrange(0, 14), rng.randrange(0, 33)
        texts.append(rng.choice([f"{y:04d}-{m:02d}-{d:02d}", f"{d}.{m}.{y:04d}", f"{y:04d}-{m}-{d}"]))
    return texts


def test_the_vectorised_date_parser_equals_the_rule_on_real_and_impossible_dates():
    texts = _date_texts(5000)
    parsed, bad = values.parse_dates(pd.Series(texts, dtype="str"))
    for text, value, invalid in zip(texts, parsed, bad):
        expected = values.parse_date_text(text)
        assert (None if pd.isna(value) else value.date()) == expected, text
        assert invalid == (expected is None and text != ""), text
    assert parsed.notna().sum() > 1000 and bad.sum() > 1000


def test_the_vectorised_decimal_parser_equals_the_rule():
    rng = random.Random(4)
    texts = ["0", "-0", "00", "1.5", "1.50", "1.500", "1.505", "1,5", "-1.5", "+1.5", "\u22121.5", "1 234.50", ".5",
             "5.", "1234567890123456", "12345678901234567", "00000000000000000001", "-", "", "1e3", "1.2.3"]
    for _ in range(3000):
        whole = str(rng.randrange(10 ** rng.randrange(1, 19)))
        texts.append(rng.choice(["", "-", "+"]) + whole + rng.choice(["", ".", ","]) + str(rng.randrange(1000))[: rng.randrange(0, 4)])
    parsed, bad = values.parse_decimals(pd.Series(texts, dtype="str"))
    for text, value, invalid in zip(texts, parsed, bad):
        expected = values.normalise_decimal_text(text)
        assert (None if pd.isna(value) else value) == expected, text
        assert invalid == (expected is None and text != ""), text
    assert parsed.notna().sum() > 1000 and bad.sum() > 100


def test_the_vectorised_integer_parser_equals_the_rule():
    texts = ["0", "007", "+7", "123456789", "1234567890", "-1", "1.0", " 1", "\u0663", "", "x"]
    texts += [str(n) for n in range(0, 5000, 7)]
    parsed, bad = values.parse_integers(pd.Series(texts, dtype="str"))
    for text, value, invalid in zip(texts, parsed, bad):
        expected = values._integer_or_minus_one(text)
        assert (-1 if pd.isna(value) else value) == expected, text
        assert invalid == (expected < 0 and text != ""), text


def test_overlapping_spells_are_exactly_the_spells_sharing_a_day_with_another_of_the_person():
    rng = np.random.default_rng(6)
    for _ in range(300):
        n = int(rng.integers(0, 40))
        person = rng.integers(0, max(1, n // 3) + 1, size=n) * 1000 + 7
        first = rng.integers(0, 60, size=n)
        last = first + rng.integers(0, 15, size=n)
        open_ended = rng.random(n) < 0.2
        candidate = rng.random(n) < 0.9
        start = (np.datetime64("2024-01-01") + first).astype("datetime64[s]")
        end = (np.datetime64("2024-01-01") + last).astype("datetime64[s]")
        end[open_ended] = np.datetime64("NaT")
        ends = np.where(open_ended, 10**9, last)
        expected = [
            bool(candidate[i]) and any(
                j != i and candidate[j] and person[j] == person[i] and first[j] <= ends[i] and first[i] <= ends[j]
                for j in range(n)
            )
            for i in range(n)
        ]
        assert jobseeker._overlapping(np.where(candidate, person, -1), start, end, candidate).tolist() == expected


def test_duplicate_ids_are_every_row_of_a_repeated_non_empty_id():
    ids = pa.array(["J1", "J2", "J1", "", "", "J3", "J2", "J1"], type=pa.large_string())
    assert jobseeker._duplicated_ids(ids).tolist() == [True, True, True, False, False, False, True, True]


@pytest.mark.parametrize("validate", [spells, payments])
def test_a_file_whose_every_row_is_malformed_rejects_every_row(validate):
    # (main crashed here with an AttributeError: no well-formed row left an empty column)
    result = validate("x;y", "1;2;3")
    assert result.rows.empty and list(result.rows.columns) == raw_columns(
        "jobseeker_spells" if validate is spells else "kela_payments"
    )
    assert list(reasons(result)) == [2, 3]
    assert all(reason.startswith("row has ") for reason in reasons(result).values())
