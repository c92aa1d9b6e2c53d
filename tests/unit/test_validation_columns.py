"""The staging suites read only some columns: those must be every column their
expectations name, or one their prepare function makes from the columns read."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.validation.gx_runner import load_suite_spec
from pipelines.validation.relations import PREPARE_BY_SUITE
from pipelines.validation.warehouse_checks import SOURCE_SUITE_COLUMNS


@pytest.mark.parametrize("suite", sorted(SOURCE_SUITE_COLUMNS))
def test_the_columns_read_cover_every_expectation(suite):
    frame = pd.DataFrame({column: pd.Series([], dtype="object") for column in SOURCE_SUITE_COLUMNS[suite]})
    prepare = PREPARE_BY_SUITE.get(suite)
    prepared = prepare(frame) if prepare else frame
    named = {
        value
        for expectation in load_suite_spec(suite)["expectations"]
        for key, value in expectation["kwargs"].items()
        if key in ("column", "column_A", "column_B")
    }
    assert named and named <= set(prepared.columns)
