"""`kaira worker` (pipelines/worker/server.py) with real processes: a real worker on a socket
of the test's own, real `kaira run` commands handed to it, the real pipeline on a generated
sample.

Protects: a run through the worker publishes exactly what the same run in its own process
publishes, and its dbt invocation is a fork of the worker too; the worker never holds the
pseudonymisation key (not in its environment, not anywhere in its memory), although it was
started with the key in its environment and the run it served had it; Ctrl-C on the client reaches the run, and a client killed outright takes
its run (and the run's dbt) with it, after which the next run works; a worker whose code
changed on disk refuses, and the command runs in its own process instead. The runs a real
Dagster daemon launches (its sensor's month, a launched run) execute in forks of the worker,
publish what a run of their own publishes, and Terminate cancels them; without a worker
the code server starts them, as by default.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.core.fault_injection import marker_path
from pipelines.core.settings import load_settings
from pipelines.sample import generate_sample
from tests.helpers import environment

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = "2010-01", "2010-02"
# The key of the runs: distinctive, so that finding it in a process's memory means the key.
RUN_KEY = "resident-worker-test-key-Zq7vK2pLx9-not-secret"
RUN_COLUMNS = {"publication": ("run_id", "published_at"), "run_checks": ("run_id", "checked_at")}
FORK_LINE = re.compile(r"run by the resident worker, in its fork (\d+)")


class Worker:
    def __init__(self, root: Path) -> None:
        self.socket = root / "worker" / "worker.sock"
        self.log = root / "worker.log"
        # Started from a shell that holds the key, as a person may: the worker must drop it.
        env = {name: value for name, value in os.environ.items() if not name.startswith("KAIRA_")}
        env.update(KAIRA_WORKER_SOCKET=str(self.socket), KAIRA_PSEUDONYM_KEY=RUN_KEY)
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "pipelines.cli.main", "worker"], cwd=REPO_ROOT,
                                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while not self.socket.exists():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the worker did not start listening"
            time.sleep(0.1)

    def forks(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"fork (\d+) serves a connection", self.log.read_text())]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def run_environment(root: Path, worker: Worker | None) -> dict[str, str]:
    values = environment(root, KAIRA_PSEUDONYM_KEY=RUN_KEY)
    if worker is not None:
        values.pop("KAIRA_WORKER")  # the helpers turn the worker off for every other test
        values["KAIRA_WORKER_SOCKET"] = str(worker.socket)
    return {**os.environ, **values}


def kaira_run(env: dict[str, str], *extra: str, out: Path) -> subprocess.Popen:
    handle = open(out, "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli.main", "run", *extra], cwd=REPO_ROOT, env=env,
                            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, text=True)


def published_rows(published: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(published), read_only=True) as con:
        tables = [name for (name,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        rows = {}
        for table in tables:
            excluded = RUN_COLUMNS.get(table)
            select = f"select * exclude ({', '.join(excluded)})" if excluded else "select *"
            rows[table] = con.execute(f"{select} from {table} order by all").fetchall()
    return rows


def process_memory_contains(pid: int, needle: bytes) -> bool:
    """Whether `needle` is anywhere in the process's private memory (heap, stacks,
    anonymous mappings): read through /proc/<pid>/mem, which its parent (this test) may."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as memory:
        for line in maps:
            fields = line.split()
            start, end = (int(value, 16) for value in fields[0].split("-"))
            name = fields[5] if len(fields) > 5 else ""
            if "r" not in fields[1] or (name and name not in ("[heap]", "[stack]")):
                continue
            overlap = len(needle) - 1
            tail = b""
            for offset in range(start, end, 1 << 24):
                try:
                    memory.seek(offset)
                    chunk = memory.read(min(1 << 24, end - offset))
                except OSError:
                    break
                if needle in tail + chunk:
                    return True
                tail = chunk[-overlap:]
    return False


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The same two months run twice from the same files: in its own process, and through a worker."""
    root = tmp_path_factory.mktemp("resident_worker")
    alone, through = root / "alone", root / "through"
    generate_sample(alone / "landing", start=FIRST, end=LAST)
    shutil.copytree(alone / "landing", through / "landing")
    worker = Worker(root)
    try:
        outputs = {}
        for name, folder, via in (("alone", alone, None), ("through", through, worker)):
            process = kaira_run(run_environment(folder, via), "--from", FIRST, "--to", LAST, out=root / f"{name}.out")
            process.wait(timeout=900)
            outputs[name] = (process.returncode, (root / f"{name}.out").read_text())
        yield root, worker, outputs
    finally:
        worker.stop()


def test_a_run_through_the_worker_publishes_what_a_run_of_its_own_publishes(served):
    root, worker, outputs = served
    for name, (code, text) in outputs.items():
        assert code == 0, f"{name}:\n{text[-3000:]}"
    assert not FORK_LINE.search(outputs["alone"][1])
    fork = FORK_LINE.search(outputs["through"][1])
    assert fork, outputs["through"][1][:2000]
    forks = worker.forks()
    # The run, then dbt's invocations (the reference data's and the months'): each a fork.
    assert int(fork.group(1)) in forks and len(forks) >= 3, worker.log.read_text()
    alone = published_rows(load_settings(run_environment(root / "alone", None)).published_path)
    through = published_rows(load_settings(run_environment(root / "through", None)).published_path)
    assert alone.keys() == through.keys() and "indicators_monthly" in alone
    for table in alone:
        assert alone[table] == through[table], table
    assert len(alone["indicators_monthly"]) > 100
    reports = [sorted(p.relative_to(root / side / "reports").as_posix() for p in (root / side / "reports").rglob("*.html"))
               for side in ("alone", "through")]
    assert reports[0] == reports[1] and reports[0]


def test_the_worker_never_holds_the_key_its_runs_had(served):
    """Not the key its own shell had (it starts again without it), nor the key of the run
    it served: neither in its environment nor anywhere in its memory."""
    root, worker, outputs = served
    assert outputs["through"][0] == 0
    pid = worker.process.pid
    assert RUN_KEY.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
    # The scan finds what the worker does hold (its socket's path), so not finding the key means something.
    assert process_memory_contains(pid, str(worker.socket).encode())
    assert not process_memory_contains(pid, RUN_KEY.encode())


def wait_for_pause(client: subprocess.Popen, marker: Path, out: Path) -> None:
    began = time.monotonic()
    while not marker.exists():
        assert client.poll() is None, out.read_text()[-3000:]
        assert time.monotonic() - began < 300, f"the run never reached {marker.name}"
        time.sleep(0.05)


def wait_until_ended(pids: set[int], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"{what}: {sorted(pid for pid in pids if alive(pid))} still running"
        time.sleep(0.1)


def test_ctrl_c_ends_a_run_through_the_worker_as_it_ends_a_run_of_its_own(served):
    """SIGINT on the client reaches the run: held at the ingest pause (where Dagster defers
    it until the pause ends), the run then stops, with the exit status a run in its own
    process gives; the published tables are untouched."""
    root, worker, _ = served
    folder = root / "through"
    settings = load_settings(run_environment(folder, worker))
    published_before = published_rows(settings.published_path)
    codes = {}
    for name, via in (("own process", None), ("through the worker", worker)):
        env = {**run_environment(folder, via), "KAIRA_FAULT_PAUSE": "ingest:5"}
        out = root / f"interrupted {name}.out"
        forks_before = set(worker.forks())
        client = kaira_run(env, "--from", LAST, "--to", LAST, out=out)
        wait_for_pause(client, marker_path(settings, "ingest"), out)
        client.send_signal(signal.SIGINT)
        codes[name] = client.wait(timeout=120)
        forks = set(worker.forks()) - forks_before
        assert bool(forks) == (via is not None) and bool(FORK_LINE.search(out.read_text())) == (via is not None)
        wait_until_ended(forks, "the interrupted run's fork")
    assert codes["own process"] not in (0, None)
    assert codes["through the worker"] == codes["own process"]
    assert published_rows(settings.published_path) == published_before


def test_a_killed_client_takes_its_run_and_the_runs_dbt_with_it(served):
    """SIGKILL on the client (it cannot pass that on) while dbt runs: the run's fork and
    dbt's fork end too, nothing is published, and the next run works."""
    root, worker, _ = served
    folder = root / "through"
    env = run_environment(folder, worker)
    settings = load_settings(env)
    published_before = published_rows(settings.published_path)
    out = root / "killed.out"
    forks_before = set(worker.forks())
    client = kaira_run({**env, "KAIRA_FAULT_PAUSE": "dbt:600"}, "--from", LAST, "--to", LAST, out=out)
    wait_for_pause(client, marker_path(settings, "dbt"), out)
    run_fork = int(FORK_LINE.search(out.read_text()).group(1))
    forks = set(worker.forks()) - forks_before
    assert run_fork in forks and len(forks) >= 2, worker.log.read_text()  # the run, and dbt
    os.kill(client.pid, signal.SIGKILL)
    client.wait(timeout=60)
    wait_until_ended(forks, "forks of the killed run")
    assert published_rows(settings.published_path) == published_before
    marker_path(settings, "dbt").unlink(missing_ok=True)  # a SIGKILL leaves the pause's marker

    again = kaira_run(env, "--from", LAST, "--to", LAST, out=root / "again.out")
    assert again.wait(timeout=900) == 0, (root / "again.out").read_text()[-3000:]
    assert FORK_LINE.search((root / "again.out").read_text())


# --- the runs Dagster's daemon launches (pipelines/worker/run_launcher.py) --------------

BIN = Path(sys.executable).parent


def wait_for_run(instance, until, what: str, seconds: float = 300):
    deadline = time.monotonic() + seconds
    while True:
        runs = [run for run in instance.get_runs() if until(run)]
        if runs:
            return runs[0]
        assert time.monotonic() < deadline, f"{what}: {[(r.run_id, r.status) for r in instance.get_runs()]}"
        time.sleep(0.1)


def started_process(instance, run_id: str) -> int | None:
    import dagster as dg

    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records:
        found = re.search(r"Started process for run \(pid: (\d+)\)", record.event_log_entry.message or "")
        if found:
            return int(found.group(1))
    return None


def launch_last_month(env: dict[str, str]) -> None:
    """`dagster job launch` of the monthly job for LAST into the daemon's queue, as a person
    launches a run from the command line (the UI's Launch does the same)."""
    from pipelines.partitions import range_tags

    launched = subprocess.run(
        [BIN / "dagster", "job", "launch", "-w", "workspace.yaml", "-j", "monthly_job",
         "--tags", json.dumps(range_tags(LAST, LAST))],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert launched.returncode == 0, launched.stderr[-3000:]


def test_the_daemons_runs_go_to_the_worker_and_terminate_reaches_them(served):
    """The landing sensor of a real Dagster daemon requests the new month; the instance's
    launcher hands the run to the worker, whose fork executes it and publishes what a run of
    its own publishes. Terminate (the UI's button: the launcher's `terminate`) interrupts a
    run in a fork and cancels it, publishing nothing. The worker still holds no key. With the
    worker stopped, the code server starts the run, as Dagster's default launcher does."""
    import dagster as dg

    from pipelines.worker.run_launcher import WORKER_FORK_TAG

    root, worker, _ = served
    folder = root / "daemon"
    shutil.copytree(root / "alone" / "landing", folder / "landing")
    hour_ago = time.time() - 3600  # settled: the sensor takes files left alone for a minute
    for path in (folder / "landing").rglob("*"):
        os.utime(path, (hour_ago, hour_ago))
    first = kaira_run(run_environment(folder, None), "--from", FIRST, "--to", FIRST, out=root / "daemon-first.out")
    assert first.wait(timeout=900) == 0, (root / "daemon-first.out").read_text()[-3000:]

    env = run_environment(folder, worker)
    settings = load_settings(env)
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    before = {r.run_id for r in instance.get_runs()}  # `kaira run`'s
    with open(root / "daemon.log", "w") as log:
        daemon = subprocess.Popen([BIN / "dagster-daemon", "run", "-w", "workspace.yaml"], cwd=REPO_ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # The sensor's first tick requests the new month; the queue hands it to the launcher.
        run = wait_for_run(instance, lambda r: r.run_id not in before and r.job_name == "monthly_job" and r.is_finished,
                           "the sensor's run")
        assert run.status == dg.DagsterRunStatus.SUCCESS, (root / "daemon.log").read_text()[-3000:]
        fork = int(run.tags[WORKER_FORK_TAG])
        assert fork in worker.forks() and started_process(instance, run.run_id) == fork
        assert any("Handed to the resident worker" in (record.event_log_entry.message or "") for record in
                   instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records)
        alone = published_rows(load_settings(run_environment(root / "alone", None)).published_path)
        daemon_published = published_rows(settings.published_path)
        assert daemon_published.keys() == alone.keys()
        for table in alone.keys() - {"run_checks"}:  # the checks count the rows of the run's own months
            assert daemon_published[table] == alone[table], table

        launch_last_month(env)
        again = wait_for_run(instance, lambda r: r.run_id not in before | {run.run_id}
                             and r.tags.get(WORKER_FORK_TAG, "").isdigit()
                             and r.status == dg.DagsterRunStatus.STARTED, "the launched run")
        assert instance.run_launcher.terminate(again.run_id)
        ended = wait_for_run(instance, lambda r: r.run_id == again.run_id and r.is_finished, "the terminated run")
        assert ended.status == dg.DagsterRunStatus.CANCELED
        wait_until_ended({int(again.tags[WORKER_FORK_TAG])}, "the terminated run's fork")
        assert published_rows(settings.published_path) == daemon_published
        assert not process_memory_contains(worker.process.pid, RUN_KEY.encode())

        # No worker: the code server starts the run, as Dagster's default launcher does.
        worker.stop()
        launch_last_month(env)
        known = before | {run.run_id, again.run_id}
        alone_run = wait_for_run(instance, lambda r: r.run_id not in known and r.is_finished, "the run without a worker")
        assert alone_run.status == dg.DagsterRunStatus.SUCCESS, (root / "daemon.log").read_text()[-3000:]
        spawned = started_process(instance, alone_run.run_id)
        assert WORKER_FORK_TAG not in alone_run.tags and spawned is not None and spawned not in worker.forks()
        assert published_rows(settings.published_path) == daemon_published
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)
        instance.dispose()
