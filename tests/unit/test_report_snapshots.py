"""The reports' bytes for fixed published tables are what the snapshots say.

Any change of what a report prints (the templates, the charts, the number formats, the
words) shows in review as a change of tests/snapshots/reports/; a change that only makes
rendering faster changes none of them. After an intended change:
    KAIRA_UPDATE_SNAPSHOTS=1 python -m pytest tests/unit/test_report_snapshots.py

Both ways of rendering are compared: a month's reports written together (`write_all_reports`,
which makes what every area of the month shares once) and one report alone (`render_html`).
The fixture has a region and two municipalities, suppressed, withheld and incomplete cells,
a failed check, and both languages.
"""

import os
from pathlib import Path

import pytest

from pipelines.reports import build_report, render_html, write_all_reports
from tests.report_fixtures import write_published

SNAPSHOTS = Path(__file__).parents[1] / "snapshots" / "reports"
MONTH = "2010-12"
# (language, synthetic, areas written together); every area's report has its snapshot.
BATCHES = (("fi", True, ["MK18", "KU205", "KU697"]), ("en", False, ["KU697"]))
CASES = [(lang, synthetic, area) for lang, synthetic, areas in BATCHES for area in areas]


def snapshot_name(area: str, lang: str) -> str:
    return f"kaira_{area}_{MONTH}_{lang}.html"


def matches_snapshot(name: str, html: str) -> bool:
    path = SNAPSHOTS / name
    if os.environ.get("KAIRA_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(html.encode("utf-8"))
    return html.encode("utf-8") == path.read_bytes()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return write_published(
        tmp_path_factory.mktemp("published") / "published.duckdb",
        overrides={
            (MONTH, "KU205", "total", "tmt_municipal_share_expected_eur"): (None, "no_rule"),
            (MONTH, "KU697", "total", "structural_inflow"): (None, "not_available"),
        },
        incomplete_months=("2010-11", MONTH),
    )


@pytest.mark.parametrize(("lang", "synthetic", "areas"), BATCHES)
def test_a_month_written_together_matches_the_snapshots(published, tmp_path, lang, synthetic, areas):
    written = write_all_reports(
        published, tmp_path, month=MONTH, lang=lang, pdf=False, synthetic=synthetic, areas=areas
    )
    assert [report.area_code for report in written] == areas
    for report in written:
        name = snapshot_name(report.area_code, lang)
        assert report.html.name == name
        assert matches_snapshot(name, report.html.read_bytes().decode("utf-8")), name


@pytest.mark.parametrize(("lang", "synthetic", "area"), CASES)
def test_one_report_alone_matches_its_snapshot(published, lang, synthetic, area):
    html = render_html(build_report(published, area, MONTH, lang, synthetic=synthetic))
    assert matches_snapshot(snapshot_name(area, lang), html)
