"""The fault matrix on the real pipeline (docs/faults.md): a corrected month's `kaira run`
killed with SIGKILL at each step, and a disk that fills up while publishing.

One generated two-month sample, published once; then the second month is corrected by a
delivery that deletes spells (persons unemployed on its count date vanish from the file),
and the tests run in order, each a real `kaira run` subprocess in its own process group:
held at a named point by the test-only fault pause (KAIRA_FAULT_PAUSE) and killed there,
or left to fail on a full disk. The warehouse folder is a small tmpfs (CI runs as root)
mounted at a path with a quote in it, so every run also proves that no SQL is built from
a path.

Protects: killed in ingest, dbt, the checks or the swap of publishing, published.duckdb
stays byte-identical and its Parquet twin unchanged; the next plain `kaira run` proceeds
without manual clean-up (it marks the killed run failed with a note); a full disk fails
the run with a one-line message and leaves the previous version and no leftovers; killed
in the reports, the run has published the whole correction, nothing half; and a plain
`kaira run` at the end succeeds and publishes the correction.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines.core.fault_injection import marker_path
from pipelines.core.settings import Settings, load_settings
from pipelines.sample import generate_sample
from tests.helpers import environment, query

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRST, CORRECTED = "2009-01", "2009-02"
DELETED_PERSONS = 12
TMPFS_SIZE = "128m"
LEAVE_FREE = 384 * 1024  # on the full disk: room for logs and alerts, not for a published file


@dataclass
class World:
    root: Path
    env: dict[str, str]
    settings: Settings
    original: str = ""  # digest of published.duckdb before the correction
    original_link: str = ""  # the Parquet version the link pointed to
    unemployed_before: float = 0.0
    first_month_before: float = 0.0  # the month before the correction: never changes
    killed: list[tuple[int, str]] = field(default_factory=list)  # (pid, point) of the killed runs
    outputs: dict[str, str] = field(default_factory=dict)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unemployed_mk18(settings: Settings, month: str = CORRECTED) -> float:
    return query(settings.published_path, "select value from indicators_monthly where month = ? and area_code = 'MK18' "
                 "and sex = 'total' and indicator = 'unemployed'", [date.fromisoformat(f"{month}-01")])[0][0]


def kaira(world: World, *extra: str, pause: str | None = None, log: str = "run") -> subprocess.Popen:
    env = {**world.env, **({"KAIRA_FAULT_PAUSE": pause} if pause else {})}
    out = open(world.root / f"{log}.out", "w")  # noqa: SIM115 (closed by the process's end)
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli.main", "run", *extra], cwd=REPO_ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, text=True)


def finish(world: World, process: subprocess.Popen, log: str, timeout: float = 600) -> tuple[int, str]:
    process.wait(timeout=timeout)
    text = (world.root / f"{log}.out").read_text()
    world.outputs[log] = text
    return process.returncode, text


def wait_for_marker(world: World, process: subprocess.Popen, point: str, timeout: float = 420) -> None:
    began = time.monotonic()
    while not marker_path(world.settings, point).exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before reaching {point}:\n{(world.root / f'{point}.out').read_text()[-3000:]}")
        assert time.monotonic() - began < timeout, f"the run never reached {point}"
        time.sleep(0.05)


def kill_at(world: World, point: str) -> None:
    """A plain `kaira run` held at `point` and killed there with its whole process group
    (dbt, Dagster's helpers): what the kernel's OOM killer or a power cut does."""
    process = kaira(world, pause=f"{point}:600", log=point)
    try:
        wait_for_marker(world, process, point)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    world.killed.append((process.pid, point))


def assert_published_untouched(world: World) -> None:
    """published.duckdb byte-identical, the Parquet link on the same version, both readable."""
    settings = world.settings
    assert digest(settings.published_path) == world.original
    assert os.readlink(settings.published_parquet_dir) == world.original_link
    assert unemployed_mk18(settings) == world.unemployed_before
    parquet = settings.published_parquet_dir / "indicators_monthly.parquet"
    assert query(settings.published_path, "select count(*) from read_parquet(?)", [str(parquet)]) == query(
        settings.published_path, "select count(*) from indicators_monthly")


def run_statuses(world: World) -> dict[str, dg.DagsterRunStatus]:
    with dg.DagsterInstance.from_config(world.env["DAGSTER_HOME"]) as instance:
        return {run.run_id: run.status for run in instance.get_runs()}


def assert_marked_failed(world: World, killed: int) -> None:
    """The run of the `killed`-th kill was left STARTED by its dead process; a later
    `kaira run` marked it failed with a note saying so (no manual clean-up)."""
    pid, point = world.killed[killed]
    with dg.DagsterInstance.from_config(world.env["DAGSTER_HOME"]) as instance:
        notes = [
            record.event_log_entry.dagster_event.message
            for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
            for record in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
        ]
    assert any(f"no process {pid} is running" in note and "marked failed by kaira run" in note for note in notes), (
        point, notes)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("fault_matrix")
    warehouse = root / "ware'house"  # a quote in KAIRA_WAREHOUSE_DIR
    warehouse.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", str(warehouse)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:  # no skip: the disk-full test must run (CI runs as root)
        pytest.fail(f"could not mount a tmpfs as the warehouse folder: {mounted.stderr.strip()}")
    try:
        env = {**os.environ, **environment(root, KAIRA_WAREHOUSE_DIR=str(warehouse))}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.pop("KAIRA_FAULT_PAUSE", None)
        settings = load_settings(env)
        generate_sample(settings.landing_dir, start=FIRST, end=CORRECTED)
        world = World(root, env, settings)
        code, output = finish(world, kaira(world, log="baseline"), "baseline")
        assert code == 0, output[-3000:]
        world.original = digest(settings.published_path)
        world.original_link = os.readlink(settings.published_parquet_dir)
        world.unemployed_before = unemployed_mk18(settings)
        world.first_month_before = unemployed_mk18(settings, FIRST)
        yield world
    finally:
        if subprocess.run(["umount", str(warehouse)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(warehouse)], capture_output=True, check=False)


def spells_path(settings: Settings, month: str = CORRECTED) -> Path:
    return settings.landing_dir / "tyonhakijat" / f"tyonhakijat_{month}.csv"


def test_the_correction_is_a_delivery_that_deletes_spells(world):
    """The corrected month: the spells of persons unemployed on its count date, each with
    only that row in the file, are deleted (docs/definitions.md, Point in time, rule 3)."""
    path = spells_path(world.settings)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    municipalities = {code[2:] for (code,) in query(
        world.settings.published_path, "select distinct area_code from indicators_monthly where area_code like 'KU%'")}
    per_person: dict[str, int] = {}
    for row in rows:
        per_person[row["henkilotunnus"]] = per_person.get(row["henkilotunnus"], 0) + 1
    deleted = [row for row in rows if row["tila"] == "TYOTON" and not row["loppupvm"] and row["alkupvm"] < "2009-02-01"
               and per_person[row["henkilotunnus"]] == 1 and row["kuntanumero"] in municipalities][:DELETED_PERSONS]
    assert len(deleted) == DELETED_PERSONS
    kept = [row for row in rows if row not in deleted]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    world.outputs["kept_rows"] = str(len(kept))


def test_killed_in_ingest_published_is_byte_identical(world):
    kill_at(world, "ingest")
    assert_published_untouched(world)


def test_killed_in_dbt_published_is_byte_identical(world):
    kill_at(world, "dbt")
    assert_published_untouched(world)
    assert_marked_failed(world, 0)  # this plain run got past the run killed in ingest


def test_killed_in_the_checks_published_is_byte_identical(world):
    kill_at(world, "checks")
    assert_published_untouched(world)
    assert_marked_failed(world, 1)


def fill_the_disk(folder: Path) -> Path:
    """Leave LEAVE_FREE bytes (no leftovers of an earlier publication are there to free)."""
    assert not list(folder.glob(".published.duckdb.*"))
    stats = os.statvfs(folder)
    filler = folder / "filler.bin"
    with open(filler, "wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, stats.f_bavail * stats.f_frsize - LEAVE_FREE)
    return filler


def test_a_full_disk_while_publishing_fails_the_run_in_one_line_and_leaves_the_previous_version(world):
    process = kaira(world, pause="publish:8", log="disk_full")
    wait_for_marker(world, process, "publish")
    filler = fill_the_disk(world.settings.warehouse_dir)
    try:
        code, output = finish(world, process, "disk_full")
        assert code == 1, output[-3000:]
        last = output.strip().splitlines()[-1]
        assert last.startswith("kaira: run ") and "failed in step published_tables" in last, last
        assert "No space left on device" in output or "not enough space" in output.lower() or "disk" in last.lower(), last
        assert "published: nothing new (the last published version is unchanged)" in output
        assert_published_untouched(world)
        leftovers = [*world.settings.warehouse_dir.glob(".published.duckdb.*"),
                     *(world.settings.warehouse_dir / "published.versions").glob(".*.partial")]
        assert leftovers == []
        (alert,) = [path for path in (world.settings.warehouse_dir / "alerts").glob("*.txt") if "landing" not in path.name
                    and path.read_text().find("failed step: published_tables") >= 0]
        assert "KAIRA ALERT: a pipeline run failed" in alert.read_text()
    finally:
        filler.unlink()
    # Before it began, the run marked the run killed in the checks failed.
    assert "runs of killed processes, marked failed:" in output and f"(no process {world.killed[-1][0]} is running)" in output
    assert_marked_failed(world, 2)


def test_killed_while_swapping_in_the_new_version_published_is_byte_identical(world):
    kill_at(world, "swap")
    assert_published_untouched(world)
    # The new version was complete, aside: its temporary file is all that is left of it.
    assert list(world.settings.warehouse_dir.glob(".published.duckdb.*.tmp"))


def test_killed_in_the_reports_the_correction_is_published_whole(world):
    kill_at(world, "reports")
    published = world.settings.published_path
    assert digest(published) != world.original
    assert unemployed_mk18(world.settings) == world.unemployed_before - DELETED_PERSONS
    # published.duckdb and its Parquet twin are one version: the same publication row.
    run_id = query(published, "select run_id from publication")[0][0]
    parquet = world.settings.published_parquet_dir / "publication.parquet"
    assert query(published, "select run_id from read_parquet(?)", [str(parquet)]) == [(run_id,)]
    assert_marked_failed(world, 3)


def test_a_plain_kaira_run_afterwards_succeeds_and_publishes_the_correction(world):
    code, output = finish(world, kaira(world, log="final"), "final")
    assert code == 0, output[-3000:]
    assert f"(no process {world.killed[-1][0]} is running)" in output  # the run killed in the reports
    assert_marked_failed(world, 4)
    for expected in ("kaira: done in", "2 months 2009-01..2009-02", f"published: {world.settings.published_path}",
                     "checks: ", " passed, 0 failed"):
        assert expected in output, expected
    assert unemployed_mk18(world.settings) == world.unemployed_before - DELETED_PERSONS
    assert unemployed_mk18(world.settings, FIRST) == world.first_month_before
    kept = int(world.outputs["kept_rows"])
    assert query(world.settings.warehouse_path, "select count(*) from raw.jobseeker_spells where delivery_month = ?",
                 [date(2009, 2, 1)]) == [(kept,)]
    statuses = run_statuses(world)
    assert dg.DagsterRunStatus.STARTED not in statuses.values()
    failed = sum(status == dg.DagsterRunStatus.FAILURE for status in statuses.values())
    assert failed == len(world.killed) + 1  # every killed run, and the one that found the disk full
    assert not list(world.settings.warehouse_dir.glob(".published.duckdb.*"))
    assert not list((world.settings.warehouse_dir / "published.versions").glob(".*.partial"))
    shutil.rmtree(world.settings.reports_dir, ignore_errors=True)  # large; the tmp folder keeps the rest
