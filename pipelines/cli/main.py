"""`kaira`: the command line of the data engineer.

    kaira sample   write synthetic landing files (the embedded demo data)
    kaira run      process a range of months through Dagster (ingest, dbt, checks, publish)
    kaira demo     the README's first command: a sample if the landing folder is empty, then run
    kaira report   the follow-up reports (HTML and PDF) from the published tables
    kaira dashboard  the Finnish dashboard (Streamlit) over the published tables
    kaira repseudonymise  after a change of the key: reload every landed month with the new key
    kaira calibrate  the synthetic sample against the official unemployed and KAIRA's reported figures
    kaira worker   keep Kaira imported between runs: `kaira run` and the daemon's runs start in a fork of it

Each subcommand imports what it needs when it runs: Dagster and dbt take seconds to import.
"""

from __future__ import annotations

import argparse
import sys

# The commands a running `kaira worker` takes (pipelines/worker/server.py): the ones that run
# the pipeline, whose imports are most of a month's fixed cost.
WORKER_COMMANDS = ("run",)


def build_parser() -> argparse.ArgumentParser:
    from pipelines.cli.calibrate_command import add_calibrate_parser
    from pipelines.cli.dashboard_command import add_dashboard_parser
    from pipelines.cli.report_command import add_report_parser
    from pipelines.cli.sample_command import add_sample_parser

    parser = argparse.ArgumentParser(prog="kaira", description=__doc__.split("\n\n")[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_sample_parser(subparsers)
    add_report_parser(subparsers)
    add_dashboard_parser(subparsers)

    from pipelines.cli.commands import add_operation_parsers

    add_operation_parsers(subparsers)
    add_calibrate_parser(subparsers)
    add_worker_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in WORKER_COMMANDS and not {"-h", "--help"} & set(argv):
        from pipelines.worker.client import run_in_worker

        code = run_in_worker("kaira", argv)
        if code is not None:
            return code
    return run_here(argv)


def run_here(argv: list[str]) -> int:
    """The command in this process (what a worker's forked process runs too)."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


def add_worker_parser(subparsers) -> argparse.ArgumentParser:
    # Here, beside run_here: the worker runs this module's commands, and a module of its own
    # would import this one back.
    parser = subparsers.add_parser(
        "worker",
        help="keep Kaira imported between runs; `kaira run`, the daemon's runs and dbt then start in a fork of it",
        description="A resident process that imports Kaira, Dagster, dbt and Great Expectations once and "
        "forks a fresh process for each `kaira run`, each run Dagster's daemon launches and each dbt invocation "
        "of this installation, saving their imports (a few seconds a run). Runs in the foreground until SIGTERM "
        "or Ctrl-C; commands running "
        "then finish. It never holds the pseudonymisation key: each run's own process does. "
        "Its socket: KAIRA_WORKER_SOCKET, else one per installation.",
    )
    parser.set_defaults(handler=worker_command)
    return parser


def worker_command(args: argparse.Namespace) -> int:
    import os

    from pipelines.core.settings import child_environment, secrets_in_environment, worker_socket
    from pipelines.warehouse.dbt_command import run_dbt_here
    from pipelines.worker.run_launcher import EXECUTE_RUN_COMMAND, execute_run
    from pipelines.worker.server import serve

    if not sys.platform.startswith("linux"):
        # It checks its peers' user with SO_PEERCRED and reaps orphans as a subreaper: Linux's.
        print("kaira worker: runs on Linux only; `kaira run` works without it", file=sys.stderr)
        return 2
    if secrets_in_environment():
        # Started from a shell that holds the key: the worker must not, not even in the
        # environment block its process began with. The same command again without it.
        os.execve(sys.executable, [sys.executable, "-m", "pipelines.cli.main", "worker"], child_environment())
    path = worker_socket()  # where this installation's commands look for it
    if path is None:
        print("kaira worker: KAIRA_WORKER=off turns the worker off; unset it to start one", file=sys.stderr)
        return 2
    build_parser()  # every subcommand's module, imported once
    try:
        return serve(path.absolute(), {"kaira": run_here, "kaira-dbt": run_dbt_here, EXECUTE_RUN_COMMAND: execute_run},
                     say=lambda line: print(line, flush=True))
    except RuntimeError as error:
        print(f"kaira worker: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
