"""One writer at a time, also for runs started from the CLI.

Dagster's run-granularity pool is enforced by the queued run coordinator (the daemon), not
by in-process execution, so `kaira run` holds an exclusive lock file in the warehouse
folder for its whole run. A second run started meanwhile fails at once with a clear
message, or waits with `--wait`.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".kaira-run.lock"


class WarehouseBusyError(RuntimeError):
    pass


@contextmanager
def exclusive_warehouse_lock(warehouse_dir: Path, *, wait: bool = False, poll_seconds: float = 2.0):
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = warehouse_dir / LOCK_NAME
    handle = open(path, "a+")
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise WarehouseBusyError(
                        f"another run is writing the warehouse {warehouse_dir} ({holder}); "
                        "try again when it has finished, or use --wait"
                    ) from None
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
        handle.flush()
        yield path
    finally:
        handle.close()
