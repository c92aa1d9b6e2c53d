"""The warehouse stage: dbt on DuckDB, wired into Dagster."""
