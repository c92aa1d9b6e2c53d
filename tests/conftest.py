"""Shared test set-up."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_leaked_definitions_state():
    """Each test starts without Dagster's definitions-state storage in its context variable.

    An instance opened in a `with` sets that variable; a test whose instance is closed (or
    garbage-collected) before the variable is reset leaves it pointing at a dead instance,
    and the next test to resolve a job fails with "unable to open database file" or
    "Attempted to resolve undefined DagsterInstance weakref", depending on the order and
    the garbage collector's timing (seen in the full unit run before and after the fault
    tests were added)."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield
