"""The published contract's page and record, generated from the one schema definition in code
(pipelines/publish/tables.py: PUBLISHED_TABLES and SCHEMA_VERSION).

    .venv/bin/python tools/published_contract.py            rewrite docs/published-tables.md
    .venv/bin/python tools/published_contract.py --check    exit 1 if the page is stale
    .venv/bin/python tools/published_contract.py --record   record the current schema as SCHEMA_VERSION

The page's prose is written by hand; each table's column list, the list of files and the
version line sit between `<!-- generated: ... -->` and `<!-- end generated -->` markers and
are rewritten from the code, so they cannot drift. A table with no section on the page gets
one appended. The record (tests/fixtures/published_schema.json) keeps the columns of every
schema version; tests/unit/test_published_contract.py fails when the code's tables differ
from the current version's record, or when a version renamed, removed, retyped or reordered
anything of the one before.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from pipelines.publish.tables import PUBLISHED_TABLES, SCHEMA_VERSION, published_schema, schema_fingerprint

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "published-tables.md"
RECORD = REPO / "tests" / "fixtures" / "published_schema.json"
BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z_ ]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.DOTALL)


def _columns(table) -> str:
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{column.name}` | {column.type} | {column.meaning} |" for column in table.columns]
    return "\n".join(lines) + "\n"


def _files() -> str:
    names = [table.name for table in PUBLISHED_TABLES]
    database = ", ".join(f"`{name}`" for name in names)
    parquet = ", ".join(f"`published/{name}.parquet`" for name in names)
    return (
        "| file | contents |\n|---|---|\n"
        f"| `published.duckdb` | one DuckDB file with the tables {database} |\n"
        f"| {parquet} | the same tables as Parquet files |\n"
    )


def _version() -> str:
    return (
        f"**Schema version {SCHEMA_VERSION}** (fingerprint `{schema_fingerprint()}`): the value of "
        "`publication.schema_version` in files that follow this page.\n"
    )


def blocks() -> dict[str, str]:
    """Marker name -> the generated Markdown between the markers."""
    generated = {"files": _files(), "version": _version()}
    generated.update({f"columns of {table.name}": _columns(table) for table in PUBLISHED_TABLES})
    return generated


def regenerate(text: str) -> str:
    generated = blocks()
    seen: set[str] = set()

    def replace(match: re.Match) -> str:
        name = match.group("name").strip()
        if name not in generated:
            raise ValueError(f"docs/published-tables.md has a generated block {name!r} that the code does not define")
        seen.add(name)
        return match.group(1) + generated[name] + match.group(4)

    text = BLOCK.sub(replace, text)
    for table in PUBLISHED_TABLES:
        name = f"columns of {table.name}"
        if name not in seen:  # a new table: documented at the end until someone writes its prose
            text = text.rstrip("\n") + (
                f"\n\n## `{table.name}`\n\nOne row per {table.grain.removeprefix('one row per ')}.\n\n"
                f"<!-- generated: {name} -->\n{generated[name]}<!-- end generated -->\n"
            )
    return text


# --- the record of schema versions -------------------------------------------------------------


def load_record(path: Path = RECORD) -> dict[int, dict]:
    return {int(version): entry for version, entry in json.loads(path.read_text(encoding="utf-8")).items()}


def contract_breaks(old: dict[str, list[list[str]]], new: dict[str, list[list[str]]]) -> list[str]:
    """What `new` does to `old` that the contract forbids: a table removed, or a column
    renamed, removed, retyped or moved (new columns may only follow the old ones)."""
    breaks = []
    for table, columns in old.items():
        if table not in new:
            breaks.append(f"table {table} removed")
            continue
        for position, (name, kind) in enumerate(columns):
            if position >= len(new[table]):
                breaks.append(f"{table}.{name} removed")
            elif new[table][position] != [name, kind]:
                now = new[table][position]
                breaks.append(f"{table}: column {position + 1} was {name} {kind}, is now {now[0]} {now[1]}")
    return breaks


def _record_text(record: dict[int, dict]) -> str:
    """JSON with one column a line, so a new version reads as a diff of columns."""
    versions = []
    for version in sorted(record):
        tables = []
        for table, columns in record[version]["tables"].items():
            lines = ",\n".join(f"        {json.dumps(column, ensure_ascii=False)}" for column in columns)
            tables.append(f'      "{table}": [\n{lines}\n      ]')
        versions.append(
            f'  "{version}": {{\n    "fingerprint": "{record[version]["fingerprint"]}",\n'
            f'    "tables": {{\n' + ",\n".join(tables) + "\n    }\n  }"
        )
    return "{\n" + ",\n".join(versions) + "\n}\n"


def record_current(path: Path = RECORD) -> str:
    record = load_record(path) if path.exists() else {}
    schema = published_schema()
    if SCHEMA_VERSION in record:
        if record[SCHEMA_VERSION]["tables"] == schema:
            return f"version {SCHEMA_VERSION} is recorded already"
        raise SystemExit(
            f"version {SCHEMA_VERSION} is recorded with other columns: raise SCHEMA_VERSION in "
            "pipelines/publish/tables.py (never rewrite a published version)"
        )
    record[SCHEMA_VERSION] = {"fingerprint": schema_fingerprint(schema), "tables": schema}
    path.write_text(_record_text(record), encoding="utf-8")
    return f"recorded version {SCHEMA_VERSION} ({schema_fingerprint(schema)}) in {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/published-tables.md is stale")
    parser.add_argument("--record", action="store_true", help="record the current schema as SCHEMA_VERSION")
    args = parser.parse_args(argv)
    if args.record:
        print(record_current())
        return 0
    current = DOC.read_text(encoding="utf-8")
    fresh = regenerate(current)
    if args.check:
        if fresh != current:
            print(f"{DOC} is stale: run tools/published_contract.py", file=sys.stderr)
            return 1
        return 0
    if fresh != current:
        DOC.write_text(fresh, encoding="utf-8")
        print(f"rewrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
