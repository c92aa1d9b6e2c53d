"""Operating the pipeline.

- commands.py: `kaira run` (progress.py, summary.py), `kaira demo`, `kaira calibrate`
- automation.py: the monthly schedule, the landing sensor, the run-failure alert (Dagster)
- decisions.py: their pure decisions; landing.py: the landing folder; history.py: the instance
- alerts.py: alert files; run_lock.py: one writer at a time; dagster_home.py: $DAGSTER_HOME
"""
