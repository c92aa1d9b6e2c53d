"""The instance's run launcher: the runs Dagster's daemon starts (the schedule's month, the
sensor's, a run launched in the UI) go to this installation's `kaira worker` when one runs,
as `kaira run` does. Without a worker (or with `KAIRA_WORKER=off`, or when it refuses
because its code is older than the files), Dagster's default launcher starts them from the
code server, as before.

Why: Dagster's code server starts each run in a fresh interpreter (multiprocessing's
`spawn`), which imports Kaira, Dagster, dbt and Great Expectations again, about 3 s of a
national month's 15 (docs/decisions.md, "Scale"). A fork of the worker has them.

What the fork runs is what any of Dagster's process-per-run launchers run: `dagster api
execute_run` with the run's arguments. The pid of the fork is on the run as a tag before the
run starts, so the UI's Terminate reaches it (SIGINT, which Dagster turns into a
cancellation), and a fork that died is recognised like any run process
(pipelines/automation/history.py).
"""

from __future__ import annotations

import os
import signal
import sys

from dagster import DefaultRunLauncher
from dagster._core.launcher.base import LaunchRunContext

# The pid of the worker's fork that executes the run.
WORKER_FORK_TAG = "kaira/worker_fork"
# The worker's name for `dagster api execute_run` (its command table: pipelines/cli/main.py).
EXECUTE_RUN_COMMAND = "dagster-execute-run"


class WorkerRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher, with the run handed to the resident worker when one runs.
    Configured in pipelines/dagster.yaml."""

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        argv = execute_run_argv(run, self._instance)
        if argv is not None:
            from pipelines.worker.client import start_in_worker

            tagged = []

            def record(pid: int) -> None:  # before the fork has the run: no event of the run comes before these
                self._instance.add_run_tags(run.run_id, {WORKER_FORK_TAG: str(pid)})
                tagged.append(pid)
                self._instance.report_engine_event(
                    f"Handed to the resident worker (kaira worker): the run executes in its fork, process {pid}.",
                    run, cls=self.__class__)

            # HandOverUnconfirmed goes up: the run may be executing in the fork, and starting
            # it from the code server too would run it twice. Dagster marks the launch failed.
            if start_in_worker(EXECUTE_RUN_COMMAND, argv, on_fork=record) is not None:
                self._run_ids.add(run.run_id)  # what join() waits for, as the default launcher's
                return
            if tagged:  # the fork did not take the run: Terminate must not aim at it
                self._instance.add_run_tags(run.run_id, {WORKER_FORK_TAG: ""})
                self._instance.report_engine_event(
                    "The resident worker did not take the run: Dagster's code server starts it.", run,
                    cls=self.__class__)
        super().launch_run(context)

    def terminate(self, run_id: str) -> bool:
        record = self._instance.get_run_record_by_id(run_id) if self.has_instance else None
        run = record.dagster_run if record is not None else None
        fork = run.tags.get(WORKER_FORK_TAG, "") if run is not None else ""
        if not fork.isdigit():
            return super().terminate(run_id)
        if run.is_finished:
            return False
        from pipelines.automation.history import process_gone

        self._instance.report_run_canceling(run)
        pid = int(fork)
        # Not a process that took the pid after the fork ended: the fork started before the
        # run did. (Not yet started: the fork was made a moment ago, when the run was
        # launched; the queue may have held the run long after it was created.)
        gone = process_gone(pid, record.start_time)
        if gone is None:
            try:
                os.kill(pid, signal.SIGINT)  # what Dagster's own cancellation sends its run process
                return True
            except OSError as error:
                gone = f"process {pid}: {error.strerror}"
        self._instance.report_engine_event(f"Could not interrupt the run's process: {gone}.", run,
                                           cls=self.__class__)
        return False


def execute_run_argv(run, instance) -> list[str] | None:
    """`dagster api execute_run`'s arguments for `run`, or None when the run is not this
    installation's code (its code location names another Python): the worker serves only
    the code it imported."""
    from dagster._grpc.types import ExecuteRunArgs
    from dagster._serdes import serialize_value

    origin = run.job_code_origin
    if origin is None or os.path.abspath(origin.executable_path) != os.path.abspath(sys.executable):
        return None
    return [serialize_value(ExecuteRunArgs(job_origin=origin, run_id=run.run_id, instance_ref=instance.get_ref()))]


def execute_run(argv: list[str]) -> int:
    """In the worker's fork: `dagster api execute_run <arguments>`, as a process-per-run
    launcher would start it."""
    from dagster._cli.api import execute_run_command

    execute_run_command.main(args=argv, prog_name="dagster api execute_run", standalone_mode=False)
    return 0

