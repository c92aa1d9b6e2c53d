"""The `followup_reports` asset in a real Dagster run: every area of the latest published
month, HTML and PDF, with the synthetic banner when the landing folder carries the marker.
Without an installed browser the run still succeeds: HTML, no PDF, and a warning that the
asset logs, records in its metadata and `kaira run`'s summary prints. A configured browser
that is not there, or one that fails, fails the run."""

from __future__ import annotations

import logging
import shutil

import dagster as dg
import pytest

from pipelines.cli.summary import format_summary, summarize_runs
from pipelines.core.settings import load_settings
from pipelines.reports import browser
from pipelines.reports.assets import followup_reports
from pipelines.resources import SettingsResource
from tests.report_fixtures import write_published

BANNER = "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä"
INSTALL = "apt-get install chromium"
AREAS = ("MK18", "KU205", "KU697")


def materialize(**options) -> dg.ExecuteInProcessResult:
    return dg.materialize([followup_reports], resources={"settings": SettingsResource()}, **options)


def step_error(result: dg.ExecuteInProcessResult):
    """The error the failed step raised (Dagster wraps it in its own)."""
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    error = failure.step_failure_data.error
    while error.cause is not None:
        error = error.cause
    return error


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Kaira's folders in tmp_path and a published.duckdb; the browser is the test's to choose."""
    for name, folder in (
        ("KAIRA_LANDING_DIR", "landing"),
        ("KAIRA_WAREHOUSE_DIR", "warehouse"),
        ("KAIRA_REPORTS_DIR", "reports"),
        ("KAIRA_QUARANTINE_DIR", "quarantine"),
    ):
        monkeypatch.setenv(name, str(tmp_path / folder))
        (tmp_path / folder).mkdir()
    write_published(tmp_path / "warehouse" / "published.duckdb")
    return tmp_path


@pytest.fixture
def env(folders):
    try:
        browser.find_chromium(load_settings().chromium)
    except browser.ChromiumNotFoundError as error:
        pytest.fail(f"the report asset prints PDFs with headless Chromium: {error}")
    return folders


@pytest.fixture
def no_browser(folders, monkeypatch):
    """Chromium not installed: nothing configured, and a PATH with no browser on it."""
    monkeypatch.delenv("KAIRA_CHROMIUM", raising=False)
    empty = folders / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert load_settings().chromium is None
    return folders


def test_the_asset_depends_on_the_published_tables_and_sits_in_the_reports_group():
    spec = followup_reports.specs_by_key[dg.AssetKey("followup_reports")]
    assert spec.group_name == "reports"
    assert {dep.asset_key for dep in spec.deps} == {dg.AssetKey("published_tables")}


def test_materializing_writes_every_area_of_the_latest_month(env):
    (env / "landing" / "README.txt").write_text(
        BANNER + "\nSynthetic sample data – no real persons\n", encoding="utf-8"
    )
    result = materialize()
    assert result.success
    (materialization,) = result.asset_materializations_for_node("followup_reports")
    metadata = materialization.metadata
    folder = env / "reports" / "2011-01"
    assert metadata["report_folder"].value == str(folder)
    assert metadata["month"].value == "2011-01"
    assert metadata["reports"].value == 3
    assert metadata["pdfs"].value == 3
    assert metadata["synthetic"].value is True
    assert "warning" not in metadata
    files = sorted(path.name for path in folder.iterdir())
    assert files == sorted(
        f"kaira_{area}_2011-01_fi.{suffix}" for area in AREAS for suffix in ("html", "pdf")
    )
    assert sorted(metadata["files"].value) == sorted(str(folder / name) for name in files)
    assert BANNER in (folder / "kaira_KU205_2011-01_fi.html").read_text(encoding="utf-8")


def test_without_the_marker_there_is_no_banner(env):
    result = materialize()
    assert result.success
    html = (env / "reports" / "2011-01" / "kaira_MK18_2011-01_fi.html").read_text(encoding="utf-8")
    assert BANNER not in html


def test_without_chromium_the_run_writes_html_and_warns_in_the_log_metadata_and_summary(no_browser):
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(instance=instance)
        assert result.success
        folder = no_browser / "reports" / "2011-01"
        assert sorted(path.name for path in folder.iterdir()) == sorted(f"kaira_{area}_2011-01_fi.html" for area in AREAS)
        assert not list(no_browser.rglob("*.pdf"))

        (materialization,) = result.asset_materializations_for_node("followup_reports")
        metadata = materialization.metadata
        warning = metadata["warning"].value
        assert INSTALL in warning and "PDF" in warning
        assert (metadata["reports"].value, metadata["pdfs"].value) == (3, 0)
        assert sorted(metadata["files"].value) == sorted(str(path) for path in folder.iterdir())

        logged = [entry for entry in instance.all_logs(result.run_id) if entry.level == logging.WARNING]
        assert [entry.user_message for entry in logged if INSTALL in entry.user_message] == [warning]

        summary = format_summary(
            summarize_runs(instance, [result.run_id]),
            elapsed=1.0,
            reports_dir=no_browser / "reports",
            log_path=no_browser / "kaira.log",
            success=True,
        )
    lines = summary.splitlines()
    at = lines.index(f"  follow-up reports: {folder} (3 reports for 2011-01)")
    assert lines[at + 1] == f"    warning: {warning}"


def test_the_summary_has_no_warning_line_when_the_pdfs_were_printed(env):
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(instance=instance)
        summary = summarize_runs(instance, [result.run_id])
    assert summary.report_count == 3 and summary.report_warning is None
    text = format_summary(summary, elapsed=1.0, reports_dir=env / "reports", log_path=env / "log", success=True)
    assert "warning" not in text


def test_a_configured_browser_that_is_not_there_fails_the_run(folders, monkeypatch):
    monkeypatch.setenv("KAIRA_CHROMIUM", str(folders / "no-such-chromium"))
    result = materialize(raise_on_error=False)
    assert not result.success
    error = step_error(result)
    assert error.cls_name == "ChromiumConfigError" and "KAIRA_CHROMIUM" in error.message
    assert not list((folders / "reports").iterdir())  # it fails before writing anything


def test_a_browser_that_runs_and_fails_fails_the_run(folders, monkeypatch):
    # `false` is a real program that exits non-zero and writes nothing: a browser that failed.
    monkeypatch.setenv("KAIRA_CHROMIUM", shutil.which("false"))
    result = materialize(raise_on_error=False)
    assert not result.success
    assert step_error(result).cls_name == "ChromiumError"
    assert not list((folders / "reports").rglob("*.pdf"))
