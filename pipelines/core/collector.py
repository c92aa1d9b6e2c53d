"""Python's cyclic garbage collector in a process that runs the pipeline.

A run's process holds about half a million objects that live as long as it does: Dagster's
definitions, the dbt manifest dagster-dbt reads, Great Expectations and what they import
(SQLAlchemy, SciPy, pydantic). Every full collection of CPython walks all of them: in a
national month a dozen full collections took 0.2 s each, and the interpreter's shutdown
walked them all again for 1.7 s, only to free memory that the operating system takes back
anyway (measured with gc.callbacks and perf; docs/decisions.md, "Scale").

`freeze_loaded()` moves the objects that exist into the collector's permanent generation
(gc.freeze) once the long-lived ones are loaded. They are still freed by reference
counting; only reference cycles among them are no longer looked for, which costs at most
the few cycles of garbage that exist at that moment.
"""

from __future__ import annotations

import atexit
import gc

_state = {"exit_registered": False}


def freeze_loaded() -> None:
    """Leave every object alive now out of later collections, and out of the collection at
    the interpreter's exit: the process's memory goes back to the system as a whole."""
    gc.freeze()
    if not _state["exit_registered"]:
        # At exit, what was created since (the run's own objects) is frozen too.
        atexit.register(gc.freeze)
        _state["exit_registered"] = True
