"""`kaira calibrate` counts the sample's unemployed as the pipeline does.

The calibration (pipelines.sample.calibration) counts the simulation's spells itself, so that
it needs no run; this test holds that count to the warehouse's `unemployed` of the same
generated sample, run through ingest and dbt (the session's shared run, tests/conftest.py),
for every municipality and month.
"""

from __future__ import annotations

import pytest

from pipelines.core.settings import load_settings
from pipelines.sample.calibration import sample_unemployed
from pipelines.sample.generator import build_simulation
from pipelines.sample.options import SampleOptions
from tests.conftest import SAMPLE_FIRST, SAMPLE_LAST
from tests.helpers import isolated_environment, query

pytestmark = pytest.mark.e2e


def test_the_pipeline_counts_the_sample_unemployed_as_the_calibration_does(pipeline_template):
    root, _outcome = pipeline_template
    with isolated_environment(root):
        warehouse = load_settings().warehouse_path
    options = SampleOptions(start=SAMPLE_FIRST, end=SAMPLE_LAST)
    months = [f"{month // 12}-{month % 12 + 1:02d}" for month in options.months]
    expected = sample_unemployed(build_simulation(options), months)
    rows = query(
        warehouse,
        "select strftime(month, '%Y-%m'), area_code, value from marts.fct_indicators_monthly "
        "where indicator = 'unemployed' and sex = 'total' and area_code like 'KU%' order by 1, 2",
    )
    assert len(rows) == len(months) * 9
    assert [(month, area, value) for month, area, value in rows] == [
        (month, area, float(expected[(month, area)])) for month, area, _value in rows
    ]
    assert sum(value for _month, _area, value in rows) > 0
