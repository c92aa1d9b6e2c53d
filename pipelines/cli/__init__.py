"""The `kaira` command line of the data engineer.

- main.py: the argument parser and the entry point
- commands.py: `kaira run`, `kaira demo`, `kaira repseudonymise`; report_command.py: `kaira report`;
  sample_command.py: `kaira sample`; calibrate_command.py: `kaira calibrate`
- runner.py: runs months through Dagster in this process; progress.py: a line per step;
  summary.py: the summary at the end; run_lock.py: one writer at a time;
  dagster_home.py: the Dagster instance the CLI uses

The CLI may import the automation (alerts, run history); the automation never imports the CLI.
"""
