"""The models classify persons on `person_key`, the first 128 bits of the pseudonym as an
integer, and fct_person_month_status gives the pseudonym back. Two pseudonyms sharing a
key would merge two persons: the staging test person_key_has_one_pseudonym must stop the
build before the mart instead.

A warehouse of the test's own gets a raw delivery of three unemployed persons, written
straight into the raw tables as ingest would, and `dbt build` runs as production runs it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.sources.raw_schema import DDL, RAW_SCHEMA
from tests.helpers import dbt, query

PREFIX = "0123456789abcdef" * 2  # the 32 hex characters that make the key
PERSON_A = PREFIX + "a" * 32
PERSON_B = "fedcba9876543210" * 2 + "b" * 32
PERSON_B_COLLIDING = PREFIX + "b" * 32  # same key as PERSON_A, another person


def warehouse_with(folder: Path, persons: list[str]) -> Path:
    connection = duckdb.connect(str(folder / "kaira.duckdb"))
    try:
        connection.execute(f"create schema {RAW_SCHEMA}")
        for ddl in DDL.values():
            connection.execute(ddl)
        for line, person in enumerate(persons, start=2):
            connection.execute(
                "insert into raw.jobseeker_spells values ('2024-01-01', 'spells.csv', ?, ?, '1980-05-05', "
                "'male', ?, '2023-01-02', null, 'TYOTON', null, '205')",
                [line, person, f"S{line}"],
            )
        connection.execute(
            "insert into raw.deliveries values ('jobseeker_spells', '2024-01-01', 'spells.csv', 'x', 'utf-8', "
            "';', ?, ?, 0, null, now(), null)",
            [len(persons), len(persons)],
        )
    finally:
        connection.close()
    return folder / "kaira.duckdb"


def build(folder: Path):
    return dbt(folder, "build", "--select", "+fct_person_month_status", "--exclude-resource-type", "unit_test")


def status_of(done, name: str) -> str:
    return next(r["status"] for r in done.results if r["unique_id"].split(".")[2] == name)


def test_the_mart_shows_each_persons_whole_pseudonym(tmp_path):
    database = warehouse_with(tmp_path, [PERSON_A, PERSON_B])
    done = build(tmp_path)
    assert done.returncode == 0, done.output[-4000:]
    assert status_of(done, "person_key_has_one_pseudonym") == "pass"
    rows = query(database, "select person_id, is_long_term_unemployed from marts.fct_person_month_status")
    assert sorted(rows) == [(PERSON_A, True), (PERSON_B, True)]


def test_two_pseudonyms_with_one_key_fail_the_build_before_the_mart(tmp_path):
    warehouse_with(tmp_path, [PERSON_A, PERSON_B_COLLIDING, PERSON_B])
    done = build(tmp_path)
    assert done.returncode != 0
    assert status_of(done, "person_key_has_one_pseudonym") == "fail"
    assert status_of(done, "fct_person_month_status") == "skipped"


@pytest.mark.parametrize("pseudonym", ["not-a-hex-pseudonym", "g" * 64])
def test_a_pseudonym_that_is_not_hex_fails_the_build(tmp_path, pseudonym):
    warehouse_with(tmp_path, [PERSON_A, pseudonym])
    done = build(tmp_path)
    assert done.returncode != 0
    assert status_of(done, "fct_person_month_status") != "success"
