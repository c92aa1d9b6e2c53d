"""One writer at a time, also for runs started from the CLI.

Dagster's run-granularity pool is enforced by the queued run coordinator (the daemon), not
by in-process execution, so `kaira run` holds an exclusive lock file in the warehouse
folder for its whole run. A second run started meanwhile fails at once with a clear
message, or waits with `--wait`.

The daemon's runs (schedule, sensor, UI) do not take the file: instead the daemon counts
`kaira run`'s in-process runs against the pool (they are stored with their pools) and
keeps its queued runs waiting, and `kaira run` checks before each of its runs that no
daemon-launched run is writing the warehouse (`wait_for_writer_runs`).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from pipelines.core.private_files import open_private

LOCK_NAME = ".kaira-run.lock"


class WarehouseBusyError(RuntimeError):
    pass


@contextmanager
def exclusive_warehouse_lock(
    warehouse_dir: Path,
    *,
    wait: bool = False,
    poll_seconds: float = 2.0,
    on_wait: Callable[[str], None] | None = None,
):
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = warehouse_dir / LOCK_NAME
    handle = open_private(path, "a+")  # it names the process; nobody else needs to read it
    try:
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                if not wait:
                    raise WarehouseBusyError(
                        f"another run is writing the warehouse {warehouse_dir} ({holder}); "
                        "try again when it has finished, or use --wait"
                    ) from None
                if on_wait and not told:
                    on_wait(f"waiting for the other run writing the warehouse ({holder}) to finish")
                    told = True
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"kaira run, pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        yield path
    finally:
        handle.close()


def wait_for_writer_runs(
    instance,
    *,
    wait: bool,
    exclude: set[str] | frozenset[str] = frozenset(),
    poll_seconds: float = 5.0,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Return when no run of the instance (other than `exclude`) is writing the warehouse;
    without `wait`, raise WarehouseBusyError naming the runs. A run whose process is gone
    (killed) is marked failed with a note instead of being waited for."""
    from pipelines.automation.history import executing_writer_runs, mark_abandoned_runs

    told = False
    while True:
        mark_abandoned_runs(instance, by=f"kaira run (pid {os.getpid()})")
        runs = executing_writer_runs(instance, exclude)
        if not runs:
            return
        names = ", ".join(f"{run.job_name} {run.run_id}" for run in runs)
        if not wait:
            raise WarehouseBusyError(
                f"a Dagster run is writing the warehouse ({names}); try again when it has finished, "
                "or use --wait"
            )
        if on_wait and not told:
            on_wait(f"waiting for the Dagster run(s) writing the warehouse to finish: {names}")
            told = True
        time.sleep(poll_seconds)
