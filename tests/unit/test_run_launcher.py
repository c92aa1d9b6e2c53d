"""The instance's run launcher (pipelines/worker/run_launcher.py) on a real Dagster instance
with Kaira's instance settings and real processes.

Protects: Terminate of a run handed to the worker interrupts the process named on the run
(SIGINT, as Dagster's own cancellation), says why when that process is gone, and leaves
a run the code server started to Dagster's default launcher; a run of another Python is
never handed to this installation's worker.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import dagster as dg
import pytest

from pipelines.package_files import instance_settings_file
from pipelines.worker.run_launcher import WORKER_FORK_TAG, WorkerRunLauncher, execute_run_argv


@dg.op
def nothing() -> None:
    pass


@dg.job
def a_job() -> None:
    nothing()


@pytest.fixture
def instance(tmp_path):
    shutil.copyfile(instance_settings_file(), tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.run_launcher, WorkerRunLauncher)
        yield instance


def engine_messages(instance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
    return [record.event_log_entry.message or "" for record in records]


def test_terminate_interrupts_the_process_named_on_the_run(instance):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = instance.create_run_for_job(a_job, tags={WORKER_FORK_TAG: str(process.pid)})
        assert instance.run_launcher.terminate(run.run_id) is True
        assert process.wait(timeout=30) != 0  # Python's default SIGINT: KeyboardInterrupt
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.CANCELING
    finally:
        process.kill()


def test_terminate_says_why_when_the_runs_process_is_gone(instance):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    run = instance.create_run_for_job(a_job, tags={WORKER_FORK_TAG: str(gone.pid)})
    assert instance.run_launcher.terminate(run.run_id) is False
    assert any(f"no process {gone.pid} is running" in message for message in engine_messages(instance, run.run_id))


def test_a_run_without_a_fork_is_the_default_launchers(instance):
    """A run the code server started (no fork on it, or the mark of a hand-over that did
    not happen): Dagster's default launcher, which finds no code server here."""
    for tags in ({}, {WORKER_FORK_TAG: ""}):
        run = instance.create_run_for_job(a_job, tags=tags)
        assert instance.run_launcher.terminate(run.run_id) is False
        assert any("Unable to get grpc client" in message for message in engine_messages(instance, run.run_id))


def test_only_a_run_of_this_python_is_handed_to_its_worker(instance, tmp_path):
    """The worker serves the code it imported: a code location started with another Python
    (another virtual environment) keeps Dagster's default launcher, and so does a run with
    no code origin."""
    from dagster._core.code_pointer import ModuleCodePointer
    from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
    from dagster._record import copy

    def run_of(executable: str | None) -> dg.DagsterRun:
        run = instance.create_run_for_job(a_job)
        if executable is None:
            return run
        pointer = ModuleCodePointer("pipelines.definitions", "defs", str(tmp_path))
        return copy(run, job_code_origin=JobPythonOrigin("a_job", RepositoryPythonOrigin(executable, pointer)))

    argv = execute_run_argv(run_of(sys.executable), instance)
    assert argv is not None and len(argv) == 1 and '"ExecuteRunArgs"' in argv[0]
    assert execute_run_argv(run_of(str(tmp_path / "other-venv" / "bin" / "python")), instance) is None
    assert execute_run_argv(run_of(None), instance) is None
