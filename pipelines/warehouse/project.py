"""The one dbt project of Kaira, shared by every dbt asset and resource.

The manifest is prepared once (`dbt parse`, by the README's setup and by CI), not on every
load of the definitions: `prepare_if_dev()` races with itself in parallel runs.

dbt's own output of a run (target and logs) goes into the warehouse folder
(`run_target_path`), not into the project.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from pipelines.package_files import dbt_project_dir

DBT_PROJECT_DIR = dbt_project_dir()
# dbt's output in the warehouse folder: one folder per dbt invocation of a run.
DBT_TARGET_FOLDER = "dbt_target"


@cache
def kaira_dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def run_target_path(warehouse_dir: Path, context) -> Path:
    """dbt's target and log folder for one invocation in a run (dagster-dbt points both
    DBT_TARGET_PATH and DBT_LOG_PATH at it): in the warehouse folder, named as dagster-dbt
    names its own (step, run, a unique suffix), so parallel invocations never share one."""
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    return warehouse_dir / DBT_TARGET_FOLDER / name


def dbt_executable() -> str:
    """The venv's dbt: a console script started outside the venv would not find it on PATH."""
    beside_python = Path(sys.executable).with_name("dbt")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        raise RuntimeError("dbt is not installed in this environment: run the README's setup")
    return found


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=kaira_dbt_project(), dbt_executable=dbt_executable())
