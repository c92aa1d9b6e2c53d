"""Two `kaira run` started at once on the same warehouse, for real: generated sample of two
months, each command a subprocess with the README's environment.

Protects: one run fails at once with a clear message while the other processes the months
through Dagster (the runs are in the instance's history), prints a summary and keeps
Dagster's log out of the terminal; afterwards the published tables are readable and
complete, and no alert was raised.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.core.settings import load_settings
from pipelines.sample import generate_sample
from tests.helpers import environment, query

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = "2008-01", "2008-02"
KAINUU_CELLS_PER_MONTH = 10 * 3 * 19  # areas x sexes x indicators


def test_two_runs_at_once_one_refused_the_other_complete(tmp_path, monkeypatch):
    env = {**os.environ, **environment(tmp_path)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name in environment(tmp_path):
        monkeypatch.setenv(name, env[name])
    settings = load_settings()
    generate_sample(settings.landing_dir, start=FIRST, end=LAST)

    command = [sys.executable, "-m", "pipelines.cli.main", "run"]
    began = time.monotonic()
    processes = [
        subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    finished: dict[int, tuple[int, str, str, float]] = {}
    while len(finished) < 2:
        for index, process in enumerate(processes):
            if index not in finished and process.poll() is not None:
                out, err = process.communicate()
                finished[index] = (process.returncode, out, err, time.monotonic() - began)
        time.sleep(0.2)
        assert time.monotonic() - began < 600, "kaira run did not finish in 10 minutes"

    winners = [result for result in finished.values() if result[0] == 0]
    refusals = [result for result in finished.values() if result[0] != 0]
    assert len(winners) == 1 and len(refusals) == 1, [(rc, err[-2000:]) for rc, _, err, _ in finished.values()]
    (winner,), (refused,) = winners, refusals
    _, out, err, elapsed = winner
    _, refused_out, refused_err, refused_elapsed = refused

    assert refused[0] == 1
    assert f"another run is writing the warehouse {settings.warehouse_dir}" in refused_err, refused_err
    assert "--wait" in refused_err and len(refused_err.strip().splitlines()) == 1
    assert refused_elapsed < elapsed / 2, (refused_elapsed, elapsed)

    assert err.strip() == "", err[-3000:]
    assert " - dagster - " not in out
    for expected in ("kaira: done in", f"2 months {FIRST}..{LAST}", "ingest the Kela payments (tmt) ok in",
                     "checks: ", " passed, 0 failed", f"published: {settings.published_path}",
                     "months 2008-01 .. 2008-02 (2)", f"follow-up reports: {settings.reports_dir}"):
        assert expected in out, (expected, out)
    (log,) = (settings.warehouse_dir / "logs").glob("kaira-run-*.log")
    assert " - dagster - " in log.read_text()
    assert not (settings.warehouse_dir / "alerts").exists()

    # The published tables: readable, every month, area, sex and indicator.
    assert query(settings.published_path, "select count(*), count(distinct month) from indicators_monthly") == [
        (2 * KAINUU_CELLS_PER_MONTH, 2)
    ]
    assert query(settings.published_path, "select count(*) from run_checks")[0][0] > 0
    assert query(settings.published_path, "select count(*) from run_checks where not passed and severity = 'error'") == [(0,)]
    for table in ("indicators_monthly", "target_followup", "run_checks"):
        assert (settings.published_parquet_dir / f"{table}.parquet").exists()
    assert query(settings.warehouse_path, "select count(distinct delivery_month) from raw.deliveries") == [(2,)]

    # The runs are in the instance's history, as the UI shows them.
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
        assert sorted((run.job_name, run.status) for run in runs) == [
            ("monthly_job", dg.DagsterRunStatus.SUCCESS),
            ("reference_job", dg.DagsterRunStatus.SUCCESS),
        ]
        assert all(run.run_id in out for run in runs)
