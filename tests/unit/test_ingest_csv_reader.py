"""Reading landing CSVs by the common rules of docs/source-contracts.md: encodings, delimiters, headers,
line endings, line numbers, and files that cannot be read as a whole.

Twins of one file (tests/fixtures/ingest/, written by make_fixtures.py there) must load to
exactly the same rows; see also test_ingest_validation.py for the typed values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from pipelines.core.identity_codes import make_identity_code
from pipelines.sources import csv_reader, jobseeker, kela
from pipelines.sources.csv_reader import is_safe_column_name, looks_like_data, read_landing_csv
from pipelines.sources.errors import UnreadableFileError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ingest"
CODE = make_identity_code(date(1970, 1, 1), 901)
COLUMNS = ("a", "b", "c")


def read_bytes(tmp_path: Path, content: bytes, columns=COLUMNS, name="x.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return read_landing_csv(path, columns, name=name)


def values(landing) -> list[list[str]]:
    return landing.rows.drop(columns="source_line").values.tolist()


# --- encodings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("cp1252", b"", "windows-1252"),
        ("iso-8859-15", b"", "windows-1252"),  # identical bytes for ä/ö/å: reported as Windows-1252
    ],
)
def test_scandinavian_letters_survive_every_encoding(tmp_path, encoding, bom, expected):
    text = "a;b;c\n1;Hämeenlinna;Åland\n2;Mänttä-Vilppula;Pöytyä\n"
    landing = read_bytes(tmp_path, bom + text.encode(encoding))
    assert landing.encoding == expected
    assert values(landing) == [["1", "Hämeenlinna", "Åland"], ["2", "Mänttä-Vilppula", "Pöytyä"]]
    assert "Ã" not in "".join(landing.rows["b"])  # no mojibake


def test_windows_1252_is_recognised_by_its_printable_0x80_0x9f_bytes(tmp_path):
    landing = read_bytes(tmp_path, "a;b;c\n1;€ 5;ä\n".encode("cp1252"))  # € is 0x80 there
    assert landing.encoding == "windows-1252"
    assert values(landing) == [["1", "€ 5", "ä"]]


def test_iso_8859_15_is_recognised_by_its_letters_that_are_symbols_in_windows_1252(tmp_path):
    landing = read_bytes(tmp_path, "a;b;c\n1;€ 5;Šiljander\n".encode("iso-8859-15"))  # € 0xA4, Š 0xA6
    assert landing.encoding == "iso-8859-15"
    assert values(landing) == [["1", "€ 5", "Šiljander"]]


def test_bytes_valid_in_no_supported_encoding_make_the_file_unreadable(tmp_path):
    content = b"a;b;c\n1;2;3\n4;\x81;6\n"  # 0x81: undefined in Windows-1252, a control in ISO-8859-15
    with pytest.raises(UnreadableFileError) as caught:
        read_bytes(tmp_path, content)
    assert caught.value.line == 3
    assert "x.csv, line 3" in str(caught.value) and "0x81" in str(caught.value)


def test_utf16_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(UnreadableFileError, match="UTF-16"):
        read_bytes(tmp_path, "a;b;c\n1;2;3\n".encode("utf-16"))


def test_binary_garbage_is_not_a_csv(tmp_path):
    garbage = bytes(range(256)) * 8
    with pytest.raises(UnreadableFileError, match="not a CSV text file") as caught:
        read_bytes(tmp_path, garbage, name="tmt_2024-03.csv")
    assert str(caught.value).startswith("tmt_2024-03.csv, line ")


def test_control_characters_in_decodable_text_make_it_unreadable(tmp_path):
    with pytest.raises(UnreadableFileError, match="control character") as caught:
        read_bytes(tmp_path, b"a;b;c\n1;2;3\n1;\x07;3\n")
    assert caught.value.line == 3


# --- delimiters, headers, lines ----------------------------------------------------


def test_comma_separated_file_is_accepted_when_unambiguous(tmp_path):
    landing = read_bytes(tmp_path, b'a,b,c\n1,"2,50",x\n')
    assert landing.delimiter == ","
    assert values(landing) == [["1", "2,50", "x"]]


def test_comma_separated_file_with_unquoted_decimal_commas_is_ambiguous(tmp_path):
    with pytest.raises(UnreadableFileError, match="not unambiguously comma-separated") as caught:
        read_bytes(tmp_path, b"a,b,c\n1,2,x\n1,2,50,x\n")
    assert caught.value.line == 3


def test_semicolon_wins_when_the_header_has_both(tmp_path):
    landing = read_bytes(tmp_path, b"a;b;c,d\n1;2,5;3\n", columns=("a", "b", "c,d"))
    assert landing.delimiter == ";"
    assert values(landing) == [["1", "2,5", "3"]]


def test_header_names_are_trimmed_case_insensitive_in_any_order_and_extra_columns_reported(tmp_path):
    landing = read_bytes(tmp_path, b" C ;Extra;A;b ;kunta_nimi\n3;x;1;2;y\n")
    assert values(landing) == [["1", "2", "3"]]
    assert landing.ignored_columns == ("extra", "kunta_nimi")
    assert list(landing.rows.columns) == ["source_line", "a", "b", "c"]


def test_missing_required_column_names_file_line_and_column(tmp_path):
    with pytest.raises(UnreadableFileError) as caught:
        read_bytes(tmp_path, b"a;c\n1;3\n", name="tyonhakijat_2024-03.csv")
    message = str(caught.value)
    assert message.startswith("tyonhakijat_2024-03.csv, line 1: missing required column(s) b")
    assert "a, c" in message  # what the header did have


def test_a_file_without_header_fails_without_echoing_the_identity_code(tmp_path):
    with pytest.raises(UnreadableFileError) as caught:
        read_bytes(tmp_path, f"{CODE};J1;2024-01-01\n".encode(), columns=("henkilotunnus", "jakso_id"))
    assert "the first line looks like data, not a header: the file has no header line" in str(caught.value)
    assert CODE not in str(caught.value)


def every_form(code: str) -> list[str]:
    return [f(x) for x in (code, code[:6] + code[7:], code[:6] + " " + code[7:]) for f in (str.upper, str.lower)]


def assert_no_form_of(code: str, text: str) -> None:
    leaked = [form for form in every_form(code) if form in text]
    assert not leaked, "an identity code is in the text"


@pytest.mark.parametrize(
    "first_line",
    [
        f"{CODE[:6]} {CODE[7:].lower()};2009-04;205;TMT;21;100;512.40;0",  # the Kela file of the issue
        f"{CODE.lower()};J1;2024-01-01;;TYOTON;;205",
        f"{CODE[:6]}{CODE[7:]};J1;2024-01-01;;TYOTON;;205",
        "x;2024-01-01;y",  # a date is no column name
        "x;-12,50;y",  # nor an amount
        "x;205;y",  # nor a number
    ],
)
def test_a_header_that_looks_like_data_is_never_echoed(tmp_path, first_line):
    content = f"{first_line}\n{first_line}\n".encode()
    with pytest.raises(UnreadableFileError) as caught:
        read_bytes(tmp_path, content, columns=("henkilotunnus", "jakso_id"))
    message = str(caught.value)
    fields = first_line.split(";")
    assert "the first line looks like data, not a header: the file has no header line" in message
    assert f"({len(fields)} field(s) split at ';'" in message
    assert_no_form_of(CODE, message)
    for field in fields:
        if len(field) > 1 and field not in ("henkilotunnus", "jakso_id"):
            assert field not in message.split(": ", 1)[1], field


def test_a_header_with_missing_columns_names_only_its_plain_identifiers(tmp_path):
    with pytest.raises(UnreadableFileError) as caught:
        read_bytes(tmp_path, b"a;kunta nimi;huom!;;c\n1;2;3;4;5\n")
    message = str(caught.value)
    assert "missing required column(s) b" in message
    assert "5 column(s): a, <unsafe name>, <unsafe name>, <empty>, c" in message
    assert "kunta nimi" not in message and "huom!" not in message


@pytest.mark.parametrize(
    "extra",
    [CODE.lower(), CODE, CODE[:6] + CODE[7:], CODE[:6] + " " + CODE[7:].lower(), f"x_{CODE}", f"hetu {CODE}", "a12345678"],
)
def test_an_extra_column_whose_name_is_not_a_plain_identifier_is_counted_not_named(tmp_path, extra):
    landing = read_bytes(tmp_path, f"a;b;{extra};c;kunta_nimi\n1;2;x;3;y\n".encode())
    assert landing.ignored_columns == ("kunta_nimi", "1 unnamed/unsafe column")
    assert values(landing) == [["1", "2", "3"]]
    assert_no_form_of(CODE, repr(landing.ignored_columns))


def test_unnamed_and_unsafe_extra_columns_are_counted_together(tmp_path):
    landing = read_bytes(tmp_path, f"a;;b;{CODE};c;Huomautus;x y\n1;;2;z;3;w;v\n".encode())
    assert landing.ignored_columns == ("huomautus", "3 unnamed/unsafe columns")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("kunta_nimi", True), ("huomautus", True), ("kommentti2", True), ("_x", True), ("päivä", True),
        ("maksu_2024", True), ("", False), ("kunta nimi", False), ("x-y", False), ("2024", False),
        ("a12345", False), ("x" * 41, False), (CODE.lower(), False), (f"_{CODE[:6]}{CODE[7:]}", False),
    ],
)
def test_safe_column_names_are_plain_identifiers_without_long_digit_runs(name, safe):
    assert is_safe_column_name(name) is safe


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("henkilotunnus", False), ("kunta_nimi", False), ("kunta nimi", False), ("", False), ("x1", False),
        ("205", True), ("2009-04", True), ("1.3.2024", True), ("-12,50", True), ("+5", True),
        (CODE.lower(), True), (f"x {CODE[:6]} {CODE[7:]}", True), (f"{CODE[:6]}{CODE[7:]}", True),
    ],
)
def test_a_header_field_looks_like_data_when_it_is_a_code_or_starts_like_a_number(field, data):
    assert looks_like_data(field) is data


def test_duplicate_required_column_is_unreadable(tmp_path):
    with pytest.raises(UnreadableFileError, match="more than once"):
        read_bytes(tmp_path, b"a;b;c;A\n1;2;3;4\n")


def test_empty_file_and_header_only_file_are_unreadable(tmp_path):
    with pytest.raises(UnreadableFileError, match="empty"):
        read_bytes(tmp_path, b"")
    with pytest.raises(UnreadableFileError, match="empty"):
        read_bytes(tmp_path, b"\r\n\r\n  \n")
    with pytest.raises(UnreadableFileError, match="no data rows") as caught:
        read_bytes(tmp_path, b"a;b;c\r\n\r\n")
    assert caught.value.line == 1


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_line_endings_and_trailing_empty_lines(tmp_path, newline):
    content = newline.join([b"a;b;c", b"1;2;3", b"", b"4;5;6", b";;", b"  ", b"", b""])
    landing = read_bytes(tmp_path, content)
    assert values(landing) == [["1", "2", "3"], ["4", "5", "6"]]
    assert landing.rows["source_line"].tolist() == [2, 4]  # physical lines, header = 1
    assert landing.rows_read == 2


def test_values_are_trimmed_and_quotes_removed(tmp_path):
    landing = read_bytes(tmp_path, b'a;b;c\n 1 ;" 2 ";"x;y"\n')
    assert values(landing) == [["1", "2", "x;y"]]


def test_a_quoted_field_over_two_lines_keeps_later_line_numbers_physical(tmp_path):
    landing = read_bytes(tmp_path, b'a;b;c\n1;"two\nlines";3\n4;5;6\n')
    assert landing.rows["source_line"].tolist() == [2, 4]
    assert values(landing)[0] == ["1", "two\nlines", "3"]


def test_broken_quoting_is_unreadable_with_its_line(tmp_path):
    with pytest.raises(UnreadableFileError, match="quoting"):
        read_bytes(tmp_path, b'a;b;c\n1;2;3\n4;"5"x;6\n')


def test_rows_with_the_wrong_number_of_fields_are_set_apart_not_fatal(tmp_path):
    landing = read_bytes(tmp_path, b"a;b;c\n1;2;3\n4;5\n7;8;9;10\n11;12;13;\n")
    assert values(landing) == [["1", "2", "3"], ["11", "12", "13"]]  # a trailing empty field is fine
    assert landing.malformed["source_line"].tolist() == [3, 4]
    assert landing.malformed["reason"].tolist() == ["row has 2 fields, the header has 3", "row has 4 fields, the header has 3"]
    assert landing.rows_read == 4


def test_sha256_is_of_the_bytes_as_delivered(tmp_path):
    import hashlib

    content = "\ufeffa;b;c\r\n1;ä;3\r\n".encode()
    assert read_bytes(tmp_path, content).sha256 == hashlib.sha256(content).hexdigest()


# --- the fixtures: twins read the same -------------------------------------------------


def test_spell_fixture_twins_read_the_same_text_apart_from_dates_and_leading_zeros():
    canonical = read_landing_csv(FIXTURES / "tyonhakijat_2024-03_canonical.csv", jobseeker.COLUMNS + ("kunta_nimi",))
    legacy = read_landing_csv(FIXTURES / "tyonhakijat_2024-03_legacy_cp1252.csv", jobseeker.COLUMNS + ("kunta_nimi",))
    assert (canonical.encoding, legacy.encoding) == ("utf-8", "windows-1252")
    assert legacy.rows_read == canonical.rows_read == 6
    pd.testing.assert_series_equal(canonical.rows["kunta_nimi"], legacy.rows["kunta_nimi"])
    assert "Ristijärvi" in legacy.rows["kunta_nimi"].tolist()
    pd.testing.assert_series_equal(canonical.rows["source_line"], legacy.rows["source_line"])


def test_payment_fixture_twins_report_encoding_delimiter_and_extra_columns():
    found = {
        name: read_landing_csv(FIXTURES / name, kela.COLUMNS)
        for name in ("tmt_2024-03_canonical.csv", "tmt_2024-03_comma_bom.csv", "tmt_2024-03_iso885915.csv")
    }
    assert [(f.encoding, f.delimiter, f.ignored_columns) for f in found.values()] == [
        ("utf-8", ";", ()),
        ("utf-8-sig", ",", ()),
        ("iso-8859-15", ";", ("huomautus",)),
    ]


# --- the fast way and the careful way read the same -----------------------------------------


PLAIN_CASES = {
    # name: (text, whether the fast way reads it itself)
    "plain": ("a;b;c\n1;2;3\n4; 5 ;6\n", True),
    "no final line end": ("a;b;c\n1;2;3\n4;5;6", True),
    "header after blank lines": ("\n  \na;B ;c;extra\n1;2;3;x\n", True),
    "comma": ("a,b,c\n1,2,3\n", True),
    "spaces only in some fields": ("a;b;c\n;\u00a02;\n x;;\n", True),
    "a row of delimiters": ("a;b;c\n1;2;3\n;;\n4;5;6\n", False),
    "a blank line": ("a;b;c\n1;2;3\n\n4;5;6\n", False),
    "a short row": ("a;b;c\n1;2\n4;5;6\n", False),
    "a trailing delimiter": ("a;b;c\n1;2;3;\n", False),
    "a byte-order mark after the header": ("a;b;c\n\ufeff1;2;3\n", False),
    "header only": ("a;b;c\n", False),
    "a missing column": ("a;b\n1;2\n", False),
}


@pytest.mark.parametrize("case", sorted(PLAIN_CASES))
def test_the_fast_way_reads_plain_files_exactly_as_the_careful_way_and_leaves_the_rest_to_it(case):
    text, fast = PLAIN_CASES[case]
    found = csv_reader._plain_fast(text, list(COLUMNS))
    assert (found is not None) == fast
    try:
        careful = csv_reader._parse_records(text, list(COLUMNS), "x.csv")
    except UnreadableFileError:
        assert not fast
        return
    if fast:
        header_line, names, delimiter, lines, columns = found
        assert (header_line, names, delimiter) == careful[:3]
        assert lines.tolist() == careful[3].tolist()
        assert {c: v.to_pylist() for c, v in columns.items()} == {c: v.to_pylist() for c, v in careful[4].items()}
        assert careful[5].empty
