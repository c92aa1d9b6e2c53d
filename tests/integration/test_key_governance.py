"""Key governance at ingest, on a real DuckDB warehouse, and the key kept from dbt.

Protects: a short key, the demo key on data without the synthetic marker and a key other
than the warehouse's are refused and the refused load changes nothing (not a byte of the
warehouse, no quarantine copy); every delivery records the key's fingerprint, also in a
warehouse created before the column existed; a symbolic link in the landing folder (file
or folder) is refused naming the path; the warehouse and the quarantine are owner-only
under umask 022; and dbt, started by dagster-dbt through the real asset code, gets an
environment without KAIRA_PSEUDONYM_KEY.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.core.identity_codes import make_identity_code, pseudonymise
from pipelines.core.pseudonym_key import (
    DEMO_PSEUDONYM_KEY,
    DemoKeyRefusedError,
    PseudonymKeyChangedError,
    PseudonymKeyInvalidError,
    fingerprint,
)
from pipelines.core.settings import load_settings
from pipelines.sources.landing_marker import MARKER_TEXT
from pipelines.sources.loader import LandingSymlinkError, expected_path, ingest_month
from tests.helpers import file_mode, query, umask

KEY = "first-key-of-the-warehouse-not-secret-32b"
OTHER_KEY = "second-key-set-later-not-secret-32-bytes"
SPELLS = "jobseeker_spells"
HEADER = "henkilotunnus;jakso_id;alkupvm;loppupvm;tila;palvelu;kuntanumero"
CODES = [make_identity_code(date(1970 + i, 1 + i % 12, 1 + i), 900 + i) for i in range(20)]


@pytest.fixture(autouse=True)
def usual_umask():
    with umask(0o022):
        yield


def make_settings(root: Path, key: str | None = KEY, **overrides: str):
    env = {
        "KAIRA_LANDING_DIR": str(root / "landing"),
        "KAIRA_WAREHOUSE_DIR": str(root / "warehouse"),
        "KAIRA_QUARANTINE_DIR": str(root / "quarantine"),
        **overrides,
    }
    if key is not None:
        env["KAIRA_PSEUDONYM_KEY"] = key
    return load_settings(env)


def land(settings, month: str, rows: int = 5, *, extra: str = "") -> Path:
    path = expected_path(SPELLS, month, settings.landing_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [HEADER] + [f"{CODES[i]};J{month}-{i};{month}-01;;TYOTON;;205" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def file_state(settings) -> tuple[str, int]:
    path = settings.warehouse_path
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_every_delivery_records_the_fingerprint_of_its_key(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "2024-02")
    land(settings, "2024-03")
    ingest_month(SPELLS, "2024-02", settings)
    ingest_month(SPELLS, "2024-03", settings)
    assert query(settings.warehouse_path, "select key_fingerprint from raw.deliveries") == [(fingerprint(KEY),)] * 2
    assert (pseudonymise(CODES[0], KEY),) in query(settings.warehouse_path, "select person_id from raw.jobseeker_spells")


def test_a_changed_key_is_refused_and_changes_nothing(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "2024-03")
    ingest_month(SPELLS, "2024-03", settings)
    before = file_state(settings)
    # Also a file that would be quarantined: the refusal comes before the file is read.
    land(settings, "2024-04", extra="not;a;row\n" * 10)
    changed = make_settings(tmp_path, OTHER_KEY)
    for month in ("2024-03", "2024-04"):
        with pytest.raises(PseudonymKeyChangedError) as caught:
            ingest_month(SPELLS, month, changed)
        message = str(caught.value)
        assert "kaira repseudonymise" in message and fingerprint(KEY) in message and fingerprint(OTHER_KEY) in message
        assert KEY not in message and OTHER_KEY not in message
    assert file_state(settings) == before
    assert not Path(settings.quarantine_dir).exists()
    # The key the warehouse was built with still loads.
    ingest_month(SPELLS, "2024-03", settings)


def test_the_transaction_refuses_a_changed_key_even_without_the_early_look(tmp_path, monkeypatch):
    settings = make_settings(tmp_path)
    land(settings, "2024-03")
    ingest_month(SPELLS, "2024-03", settings)
    rows = query(settings.warehouse_path, "select count(*), min(person_id) from raw.jobseeker_spells")
    monkeypatch.setattr("pipelines.sources.loader.recorded_key_fingerprints", lambda path: set())
    land(settings, "2024-03", rows=8)
    with pytest.raises(PseudonymKeyChangedError):
        ingest_month(SPELLS, "2024-03", make_settings(tmp_path, OTHER_KEY))
    assert query(settings.warehouse_path, "select count(*), min(person_id) from raw.jobseeker_spells") == rows
    assert query(settings.warehouse_path, "select count(*) from raw.deliveries") == [(1,)]


def test_a_warehouse_from_before_fingerprints_gets_the_column_on_its_next_load(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "2024-03")
    ingest_month(SPELLS, "2024-03", settings)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("alter table raw.deliveries drop column key_fingerprint")
    con.close()
    # No fingerprint recorded: the load is accepted and records its own.
    land(settings, "2024-04")
    ingest_month(SPELLS, "2024-04", settings)
    assert query(settings.warehouse_path, "select delivery_month, key_fingerprint from raw.deliveries order by 1") == [
        (date(2024, 3, 1), None),
        (date(2024, 4, 1), fingerprint(KEY)),
    ]
    with pytest.raises(PseudonymKeyChangedError):
        ingest_month(SPELLS, "2024-04", make_settings(tmp_path, OTHER_KEY))


def test_a_short_key_is_refused_before_anything_is_read(tmp_path):
    settings = make_settings(tmp_path, "kaira-demo-key-not-secret")
    land(settings, "2024-03")
    with pytest.raises(PseudonymKeyInvalidError, match="KAIRA_PSEUDONYM_KEY.*at least 32 bytes") as caught:
        ingest_month(SPELLS, "2024-03", settings)
    assert "kaira-demo-key-not-secret" not in str(caught.value)
    assert not settings.warehouse_path.exists()


def test_the_demo_key_is_refused_without_the_synthetic_marker_and_accepted_with_it(tmp_path):
    settings = make_settings(tmp_path, DEMO_PSEUDONYM_KEY)
    land(settings, "2024-03")
    readme = settings.landing_dir / "README.txt"
    readme.write_text("Our own notes on this delivery\n")  # an operator's README does not count
    with pytest.raises(DemoKeyRefusedError, match="^the public demo key is only for the generated sample"):
        ingest_month(SPELLS, "2024-03", settings)
    assert not settings.warehouse_path.exists()
    # A marker that is a link does not count either.
    real_marker = tmp_path / "elsewhere.txt"
    real_marker.write_text(f"{MARKER_TEXT} – ei todellisia henkilöitä\n")
    readme.unlink()
    readme.symlink_to(real_marker)
    with pytest.raises(DemoKeyRefusedError):
        ingest_month(SPELLS, "2024-03", settings)
    readme.unlink()
    readme.write_text(f"{MARKER_TEXT} – ei todellisia henkilöitä\n")
    assert ingest_month(SPELLS, "2024-03", settings).rows_loaded == 5


def test_a_symbolic_link_in_the_landing_folder_is_refused_naming_it(tmp_path):
    settings = make_settings(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "tyonhakijat_2024-03.csv"
    target.write_text(HEADER + "\n" + f"{CODES[0]};J1;2024-03-01;;TYOTON;;205\n")
    (settings.landing_dir / "tyonhakijat").mkdir(parents=True)
    (settings.landing_dir / "tyonhakijat" / "tyonhakijat_2024-03.csv").symlink_to(target)
    with pytest.raises(LandingSymlinkError) as caught:
        ingest_month(SPELLS, "2024-03", settings)
    assert str(caught.value).startswith("tyonhakijat/tyonhakijat_2024-03.csv in the landing folder")
    assert "symbolic link" in str(caught.value)

    # A linked folder.
    (settings.landing_dir / "tyonhakijat" / "tyonhakijat_2024-03.csv").unlink()
    (settings.landing_dir / "tyonhakijat").rmdir()
    (settings.landing_dir / "tyonhakijat").symlink_to(outside)
    with pytest.raises(LandingSymlinkError, match="^tyonhakijat in the landing folder"):
        ingest_month(SPELLS, "2024-03", settings)
    assert not settings.warehouse_path.exists() and not Path(settings.quarantine_dir).exists()


def test_the_warehouse_and_the_quarantine_are_owner_only_under_umask_022(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "2024-03")
    ingest_month(SPELLS, "2024-03", settings)
    assert file_mode(settings.warehouse_path) == 0o600
    assert file_mode(settings.warehouse_dir) == 0o755  # it holds the published tables too
    land(settings, "2024-04", rows=2, extra="x;y\n" * 5)  # too many rejects: quarantined
    with pytest.raises(Exception, match="rejected"):
        ingest_month(SPELLS, "2024-04", settings)
    quarantine = Path(settings.quarantine_dir)
    paths = [quarantine, *quarantine.rglob("*")]
    assert len(paths) == 5  # quarantine/, the source, the month, the copy, the reason
    assert {p.name: file_mode(p) for p in paths} == {p.name: 0o700 if p.is_dir() else 0o600 for p in paths}


def test_an_older_world_readable_warehouse_is_tightened_on_the_next_load(tmp_path):
    settings = make_settings(tmp_path)
    land(settings, "2024-03")
    ingest_month(SPELLS, "2024-03", settings)
    settings.warehouse_path.chmod(0o644)
    ingest_month(SPELLS, "2024-03", settings)
    assert file_mode(settings.warehouse_path) == 0o600


# --- dbt gets no key ------------------------------------------------------------------------


def test_dbt_started_by_the_asset_gets_no_key_in_its_environment(tmp_path, monkeypatch):
    """The real code path (the reference-data dbt asset, dagster-dbt's DbtCliResource, a real
    dbt build) with one change: the dbt executable is a two-line script that appends its
    environment to a file and then runs the real dbt. That sees exactly what dagster-dbt
    passed to the child (`os.environ.copy()` plus its own variables) for `dbt build`,
    without a test-only model in the shipped dbt project."""
    from dagster_dbt import DbtCliResource

    from pipelines.resources import SettingsResource
    from pipelines.warehouse.assets import kaira_reference_models
    from pipelines.warehouse.project import dbt_executable, kaira_dbt_project
    from tests.helpers import TEST_KEY, environment

    for name, value in environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    dump = tmp_path / "dbt-environments.txt"
    wrapper = tmp_path / "dbt"
    wrapper.write_text(f'#!/bin/sh\nenv >> "{dump}"; echo "--- $1" >> "{dump}"\nexec "{dbt_executable()}" "$@"\n')
    wrapper.chmod(0o755)

    # The assertion can fail: the script does record a key it is given.
    os.system(f'KAIRA_PSEUDONYM_KEY=control-value "{wrapper}" --version > /dev/null')
    assert "KAIRA_PSEUDONYM_KEY=control-value" in dump.read_text()
    dump.unlink()

    resources = {
        "dbt": DbtCliResource(project_dir=kaira_dbt_project(), dbt_executable=str(wrapper)),
        "settings": SettingsResource(),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize([kaira_reference_models], resources=resources, instance=instance)
    assert result.success
    recorded = dump.read_text()
    assert "--- build" in recorded and "DAGSTER_DBT_CLI=true" in recorded  # the real invocation
    assert "KAIRA_PSEUDONYM_KEY" not in recorded and TEST_KEY not in recorded
    assert os.environ["KAIRA_PSEUDONYM_KEY"] == TEST_KEY  # put back for this process
    # dbt created the warehouse under umask 077; its target folder too.
    settings = load_settings()
    assert file_mode(settings.warehouse_path) == 0o600
    target_root = settings.warehouse_dir / "dbt_target"
    assert all(file_mode(p) == (0o700 if p.is_dir() else 0o600) for p in [target_root, *target_root.rglob("*")])
