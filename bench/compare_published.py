"""Are two publications the same? Every table of two `published.duckdb` files and every
Parquet file of their current versions (`published/`), compared row for row, in order.

For a change of the publishing code: publish the same warehouse with the old code into one
folder and with the new code into another, then compare them. Per table, in both formats:

- the same columns with the same types, in the same order;
- the same rows: EXCEPT ALL both ways (duplicates count) of every column plus the row's
  position in the stored order (a DuckDB table's row id order, which is the order a plain
  `select *` returns; a Parquet file's row number), so a row in another place is a difference.

Only what names the run differs between two publications by design and is left out:
`publication.run_id` and `published_at`, `run_checks.run_id` and `checked_at`.

    .venv/bin/python bench/compare_published.py /tmp/flatpublish/w20main/warehouse /tmp/flatpublish/w20/warehouse

Prints one line per table and format; exits with 1 on any difference.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

# Columns that name the run that published: different in any two publications.
RUN_COLUMNS = {"publication": ("run_id", "published_at"), "run_checks": ("run_id", "checked_at")}


def _compare(connection: duckdb.DuckDBPyConnection, label: str, left: str, right: str, table: str) -> bool:
    """`left` and `right` are relations that carry an `ordinal_` column (their stored order)."""
    described = [connection.sql(f"describe select * exclude (ordinal_) from {side}").fetchall() for side in (left, right)]
    schema = [[(row[0], row[1]) for row in rows] for rows in described]
    if schema[0] != schema[1]:
        print(f"{label:<34} DIFFERENT columns: {schema[0]} vs {schema[1]}")
        return False
    excluded = ", ".join(column for column in RUN_COLUMNS.get(table, ()) if column in [c for c, _ in schema[0]])
    select = f"select * exclude (ordinal_{', ' + excluded if excluded else ''}), ordinal_"
    counts = [connection.execute(f"select count(*) from {side}").fetchall()[0][0] for side in (left, right)]
    only_left = connection.execute(f"select count(*) from ({select} from {left} except all {select} from {right})").fetchall()[0][0]
    only_right = connection.execute(f"select count(*) from ({select} from {right} except all {select} from {left})").fetchall()[0][0]
    same = counts[0] == counts[1] and only_left == only_right == 0
    print(f"{label:<34} {'same' if same else 'DIFFERENT'}: rows {counts[0]} / {counts[1]}, "
          f"only in the first {only_left}, only in the second {only_right}"
          f"{f' (not compared: {excluded})' if excluded else ''}")
    return same


def compare(first: Path, second: Path) -> bool:
    connection = duckdb.connect()
    try:
        for alias, folder in (("first_", first), ("second_", second)):
            connection.execute(f"attach ? as {alias} (read_only)", [str(folder / "published.duckdb")])
        tables = [sorted(name for (name,) in connection.execute(
            "select table_name from duckdb_tables() where database_name = ?", [alias]).fetchall())
            for alias in ("first_", "second_")]
        same = tables[0] == tables[1]
        if not same:
            print(f"DIFFERENT tables: {tables[0]} vs {tables[1]}")
        versions = [os.path.realpath(folder / "published") for folder in (first, second)]
        files = [sorted(p.name for p in Path(version).glob("*.parquet")) for version in versions]
        if files[0] != files[1] or files[0] != [f"{t}.parquet" for t in tables[0]]:
            print(f"DIFFERENT Parquet files: {files[0]} vs {files[1]}")
            same = False
        for table in sorted(set(tables[0]) & set(tables[1])):
            for alias in ("first_", "second_"):
                connection.execute(f"create or replace temp view {alias}{table} as select row_number() over "
                                   f"(order by rowid) as ordinal_, * from {alias}.{table}")
            same &= _compare(connection, f"published.duckdb {table}", f"first_{table}", f"second_{table}", table)
        for name in sorted(set(files[0]) & set(files[1])):
            table = name.removesuffix(".parquet")
            for alias, version in zip(("first_", "second_"), versions, strict=True):
                # A temporary copy: the path is a parameter, never SQL text.
                connection.execute(f"create or replace temp table {alias}pq_{table} as select file_row_number as "
                                   "ordinal_, * exclude (file_row_number) from read_parquet(?, file_row_number = true)",
                                   [str(Path(version) / name)])
            same &= _compare(connection, f"parquet {name}", f"first_pq_{table}", f"second_pq_{table}", table)
    finally:
        connection.close()
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", help="a warehouse folder holding published.duckdb and published/")
    parser.add_argument("second", help="another one")
    args = parser.parse_args()
    same = compare(Path(args.first), Path(args.second))
    print("the same publication" if same else "THE PUBLICATIONS DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
