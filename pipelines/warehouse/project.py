"""The one dbt project of Kaira, shared by every dbt asset and resource.

The manifest is prepared once (`dbt parse`, by the README's setup and by CI), not on every
load of the definitions: `prepare_if_dev()` races with itself in parallel runs.
"""

from __future__ import annotations

import shutil
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from pipelines.package_files import dbt_project_dir

DBT_PROJECT_DIR = dbt_project_dir()


@cache
def kaira_dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


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
