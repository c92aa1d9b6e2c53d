"""Helpers shared by the tests: an isolated environment, and running real dbt."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.core.settings import child_environment
from pipelines.warehouse.dbt_args import dbt_build_args
from pipelines.warehouse.project import DBT_PROJECT_DIR, dbt_executable

TEST_KEY = "kaira-test-key-not-secret-32-bytes-or-more"  # the key rule: at least 32 bytes


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


def run_dbt(warehouse_dir: Path, variables: dict, select: str = "+path:models/marts", *, unit_tests: bool = False) -> str:
    """`dbt build` for real, in a subprocess, against the warehouse in `warehouse_dir`."""
    args = dbt_build_args(variables) if not unit_tests else ["build", "--vars", str(variables)]
    command = [dbt_executable(), *args, "--select", select, "--profiles-dir", str(DBT_PROJECT_DIR),
               "--project-dir", str(DBT_PROJECT_DIR), "--target-path", str(warehouse_dir / "dbt_target")]
    env = {**child_environment(), "KAIRA_WAREHOUSE_DIR": str(warehouse_dir), "DBT_LOG_PATH": str(warehouse_dir / "dbt_logs")}
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    if result.returncode != 0:
        raise AssertionError(f"dbt failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def query(database: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, parameters or []).fetchall()
    finally:
        con.close()


def python() -> str:
    return sys.executable


@contextmanager
def generated_pipeline_run(root: Path, first: str, last: str):
    """Generate the sample for first..last into `root` and run it through Dagster, in an
    environment and a Dagster instance of the test's own. Yields (settings, instance, outcome)."""
    import dagster as dg
    import pytest

    from pipelines.cli.runner import run_months
    from pipelines.core.settings import load_settings
    from pipelines.sample import generate_sample

    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment(root).items():
            patch.setenv(name, value)
        settings = load_settings()
        generate_sample(settings.landing_dir, start=first, end=last)
        with dg.instance_for_test() as instance:
            outcome = run_months(first, last, instance=instance)
            assert outcome.success, outcome.failure
            yield settings, instance, outcome
