"""The Dagster automation: what runs by itself where the daemon runs.

- schedule.py: the monthly schedule; sensor.py: the landing sensor;
  failure_alert.py: the run-failure sensor
- decisions.py: their pure decisions; history.py: what the Dagster instance remembers
- alerts.py: alert files (also written by `kaira run`)

The definitions import this package; nothing here imports the CLI (pipelines.cli).
"""
