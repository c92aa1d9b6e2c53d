"""The domain core: knowledge every stage shares, with no Dagster in it.

- months.py: parse, format and step months; the count date (holidays.py: Finnish holidays)
- identity_codes.py: validate, pseudonymise, detect and redact personal identity codes
- source_registry.py: the register sources, their files and their ingest assets
- landing.py: what has landed in the landing folder, and the files' hashes
- indicators.py: the published indicators, in their contract order
- settings.py: the configuration, read from the environment in one place
- kaira_report.py: the figures KAIRA's final report gives, for calibration
"""
