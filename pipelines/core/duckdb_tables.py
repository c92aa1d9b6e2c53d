"""Whether a table exists in an open DuckDB database.

The working warehouse and the published file gain tables as a deployment grows (the marts
after the first register month, the official tables after the first StatFin file), so many
readers ask this before reading; they all ask it here.
"""

from __future__ import annotations


def table_exists(connection, schema: str, table: str) -> bool:
    """`schema.table` exists in the database of `connection` (a DuckDB connection); the
    published file's tables are in schema `main`."""
    (count,) = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(count)
