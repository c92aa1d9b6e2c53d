"""Helpers shared by the tests: an isolated environment, running real dbt, and a small
consistent indicator mart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.warehouse.dbt_args import dbt_build_args
from pipelines.warehouse.project import DBT_PROJECT_DIR, dbt_executable

TEST_KEY = "kaira-test-key"


def environment(root: Path, **overrides: str) -> dict[str, str]:
    """Every Kaira variable pointing into `root`: tests never touch the default warehouse."""
    values = {
        "KAIRA_LANDING_DIR": str(root / "landing"),
        "KAIRA_WAREHOUSE_DIR": str(root / "warehouse"),
        "KAIRA_REPORTS_DIR": str(root / "reports"),
        "KAIRA_QUARANTINE_DIR": str(root / "quarantine"),
        "KAIRA_PSEUDONYM_KEY": TEST_KEY,
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    values.update(overrides)
    return values


@dataclass(frozen=True)
class DbtInvocation:
    returncode: int
    output: str
    results: list[dict]  # target/run_results.json: one entry per node dbt ran

    def statuses(self, resource_type: str) -> dict[str, str]:
        """unique_id -> status ('pass', 'fail', 'success', ...) of the nodes of one type
        (`model`, `seed`, `test`, `unit_test`)."""
        return {r["unique_id"]: r["status"] for r in self.results if r["unique_id"].split(".")[0] == resource_type}


def dbt(warehouse_dir: Path, *args: str) -> DbtInvocation:
    """The venv's dbt for real, in a subprocess, against the warehouse in `warehouse_dir`
    (the repository's profiles.yml, pointed there by KAIRA_WAREHOUSE_DIR). Its target
    folder and logs are in `warehouse_dir` too: never the project's own."""
    target = warehouse_dir / "dbt_target"
    command = [dbt_executable(), *args, "--profiles-dir", str(DBT_PROJECT_DIR),
               "--project-dir", str(DBT_PROJECT_DIR), "--target-path", str(target)]
    env = {**os.environ, "KAIRA_WAREHOUSE_DIR": str(warehouse_dir), "DBT_LOG_PATH": str(warehouse_dir / "dbt_logs")}
    (target / "run_results.json").unlink(missing_ok=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR, check=False)
    results_path = target / "run_results.json"
    results = json.loads(results_path.read_text(encoding="utf-8"))["results"] if results_path.exists() else []
    return DbtInvocation(done.returncode, done.stdout + done.stderr, results)


def run_dbt(warehouse_dir: Path, variables: dict, select: str = "+path:models/marts") -> str:
    """`dbt build` as production runs it (no unit tests), which must succeed."""
    done = dbt(warehouse_dir, *dbt_build_args(variables), "--select", select)
    if done.returncode != 0:
        raise AssertionError(f"dbt failed:\n{done.output[-6000:]}")
    return done.output


def query(database: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, parameters or []).fetchall()
    finally:
        con.close()


def python() -> str:
    return sys.executable


@contextmanager
def isolated_environment(root: Path):
    """The process environment pointing every Kaira folder and DAGSTER_HOME into `root`."""
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment(root).items():
            patch.setenv(name, value)
        yield


@contextmanager
def generated_pipeline_run(root: Path, first: str, last: str):
    """Generate the sample for first..last into `root` and run it through Dagster, in an
    environment and a Dagster instance (`root/dagster_home`) of the test's own.
    Yields (settings, instance, outcome)."""
    import dagster as dg

    from pipelines.cli.runner import run_months
    from pipelines.core.settings import load_settings
    from pipelines.sample import generate_sample

    with isolated_environment(root):
        settings = load_settings()
        generate_sample(settings.landing_dir, start=first, end=last)
        settings.dagster_home.mkdir(parents=True, exist_ok=True)
        with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
            outcome = run_months(first, last, instance=instance)
            assert outcome.success, outcome.failure
            yield settings, instance, outcome


@contextmanager
def copied_pipeline_run(template: Path, outcome, root: Path):
    """A copy of a finished run's folders (landing, warehouse, reports, Dagster's instance) in
    `root`, for tests that change what they find: yields (settings, instance, outcome)."""
    import shutil

    import dagster as dg

    from pipelines.core.settings import load_settings

    shutil.copytree(template, root, symlinks=True, dirs_exist_ok=True)
    with isolated_environment(root):
        settings = load_settings()
        with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
            yield settings, instance, outcome
