"""The resident worker (`kaira worker`): a process that has imported Kaira, Dagster, dbt and
Great Expectations once and forks a process for each command handed to it.

server.py is the worker; protocol.py what it and its clients say over its socket; client.py
hands a command over (`kaira run`, `kaira-dbt`); run_launcher.py is the Dagster run launcher
that hands over the runs the daemon launches. Nothing here imports the command line: the
worker's commands come from its caller (pipelines/cli/main.py).
"""
