"""The report in a real browser: Debian's headless Chromium renders it, photographs it and
prints it. Not skipped without a browser: it fails and says what to install (CI installs it)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from pipelines.core.settings import load_settings
from pipelines.reports import ChromiumError, browser, write_report
from tests.report_fixtures import write_published


@pytest.fixture(scope="module")
def chromium():
    try:
        return browser.find_chromium(load_settings().chromium)
    except browser.ChromiumNotFoundError as error:
        pytest.fail(f"the browser tests need headless Chromium: {error}")


def dump_dom(html_path: Path, chromium: str) -> str:
    """The DOM as Chromium parsed and laid it out, serialised."""
    result = browser.run_headless(["--dump-dom", Path(html_path).resolve().as_uri()], chromium=chromium, capture=True)
    if result.returncode != 0 or not result.stdout:
        raise ChromiumError(f"Chromium could not dump the DOM of {html_path}: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode("utf-8")


def pdf_page_count(pdf_path: Path) -> int:
    """Pages of a PDF, by counting its `/Type /Page` objects (Chromium writes them uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", Path(pdf_path).read_bytes()))


def distinct_colours(image: Image.Image) -> int:
    return len(image.convert("RGB").getcolors(maxcolors=image.width * image.height))


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return write_published(tmp_path_factory.mktemp("published") / "published.duckdb")


class Figures(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.figures: dict[str, dict] = {}
        self._stack: list[tuple[str, dict | None]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self._stack.append((tag, {**attributes, "text": ""} if "data-figure" in attributes else None))

    def handle_data(self, data):
        for _, record in self._stack:
            if record is not None:
                record["text"] += data

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, record = self._stack.pop()
            if record is not None:
                record["text"] = " ".join(record["text"].split())
                self.figures[record["data-figure"]] = record
            if open_tag == tag:
                break


def dom_figures(html: str) -> dict[str, dict]:
    parser = Figures()
    parser.feed(html)
    return parser.figures


def published_followup(path, area, month):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            """select sex, baseline_value, target_value, value, progress_pct from target_followup
               where target_id = 'kaira_1_halve_structural' and area_code = ? and month = ?""",
            [area, f"{month}-01"],
        ).fetchall()
    finally:
        con.close()


def finnish(value: float) -> str:
    whole = f"{abs(value):,.1f}".rstrip("0").rstrip(".").replace(",", " ").replace(".", ",")
    return ("−" if value < 0 else "") + whole


@pytest.mark.parametrize("area", ["MK18", "KU697"])
def test_the_browser_shows_the_published_headline_and_prints_the_pdf(chromium, published, tmp_path, area):
    files = write_report(
        published, tmp_path / "reports", area, "2010-12", "fi", pdf=True, synthetic=True, chromium=chromium
    )
    assert files.html == tmp_path / "reports" / "2010-12" / f"kaira_{area}_2010-12_fi.html"
    assert files.pdf == files.html.with_suffix(".pdf")

    # the page as the browser built it: headline figures equal the published values
    dom = dump_dom(files.html, chromium)
    figures = dom_figures(dom)
    rows = published_followup(published, area, "2010-12")
    assert len(rows) == 3
    for sex, baseline, target, value, progress in rows:
        for name, expected in (("value", value), ("baseline", baseline), ("target", target)):
            figure = figures[f"structural_unemployed-{sex}-{name}"]
            assert float(figure["data-value"]) == expected
            assert figure["text"].replace("\u00a0", " ") == finnish(expected)
        assert float(figures[f"structural_unemployed-{sex}-progress"]["data-value"]) == pytest.approx(progress)
        reached = figures[f"structural_unemployed-{sex}-reached"]
        assert reached["data-value"] == ("true" if value <= target else "false")
    assert "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä" in dom
    assert dom.count("<svg") >= 3

    # a screenshot that is not blank
    png = browser.screenshot(files.html, tmp_path / f"{area}.png", width=1000, height=1400, chromium=chromium)
    data = png.read_bytes()
    assert len(data) > 20_000
    with Image.open(png) as image:
        assert (image.width, image.height) == (1000, 1400)
        assert distinct_colours(image) > 20

    # the PDF: A4 pages, one theme a page (goal 1; trends; tables; quality; definitions and checks)
    assert files.pdf.read_bytes().startswith(b"%PDF")
    assert pdf_page_count(files.pdf) == 5


def test_the_english_report_in_the_browser(chromium, published, tmp_path):
    files = write_report(published, tmp_path, "KU205", "2010-12", "en", pdf=False)
    dom = dump_dom(files.html, chromium)
    assert '<html lang="en">' in dom
    value = dom_figures(dom)["structural_unemployed-total-value"]
    assert value["text"] == f"{float(value['data-value']):,.0f}"
    assert "Synthetic sample data" not in dom
