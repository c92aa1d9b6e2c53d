"""Publishing what changed (pipelines/publish/incremental.py), on real DuckDB files: which
months are controlled again and which are carried, the mart's month fingerprints, the
previous publication read back or refused, and carried plus recontrolled months giving the
rows and order of a full publication.

The same on real Dagster runs of the generated sample: tests/integration/test_publish_incremental.py.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from pipelines.core.settings import load_settings
from pipelines.publish import incremental
from pipelines.publish.disclosure import apply_disclosure_control
from pipelines.publish.tables import (
    INDICATORS_COLUMNS,
    PUBLICATION_COLUMNS,
    SCHEMA_VERSION,
    indicators_monthly,
    publication,
)
from pipelines.publish.writer import publish_atomically
from tests.helpers import environment, file_mode, indicator_cells, umask

MONTHS = ("2024-01", "2024-02", "2024-03")


def mart(months=MONTHS) -> pd.DataFrame:
    frames = []
    for number, month in enumerate(months):
        cells = indicator_cells(pd.Timestamp(f"{month}-01"))
        # Small counts in some months, so that disclosure control has work to do there.
        small = (cells["area_code"] == "KU205") & (cells["indicator"] == "laid_off") & (cells["sex"] != "total")
        cells.loc[small, "value"] = float(2 + number)
        total = (cells["area_code"] == "KU205") & (cells["indicator"] == "laid_off") & (cells["sex"] == "total")
        cells.loc[total, "value"] = float(2 * (2 + number))
        frames.append(cells)
    return pd.concat(frames, ignore_index=True)


def write_mart(folder, cells: pd.DataFrame):
    folder.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(folder / "kaira.duckdb"))
    try:
        connection.execute("create schema if not exists marts")
        connection.register("cells", cells)
        connection.execute("create or replace table marts.fct_indicators_monthly as select * from cells")
    finally:
        connection.close()
    return folder / "kaira.duckdb"


def fingerprints_of(database) -> dict[str, str] | None:
    connection = duckdb.connect(str(database), read_only=True)
    try:
        return incremental.mart_month_fingerprints(connection)
    finally:
        connection.close()


def test_a_month_fingerprint_changes_with_any_column_of_its_rows_and_only_that_month(tmp_path):
    cells = mart()
    before = fingerprints_of(write_mart(tmp_path / "w", cells))
    assert sorted(before) == list(MONTHS)
    assert len(set(before.values())) == 3

    for column, value in (("value", 123.0), ("status", "incomplete"), ("area_name", "Kajaani (korjattu)"),
                          ("parent_area_code", None)):
        changed = cells.copy()
        row = changed.index[(changed["month"] == pd.Timestamp("2024-02-01")) & (changed["area_code"] == "KU578")][0]
        changed.loc[row, column] = value
        after = fingerprints_of(write_mart(tmp_path / "w", changed))
        assert [month for month in MONTHS if after[month] != before[month]] == ["2024-02"], column
    # The row order of the mart does not matter.
    shuffled = cells.sample(frac=1.0, random_state=3)
    assert fingerprints_of(write_mart(tmp_path / "w", shuffled)) == before


def test_without_a_mart_there_are_no_fingerprints(tmp_path):
    database = tmp_path / "kaira.duckdb"
    duckdb.connect(str(database)).close()
    assert fingerprints_of(database) is None


def published_of(cells: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    return indicators_monthly(apply_disclosure_control(cells, threshold=threshold))


def test_carried_months_and_recontrolled_ones_give_the_rows_and_order_of_a_full_publication():
    cells = mart()
    full = published_of(cells)
    assert full["status"].eq("suppressed").any()
    for recontrolled_months in (["2024-03"], ["2024-02"], ["2024-01", "2024-03"], []):
        wanted = cells["month"].isin(pd.to_datetime([f"{m}-01" for m in recontrolled_months]))
        recontrolled = published_of(cells[wanted])
        carried = full[~full["month"].isin(recontrolled["month"].unique())].reset_index(drop=True)
        combined = incremental.combine_published(carried, recontrolled)
        pd.testing.assert_frame_equal(combined, full)


def settings_for(tmp_path, **overrides):
    settings = load_settings(environment(tmp_path, **{"KAIRA_AREA_SCOPE": "MK18", **overrides}))
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    return settings


def publish(settings, cells: pd.DataFrame, run_id: str = "run-1", months: dict[str, str] | None = None) -> pd.DataFrame:
    """A real publication (the writer) of `cells` and its fingerprints file, as the asset makes them."""
    published = published_of(cells, settings.suppression_threshold)
    row = publication(run_id, published, settings.area_scope_var, settings.suppression_threshold, True,
                      municipality_set=settings.municipality_set)
    publish_atomically(settings.published_path, settings.published_parquet_dir, {
        "indicators_monthly": (published, INDICATORS_COLUMNS),
        "publication": (row, PUBLICATION_COLUMNS),
    })
    months = months if months is not None else {m: f"fingerprint-{m}" for m in MONTHS}
    incremental.write_fingerprints(incremental.fingerprints_path(settings), row, incremental.rules_fingerprint(), months)
    return published


def test_the_previous_publication_is_read_back_with_its_settings_and_fingerprints(tmp_path):
    settings = settings_for(tmp_path)
    with umask(0o022):
        publish(settings, mart())
    assert file_mode(incremental.fingerprints_path(settings)) == 0o600  # fingerprints of unsuppressed figures
    assert not list(settings.warehouse_dir.glob(".*.tmp"))
    previous, basis = incremental.read_previous(settings.published_path, incremental.fingerprints_path(settings))
    assert previous is not None, basis
    assert (previous.run_id, previous.suppression_threshold, previous.area_scope, previous.municipality_set,
            previous.schema_version) == ("run-1", 5, "MK18", "real", SCHEMA_VERSION)
    assert previous.rules == incremental.rules_fingerprint()
    assert dict(previous.months) == {m: f"fingerprint-{m}" for m in MONTHS}


def delete_published(settings):
    settings.published_path.unlink()


def corrupt_published(settings):
    settings.published_path.write_bytes(b"not a DuckDB file " * 100)


def delete_fingerprints(settings):
    incremental.fingerprints_path(settings).unlink()


def corrupt_fingerprints(settings):
    incremental.fingerprints_path(settings).write_text('{"publication": ', encoding="utf-8")


def fingerprints_of_another_publication(settings):
    path = incremental.fingerprints_path(settings)
    recorded = json.loads(path.read_text(encoding="utf-8"))
    recorded["publication"]["run_id"] = "run-0"  # e.g. the run before, whose file a crash left
    path.write_text(json.dumps(recorded), encoding="utf-8")


def fingerprints_of_other_months(settings):
    path = incremental.fingerprints_path(settings)
    recorded = json.loads(path.read_text(encoding="utf-8"))
    recorded["months"]["2023-12"] = "fingerprint-2023-12"
    path.write_text(json.dumps(recorded), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (delete_published, "no previous publication"),
        (corrupt_published, "the previous published.duckdb is unreadable"),
        (delete_fingerprints, "has no published.fingerprints.json"),
        (corrupt_fingerprints, "published.fingerprints.json is unreadable"),
        (fingerprints_of_another_publication, "describes another publication"),
        (fingerprints_of_other_months, "are not those of published.duckdb"),
    ],
)
def test_a_previous_publication_that_cannot_be_built_on_republishes_every_month(tmp_path, damage, why):
    settings = settings_for(tmp_path)
    publish(settings, mart())
    damage(settings)
    previous, basis = incremental.read_previous(settings.published_path, incremental.fingerprints_path(settings))
    assert previous is None and why in basis
    plan = incremental.plan_publication(settings, previous, basis, {m: f"fingerprint-{m}" for m in MONTHS}, ["2024-03"],
                                        incremental.rules_fingerprint())
    assert plan.recontrol == MONTHS and plan.carry == ()
    assert why in plan.describe()


def previous_publication(tmp_path) -> incremental.PreviousPublication:
    """A publication made in a folder of its own with the default settings, read back."""
    before = settings_for(tmp_path / "before")
    publish(before, mart())
    previous, basis = incremental.read_previous(before.published_path, incremental.fingerprints_path(before))
    assert previous is not None, basis
    return previous


def test_the_run_s_months_changed_months_and_new_months_are_recontrolled_and_the_rest_carried(tmp_path):
    settings = settings_for(tmp_path)
    previous = previous_publication(tmp_path)
    mart_months = {"2024-01": "fingerprint-2024-01", "2024-02": "changed", "2024-03": "fingerprint-2024-03",
                   "2024-04": "new"}
    plan = incremental.plan_publication(settings, previous, "", mart_months, ["2024-03"], incremental.rules_fingerprint())
    assert plan.recontrol == ("2024-02", "2024-03", "2024-04")
    assert plan.carry == ("2024-01",)
    assert "carried 2024-01 from the previous publication (run run-1)" in plan.describe()
    # A month the mart no longer holds is neither controlled nor carried: it is not published.
    plan = incremental.plan_publication(settings, previous, "", {"2024-02": "fingerprint-2024-02"}, None,
                                        incremental.rules_fingerprint())
    assert (plan.recontrol, plan.carry) == ((), ("2024-02",))


@pytest.mark.parametrize(
    ("setting", "value", "why"),
    [
        ("KAIRA_SUPPRESSION_THRESHOLD", "7", "suppression threshold 5 -> 7"),
        ("KAIRA_AREA_SCOPE", "all", "area scope 'MK18' -> 'all'"),
        ("KAIRA_MUNICIPALITY_SET", "synthetic", "municipality set 'real' -> 'synthetic'"),
    ],
)
def test_a_changed_threshold_scope_or_municipality_set_recontrols_every_month(tmp_path, setting, value, why):
    previous = previous_publication(tmp_path)
    changed = settings_for(tmp_path, **{setting: value})
    mart_months = {m: f"fingerprint-{m}" for m in MONTHS}
    plan = incremental.plan_publication(changed, previous, "", mart_months, ["2024-03"], incremental.rules_fingerprint())
    assert plan.recontrol == MONTHS and plan.carry == ()
    assert why in plan.describe()


def test_a_publication_made_by_other_code_or_another_schema_is_not_carried(tmp_path):
    settings = settings_for(tmp_path)
    previous = previous_publication(tmp_path)
    mart_months = {m: f"fingerprint-{m}" for m in MONTHS}
    plan = incremental.plan_publication(settings, previous, "", mart_months, ["2024-03"], "another rules fingerprint")
    assert plan.recontrol == MONTHS and "made by other code" in plan.describe()
    older = incremental.PreviousPublication(**{**previous.__dict__, "schema_version": SCHEMA_VERSION - 1})
    plan = incremental.plan_publication(settings, older, "", mart_months, ["2024-03"], incremental.rules_fingerprint())
    assert plan.recontrol == MONTHS and "schema version" in plan.describe()


def test_carried_rows_are_read_in_the_order_the_publication_stores_them(tmp_path):
    settings = settings_for(tmp_path)
    published = publish(settings, mart())
    previous, _ = incremental.read_previous(settings.published_path, incremental.fingerprints_path(settings))
    carried = incremental.read_carried(settings.published_path, ["2024-01", "2024-03"], previous)
    expected = published[published["month"] != pd.Timestamp("2024-02-01")].reset_index(drop=True)
    pd.testing.assert_frame_equal(carried, expected[list(INDICATORS_COLUMNS)])
    assert incremental.read_carried(settings.published_path, [], previous) is None
    # Carrying from a file another publication replaced meanwhile would mix two publications,
    # and a file damaged after its first look cannot be carried from: the step then
    # publishes every month (the asset catches CarryFailed).
    publish(settings, mart(), run_id="run-2")
    with pytest.raises(incremental.CarryFailed, match="replaced by another publication"):
        incremental.read_carried(settings.published_path, ["2024-01"], previous)
    corrupt_published(settings)
    with pytest.raises(incremental.CarryFailed, match="unreadable"):
        incremental.read_carried(settings.published_path, ["2024-01"], previous)


# --- many months are controlled and checked part by part --------------------------------


def test_disclosure_control_part_by_part_gives_the_rows_of_one_pass(monkeypatch):
    from pipelines.publish import assets

    cells = mart()
    targets = pd.DataFrame(columns=["target_id", "indicator", "area_code", "sex", "baseline_month", "target_month",
                                    "target_ratio", "description_fi"])
    whole = assets.build_published_tables(cells, targets, 5)
    monkeypatch.setattr(assets, "MONTHS_PER_PART", 1)
    parted = assets.build_published_tables(cells, targets, 5)
    pd.testing.assert_frame_equal(parted.indicators, whole.indicators)
    pd.testing.assert_frame_equal(parted.checked, whole.checked)


def test_the_published_checks_part_by_part_fail_on_a_bad_cell_in_any_part():
    from pipelines.validation.published import validate_published

    cells = mart()
    published = published_of(cells)
    parents = cells[["month", "area_code", "parent_area_code"]].drop_duplicates()
    good = {o.check_name: o.success for o in validate_published(published, parents, 5, months_per_part=1)}
    assert all(good.values()), good
    bad = published.copy()
    counts = bad.index[(bad["month"] == bad["month"].max()) & (bad["indicator"] == "unemployed") & bad["value"].notna()]
    bad.loc[counts[0], ["value", "status"]] = [2.0, "ok"]  # a count the threshold should have suppressed
    outcomes = validate_published(bad, parents, 5, months_per_part=1)
    failed = [o for o in outcomes if not o.success]
    assert failed, "the bad cell in the last part went unnoticed"
    assert all("of 3 months" in o.observed for o in failed), [o.observed for o in failed]
