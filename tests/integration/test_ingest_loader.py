"""Loading a month into a real DuckDB warehouse: atomic, idempotent, recorded, and no
identity code anywhere (tables, rejects, logs, errors, quarantine reason files)."""

from __future__ import annotations

import hashlib
import logging
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.core.identity_codes import make_identity_code, pseudonymise
from pipelines.core.settings import load_settings
from pipelines.sources import loader
from pipelines.sources.errors import (
    IngestError,
    MissingDeliveryError,
    PseudonymKeyMissingError,
    RejectLimitExceeded,
    UnexpectedIngestError,
    UnreadableFileError,
)
from pipelines.sources.loader import expected_path, ingest_month, quarantine
from tests.helpers import query

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ingest"
KEY = "integration-test-key-not-secret-32-bytes"
SPELLS = "jobseeker_spells"
PAYMENTS = "kela_payments"
SPELL_HEADER = "henkilotunnus;jakso_id;alkupvm;loppupvm;tila;palvelu;kuntanumero"

CODES = [make_identity_code(date(1960 + i % 40, 1 + i % 12, 1 + i % 28), 900 + i % 100) for i in range(200)]
BAD_CODE = CODES[0][:-1] + ("X" if CODES[0][-1] != "X" else "Y")  # wrong check character


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def make_settings(tmp_path: Path, **overrides):
    env = {
        "KAIRA_LANDING_DIR": str(tmp_path / "landing"),
        "KAIRA_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "KAIRA_QUARANTINE_DIR": str(tmp_path / "quarantine"),
        "KAIRA_PSEUDONYM_KEY": KEY,
    }
    env.update(overrides)
    return load_settings({k: v for k, v in env.items() if v is not None})


def land(settings, source: str, month: str, content: bytes | str | Path) -> Path:
    path = expected_path(source, month, settings.landing_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, Path):
        shutil.copyfile(content, path)
    else:
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def spell_file(n: int, month: str = "2024-03", extra: list[str] | None = None) -> str:
    lines = [SPELL_HEADER] + [f"{CODES[i]};J{month}-{i};{month}-01;;TYOTON;;205" for i in range(n)]
    return "\n".join(lines + (extra or [])) + "\n"


def counts(settings) -> dict[str, int]:
    tables = ("jobseeker_spells", "kela_payments", "rejects", "deliveries")
    return {t: query(settings.warehouse_path, f"select count(*) from raw.{t}")[0][0] for t in tables}


def all_text_in_warehouse(settings) -> str:
    """Every varchar value of every table of the warehouse, concatenated."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
        ).fetchall()
        parts = []
        for schema, table, column in columns:
            parts += [str(v) for (v,) in con.execute(f'select "{column}" from "{schema}"."{table}"').fetchall()]
        return "\n".join(parts)
    finally:
        con.close()


def quarantine_texts(settings) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in Path(settings.quarantine_dir).rglob("*.reason.txt"))


def forms(code: str) -> list[str]:
    """A code with its sign, without it and with a space for it, in both cases."""
    return [f(x) for x in (code, code[:6] + code[7:], code[:6] + " " + code[7:]) for f in (str.upper, str.lower)]


def assert_no_identity_codes(text: str, codes=CODES + [BAD_CODE]):
    leaked = [c for c in codes if any(form in text for form in forms(c))]
    assert not leaked, f"{len(leaked)} identity code(s) leaked"


# --- a good load ------------------------------------------------------------------------


def test_a_month_loads_with_its_delivery_record(settings):
    path = land(settings, SPELLS, "2024-03", FIXTURES / "tyonhakijat_2024-03_legacy_cp1252.csv")
    report = ingest_month(SPELLS, "2024-03", settings)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 6, 0)
    assert report.padded_municipality_codes == 2

    (record,) = query(settings.warehouse_path, "select * from raw.deliveries")
    assert record[:11] == (
        SPELLS,
        date(2024, 3, 1),
        "tyonhakijat/tyonhakijat_2024-03.csv",
        hashlib.sha256(path.read_bytes()).hexdigest(),
        "windows-1252",
        ";",
        6,
        6,
        0,
        "kunta_nimi",
        record[10],
    )
    assert isinstance(record[10], datetime)
    assert query(settings.warehouse_path, "select distinct source_file from raw.jobseeker_spells") == [("tyonhakijat/tyonhakijat_2024-03.csv",)]
    assert query(settings.warehouse_path, "select count(distinct person_id) from raw.jobseeker_spells") == [(5,)]


def test_both_registers_give_one_person_the_same_pseudonym(settings):
    land(settings, SPELLS, "2024-03", FIXTURES / "tyonhakijat_2024-03_canonical.csv")
    land(settings, PAYMENTS, "2024-03", FIXTURES / "tmt_2024-03_comma_bom.csv")
    ingest_month(SPELLS, "2024-03", settings)
    ingest_month(PAYMENTS, "2024-03", settings)
    joined = query(
        settings.warehouse_path,
        "select count(distinct s.person_id) from raw.jobseeker_spells s join raw.kela_payments k using (person_id)",
    )
    assert joined == [(2,)]  # the two people in both fixtures
    expected = pseudonymise(make_identity_code(date(1970, 1, 1), 901), KEY)
    assert (expected,) in query(settings.warehouse_path, "select person_id from raw.kela_payments")


def test_no_identity_code_reaches_the_warehouse_logs_or_quarantine(settings, caplog):
    caplog.set_level(logging.DEBUG)
    extra = [
        f"{BAD_CODE};J-bad;2024-03-01;;TYOTON;;205",  # invalid code: rejected
        f"{CODES[150]};J-x;2024-03-01;;NOPE;;205",  # valid code, bad row: rejected
        f"{CODES[151]};J-y;2024-03-01",  # wrong field count
    ]
    land(settings, SPELLS, "2024-03", spell_file(100, extra=extra))
    report = ingest_month(SPELLS, "2024-03", make_settings(Path(settings.landing_dir).parent, KAIRA_REJECT_LIMIT="0.5"))
    assert report.rows_rejected == 3

    # A month that fails on the reject limit and an unreadable one write quarantine files.
    land(settings, SPELLS, "2024-04", spell_file(5, "2024-04", extra=[f"{BAD_CODE};J1;2024-04-01;;TYOTON;;205"] * 3))
    with pytest.raises(RejectLimitExceeded) as limit_error:
        ingest_month(SPELLS, "2024-04", settings)
    land(settings, SPELLS, "2024-05", f"{CODES[3]};J1;2024-05-01;;TYOTON;;205\n")  # no header
    with pytest.raises(UnreadableFileError) as unreadable:
        ingest_month(SPELLS, "2024-05", settings)

    assert_no_identity_codes(all_text_in_warehouse(settings))
    assert_no_identity_codes(caplog.text)
    assert_no_identity_codes(str(limit_error.value) + str(unreadable.value))
    assert len(list(Path(settings.quarantine_dir).rglob("*.reason.txt"))) == 2
    assert_no_identity_codes(quarantine_texts(settings))


def test_connection_is_closed_after_the_load(settings):
    land(settings, SPELLS, "2024-03", spell_file(3))
    ingest_month(SPELLS, "2024-03", settings)
    # A read-only connection in the same process fails while a read-write one is open.
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    con.close()


# --- idempotence ------------------------------------------------------------------------


def test_reingesting_a_month_changes_no_count_and_replaces_content(settings):
    land(settings, SPELLS, "2024-02", spell_file(4, "2024-02"))
    land(settings, SPELLS, "2024-03", spell_file(10, extra=[f"{CODES[20]};J-bad;2024-03-01;;NOPE;;205"]))
    land(settings, PAYMENTS, "2024-03", FIXTURES / "tmt_2024-03_canonical.csv")
    limit = make_settings(Path(settings.landing_dir).parent, KAIRA_REJECT_LIMIT="0.2")
    for source, month in ((SPELLS, "2024-02"), (SPELLS, "2024-03"), (PAYMENTS, "2024-03")):
        ingest_month(source, month, limit)
    before = counts(settings)
    assert before == {"jobseeker_spells": 14, "kela_payments": 4, "rejects": 1, "deliveries": 3}

    ingest_month(SPELLS, "2024-03", limit)
    ingest_month(PAYMENTS, "2024-03", limit)
    after = counts(settings)
    assert {k: v for k, v in after.items() if k != "deliveries"} == {k: v for k, v in before.items() if k != "deliveries"}
    assert after["deliveries"] == before["deliveries"] + 2  # every load is recorded

    # A redelivery with changed content replaces the month, and only that month.
    land(settings, SPELLS, "2024-03", spell_file(10).replace(";205\n", ";765\n"))
    ingest_month(SPELLS, "2024-03", limit)
    assert query(settings.warehouse_path, "select municipality_code, count(*) from raw.jobseeker_spells where delivery_month = '2024-03-01' group by 1") == [("765", 10)]
    assert query(settings.warehouse_path, "select count(*) from raw.jobseeker_spells where delivery_month = '2024-02-01'") == [(4,)]
    assert query(settings.warehouse_path, "select count(*) from raw.rejects") == [(0,)]  # the month's rejects replaced too
    latest = query(
        settings.warehouse_path,
        "select sha256 from raw.deliveries where source = 'jobseeker_spells' and delivery_month = '2024-03-01' "
        "order by loaded_at desc limit 1",
    )
    path = expected_path(SPELLS, "2024-03", settings.landing_dir)
    assert latest == [(hashlib.sha256(path.read_bytes()).hexdigest(),)]


def test_a_failed_write_rolls_back_the_whole_month(settings):
    land(settings, SPELLS, "2024-03", spell_file(5))
    ingest_month(SPELLS, "2024-03", settings)
    # Sabotage the deliveries table so the last statement of the transaction fails.
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create table raw.sabotaged as select * from raw.deliveries")
    con.execute("drop table raw.deliveries")
    con.execute("create table raw.deliveries as select *, 'x' as must_be_set from raw.sabotaged")
    con.execute("alter table raw.deliveries alter column must_be_set set not null")
    con.close()
    land(settings, SPELLS, "2024-03", spell_file(8))
    with pytest.raises(duckdb.Error):
        ingest_month(SPELLS, "2024-03", settings)
    assert query(settings.warehouse_path, "select count(*) from raw.jobseeker_spells") == [(5,)]


# --- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        (b"henkilotunnus;jakso_id;alkupvm;loppupvm;tila;kuntanumero\n1;2;3;4;5;6\n", 1, "missing required column(s) palvelu"),
        (bytes(range(256)) * 64, None, "not a CSV text file"),
        (b"", 1, "the file is empty"),
    ],
)
def test_an_unreadable_file_is_quarantined_and_loads_nothing(settings, content, line, problem):
    land(settings, SPELLS, "2024-02", spell_file(3, "2024-02"))
    ingest_month(SPELLS, "2024-02", settings)
    before = counts(settings)

    path = land(settings, SPELLS, "2024-03", content)
    with pytest.raises(UnreadableFileError) as caught:
        ingest_month(SPELLS, "2024-03", settings)
    message = str(caught.value)
    assert message.startswith("tyonhakijat/tyonhakijat_2024-03.csv, line ")
    if line is not None:
        assert caught.value.line == line
    assert problem in message
    assert counts(settings) == before

    (copy,) = (Path(settings.quarantine_dir) / SPELLS / "2024-03").glob("*_tyonhakijat_2024-03.csv")
    assert copy.read_bytes() == content  # kept as delivered
    assert str(copy) in message
    reason = copy.with_name(copy.name + ".reason.txt").read_text(encoding="utf-8")
    assert problem in reason
    assert path.exists()  # copied, not moved: the landing folder is the source's


def test_reject_share_above_the_limit_fails_the_month_and_loads_nothing(settings):
    land(settings, SPELLS, "2024-03", spell_file(5))
    ingest_month(SPELLS, "2024-03", settings)
    before = counts(settings)

    bad = [f"{CODES[50 + i]};B{i};2024-03-01;;NOPE;;205" for i in range(3)]
    land(settings, SPELLS, "2024-03", spell_file(97, extra=bad[:2]))  # 2 of 99: 2.02 % > 1 %
    with pytest.raises(RejectLimitExceeded) as caught:
        ingest_month(SPELLS, "2024-03", settings)
    message = str(caught.value)
    assert "tyonhakijat/tyonhakijat_2024-03.csv: 2 of 99 rows rejected (2.02%), above the limit of 1.00%" in message
    assert "line 99: tila is not one of" in message and "line 100:" in message
    assert counts(settings) == before  # the earlier delivery of the month is untouched
    assert query(settings.warehouse_path, "select count(*) from raw.jobseeker_spells") == [(5,)]
    (reason_file,) = (Path(settings.quarantine_dir) / SPELLS / "2024-03").glob("*.reason.txt")
    assert "line 100: tila is not one of" in reason_file.read_text(encoding="utf-8")

    land(settings, SPELLS, "2024-03", spell_file(99, extra=bad[:1]))  # 1 of 100: exactly 1 %, allowed
    assert ingest_month(SPELLS, "2024-03", settings).rows_rejected == 1


def test_missing_file_names_the_expected_path(settings):
    with pytest.raises(MissingDeliveryError) as caught:
        ingest_month(PAYMENTS, "2024-03", settings)
    expected = Path(settings.landing_dir) / "kela" / "tmt_2024-03.csv"
    assert str(expected) in str(caught.value)
    assert not settings.warehouse_path.exists()


def test_no_key_no_reading(tmp_path, monkeypatch):
    settings = make_settings(tmp_path, KAIRA_PSEUDONYM_KEY=None)
    land(settings, SPELLS, "2024-03", b"\x00garbage")

    def refuse(*args, **kwargs):
        raise AssertionError("the file was read without a key")

    monkeypatch.setattr("pipelines.sources.loader.read_landing_csv", refuse)
    with pytest.raises(PseudonymKeyMissingError, match="KAIRA_PSEUDONYM_KEY"):
        ingest_month(SPELLS, "2024-03", settings)
    assert not Path(settings.quarantine_dir).exists()
    assert not settings.warehouse_path.exists()


def test_unknown_source_and_bad_month_are_refused(settings):
    with pytest.raises(ValueError, match="unknown source"):
        ingest_month("kela_avoin", "2024-03", settings)
    with pytest.raises(ValueError, match="not a month"):
        ingest_month(SPELLS, "2024-13", settings)


def test_extra_columns_are_logged_once(settings, caplog):
    caplog.set_level(logging.INFO)
    land(settings, SPELLS, "2024-03", FIXTURES / "tyonhakijat_2024-03_canonical.csv")
    ingest_month(SPELLS, "2024-03", settings)
    messages = [r.getMessage() for r in caplog.records if "ignored extra column" in r.getMessage()]
    assert messages == ["tyonhakijat/tyonhakijat_2024-03.csv: ignored extra column(s): kunta_nimi"]


def test_benchmark_generator_files_ingest_cleanly(settings):
    """The generator behind bench/bench_ingest.py keeps producing valid files."""
    from bench.bench_ingest import MONTH, payments_frame, spells_frame

    for source, frame in ((SPELLS, spells_frame(3000)), (PAYMENTS, payments_frame(3000))):
        path = expected_path(source, MONTH, settings.landing_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, sep=";", index=False)
        report = ingest_month(source, MONTH, settings)
        assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (3000, 3000, 0)


# --- identity codes never leave ingest ---------------------------------------------------


def test_a_code_as_a_column_name_is_counted_not_named_in_the_delivery_record_and_the_log(settings, caplog):
    caplog.set_level(logging.INFO)
    header = f"{SPELL_HEADER};{CODES[7].lower()};kunta_nimi;{CODES[8][:6]} {CODES[8][7:]}"
    lines = [header] + [f"{CODES[i]};J{i};2024-03-01;;TYOTON;;205;x;Kajaani;y" for i in range(5)]
    land(settings, SPELLS, "2024-03", "\n".join(lines) + "\n")
    report = ingest_month(SPELLS, "2024-03", settings)
    assert report.ignored_columns == ("kunta_nimi", "2 unnamed/unsafe columns")
    assert query(settings.warehouse_path, "select ignored_columns from raw.deliveries") == [("kunta_nimi,2 unnamed/unsafe columns",)]
    assert "ignored extra column(s): kunta_nimi, 2 unnamed/unsafe columns" in caplog.text
    assert_no_identity_codes(all_text_in_warehouse(settings) + caplog.text, CODES[7:9])


def test_a_header_less_file_with_a_spaced_code_leaves_no_trace_of_it(settings, caplog):
    code = CODES[9]
    first = f"{code[:6]} {code[7:].lower()};2024-03;205;TMT;21;100;512.40;0"
    land(settings, PAYMENTS, "2024-03", f"{first}\n{CODES[10]};2024-03;205;TMT;21;100;512.40;0\n")
    with pytest.raises(UnreadableFileError) as caught:
        ingest_month(PAYMENTS, "2024-03", settings)
    assert "the first line looks like data, not a header: the file has no header line (8 field(s)" in str(caught.value)
    assert "2024-03;205" not in str(caught.value) and "512.40" not in str(caught.value)
    assert_no_identity_codes(str(caught.value) + caplog.text + quarantine_texts(settings), [code, CODES[10]])


def test_an_unexpected_error_leaves_ingest_redacted_and_without_the_original_chained(settings, monkeypatch, caplog):
    land(settings, SPELLS, "2024-03", spell_file(3))

    def failing_validation(landing, month, key):
        raise ValueError(f"could not convert {landing.rows['henkilotunnus'].iloc[0].lower()!r}")

    spec = loader.SOURCES[SPELLS]
    monkeypatch.setitem(loader.SOURCES, SPELLS, loader.SourceSpec(spec.registry, spec.columns, spec.raw_columns,
                                                                   failing_validation))
    with pytest.raises(UnexpectedIngestError) as caught:
        ingest_month(SPELLS, "2024-03", settings)
    error = caught.value
    assert isinstance(error, IngestError)
    assert str(error).startswith("tyonhakijat/tyonhakijat_2024-03.csv: unexpected ValueError while reading or "
                                 "validating the file: could not convert '[redacted]'")
    assert error.__cause__ is None and error.__suppress_context__
    assert "Traceback" in caplog.text and "[redacted]" in caplog.text  # the redacted trace, for the developer
    assert_no_identity_codes(str(error) + repr(error.args) + caplog.text, CODES[:3])
    assert not settings.warehouse_path.exists()


def test_error_texts_and_quarantine_reasons_are_redacted_whatever_built_them(settings, tmp_path):
    code = CODES[11]
    for error in (
        IngestError(f"value {code.lower()}"),
        UnreadableFileError("x.csv", 3, f"near {code[:6]} {code[7:]}"),
        RejectLimitExceeded(f"first: {code[:6]}{code[7:]}", file="x.csv", rows_read=1, rows_rejected=1, limit=0.1),
    ):
        error.quarantined_to = f"/q/{code}.csv"  # not a real path, a test of the last line of defence
        assert "[redacted]" in str(error)
        assert_no_identity_codes(str(error) + repr(error.args), [code])
    assert UnreadableFileError("x.csv", 3, f"near {code}").problem == "near [redacted]"

    source = tmp_path / "tmt_2024-03.csv"
    source.write_text("whatever\n", encoding="utf-8")
    copy = quarantine(source, PAYMENTS, date(2024, 3, 1), settings.quarantine_dir, f"line 2: {code.lower()}")
    assert copy.with_name(copy.name + ".reason.txt").read_text(encoding="utf-8") == "line 2: [redacted]\n"
