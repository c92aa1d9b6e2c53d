"""The rendered page: Finnish by default, withheld figures as symbols, the synthetic banner,
self-contained HTML, headline figures marked for checking, and the CLI and synthetic marker."""

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.report_command import add_report_parser
from pipelines.reports import (
    ChromiumNotFoundError,
    build_report,
    render_html,
    write_report,
)
from pipelines.reports.formatting import NBSP
from pipelines.reports.translations import TRANSLATIONS_PATH
from pipelines.sources.landing_marker import is_synthetic
from tests.report_fixtures import write_published

BANNER_FI = "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä"
FOOTNOTE_FI = "alle 5 henkilön luvut ja niistä laskettavissa olevat luvut on salattu"


class Figures(HTMLParser):
    """Collect the text and attributes of every element with data-figure (nested tags included)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.figures: dict[str, dict] = {}
        self._stack: list[tuple[str, dict | None]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        record = {**attributes, "text": ""} if "data-figure" in attributes else None
        self._stack.append((tag, record))

    def handle_data(self, data):
        for _, record in self._stack:
            if record is not None:
                record["text"] += data

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, record = self._stack.pop()
            if record is not None:
                record["text"] = record["text"].strip()
                self.figures[record["data-figure"]] = record
            if open_tag == tag:
                break


def figures_of(html: str) -> dict[str, dict]:
    parser = Figures()
    parser.feed(html)
    return parser.figures


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return write_published(
        tmp_path_factory.mktemp("published") / "published.duckdb",
        overrides={
            ("2010-12", "KU205", "total", "tmt_municipal_share_expected_eur"): (None, "no_rule"),
            ("2010-12", "KU697", "total", "structural_inflow"): (None, "not_available"),
        },
    )


def test_finnish_by_default_with_the_headline_marked_by_data_attributes(published):
    html = render_html(build_report(published, "MK18", "2010-12"))
    assert '<html lang="fi">' in html
    figures = figures_of(html)
    con = duckdb.connect(str(published), read_only=True)
    rows = con.execute(
        """select sex, baseline_value, target_value, value, progress_pct from target_followup
           where target_id = 'kaira_1_halve_structural' and area_code = 'MK18' and month = '2010-12-01'"""
    ).fetchall()
    con.close()
    for sex, baseline, target, value, progress in rows:
        assert float(figures[f"structural_unemployed-{sex}-value"]["data-value"]) == value
        assert float(figures[f"structural_unemployed-{sex}-baseline"]["data-value"]) == baseline
        assert float(figures[f"structural_unemployed-{sex}-target"]["data-value"]) == target
        assert float(figures[f"structural_unemployed-{sex}-progress"]["data-value"]) == pytest.approx(progress)
        assert figures[f"structural_unemployed-{sex}-reached"]["data-value"] == str(value <= target).lower()
    total = figures["structural_unemployed-total-value"]
    assert total["text"] == f"{int(total['data-value']) // 1000}{NBSP}{int(total['data-value']) % 1000:03d}"
    assert "Tavoitetta ei saavutettu" in html
    assert "Rakennetyöttömät ryhmittäin 2/2008–12/2010" in html


def test_suppressed_cells_show_the_symbol_and_the_footnote(published):
    html = render_html(build_report(published, "KU697", "2010-12"))
    figures = figures_of(html)
    cell = figures["returned_from_services-total-month"]
    assert (cell["text"], cell["data-status"], cell["data-value"]) == ("..", "suppressed", "")
    assert FOOTNOTE_FI in html.lower()
    # nothing of the suppressed cell is printed anywhere near it
    assert 'data-series="returned_from_services"' not in html  # no stacked segment for a withheld group


def test_statuses_other_than_suppressed_have_their_own_symbols(published):
    kajaani = figures_of(render_html(build_report(published, "MK18", "2010-12")))
    no_rule = kajaani["kela-KU205-tmt_municipal_share_expected_eur"]
    assert (no_rule["text"], no_rule["data-status"]) == (".", "no_rule")
    ristijarvi = figures_of(render_html(build_report(published, "KU697", "2010-12")))
    not_available = ristijarvi["structural_inflow-total-month"]
    assert (not_available["text"], not_available["data-status"]) == (":", "not_available")
    assert len({"..", ".", ":"}) == 3


def test_incomplete_lookback_figures_carry_an_asterisk(tmp_path):
    path = write_published(tmp_path / "p.duckdb", incomplete_months=("2010-12",))
    html = render_html(build_report(path, "MK18", "2010-12"))
    assert 'class="notice"' in html
    assert re.search(r'data-figure="unemployed-total-month"[^>]*>[^<]+</span><sup class="mark">\*</sup>', html)


def test_the_synthetic_banner_is_shown_exactly_when_the_data_is_synthetic(published):
    with_banner = render_html(build_report(published, "MK18", "2010-12", synthetic=True))
    without = render_html(build_report(published, "MK18", "2010-12", synthetic=False))
    assert BANNER_FI in with_banner and 'data-synthetic-banner="true"' in with_banner
    assert BANNER_FI not in without and "data-synthetic-banner" not in without


def test_english_option(published):
    html = render_html(build_report(published, "MK18", "2010-12", lang="en", synthetic=True))
    assert '<html lang="en">' in html
    assert "Synthetic sample data – no real persons" in html
    assert "Goal 1: halve structural unemployment in three years" in html
    assert "Tavoite 1" not in html
    value = figures_of(html)["structural_unemployed-total-value"]
    assert value["text"] == f"{int(value['data-value']):,}"


def test_the_page_is_self_contained(published):
    html = render_html(build_report(published, "KU205", "2010-12"))
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert html.count("<svg") >= 3
    assert html.count('role="img"') >= 3


def test_tables_have_real_headers_and_captions(published):
    html = render_html(build_report(published, "MK18", "2010-12"))
    assert html.count("<table") == html.count("<caption")
    assert html.count("<thead>") >= 4
    assert 'scope="col"' in html and 'scope="row"' in html and 'scope="colgroup"' in html


def test_both_languages_have_every_string():
    translations = json.loads(TRANSLATIONS_PATH.read_text(encoding="utf-8"))

    def keys(node, prefix=""):
        if isinstance(node, dict):
            return {k for key, value in node.items() for k in keys(value, f"{prefix}{key}.")} | {prefix}
        return {prefix}

    assert keys(translations["fi"]) == keys(translations["en"])


def test_is_synthetic_reads_the_generators_marker(tmp_path):
    from pipelines.sample import generate_sample

    generated = tmp_path / "generated"
    generate_sample(generated, start="2008-01", end="2008-01")
    assert is_synthetic(generated)
    real = tmp_path / "real"
    real.mkdir()
    assert not is_synthetic(real)
    (real / "README.txt").write_text("Toimitukset TEM:ltä ja Kelalta\n", encoding="utf-8")
    assert not is_synthetic(real)
    assert not is_synthetic(tmp_path / "missing")
    (real / "SYNTHETIC.txt").write_text("Synteettinen esimerkkiaineisto\n", encoding="utf-8")
    assert is_synthetic(real)


def test_a_missing_browser_is_a_clear_error_before_anything_is_written(published, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ChromiumNotFoundError, match="apt-get install chromium"):
        write_report(published, tmp_path / "out", "MK18", "2010-12", pdf=True)
    assert not (tmp_path / "out").exists()
    html_only = write_report(published, tmp_path / "out", "MK18", "2010-12", pdf=False)
    assert html_only.html.is_file() and html_only.pdf is None


@pytest.fixture
def kaira_report(published, tmp_path, monkeypatch):
    """`kaira report`'s parser over a copy of the published tables, with the synthetic marker."""
    import argparse

    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    (warehouse / "published.duckdb").write_bytes(published.read_bytes())
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "README.txt").write_text(BANNER_FI + "\n", encoding="utf-8")
    monkeypatch.setenv("KAIRA_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("KAIRA_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("KAIRA_LANDING_DIR", str(landing))
    parser = argparse.ArgumentParser(prog="kaira")
    add_report_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_writes_the_reports_and_prints_their_paths(kaira_report, tmp_path, capsys):
    parser = kaira_report
    args = parser.parse_args(["report", "--month", "2010-12", "--area", "KU205", "--no-pdf"])
    assert args.handler(args) == 0
    printed = capsys.readouterr().out.split()
    expected = tmp_path / "reports" / "2010-12" / "kaira_KU205_2010-12_fi.html"
    assert printed == [str(expected)]
    assert BANNER_FI in expected.read_text(encoding="utf-8")

    args = parser.parse_args(["report", "--area", "KU999", "--no-pdf"])
    assert args.handler(args) == 1
    assert "KU999" in capsys.readouterr().err


def test_cli_without_chromium_writes_the_html_and_warns(kaira_report, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("KAIRA_CHROMIUM", raising=False)
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    args = kaira_report.parse_args(["report", "--month", "2010-12"])
    assert args.handler(args) == 0
    captured = capsys.readouterr()
    folder = tmp_path / "reports" / "2010-12"
    assert captured.out.split() == [str(folder / f"kaira_{area}_2010-12_fi.html") for area in ("MK18", "KU205", "KU697")]
    assert not list(folder.glob("*.pdf"))
    (warning,) = [line for line in captured.err.splitlines() if "warning" in line]
    assert warning.startswith("kaira report: warning: ") and "apt-get install chromium" in warning


def test_cli_with_a_configured_browser_that_is_not_there_fails(kaira_report, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KAIRA_CHROMIUM", str(tmp_path / "no-such-chromium"))
    args = kaira_report.parse_args(["report", "--month", "2010-12", "--area", "MK18"])
    assert args.handler(args) == 1
    assert "KAIRA_CHROMIUM" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()
    # --no-pdf needs no browser, so the setting does not matter
    args = kaira_report.parse_args(["report", "--month", "2010-12", "--area", "MK18", "--no-pdf"])
    assert args.handler(args) == 0


def test_the_cli_module_does_not_import_dagster():
    code = "import sys, pipelines.cli.report_command, pipelines.reports; print('dagster' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    assert result.stdout.strip() == "False"
