"""The `followup_reports` asset in a real Dagster run: every area of the latest published
month, HTML and PDF, with the synthetic banner when the landing folder carries the marker."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.reports import browser
from pipelines.reports.assets import followup_reports
from tests.report_fixtures import write_published

BANNER = "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä"


@pytest.fixture
def env(tmp_path, monkeypatch):
    try:
        browser.find_chromium()
    except browser.ChromiumNotFoundError as error:
        pytest.fail(f"the report asset prints PDFs with headless Chromium: {error}")
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


def test_the_asset_depends_on_the_published_tables_and_sits_in_the_reports_group():
    spec = followup_reports.specs_by_key[dg.AssetKey("followup_reports")]
    assert spec.group_name == "reports"
    assert {dep.asset_key for dep in spec.deps} == {dg.AssetKey("published_tables")}


def test_materializing_writes_every_area_of_the_latest_month(env):
    (env / "landing" / "README.txt").write_text(
        BANNER + "\nSynthetic sample data – no real persons\n", encoding="utf-8"
    )
    result = dg.materialize([followup_reports])
    assert result.success
    (materialization,) = result.asset_materializations_for_node("followup_reports")
    metadata = materialization.metadata
    folder = env / "reports" / "2011-01"
    assert metadata["report_folder"].value == str(folder)
    assert metadata["month"].value == "2011-01"
    assert metadata["reports"].value == 3
    assert metadata["synthetic"].value is True
    files = sorted(path.name for path in folder.iterdir())
    assert files == sorted(
        f"kaira_{area}_2011-01_fi.{suffix}" for area in ("MK18", "KU205", "KU697") for suffix in ("html", "pdf")
    )
    assert sorted(metadata["files"].value) == sorted(str(folder / name) for name in files)
    assert BANNER in (folder / "kaira_KU205_2011-01_fi.html").read_text(encoding="utf-8")


def test_without_the_marker_there_is_no_banner(env):
    result = dg.materialize([followup_reports])
    assert result.success
    html = (env / "reports" / "2011-01" / "kaira_MK18_2011-01_fi.html").read_text(encoding="utf-8")
    assert BANNER not in html
