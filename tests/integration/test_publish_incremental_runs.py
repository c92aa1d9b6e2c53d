"""Publishing what changed, on the real pipeline: a run controls and checks the months it
recomputed (and any month whose mart rows changed since the previous publication, or that
it lacks) and carries the other months' rows from the previous publication, when and only
when that is exactly what a full republication gives (docs/disclosure-control.md, "Months
that did not change").

A copy of the session's two-year run (tests/conftest.py) is shared by the module; the tests
run in order, each leaving a full publication of the warehouse as it found it. The first
test runs a month as the schedule does; the others run the publishing step alone (a
Dagster run of `published_tables`, tagged with a month), which is what decides. "A full
republication" is the publishing step run again without the fingerprints file, which
controls and checks every month: the carried publication must equal it row for row, in
`indicators_monthly` and `target_followup`, in the order the files store them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.cli.runner import run_months
from pipelines.partitions import range_tags
from pipelines.publish.assets import published_tables
from pipelines.publish.incremental import FINGERPRINTS_NAME
from pipelines.resources import SettingsResource, WarehouseResource
from tests.conftest import SAMPLE_FIRST, SAMPLE_LAST
from tests.helpers import copied_pipeline_run, file_mode, query, read_spells, write_spells

pytestmark = pytest.mark.e2e

FIRST, LAST = SAMPLE_FIRST, SAMPLE_LAST  # 2007-09 .. 2009-08
PUBLISHED = dg.AssetKey("published_tables")
COMPARED = ("indicators_monthly", "target_followup")


@pytest.fixture(scope="module")
def pipeline(pipeline_template, tmp_path_factory):
    with copied_pipeline_run(*pipeline_template, tmp_path_factory.mktemp("incremental")) as (settings, instance, _):
        yield settings, instance


def fingerprints(settings) -> Path:
    return settings.warehouse_dir / FINGERPRINTS_NAME


def published_rows(settings) -> dict[str, list[tuple]]:
    """The compared tables, every column, in the order the file stores them."""
    return {table: query(settings.published_path, f"select * from {table}") for table in COMPARED}


def publish_only(instance, month: str | None = None, **settings_fields) -> dg.ExecuteInProcessResult:
    """The publishing step alone, as a run of `month` (None: a run without months)."""
    settings = SettingsResource(**settings_fields)
    resources = {"settings": settings, "warehouse": WarehouseResource(settings=settings)}
    tags = range_tags(month, month) if month else {}
    return dg.materialize([published_tables], resources=resources, instance=instance, tags=tags,
                          raise_on_error=False)


def plan_of(instance, run_id: str) -> dict[str, str]:
    """What a run's publishing step controlled and carried (its materialization's metadata)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        if materialization.asset_key == PUBLISHED:
            return {key: str(value.value) for key, value in materialization.metadata.items()
                    if key in ("recontrolled_months", "carried_months", "carried_from", "carried_followup_targets")}
    raise AssertionError(f"run {run_id} did not publish")


def assert_same_as_a_full_republication(settings, instance) -> None:
    """The publication in place equals the one a full republication of the same warehouse
    makes now (which is then left in place)."""
    carried = published_rows(settings)
    fingerprints(settings).unlink()
    result = publish_only(instance)
    assert result.success
    plan = plan_of(instance, result.run_id)
    assert plan["carried_months"] == "none" and f"has no {FINGERPRINTS_NAME}" in plan["carried_from"]
    full = published_rows(settings)
    assert len(full["indicators_monthly"]) == 24 * 10 * 3 * 19 and full["target_followup"]
    for table in COMPARED:
        assert carried[table] == full[table], table


def test_a_run_of_the_last_month_carries_the_others_and_publishes_what_a_full_republication_does(pipeline):
    settings, instance = pipeline
    assert fingerprints(settings).exists()  # the backfill's publication recorded its basis
    outcome = run_months(LAST, LAST, instance=instance)
    assert outcome.success, outcome.failure
    plan = plan_of(instance, outcome.run_ids[-1])
    assert plan["recontrolled_months"] == LAST
    assert plan["carried_months"] == f"{FIRST}..2009-07"
    assert file_mode(fingerprints(settings)) == 0o600  # fingerprints of unsuppressed figures: owner-only
    assert_same_as_a_full_republication(settings, instance)


UNEMPLOYED_IN_KAJAANI = ("select value, status from indicators_monthly where month = ? and area_code = 'KU205' "
                         "and sex = 'total' and indicator = 'unemployed'")


def test_a_redelivered_month_in_the_middle_is_controlled_again_and_the_rest_carried(pipeline):
    settings, instance = pipeline
    month = "2008-12"
    path = settings.landing_dir / "tyonhakijat" / f"tyonhakijat_{month}.csv"
    spells = read_spells(path)
    # Someone unemployed in Kajaani on the count date, in an open spell: employed in the redelivery.
    spell = next(s for s in spells if s["tila"] == "TYOTON" and not s["loppupvm"] and s["alkupvm"] < "2008-12-01"
                 and s["kuntanumero"] == "205")
    spell["tila"] = "TYOLLINEN"
    write_spells(path, spells)
    (before, status) = query(settings.published_path, UNEMPLOYED_IN_KAJAANI, [date(2008, 12, 1)])[0]
    assert status != "suppressed" and before > 10  # ("incomplete": the look-back starts in 2007-09)

    # The month's ingest, dbt and checks, then its publishing step (the reports, which a
    # monthly run adds after publishing, are left out: the first test ran a whole month).
    outcome = run_months(month, month, instance=instance, publish=False)
    assert outcome.success, outcome.failure
    result = publish_only(instance, month)

    assert result.success
    plan = plan_of(instance, result.run_id)
    assert plan["recontrolled_months"] == month
    assert plan["carried_months"] == f"{FIRST}..2008-11, 2009-01..{LAST}"
    assert query(settings.published_path, UNEMPLOYED_IN_KAJAANI, [date(2008, 12, 1)])[0] == (before - 1, status)
    assert_same_as_a_full_republication(settings, instance)


def test_a_month_the_mart_changed_without_publishing_is_controlled_again(pipeline):
    """A month recomputed by a run that did not publish (killed or failed after dbt, or a
    range of `kaira run` before its last) differs from what the publication was made from:
    its fingerprint tells, whatever the publishing run's own months."""
    settings, instance = pipeline
    connection = duckdb.connect(str(settings.warehouse_path))
    try:
        connection.execute("update marts.fct_indicators_monthly set area_name = 'Kajaani (korjattu)' "
                           "where month = ? and area_code = 'KU205'", [date(2008, 3, 1)])
    finally:
        connection.close()

    result = publish_only(instance, LAST)

    assert result.success
    plan = plan_of(instance, result.run_id)
    assert plan["recontrolled_months"] == f"2008-03, {LAST}"
    names = query(settings.published_path, "select distinct month, area_name from indicators_monthly "
                  "where area_code = 'KU205' and month between ? and ? order by 1",
                  [date(2008, 2, 1), date(2008, 4, 1)])
    assert [name for _, name in names] == ["Kajaani", "Kajaani (korjattu)", "Kajaani"]
    assert_same_as_a_full_republication(settings, instance)


def test_a_changed_baseline_month_remakes_the_follow_up_of_its_targets(pipeline):
    """The follow-up's rows of the carried months are carried too, but a row is made from its
    baseline month's cell as well: when the baseline month (2008-02 for both KAIRA targets)
    changes, every row of those targets is made again, and equals a full republication."""
    settings, instance = pipeline
    result = publish_only(instance, LAST)
    assert result.success and plan_of(instance, result.run_id)["carried_followup_targets"] == (
        "kaira_1_halve_structural, kaira_2_structural_inflow")
    baseline = ("select distinct baseline_value from target_followup where target_id = 'kaira_1_halve_structural' "
                "and area_code = 'KU205' and sex = 'total'")
    (before,) = query(settings.published_path, baseline)
    connection = duckdb.connect(str(settings.warehouse_path))
    try:
        connection.execute("update marts.fct_indicators_monthly set value = value + 7 where month = ? "
                           "and area_code = 'KU205' and sex = 'total' and indicator = 'structural_unemployed'",
                           [date(2008, 2, 1)])
    finally:
        connection.close()

    result = publish_only(instance, LAST)

    assert result.success
    plan = plan_of(instance, result.run_id)
    assert plan["recontrolled_months"] == f"2008-02, {LAST}" and plan["carried_followup_targets"] == "none"
    assert query(settings.published_path, baseline) == [(before[0] + 7,)]
    assert_same_as_a_full_republication(settings, instance)


SMALL_COUNTS = ("select count(*) from indicators_monthly where indicator not like '%\\_eur' escape '\\' "
                "and value between 1 and ? and month = ?")


def test_a_changed_suppression_threshold_controls_every_month_again(pipeline):
    settings, instance = pipeline
    first = date(2007, 9, 1)
    assert query(settings.published_path, SMALL_COUNTS, [6, first])[0][0] > 0  # 5s and 6s published under 5

    result = publish_only(instance, LAST, suppression_threshold=7)

    assert result.success
    plan = plan_of(instance, result.run_id)
    assert plan["carried_months"] == "none" and "suppression threshold 5 -> 7" in plan["carried_from"]
    assert query(settings.published_path, SMALL_COUNTS, [6, first])[0][0] == 0
    assert query(settings.published_path, "select suppression_threshold from publication") == [(7,)]
    # And back: every month again, under 5 (a full publication, as the next test expects).
    result = publish_only(instance, LAST)
    assert result.success and plan_of(instance, result.run_id)["carried_months"] == "none"
    assert query(settings.published_path, SMALL_COUNTS, [6, first])[0][0] > 0


def plant_in_publication(settings, value: float) -> None:
    """Change one published figure of the first month in place: what another code's decision
    would look like (the writer never writes the file in place)."""
    connection = duckdb.connect(str(settings.published_path))
    try:
        connection.execute("update indicators_monthly set value = ? where month = ? and area_code = 'KU205' "
                           "and sex = 'total' and indicator = 'unemployed'", [value, date(2007, 9, 1)])
        connection.execute("checkpoint")
    finally:
        connection.close()


def test_a_publication_made_by_other_code_is_not_carried(pipeline):
    settings, instance = pipeline
    first = date(2007, 9, 1)
    (true_value,) = query(settings.published_path, UNEMPLOYED_IN_KAJAANI, [first])[0][:1]
    plant_in_publication(settings, 99999.0)
    # Rows are carried as they are: with the same rules fingerprint the planted figure stays.
    result = publish_only(instance, LAST)
    assert result.success and plan_of(instance, result.run_id)["carried_months"] != "none"
    assert query(settings.published_path, UNEMPLOYED_IN_KAJAANI, [first])[0][0] == 99999.0

    recorded = json.loads(fingerprints(settings).read_text(encoding="utf-8"))
    fingerprints(settings).write_text(json.dumps({**recorded, "rules": "another version's rules"}), encoding="utf-8")
    result = publish_only(instance, LAST)

    assert result.success
    plan = plan_of(instance, result.run_id)
    assert plan["carried_months"] == "none" and "made by other code" in plan["carried_from"]
    assert query(settings.published_path, UNEMPLOYED_IN_KAJAANI, [first])[0][0] == true_value
    assert_same_as_a_full_republication(settings, instance)


def delete(path: Path) -> None:
    path.unlink()


def corrupt(path: Path) -> None:
    path.write_bytes(b"\x00not a DuckDB database\x00" * 4096)


@pytest.mark.parametrize(("damage", "why"), [(delete, "no previous publication"), (corrupt, "is unreadable")])
def test_a_deleted_or_corrupt_published_file_falls_back_to_a_full_publication(pipeline, damage, why):
    settings, instance = pipeline
    damage(settings.published_path)

    result = publish_only(instance, LAST)

    assert result.success
    plan = plan_of(instance, result.run_id)
    assert plan["carried_months"] == "none" and why in plan["carried_from"]
    assert plan["recontrolled_months"] == f"{FIRST}..{LAST}"
    assert_same_as_a_full_republication(settings, instance)


def failed_checks(instance, run_id: str) -> set[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    return {r.event_log_entry.dagster_event.event_specific_data.check_name for r in records
            if not r.event_log_entry.dagster_event.event_specific_data.passed}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_bad_cell_in_a_month_controlled_again_fails_its_check_and_publishes_nothing(pipeline):
    settings, instance = pipeline
    connection = duckdb.connect(str(settings.warehouse_path))
    try:
        connection.execute("update marts.fct_indicators_monthly set status = 'unchecked' where month = ? "
                           "and area_code = 'KU205' and sex = 'total' and indicator = 'laid_off'", [date(2009, 8, 1)])
    finally:
        connection.close()
    published, basis = digest(settings.published_path), digest(fingerprints(settings))

    result = publish_only(instance, LAST)

    assert not result.success
    assert failed_checks(instance, result.run_id) == {"status_in_allowed_set"}
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "status_in_allowed_set" in failure.description
    assert digest(settings.published_path) == published and digest(fingerprints(settings)) == basis
