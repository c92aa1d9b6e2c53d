"""Private by default and the key's governance, through the real `kaira` command on a
two-month generated sample, under umask 022 (the usual default: files readable by all).

One sample and warehouse is shared by the module and the tests run in order: a first
`kaira run` with one key, refused runs, then a change of key through `kaira repseudonymise`.

Protects: after a run the working warehouse, the logs, dbt's profile and target folders and
Dagster's storage are owner-only, the published tables and reports stay readable, and no
file written contains the key; a short key, the demo key on data without the synthetic
marker and a changed key are refused by `kaira run` without changing a byte of the
warehouse or starting a Dagster run; `kaira repseudonymise` refuses when a month's landing
files are gone, puts the old warehouse back when the reload fails, and otherwise leaves no
pseudonym of the old key anywhere while the figures stay the same.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli.main import main
from pipelines.core.identity_codes import pseudonymise
from pipelines.core.pseudonym_key import DEMO_PSEUDONYM_KEY, fingerprint
from pipelines.core.settings import load_settings
from pipelines.sample import generate_sample
from tests.helpers import TEST_KEY, environment, file_mode, query, umask

pytestmark = pytest.mark.e2e

FIRST, LAST = "2010-11", "2010-12"
NEW_KEY = "the-rotated-key-of-the-test-not-secret-32-bytes"


class Kaira:
    """`kaira ...` in this process, in the module's environment, with a key of the test's choice."""

    def __init__(self, root: Path, patch: pytest.MonkeyPatch):
        self.root, self.patch = root, patch

    def __call__(self, *argv: str, key: str = TEST_KEY) -> int:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("KAIRA_PSEUDONYM_KEY", key)
            return main(list(argv))

    @property
    def settings(self):
        return load_settings()


@pytest.fixture(scope="module")
def kaira(tmp_path_factory):
    root = tmp_path_factory.mktemp("security")
    with pytest.MonkeyPatch.context() as patch, umask(0o022):
        for name, value in environment(root).items():
            patch.setenv(name, value)
        generate_sample(load_settings().landing_dir, start=FIRST, end=LAST)
        runner = Kaira(root, patch)
        assert runner("run") == 0
        yield runner


def tree_modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root.parent)): file_mode(p) for p in [root, *root.rglob("*")] if not p.is_symlink()}


def assert_owner_only(root: Path) -> None:
    wrong = {p: f"{m:o}" for p, m in tree_modes(root).items() if m != (0o700 if (root.parent / p).is_dir() else 0o600)}
    assert not wrong, f"not owner-only: {wrong}"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def persons(settings) -> set[str]:
    return {p for (p,) in query(settings.warehouse_path, "select distinct person_id from raw.jobseeker_spells")}


def landed_codes(settings, count: int = 20) -> list[str]:
    lines = (settings.landing_dir / "tyonhakijat" / f"tyonhakijat_{LAST}.csv").read_text(encoding="utf-8").splitlines()
    return [line.split(";")[0] for line in lines[1 : count + 1]]


def figures(settings) -> list[tuple]:
    return query(
        settings.warehouse_path,
        "select month, area_code, sex, indicator, value, status from marts.fct_indicators_monthly order by all",
    )


def run_count(settings) -> int:
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        return len(instance.get_run_records())


def test_person_level_paths_are_owner_only_after_a_run_under_umask_022(kaira):
    settings = kaira.settings
    warehouse = settings.warehouse_dir
    assert file_mode(settings.warehouse_path) == 0o600
    wal = settings.warehouse_path.with_name("kaira.duckdb.wal")
    assert not wal.exists() or file_mode(wal) == 0o600
    for private in (warehouse / "logs", warehouse / "dbt_profile", warehouse / "dbt_target", settings.dagster_home):
        assert_owner_only(private)
    assert list((warehouse / "logs").glob("kaira-run-*.log"))
    assert list(settings.dagster_home.rglob("*.db"))  # Dagster's SQLite storage is in there
    # Published tables and reports stay readable by the users who read them.
    assert file_mode(warehouse) == 0o755
    assert file_mode(settings.published_path) == 0o644
    version = settings.published_parquet_dir.resolve()
    assert file_mode(version) == 0o755
    assert {file_mode(p) for p in version.glob("*.parquet")} == {0o644}
    assert file_mode(settings.reports_dir) == 0o755
    reports = [p for p in settings.reports_dir.rglob("*") if p.is_file()]
    assert reports and {file_mode(p) for p in reports} == {0o644}


def test_no_file_the_run_wrote_contains_the_key(kaira):
    settings = kaira.settings
    key = TEST_KEY.encode()
    written = [p for folder in (settings.warehouse_dir, settings.dagster_home, settings.reports_dir)
               for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    assert len(written) > 20
    assert not [p for p in written if key in p.read_bytes()]


@pytest.mark.parametrize(
    ("case", "key", "expected"),
    [
        ("short key", "kaira-demo-key-not-secret", "at least 32 bytes"),
        ("demo key on data without the marker", DEMO_PSEUDONYM_KEY, "the public demo key is only for the generated sample"),
        ("changed key", NEW_KEY, "kaira repseudonymise"),
    ],
)
def test_a_refused_key_changes_nothing(kaira, capfd, case, key, expected):
    settings = kaira.settings
    marker = settings.landing_dir / "README.txt"
    aside = marker.with_name("README.moved")
    if case.startswith("demo"):
        marker.rename(aside)  # the landing folder no longer says it is the generated sample
    try:
        capfd.readouterr()
        before = (digest(settings.warehouse_path), settings.warehouse_path.stat().st_mtime_ns, run_count(settings))
        alerts = sorted((settings.warehouse_dir / "alerts").glob("*")) if (settings.warehouse_dir / "alerts").exists() else []
        assert kaira("run", key=key) == 1
        err = capfd.readouterr().err
        assert expected in err and key not in err
        assert (digest(settings.warehouse_path), settings.warehouse_path.stat().st_mtime_ns, run_count(settings)) == before
        now = sorted((settings.warehouse_dir / "alerts").glob("*")) if (settings.warehouse_dir / "alerts").exists() else []
        assert now == alerts
    finally:
        if aside.exists():
            aside.rename(marker)


def test_repseudonymise_refuses_while_a_landed_month_is_missing(kaira, capfd):
    settings = kaira.settings
    landed = settings.landing_dir / "kela" / f"tmt_{FIRST}.csv"
    moved = landed.with_name("moved.csv.keep")
    landed.rename(moved)
    try:
        before = digest(settings.warehouse_path)
        capfd.readouterr()
        assert kaira("repseudonymise", key=NEW_KEY) == 1
        assert FIRST in capfd.readouterr().err
        assert digest(settings.warehouse_path) == before
    finally:
        moved.rename(landed)


def test_a_failed_repseudonymisation_puts_the_old_warehouse_back(kaira, capfd):
    settings = kaira.settings
    landed = settings.landing_dir / "kela" / f"tmt_{LAST}.csv"
    kept = landed.read_bytes()
    landed.write_bytes(b"")  # unreadable: the reload fails at ingest
    try:
        before = digest(settings.warehouse_path)
        capfd.readouterr()
        assert kaira("repseudonymise", key=NEW_KEY) == 1
        assert "as it was before" in capfd.readouterr().err
        assert digest(settings.warehouse_path) == before
        assert not settings.warehouse_path.with_name("kaira.duckdb.before-repseudonymisation").exists()
        # The failure left a quarantined copy (identity codes in it) and an alert: owner-only.
        assert list(settings.quarantine_dir.rglob("*.reason.txt"))
        assert list((settings.warehouse_dir / "alerts").glob("*.txt"))
        assert_owner_only(settings.quarantine_dir)
        assert_owner_only(settings.warehouse_dir / "alerts")
    finally:
        landed.write_bytes(kept)


def test_repseudonymise_reloads_every_month_with_the_new_key_and_no_old_pseudonym_remains(kaira):
    settings = kaira.settings
    old_persons, old_figures = persons(settings), figures(settings)
    codes = landed_codes(settings)
    assert {pseudonymise(code, TEST_KEY) for code in codes} <= old_persons

    assert kaira("repseudonymise", key=NEW_KEY) == 0

    new_persons = persons(settings)
    assert len(new_persons) == len(old_persons) and not new_persons & old_persons
    assert {pseudonymise(code, NEW_KEY) for code in codes} <= new_persons
    status = {p for (p,) in query(settings.warehouse_path, "select distinct person_id from marts.fct_person_month_status")}
    assert status and not status & old_persons
    assert query(settings.warehouse_path, "select distinct key_fingerprint from raw.deliveries") == [(fingerprint(NEW_KEY),)]
    months = query(settings.warehouse_path, "select distinct strftime(delivery_month, '%Y-%m') from raw.deliveries order by 1")
    assert months == [(FIRST,), (LAST,)]
    assert figures(settings) == old_figures  # the same persons give the same figures under any key
    assert not list(settings.warehouse_dir.glob("kaira.duckdb.before-*"))
    assert file_mode(settings.warehouse_path) == 0o600

    # The new key is now the warehouse's: a plain run takes it, the old one is refused.
    assert kaira("run", key=NEW_KEY) == 0
    assert kaira("run", key=TEST_KEY) == 1


def test_an_interrupted_repseudonymisation_is_named_by_kaira_run_and_finished_by_repseudonymise(kaira, capfd):
    settings = kaira.settings
    aside = settings.warehouse_path.with_name("kaira.duckdb.before-repseudonymisation")
    shutil.copyfile(settings.warehouse_path, aside)  # as a killed repseudonymisation leaves it
    capfd.readouterr()
    assert kaira("run", key=NEW_KEY) == 1
    assert "kaira repseudonymise" in capfd.readouterr().err
    assert kaira("repseudonymise", key=NEW_KEY) == 0
    assert not aside.exists()
