"""The StatFin reader (pipelines/sources/statfin.py) on the real PX sample and on JSON-stat
2.0 and PxWeb json answers for every area of Finland: every value and symbol comes through."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.package_files import real_statfin_kainuu_file
from pipelines.sources.statfin import (
    JSON_STAT2,
    PX,
    PXWEB_JSON,
    StatfinFileError,
    parse_statfin,
    read_statfin,
    status_of,
)
from tests.statfin_files import json_stat2, pxweb_json, write_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statfin"
ECKERO = FIXTURES / "statfin_tyonv_eckero.px"
SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def cell(table, month, area, measure):
    frame = table.to_pandas()
    row = frame[(frame.month == month) & (frame.area_code == area) & (frame.measure == measure)]
    assert len(row) == 1
    return row.iloc[0]


def test_real_px_sample_reads_every_cell_with_codes_labels_and_symbols():
    table = read_statfin(ECKERO)
    assert (table.format, table.table_id, table.encoding) == (PX, "12r5", "iso-8859-15")
    assert table.languages == ("fi", "sv", "en")
    assert table.updated == pd.Timestamp("2024-12-23 08:00").to_pydatetime()
    frame = table.to_pandas()
    # 11 months × 23 measures × 1 area, every cell once
    assert len(frame) == 253
    assert not frame.duplicated(["month", "area_code", "measure"]).any()
    assert sorted(frame.month.unique()) == [f"2024-{m:02d}" for m in range(1, 12)]
    assert set(frame.area_code) == {"KU043"} and set(frame.area_name) == {"Eckerö"}
    assert frame.measure.nunique() == 23
    # the 61 confidential cells keep their symbol and have no value
    assert (frame.symbol == "...").sum() == 61
    assert frame[frame.symbol.notna()].value.isna().all()
    assert frame[frame.symbol.isna()].value.notna().all()
    # values as in the file: first line of DATA, and a decimal
    assert cell(table, "2024-01", "KU043", "HAKIJALOPUSSA").value == 49.0
    assert cell(table, "2024-01", "KU043", "TYOTTOMATLOPUSSA").value == 26.0
    assert cell(table, "2024-01", "KU043", "TYOTOSUUS").value == 5.8
    assert cell(table, "2024-01", "KU043", "TYOTTOMAT20").symbol == "..."
    assert cell(table, "2024-11", "KU043", "UUDETAVP").symbol == "..."
    assert cell(table, "2024-11", "KU043", "TYOTTOMATLOPUSSA").value == 21.0


def test_px_in_another_codepage_and_line_ending_reads_the_same():
    original = ECKERO.read_bytes()
    text = original.decode("iso-8859-15").replace('CODEPAGE="iso-8859-15"', 'CODEPAGE="utf-8"').replace("\r\n", "\n")
    again = parse_statfin(text.encode("utf-8"), name="eckero_utf8.px")
    assert again.encoding == "utf-8"
    assert again.cells.equals(read_statfin(ECKERO).cells)


def test_px_time_variable_found_by_metadata_not_by_name():
    text = ECKERO.read_bytes().decode("iso-8859-15").replace('"Kuukausi"', '"timeperiod_m"')
    table = parse_statfin(text.encode("iso-8859-15"), name="renamed.px")
    assert table.rows == 253 and sorted(table.to_pandas().month.unique())[0] == "2024-01"


def test_shipped_real_kainuu_series_has_kainuus_unemployed_of_december_2010():
    table = read_statfin(real_statfin_kainuu_file())
    assert table.table_id == "12r5"
    assert cell(table, "2010-12", "MK18", "TYOTTOMATLOPUSSA").value == 5104
    frame = table.to_pandas()
    assert len(frame) == 214 * 3 * 11
    assert set(frame.symbol.dropna()) == {"..."}
    assert (
        "Tilastokeskus / KEHA-keskus, työnvälitystilasto, CC BY 4.0"
        in real_statfin_kainuu_file().read_bytes().decode("iso-8859-15")
    )


def every_area_cells(months: tuple[str, ...] = ("2023-09", "2023-10")) -> pd.DataFrame:
    """Cells for every area of Finland (country, regions, sub-regions, municipalities),
    two months, three measures, with each symbol somewhere."""
    areas = [("SSS", "KOKO MAA")]
    with open(SEEDS / "regions.csv", encoding="utf-8") as handle:
        areas += [(r["region_code"], r["region_name_fi"]) for r in csv.DictReader(handle)]
    with open(SEEDS / "subregions.csv", encoding="utf-8") as handle:
        areas += [(r["subregion_code"], r["subregion_name_fi"]) for r in csv.DictReader(handle)]
    with open(SEEDS / "municipalities.csv", encoding="utf-8") as handle:
        areas += list(
            dict.fromkeys(("KU" + r["municipality_code"], r["municipality_name_fi"]) for r in csv.DictReader(handle))
        )
    areas += [("KU199", "Tuntematon")]
    rows = []
    symbols = ["...", "..", ".", "-"]
    for number, (code, name) in enumerate(areas):
        for month in months:
            for k, measure in enumerate(("TYOTTOMATLOPUSSA", "TYOTTOMATMIEHET", "TYOTOSUUS")):
                if (number + k) % 17 == 3:
                    symbol = symbols[(number // 17) % 4]
                    rows.append((month, code, name, measure, 0.0 if symbol == "-" else None, symbol))
                else:
                    value = float(number * 7 + k) if measure != "TYOTOSUUS" else round(number / 10 + 0.1, 1)
                    rows.append((month, code, name, measure, value, None))
    return pd.DataFrame(rows, columns=["month", "area_code", "area_name", "measure", "value", "symbol"])


def assert_same_cells(read: pd.DataFrame, expected: pd.DataFrame, *, names: bool) -> None:
    keys = ["month", "area_code", "measure"]
    merged = expected.merge(read, on=keys, how="outer", suffixes=("_expected", "_read"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    same_value = (merged.value_expected == merged.value_read) | (
        merged.value_expected.isna() & merged.value_read.isna()
    )
    assert same_value.all(), merged[~same_value].head()
    same_symbol = merged.symbol_expected.fillna("") == merged.symbol_read.fillna("")
    assert same_symbol.all(), merged[~same_symbol].head()
    if names:
        assert (merged.area_name_expected == merged.area_name_read).all()


def test_json_stat2_answer_for_every_area_reads_every_value_and_symbol(tmp_path):
    cells = every_area_cells()
    assert cells.area_code.nunique() == 1 + 19 + 69 + 309 + 1
    path = write_json(tmp_path / "12r5_all_areas.json", json_stat2(cells, time_name="timeperiod_m"))
    table = read_statfin(path)
    assert (table.format, table.table_id) == (JSON_STAT2, "12r5")
    assert table.updated == pd.Timestamp("2024-12-23 06:00").to_pydatetime()
    assert_same_cells(table.to_pandas(), cells, names=True)
    for symbol in ("...", "..", ".", "-"):
        assert (table.to_pandas().symbol == symbol).sum() == (cells.symbol == symbol).sum() > 0


def test_pxweb_json_answer_for_every_area_reads_every_value_and_symbol(tmp_path):
    cells = every_area_cells()
    path = write_json(tmp_path / "answer.json", pxweb_json(cells))
    table = read_statfin(path)
    assert (table.format, table.table_id) == (PXWEB_JSON, "12r5")
    assert_same_cells(table.to_pandas(), cells, names=False)


def test_the_same_cells_read_alike_from_px_and_json_stat(tmp_path):
    px = read_statfin(ECKERO).to_pandas()
    path = write_json(tmp_path / "eckero.json", json_stat2(px))
    assert_same_cells(read_statfin(path).to_pandas(), px, names=True)


def test_status_of_each_symbol():
    assert [status_of(s) for s in (None, "-", "...", "..", ".")] == [
        "ok",
        "ok",
        "confidential",
        "confidential",
        "not_applicable",
    ]


# --- bad files: the error names the file, the line where there is one, and the problem ---


def px_text() -> str:
    return ECKERO.read_bytes().decode("iso-8859-15")


def test_px_with_a_missing_value_names_the_file_the_data_line_and_the_counts():
    text = px_text()
    head, data = text.split("DATA=", 1)
    broken = head + "DATA=" + data.replace("49.0 ", "", 1)
    with pytest.raises(StatfinFileError) as error:
        parse_statfin(broken.encode("iso-8859-15"), name="broken.px")
    message = str(error.value)
    assert message.startswith("broken.px, line ")
    assert "252 values" in message and "253" in message
    assert error.value.line == head.count("\n") + 1


def test_px_with_a_word_among_the_values_names_its_line():
    text = px_text()
    lines = text.split("\r\n")
    data_at = next(i for i, line in enumerate(lines) if line.startswith("DATA="))
    lines[data_at + 3] = lines[data_at + 3].replace("46.0", "abc", 1)
    with pytest.raises(StatfinFileError) as error:
        parse_statfin("\r\n".join(lines).encode("iso-8859-15"), name="word.px")
    assert error.value.line == data_at + 4
    assert "'abc' is neither a number nor a StatFin symbol" in str(error.value)


def test_px_with_an_unclosed_keyword_and_an_unknown_codepage():
    with pytest.raises(StatfinFileError, match=r"x.px, line 3: a quoted text is not closed"):
        parse_statfin(b'CHARSET="ANSI";\r\nLANGUAGE="fi";\r\nTITLE="abc;\r\n', name="x.px")
    with pytest.raises(StatfinFileError, match=r'CODEPAGE="klingon"'):
        parse_statfin(b'CODEPAGE="klingon";\r\nDATA=\r\n1;', name="y.px")


def test_files_that_are_not_statfin_files():
    with pytest.raises(StatfinFileError, match="the file is empty"):
        parse_statfin(b"", name="empty.px")
    with pytest.raises(StatfinFileError, match="not a StatFin file"):
        parse_statfin(b"month;area\n2024-01;KU043\n", name="a.csv")
    with pytest.raises(StatfinFileError, match=r"bad.json, line 2: not valid JSON"):
        parse_statfin(b'{"class": "dataset",\n "id": [}', name="bad.json")
    with pytest.raises(StatfinFileError, match="neither JSON-stat 2.0"):
        parse_statfin(b'{"hello": 1}', name="other.json")


def test_json_stat_with_a_null_value_and_no_symbol_is_refused(tmp_path):
    cells = read_statfin(ECKERO).to_pandas()
    document = json_stat2(cells)
    first_symbol = next(iter(document["status"]))
    del document["status"][first_symbol]
    path = write_json(tmp_path / "nostatus.json", document)
    with pytest.raises(StatfinFileError, match=r"nostatus.json: 1 cell\(s\) have neither a number nor a status symbol"):
        read_statfin(path)


def test_pxweb_json_with_a_repeated_row_is_refused(tmp_path):
    document = pxweb_json(read_statfin(ECKERO).to_pandas())
    document["data"].append(document["data"][0])
    path = write_json(tmp_path / "twice.json", document)
    with pytest.raises(StatfinFileError, match=r"KU043 2024-01 appears twice"):
        read_statfin(path)


def test_reader_is_fast_on_a_national_size_file(tmp_path):
    # 12r5 for every area (about 400) × 12 months × 23 measures: ~110,000 cells.
    areas = [f"KU{n:03d}" for n in range(400)]
    months = [f"2023M{m:02d}" for m in range(1, 13)]
    measures = [f"M{n}" for n in range(23)]
    values = np.arange(len(areas) * len(months) * len(measures)) % 1000
    data = "\r\n".join(" ".join(map(str, row)) for row in values.reshape(len(months), -1))
    text = (
        'CODEPAGE="utf-8";\r\nLANGUAGE="fi";\r\nSTUB="Kuukausi";\r\nHEADING="Tiedot","Alue";\r\nCONTVARIABLE="Tiedot";\r\n'
        f'VALUES("Kuukausi")={",".join(chr(34) + m + chr(34) for m in months)};\r\n'
        f'VALUES("Tiedot")={",".join(chr(34) + m + chr(34) for m in measures)};\r\n'
        f'VALUES("Alue")={",".join(chr(34) + a + chr(34) for a in areas)};\r\n'
        f'TIMEVAL("Kuukausi")=TLIST(M1),{",".join(chr(34) + m.replace("M", "") + chr(34) for m in months)};\r\n'
        f"DATA=\r\n{data};\r\n"
    )
    import time

    started = time.perf_counter()
    table = parse_statfin(text.encode("utf-8"), name="big.px")
    elapsed = time.perf_counter() - started
    assert table.rows == values.size
    assert table.to_pandas().value.sum() == values.sum()
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert not math.isnan(elapsed)
