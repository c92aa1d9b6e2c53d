"""The one pipeline run the end-to-end tests share.

Generating the sample and running it through Dagster, dbt, the checks, publishing and the
reports takes the longest of any fixture, so it happens once per session, in a folder of
its own. Each test module that needs a finished run of it gets a copy of that folder
(`tests.helpers.copied_pipeline_run`), so a module may redeliver, break or rerun months
without touching another module's copy. (test_publish_faults.py keeps its own three-month
run: its planted faults are chosen from that sample's rows.)

And one guard every test gets: no Dagster definitions-state storage left over from an
earlier test.
"""

from __future__ import annotations

import pytest

from tests.helpers import generated_pipeline_run

# Two years: long enough for complete look-backs (16 months) and a redelivery of a month
# with later months already computed.
SAMPLE_FIRST, SAMPLE_LAST = "2007-09", "2009-08"


@pytest.fixture(scope="session")
def pipeline_template(tmp_path_factory):
    """(folder, outcome) of the session's run of the generated sample, SAMPLE_FIRST..SAMPLE_LAST."""
    root = tmp_path_factory.mktemp("pipeline-template")
    with generated_pipeline_run(root, SAMPLE_FIRST, SAMPLE_LAST) as (_settings, _instance, outcome):
        pass
    return root, outcome


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
