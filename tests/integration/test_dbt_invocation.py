"""How each dbt invocation of a run starts (pipelines/warehouse/project.py, assets.py).

Protects: the dbt assets start no `dbt --version` subprocess and build no dbt adapter in
Kaira's process (dagster-dbt's two fixed costs of each invocation, which Kaira's resource
leaves out).
"""

from __future__ import annotations

import dagster as dg

from pipelines.core.settings import load_settings
from tests.helpers import environment

# --- no `dbt --version`, no adapter in this process ---------------------------------------


def test_the_dbt_assets_start_no_version_subprocess_and_build_no_adapter_here(tmp_path, monkeypatch):
    """The reference-data asset through Dagster with a real dbt build; the dbt executable is
    a script that records each command (its first argument) and runs the real dbt. Both
    controls first show the two costs as dagster-dbt's own resource has them."""
    from dagster_dbt import DbtCliResource
    from dbt.adapters.factory import FACTORY, reset_adapters

    from pipelines.resources import SettingsResource
    from pipelines.warehouse.assets import kaira_reference_models
    from pipelines.warehouse.profile import write_run_profile
    from pipelines.warehouse.project import dbt_executable, kaira_dbt_project

    for name, value in environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    commands = tmp_path / "dbt-commands.txt"
    wrapper = tmp_path / "dbt"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> "{commands}"\nexec "{dbt_executable()}" "$@"\n')
    wrapper.chmod(0o755)

    # Controls: dagster-dbt's resource asks the executable its version, and builds an adapter.
    plain = DbtCliResource(project_dir=kaira_dbt_project(), dbt_executable=str(wrapper),
                           profiles_dir=str(write_run_profile(load_settings())))
    assert plain._cli_version.major == 1
    assert commands.read_text().split() == ["--version"]
    reset_adapters()
    plain._initialize_dbt_core_adapter(["build"])
    assert FACTORY.adapters
    reset_adapters()
    commands.unlink()

    resources = {"dbt": DbtCliResource(project_dir=kaira_dbt_project(), dbt_executable=str(wrapper)),
                 "settings": SettingsResource()}
    with dg.instance_for_test() as instance:
        result = dg.materialize([kaira_reference_models], resources=resources, instance=instance)
    assert result.success
    assert commands.read_text().split() == ["build"]  # the build itself, and nothing before it
    assert not FACTORY.adapters
