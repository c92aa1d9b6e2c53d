"""Validation: Great Expectations 1.x suites (expectations/*.json) run on frames read
read-only from the warehouse, reported as Dagster asset checks.

- relations.py  pure helper columns for the relations GX has no expectation for;
- gx_runner.py  suite files, validation, outcomes (imports great_expectations lazily);
- checks.py     the Dagster asset-check factory and the warehouse reader;
- report.py     the self-contained HTML validation report.

Nothing here imports great_expectations at import time.
"""
