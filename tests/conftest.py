"""The one pipeline run the end-to-end tests share.

Generating the sample and running it through Dagster, dbt, the checks, publishing and the
reports takes the longest of any fixture, so it happens once per session, in a folder of
its own. Each test module that needs a finished run of it gets a copy of that folder
(`tests.helpers.copied_pipeline_run`), so a module may redeliver, break or rerun months
without touching another module's copy. (test_publish_faults.py keeps its own three-month
run: its planted faults are chosen from that sample's rows.)
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
