"""Reaping the processes a Kaira process leaves behind (Linux).

Chromium's helper processes (zygotes, renderers) outlive the browser that started them. An
orphan goes to the nearest ancestor that declared itself a subreaper, else to init. The
resident worker (pipelines/worker/server.py) declares itself one, so what its commands leave is
reaped by it, not left to init; the benchmarks do too, so that those helpers' CPU time is
counted in the step that caused it.
"""

from __future__ import annotations

import os
import time

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def become_subreaper() -> None:
    """Make this process the reaper of its orphaned descendants."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def reap_descendants(seconds: float = 0.0) -> None:
    """Reap every child (orphans included, for a subreaper) that has ended, waiting up to
    `seconds` for the others; with 0, only those already ended."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no child left
            return
        if pid == 0:  # some are still running
            if time.monotonic() >= deadline:
                return
            time.sleep(0.05)
