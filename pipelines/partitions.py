"""The monthly partitions shared by every stage, and the pool of warehouse writers."""

import dagster as dg

# The registers are delivered after a month ends, so the last partition is the last
# complete month (end_offset=0). The first is early enough for any history we hold;
# months without files fail their ingest with the expected path named.
MONTHLY_PARTITIONS = dg.MonthlyPartitionsDefinition(
    start_date="2000-01-01", end_offset=0, timezone="Europe/Helsinki"
)

# DuckDB allows one writing process per file: every step that writes the working
# warehouse runs in this pool, whose limit is 1 (dagster.yaml).
WAREHOUSE_WRITER_POOL = "warehouse_writer"
