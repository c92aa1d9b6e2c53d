"""Helpers shared by the tests: an isolated environment, running real dbt, and a small
consistent indicator mart."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.core.settings import child_environment
from pipelines.validation import relations as r
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
        # A `kaira worker` the developer runs never takes a test's command (one that tests
        # the worker sets its own socket).
        "KAIRA_WORKER": "off",
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
    env = {**child_environment(), "KAIRA_WAREHOUSE_DIR": str(warehouse_dir), "DBT_LOG_PATH": str(warehouse_dir / "dbt_logs")}
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



@contextmanager
def umask(value: int):
    """The process umask set to `value` within the block (tests of file modes run under 022)."""
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def file_mode(path: Path) -> int:
    """The permission bits of `path` itself (a symbolic link's own, not its target's)."""
    import stat

    return stat.S_IMODE(Path(path).lstat().st_mode)


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


def indicator_cells(month: pd.Timestamp | None = None, lookback_complete: bool = True) -> pd.DataFrame:
    """Rows of fct_indicators_monthly for one month: two municipalities of MK18 and the
    region, three sexes, every indicator. Totals, the region and structural add up,
    except Kela's recipient counts in the region (distinct persons: one less than the sum).
    The month defaults to January 2024."""
    month = pd.Timestamp("2024-01-01") if month is None else month
    base = {}
    areas = ("KU205", "KU578")
    for a, area in enumerate(areas):
        for s, sex in enumerate(("male", "female")):
            for i, indicator in enumerate(r.WAREHOUSE_INDICATORS):
                value = float((a * 5 + s * 3 + i * 7) % 13 + 5)
                base[(area, sex, indicator)] = value * 97.31 if indicator.endswith("_eur") else value
            base[(area, sex, "structural_unemployed")] = sum(base[(area, sex, g)] for g in r.STRUCTURAL_GROUPS)
    for indicator in r.WAREHOUSE_INDICATORS:
        for sex in ("male", "female"):
            parts = sum(base[(area, sex, indicator)] for area in areas)
            base[("MK18", sex, indicator)] = parts if indicator in r.REGION_ADDITIVE_INDICATORS else parts - 1
        for area in areas + ("MK18",):
            base[(area, "total", indicator)] = base[(area, "male", indicator)] + base[(area, "female", indicator)]
    records = []
    for (area, sex, indicator), value in base.items():
        incomplete = not lookback_complete and indicator in r.JOBSEEKER_INDICATORS
        records.append(
            {
                "month": month,
                "count_date": month + pd.offsets.MonthEnd(0),
                "area_code": area,
                "area_level": "region" if area == "MK18" else "municipality",
                "area_name": {"MK18": "Kainuu", "KU205": "Kajaani", "KU578": "Paltamo"}[area],
                "parent_area_code": None if area == "MK18" else "MK18",
                "sex": sex,
                "indicator": indicator,
                "indicator_order": r.WAREHOUSE_INDICATORS.index(indicator) + 1,
                "value": value,
                "status": "incomplete" if incomplete else "ok",
                "lookback_complete": lookback_complete,
            }
        )
    return pd.DataFrame(records)


def read_spells(path: Path) -> list[dict[str, str]]:
    """A landing jobseeker file's rows, to redeliver it changed (`write_spells`)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def write_spells(path: Path, rows: list[dict[str, str]]) -> None:
    """Rows back into a landing jobseeker file, in the columns of the first row."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
