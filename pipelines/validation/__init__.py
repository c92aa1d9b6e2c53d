"""Validation: Great Expectations 1.x suites (expectations/*.json) run on the warehouse's
rows grouped by DuckDB where they lie (read-only), reported as Dagster asset checks; and
the run's report.

Who checks what (one owner per data rule; docs/decisions.md, "Who checks what"):

- dbt, in the models' YAML: each table's declared columns (not null, unique grain,
  accepted values) and the relations between the rows of the marts (counts not negative,
  total = male + female, region = sum of its municipalities, structural = sum of its
  four groups; generic tests in dbt_project/tests/generic). Severity error: blocking.
- GX, here: what a declaration cannot say, on the run's months: formats, ranges,
  columns compared within a row, a person's classification, the Kela counter from row
  to row (never decreases: error; rises by the paid days: warn) and the invoiced
  against the recomputed municipal share (warn).
- the published-table checks (published.py), declared on `published_tables` and run
  on the frame about to be published, before the swap: no count 1..threshold-1, valid
  statuses, NULL exactly where there is no figure, no relation with a single
  recoverable suppressed cell, no identity-code-like text, published indicators only.
- pytest asserts the pipeline's behaviour (a broken input fails the named check and
  publishes nothing), not the rules again.

Modules:
- relations.py   helper columns for the rules GX has no expectation for (SQL for the
                 warehouse suites, pandas for the published table);
- pushdown.py    a suite's rows grouped in DuckDB into the few classes GX validates;
- gx_runner.py   suite files, validation, outcomes counted in rows (imports
                 great_expectations lazily);
- checks.py      the Dagster asset-check factory, the warehouse readers;
- warehouse_checks.py  the run's checks on the staging views and the marts;
- published.py   the published-table checks;
- run_record.py  what the run's checks said: the run_checks rows and the run's report;
- report.py      the self-contained HTML validation report.

Nothing here imports great_expectations at import time.
"""
