"""Test-only fault injection: hold a run at a named point so that a test can kill it there.

The setting is KAIRA_FAULT_PAUSE='<point>:<seconds>' (pipelines.core.settings, the points
are FAULT_POINTS there; docs/faults.md). Unset, `hold_at` does nothing. While it holds, the
file `<warehouse>/.kaira-fault-pause-<point>` exists and names the process, so that the
test knows the run has reached the point; the file is removed when the pause ends. A
point is held once per process.
"""

from __future__ import annotations

import os
import time

from pipelines.core.settings import Settings

MARKER_PREFIX = ".kaira-fault-pause-"
_held: set[str] = set()


def marker_path(settings: Settings, point: str):
    return settings.warehouse_dir / f"{MARKER_PREFIX}{point}"


def hold_at(point: str, settings: Settings) -> None:
    pause = settings.fault_pause
    if pause is None or pause.point != point or point in _held:
        return
    _held.add(point)
    marker = marker_path(settings, point)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"pid {os.getpid()} holds at {point} for {pause.seconds:g} s\n", encoding="utf-8")
    try:
        time.sleep(pause.seconds)
    finally:
        marker.unlink(missing_ok=True)
