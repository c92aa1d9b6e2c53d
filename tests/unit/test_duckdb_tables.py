import duckdb

from pipelines.core.duckdb_tables import table_exists


def test_a_table_exists_only_in_its_own_schema(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.fct_indicators_monthly (month date)")
    con.execute("create table official_reconciliation (month date)")
    assert table_exists(con, "marts", "fct_indicators_monthly")
    assert table_exists(con, "main", "official_reconciliation")
    assert not table_exists(con, "main", "fct_indicators_monthly")  # another schema's table
    assert not table_exists(con, "raw", "deliveries")
