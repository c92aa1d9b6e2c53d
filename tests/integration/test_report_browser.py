"""The report in a real browser: Debian's headless Chromium renders it, photographs it and
prints it. Not skipped without a browser: it fails and says what to install (CI installs it)."""

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from pipelines.core.settings import load_settings
from pipelines.reports import ChromiumError, browser, write_report
from pipelines.reports.render import STYLESHEET
from tests.report_fixtures import BASELINE, write_published


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


# The synthetic country's figures in its Kela table reach these sizes (the whole-country report
# after twenty national years): the widest numbers a report has to hold.
NATIONAL_SIZE = {
    "structural_unemployed": 191_155,
    "tmt_recipients_over_500": 191_155,
    "tmt_recipients_300_499": 48_211,
    "tmt_recipients_500_999": 61_390,
    "tmt_recipients_1000_plus": 129_765,
    "tmt_municipal_share_eur": 34_861_299.46,
    "tmt_municipal_share_expected_eur": 61_642_132.94,
    "tmt_municipal_share_diff_eur": -26_780_833.48,
}


NATIONAL_BASELINE = 101_407  # structural unemployment in the baseline month: progress about -180 %


def national_size_overrides(month: str) -> dict:
    """The fixture's cells of `month` (and the goals' baseline) at a country's size, every area."""
    overrides = {}
    for area in ("MK18", "KU205", "KU697"):
        overrides[(f"{BASELINE:%Y-%m}", area, "total", "structural_unemployed")] = (NATIONAL_BASELINE, "ok")
        for indicator, value in NATIONAL_SIZE.items():
            overrides[(month, area, "total", indicator)] = (value, "ok")
    return overrides


def a4_column_px() -> float:
    """The width a printed page lays its content out in, in CSS px: the A4 page of report.css's
    @page rule less its left and right margins."""
    css = STYLESHEET.read_text(encoding="utf-8")
    page = re.search(r"@page\s*\{[^{}]*?size:\s*A4;[^{}]*?margin:\s*[\d.]+mm\s+([\d.]+)mm", css)
    assert page, "report.css has no `@page { size: A4; margin: TOP SIDES ... }` rule"
    side_mm = float(page.group(1))
    return (210 - 2 * side_mm) / 25.4 * 96


OVERFLOWING = """(() => {
  const column = document.documentElement.clientWidth, found = [];
  for (const element of document.querySelectorAll('table, figure, svg, .cards, p')) {
    const box = element.getBoundingClientRect();
    if (box.right > column + 0.5) {
      const caption = element.querySelector('caption');
      found.push(`${element.tagName.toLowerCase()}.${element.className.baseVal ?? element.className}`
                 + ` "${(caption ? caption.textContent : '').trim().slice(0, 50)}": ${Math.round(box.width)} px`);
    }
  }
  return JSON.stringify({column: column, scroll: document.documentElement.scrollWidth, found: found});
})()"""


def print_layout(html_path: Path, chromium: str) -> dict:
    """The report laid out as Chromium prints it (print media, the A4 column's width): the
    column, the document's scroll width and the elements that stick out of the column."""
    with browser.Browser(chromium) as chrome:
        tab = chrome.new_tab()
        chrome.call("Emulation.setDeviceMetricsOverride", tab, width=round(a4_column_px()), height=1100,
                    deviceScaleFactor=1, mobile=False)
        chrome.call("Emulation.setEmulatedMedia", tab, media="print")
        chrome.call("Page.navigate", tab, url=html_path.resolve().as_uri())
        deadline = time.monotonic() + 30
        while chrome.call("Runtime.evaluate", tab, expression="document.readyState",
                          returnByValue=True)["result"]["value"] != "complete":
            assert time.monotonic() < deadline, f"Chromium did not load {html_path}"
            time.sleep(0.05)
        result = chrome.call("Runtime.evaluate", tab, expression=OVERFLOWING, returnByValue=True)
    return json.loads(result["result"]["value"])


@pytest.mark.parametrize(("area", "lang"), [("MK18", "fi"), ("KU205", "fi"), ("MK18", "en")])
def test_the_printed_report_fits_the_a4_column_with_national_figures(chromium, tmp_path, area, lang):
    """Wider content makes Chromium shrink the whole printed page, every text with it: the
    tables must fit the column at their set size, also with a country's figures."""
    published = write_published(tmp_path / "published.duckdb", overrides=national_size_overrides("2010-12"))
    files = write_report(published, tmp_path / "reports", area, "2010-12", lang, pdf=True, synthetic=True,
                         chromium=chromium)
    figures = dom_figures(files.html.read_text(encoding="utf-8"))
    assert float(figures[f"kela-{area}-tmt_municipal_share_diff_eur"]["data-value"]) == NATIONAL_SIZE[
        "tmt_municipal_share_diff_eur"]  # the report holds the national-size figures

    layout = print_layout(files.html, chromium)

    assert layout["column"] == round(a4_column_px())
    assert layout["found"] == []
    assert layout["scroll"] <= layout["column"]
    # and printed: still one theme a page, as with the fixture's own figures
    assert pdf_page_count(files.pdf) == 5
