"""`kaira-dbt`: the dbt command Kaira runs, dbt's own command line in a short-lived process.

It is what dbt-core's `dbt` script is (`dbt.cli.main.cli`, same arguments, same exit
status), with one difference: once dbt is imported, its objects are frozen out of Python's
garbage collector (pipelines/core/collector.py), and so is everything at exit. A dbt
process holds its imports and the project's manifest for a few seconds and then ends, so
walking them for cycles was pure cost: at exit alone the interpreter's last collection
took 0.3 s of a national month's dbt step (perf: `gc_collect_main` after dbt's last line).

Kaira starts it as dagster-dbt's `dbt_executable` (`project.dbt_executable`); a person
running dbt by hand may use either command. When this installation's `kaira worker` runs
(pipelines/worker/server.py), the command is handed to it and dbt runs in a fork of the
worker, which has imported dbt already; this process then only relays.
"""

from __future__ import annotations

import sys

from pipelines.core.collector import freeze_loaded


def main() -> None:
    from pipelines.worker.client import run_in_worker

    # Quietly here if the worker refuses: dagster-dbt reads this command's output.
    code = run_in_worker("kaira-dbt", sys.argv[1:], say_refusal=False)
    sys.exit(run_dbt_here() if code is None else code)


def run_dbt_here(argv: list[str] | None = None) -> int:
    """dbt's command line (`argv`, default sys.argv's) in this process. dbt ends with
    SystemExit and its status, left to the caller: the process's exit, or the worker's fork,
    which reads the status from it as from any command."""
    from dbt.cli.main import cli  # dbt-core's entry point, as its `dbt` script imports it

    freeze_loaded()
    cli(args=argv)
    return 0
