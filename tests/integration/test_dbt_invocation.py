"""How each dbt invocation of a run starts (pipelines/warehouse/project.py, assets.py).

Protects: the dbt assets start no `dbt --version` subprocess and build no dbt adapter in
Kaira's process (dagster-dbt's two fixed costs of each invocation, which Kaira's resource
leaves out); dbt's saved parse of the project is reused from invocation to invocation of a
warehouse whatever each one's month window (dbt logs that it skipped parsing), while the
window still reaches the compiled SQL and a run of one month leaves the other months' rows
as they were; the saved parse is owner-only, and a corrupt one costs a full parse, never a
failed or wrong build.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli.runner import run_months
from pipelines.core.settings import load_settings
from pipelines.sample import generate_sample
from pipelines.warehouse.project import DBT_TARGET_FOLDER, saved_parse_state
from tests.helpers import dbt, environment, file_mode, query

FIRST, LAST = "2010-11", "2010-12"
SKIPPED_PARSING = "PartialParsingSkipParsing"  # dbt's event: the saved parse was used as it was
COULD_NOT_REUSE = {"UnableToPartialParse", "ParsedFileLoadFailed"}  # ... a full parse instead


def invocation_folders(warehouse_dir: Path, step: str, run_id: str) -> list[Path]:
    """The target folders of a step's dbt invocations in a run (project.run_target_path)."""
    return sorted((warehouse_dir / DBT_TARGET_FOLDER).glob(f"{step}-{run_id[:7]}-*"))


def dbt_events(folder: Path) -> list[str]:
    """The names of the events in an invocation's dbt.log (JSON lines: dagster-dbt sets the format)."""
    return [json.loads(line)["info"]["name"] for line in (folder / "dbt.log").read_text().splitlines() if line]


def month_rows(settings, month: str) -> list[tuple]:
    return query(settings.warehouse_path,
                 "select * from marts.fct_indicators_monthly where month = ? order by all",
                 [date.fromisoformat(f"{month}-01")])


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


# --- the window by hand ------------------------------------------------------------------


def test_by_hand_the_window_is_two_environment_variables_and_vars_are_refused(tmp_path, monkeypatch):
    """`dbt compile` as a person runs it (the repository's profiles.yml): the window given
    in the environment is in the compiled SQL; given as the vars of before, or not as the
    first day of a month, dbt stops naming the variable instead of building every month."""
    compiled = tmp_path / "dbt_target" / "compiled" / "kaira" / "models" / "marts" / "fct_indicators_monthly.sql"
    monkeypatch.setenv("KAIRA_DBT_MONTH_START", "2010-12-01")
    monkeypatch.setenv("KAIRA_DBT_MONTH_END", "2011-01-01")
    done = dbt(tmp_path, "compile", "--select", "fct_indicators_monthly")
    assert done.returncode == 0, done.output[-4000:]
    assert "month >= cast('2010-12-01' as date)" in compiled.read_text()
    assert "month < cast('2011-01-01' as date)" in compiled.read_text()

    monkeypatch.setenv("KAIRA_DBT_MONTH_START", "2010-12")
    done = dbt(tmp_path, "compile", "--select", "fct_indicators_monthly")
    assert done.returncode != 0 and "KAIRA_DBT_MONTH_START is '2010-12': give the first day of a month" in done.output

    monkeypatch.delenv("KAIRA_DBT_MONTH_START")
    monkeypatch.delenv("KAIRA_DBT_MONTH_END")
    done = dbt(tmp_path, "compile", "--select", "fct_indicators_monthly", "--vars", "{month_start: '2010-12-01'}")
    assert done.returncode != 0
    assert "given by the environment variables KAIRA_DBT_MONTH_START and KAIRA_DBT_MONTH_END" in done.output


# --- dbt's saved parse, from invocation to invocation ---------------------------------------


@pytest.fixture(scope="module")
def first_month(tmp_path_factory):
    """A two-month sample whose first month has run (the reference data, then the month);
    yields (settings, instance, the run ids)."""
    root = tmp_path_factory.mktemp("dbt-invocation")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment(root).items():
            patch.setenv(name, value)
        settings = load_settings()
        generate_sample(settings.landing_dir, start=FIRST, end=LAST)
        settings.dagster_home.mkdir(parents=True, exist_ok=True)
        with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
            outcome = run_months(FIRST, FIRST, instance=instance, publish=False)
            assert outcome.success, outcome.failure
            yield settings, instance, outcome.run_ids


@pytest.mark.e2e
def test_the_first_month_reuses_the_parse_of_the_reference_invocation(first_month):
    settings, _, (reference_run, month_run) = first_month
    [reference] = invocation_folders(settings.warehouse_dir, "kaira_reference_models", reference_run)
    [month] = invocation_folders(settings.warehouse_dir, "kaira_monthly_models", month_run)
    assert COULD_NOT_REUSE & set(dbt_events(reference))  # a new warehouse: nothing saved to reuse
    assert SKIPPED_PARSING in dbt_events(month)  # no window before, a window now: the same parse
    assert not COULD_NOT_REUSE & set(dbt_events(month))


@pytest.mark.e2e
def test_a_run_of_another_month_reuses_the_saved_parse_and_builds_its_window_only(first_month):
    settings, instance, _ = first_month
    first_rows = month_rows(settings, FIRST)
    assert first_rows and not month_rows(settings, LAST)

    outcome = run_months(LAST, LAST, instance=instance, publish=False)
    assert outcome.success, outcome.failure
    [month] = invocation_folders(settings.warehouse_dir, "kaira_monthly_models", outcome.run_ids[-1])
    events = dbt_events(month)
    assert SKIPPED_PARSING in events and not COULD_NOT_REUSE & set(events)

    compiled = (month / "compiled" / "kaira" / "models" / "marts" / "fct_indicators_monthly.sql").read_text()
    assert "month >= cast('2010-12-01' as date)" in compiled and "month < cast('2011-01-01' as date)" in compiled
    assert "cast('2010-11-01' as date)" not in compiled
    assert month_rows(settings, LAST)
    assert month_rows(settings, FIRST) == first_rows

    saved = saved_parse_state(settings.warehouse_dir)
    assert file_mode(saved) == 0o600 and file_mode(saved.parent) == 0o700
    assert all(file_mode(p) == (0o700 if p.is_dir() else 0o600) for p in saved.parent.rglob("*"))
    assert not list(saved.parent.glob(".partial_parse.msgpack-*"))  # no temporary file left


@pytest.mark.e2e
def test_a_corrupt_saved_parse_costs_a_full_parse_and_nothing_else(first_month):
    settings, instance, _ = first_month
    rows = month_rows(settings, LAST)
    saved = saved_parse_state(settings.warehouse_dir)
    garbage = b"not a parse of the project " * 100
    saved.write_bytes(garbage)

    outcome = run_months(LAST, LAST, instance=instance, publish=False)
    assert outcome.success, outcome.failure
    [month] = invocation_folders(settings.warehouse_dir, "kaira_monthly_models", outcome.run_ids[-1])
    events = dbt_events(month)
    assert "ParsedFileLoadFailed" in events and SKIPPED_PARSING not in events
    assert month_rows(settings, LAST) == rows
    assert saved.read_bytes() != garbage and saved.stat().st_size > 100_000  # the full parse, saved
    assert file_mode(saved) == 0o600
