"""The published contract: one schema definition in code, its page generated from it, and a
version that is raised on every change, which may only add."""

import copy

import pytest

from pipelines.publish.tables import (
    PUBLICATION_COLUMNS,
    PUBLISHED_TABLES,
    SCHEMA_VERSION,
    published_schema,
    schema_fingerprint,
)
from tools.published_contract import DOC, contract_breaks, load_record, regenerate


def test_the_contract_page_is_generated_from_the_code_and_is_current():
    current = DOC.read_text(encoding="utf-8")
    assert regenerate(current) == current, "docs/published-tables.md is stale: run tools/published_contract.py"
    for table in PUBLISHED_TABLES:
        assert f"<!-- generated: columns of {table.name} -->" in current
        for column in table.columns:
            assert f"| `{column.name}` | {column.type} |" in current


def test_the_published_columns_are_the_current_versions_recorded_columns():
    record = load_record()
    assert SCHEMA_VERSION in record, (
        f"schema version {SCHEMA_VERSION} is not recorded: run tools/published_contract.py --record"
    )
    assert published_schema() == record[SCHEMA_VERSION]["tables"], (
        "the published tables' columns changed without a new schema version: add columns only at the end, "
        "raise SCHEMA_VERSION in pipelines/publish/tables.py and run tools/published_contract.py --record"
    )
    assert schema_fingerprint() == record[SCHEMA_VERSION]["fingerprint"]


def test_every_recorded_version_only_adds_to_the_one_before():
    record = load_record()
    assert sorted(record) == list(range(1, SCHEMA_VERSION + 1))
    for version in sorted(record)[1:]:
        old, new = record[version - 1]["tables"], record[version]["tables"]
        assert old != new, f"version {version} records no change"
        assert contract_breaks(old, new) == [], f"version {version} breaks the contract"
    for version, entry in record.items():
        assert schema_fingerprint(entry["tables"]) == entry["fingerprint"], f"version {version} was edited"


def test_the_version_is_published_as_the_last_column_of_publication():
    assert list(PUBLICATION_COLUMNS)[-1] == "schema_version"
    assert PUBLICATION_COLUMNS["schema_version"] == "INTEGER"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s["indicators_monthly"].__setitem__(7, ["figure", "DOUBLE"]), "column 8 was value DOUBLE, is now figure DOUBLE"),
        (lambda s: s["indicators_monthly"].__setitem__(7, ["value", "DECIMAL(18,2)"]), "is now value DECIMAL(18,2)"),
        (lambda s: s["run_checks"].pop(), "run_checks.observed removed"),
        (lambda s: s.pop("target_followup"), "table target_followup removed"),
        (lambda s: s["publication"].insert(0, ["new_first", "VARCHAR"]), "column 1 was run_id VARCHAR"),
    ],
)
def test_a_rename_removal_retype_or_insertion_is_a_break(change, expected):
    old = published_schema()
    new = copy.deepcopy(old)
    change(new)
    assert any(expected in message for message in contract_breaks(old, new))
    assert schema_fingerprint(new) != schema_fingerprint(old)


def test_adding_a_column_at_the_end_or_a_table_is_no_break():
    old = published_schema()
    new = copy.deepcopy(old)
    new["publication"].append(["added_later", "VARCHAR"])
    new["a_later_table"] = [["month", "DATE"]]
    assert contract_breaks(old, new) == []


def test_a_new_table_without_prose_still_gets_its_columns_on_the_page(monkeypatch):
    from pipelines.publish import tables
    from tools import published_contract

    extra = tables.PublishedTable(
        "a_later_table", "one row per (`source_table`, `month`)", (tables.Column("month", "DATE", "the month"),)
    )
    monkeypatch.setattr(published_contract, "PUBLISHED_TABLES", (*tables.PUBLISHED_TABLES, extra))
    page = published_contract.regenerate(DOC.read_text(encoding="utf-8"))
    assert "## `a_later_table`" in page
    assert "<!-- generated: columns of a_later_table -->\n| column | type | meaning |" in page
    assert "| `month` | DATE | the month |" in page
