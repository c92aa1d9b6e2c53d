"""Owner-only files and folders whatever the umask, for every person-level writer that is
not the whole pipeline (the real run is in tests/integration/test_private_by_default.py).

Protects: under umask 022 (the usual default, world-readable), the helpers create 0700
folders and 0600 files, tighten older looser ones, restore the umask after a block even
when threads overlap; quarantine, alerts, run logs, dbt's profile and Dagster's home are
written owner-only.
"""

import os
import threading
from datetime import date
from pathlib import Path

import pytest

from pipelines.automation.alerts import Alert, write_alert
from pipelines.cli.dagster_home import prepare_dagster_home
from pipelines.cli.progress import output_to_log
from pipelines.core.private_files import (
    copy_private,
    make_tree_private,
    open_private,
    private_dir,
    private_umask,
    write_private_text,
)
from pipelines.core.settings import load_settings
from pipelines.sources.loader import quarantine
from pipelines.warehouse.profile import write_run_profile
from tests.helpers import file_mode, umask


@pytest.fixture(autouse=True)
def usual_umask():
    with umask(0o022):
        yield


def assert_tree_private(root: Path):
    assert file_mode(root) == 0o700, root
    for path in Path(root).rglob("*"):
        if path.is_symlink():
            continue
        assert file_mode(path) == (0o700 if path.is_dir() else 0o600), f"{path}: {file_mode(path):o}"


def test_private_dir_makes_the_chain_below_its_root_private_and_leaves_the_rest(tmp_path):
    root = tmp_path / "shared" / "quarantine"
    folder = private_dir(root / "a" / "b", root=root)
    assert folder.is_dir()
    assert [file_mode(p) for p in (root, root / "a", root / "a" / "b")] == [0o700] * 3
    assert file_mode(tmp_path / "shared") == 0o755  # above the root: as mkdir -p makes it
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    loose.chmod(0o777)
    private_dir(loose)
    assert file_mode(loose) == 0o700


def test_private_files_are_0600_new_or_old(tmp_path):
    fresh = write_private_text(tmp_path / "fresh.txt", "x")
    assert file_mode(fresh) == 0o600
    old = tmp_path / "old.log"
    old.write_text("before\n")
    assert file_mode(old) == 0o644
    with open_private(old, "a") as out:
        out.write("after\n")
    assert file_mode(old) == 0o600 and old.read_text() == "before\nafter\n"
    source = tmp_path / "landed.csv"
    source.write_bytes(b"a;b\n1;2\n")
    copied = copy_private(source, tmp_path / "copy.csv")
    assert file_mode(copied) == 0o600 and copied.read_bytes() == source.read_bytes()
    assert copied.stat().st_mtime_ns == source.stat().st_mtime_ns


def test_private_umask_is_restored_however_the_threads_overlap(tmp_path):
    entered, release = threading.Event(), threading.Event()

    def other():
        with private_umask():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with private_umask():
        thread.start()
        entered.wait(5)
        (tmp_path / "a").write_text("x")
    # the other thread is still inside: still private
    (tmp_path / "b").write_text("x")
    release.set()
    thread.join(5)
    (tmp_path / "c").write_text("x")
    assert [file_mode(tmp_path / n) for n in "abc"] == [0o600, 0o600, 0o644]
    assert os.umask(0o022) == 0o022


def test_make_tree_private_tightens_everything_and_follows_no_link(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    root = tmp_path / "home"
    (root / "storage" / "run").mkdir(parents=True)
    (root / "storage" / "run" / "compute.log").write_text("x")
    (root / "link").symlink_to(outside)
    make_tree_private(root)
    assert_tree_private(root)
    assert file_mode(outside) == 0o644


def test_quarantine_is_owner_only(tmp_path):
    landed = tmp_path / "landing" / "tmt_2024-03.csv"
    landed.parent.mkdir()
    landed.write_text("henkilotunnus;x\n")
    copy = quarantine(landed, "kela_payments", date(2024, 3, 1), tmp_path / "quarantine", "a reason")
    assert_tree_private(tmp_path / "quarantine")
    assert copy.read_text() == landed.read_text()
    assert file_mode(landed) == 0o644  # the landed file itself is not touched


def test_alerts_are_owner_only(tmp_path):
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    alert = Alert(run_id="r1", job_name="monthly_job", step_key=None, message="failed")
    path = write_alert(warehouse, alert, log=False)
    assert file_mode(path.parent) == 0o700 and file_mode(path) == 0o600
    assert file_mode(warehouse) == 0o755  # the warehouse folder also holds the published tables


def test_run_logs_are_owner_only(tmp_path):
    log_path = tmp_path / "warehouse" / "logs" / "kaira-run.log"
    with output_to_log(log_path) as console:
        console.write("")
    assert file_mode(log_path.parent) == 0o700 and file_mode(log_path) == 0o600


def test_dbt_profile_is_owner_only(tmp_path):
    settings = load_settings({"KAIRA_WAREHOUSE_DIR": str(tmp_path / "warehouse")})
    folder = write_run_profile(settings)
    assert_tree_private(folder)


def test_dagster_home_is_owner_only_with_everything_in_it(tmp_path):
    home = tmp_path / "dagster_home"
    (home / "history").mkdir(parents=True)
    (home / "history" / "runs.db").write_text("")
    prepare_dagster_home(home)
    assert_tree_private(home)
