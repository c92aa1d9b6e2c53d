"""Ingest of the person-level registers: landing CSV -> validated, pseudonymised rows in
the warehouse's `raw` schema (see loader.ingest_month and assets.py)."""
