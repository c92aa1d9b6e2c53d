"""Write the reports: `<out_dir>/<YYYY-MM>/kaira_<area>_<YYYY-MM>_<lang>.html` and `.pdf`.

Files are written beside their target and renamed into place, so a reader never opens half
a report. A month's reports are gathered from one read of the published tables
(`PublishedMonth`), and their PDFs printed by one headless Chromium (`browser.PdfPrinter`)
while the next reports are rendered: the browser prints on the machine's other core.
`write_report` and `write_all_reports` demand the browser when asked for PDFs;
`write_followup_reports` (the data run and `kaira report`) writes the HTML without one and
says so in a warning.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.core.months import month_text, parse_month_argument
from pipelines.core.settings import Settings

from . import browser
from .content import PublishedMonth, ReportContent, ReportDataError, build_report, latest_month
from .official import reconciliation_sections, write_official_reports
from .provenance import published_is_synthetic
from .render import ReportRenderer

NO_PDF_WARNING = (
    "no PDF reports: headless Chromium is not installed, so only the HTML reports were written; "
    f"to print PDFs too, install Debian's package: {browser.INSTALL_HINT}"
)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path | None
    area_code: str = ""
    month: str = ""
    lang: str = ""


@dataclass(frozen=True)
class ReportBatch:
    """The reports of one month as `write_followup_reports` wrote them."""

    files: list[ReportFiles]
    month: str
    folder: Path
    synthetic: bool
    warning: str | None = None  # set when the PDFs were left out because no browser is installed

    @property
    def pdf_count(self) -> int:
        return sum(written.pdf is not None for written in self.files)


def report_paths(out_dir: Path, area_code: str, month: str, lang: str) -> tuple[Path, Path]:
    folder = Path(out_dir) / month
    stem = f"kaira_{area_code}_{month}_{lang}"
    return folder / f"{stem}.html", folder / f"{stem}.pdf"


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _write_html(content: ReportContent, out_dir: Path, renderer: ReportRenderer) -> tuple[Path, Path]:
    month = month_text(content.month)
    html_path, pdf_path = report_paths(out_dir, content.area_code, month, content.lang)
    _write_text(html_path, renderer.render(content))
    return html_path, pdf_path


def write_report(
    published_path: Path,
    out_dir: Path,
    area_code: str,
    month: str | None = None,
    lang: str = "fi",
    pdf: bool = True,
    *,
    synthetic: bool = False,
    suppression_threshold: int = 5,
    chromium: str | None = None,
) -> ReportFiles:
    """One area's report as HTML and (by default) PDF; raises ChromiumNotFoundError without a browser.

    `chromium` is the configured browser (Settings.chromium); None looks for it on PATH.
    """
    if pdf:
        chromium = browser.find_chromium(chromium)  # fail before writing anything
    content = build_report(
        published_path, area_code, month, lang, synthetic=synthetic, suppression_threshold=suppression_threshold
    )
    html_path, pdf_path = _write_html(content, out_dir, ReportRenderer())
    if pdf:
        browser.print_pdf(html_path, pdf_path, chromium=chromium)
    return ReportFiles(html_path, pdf_path if pdf else None, content.area_code, month_text(content.month), lang)


def write_all_reports(
    published_path: Path,
    out_dir: Path,
    month: str | None = None,
    lang: str = "fi",
    pdf: bool = True,
    *,
    synthetic: bool = False,
    suppression_threshold: int = 5,
    areas: list[str] | None = None,
    chromium: str | None = None,
    municipality_pdfs: bool = True,
) -> list[ReportFiles]:
    """Reports for every area published in `month` (default: the latest), regions first.

    `areas` narrows the set (codes); an unpublished code is an error, not a silent skip.
    With `pdf`, a browser that is not installed raises ChromiumNotFoundError before anything
    is written. Without `municipality_pdfs`, the municipalities (`KU###`) get their HTML only.
    Every HTML file is written even when the browser fails; its ChromiumError comes after.
    """
    if pdf:
        chromium = browser.find_chromium(chromium)
    report_month = parse_month_argument(month) if month else latest_month(published_path)
    key = month_text(report_month)
    failure: browser.ChromiumError | None = None
    with ExitStack() as stack:
        printer = None
        if pdf and (municipality_pdfs or not areas or any(not code.strip().upper().startswith("KU") for code in areas)):
            try:  # started first: Chromium comes up while the month is read
                printer = stack.enter_context(browser.PdfPrinter(chromium))
            except browser.ChromiumError as error:
                failure = error  # the HTML first: the figures are in it
        tables = PublishedMonth.read(published_path, report_month)
        published = [code for code, _, _ in tables.areas]
        if areas:
            wanted = [code.strip().upper() for code in areas]
            unknown = [code for code in wanted if code not in published]
            if unknown:
                raise LookupError(f"not published for {key}: {', '.join(unknown)}; published: {', '.join(published)}")
            published = [code for code in published if code in wanted]
        sections = reconciliation_sections(
            published_path, report_month, synthetic=synthetic, areas=published if areas else None
        )
        printed = {code for code in published if pdf and (municipality_pdfs or not code.startswith("KU"))}
        written: list[ReportFiles] = []
        renderer = ReportRenderer()  # what every report of the month shares, made once
        for code in published:
            content = tables.report(code, lang, synthetic=synthetic, suppression_threshold=suppression_threshold)
            if code in sections:
                content = replace(content, official_section=sections[code])
            html_path, pdf_path = _write_html(content, out_dir, renderer)
            written.append(ReportFiles(html_path, pdf_path if code in printed else None, code, key, lang))
            if printer is not None and failure is None:
                try:
                    if code in printed:
                        printer.submit(html_path, pdf_path)
                    else:
                        printer.poll()  # the browser's answers in, while the next report is drawn
                except browser.ChromiumError as error:
                    failure = error  # the rest of the HTML first: the figures are in it
        if printer is not None and failure is None:
            try:
                printer.finish()
            except browser.ChromiumError as error:
                failure = error
    if failure is not None:
        raise failure
    return written


def write_followup_reports(
    settings: Settings,
    *,
    month: str | None = None,
    lang: str = "fi",
    areas: list[str] | None = None,
    out_dir: Path | None = None,
    pdf: bool = True,
) -> ReportBatch:
    """The reports as the data run and `kaira report` write them, from the settings.

    HTML always; PDFs when a browser is installed. Without one the batch carries a warning
    instead of failing: the figures are in the HTML, and a missing printer is no reason to
    fail a data run. A configured browser that is not there (ChromiumConfigError) or one
    that fails (ChromiumError) still raises.
    """
    chromium, warning = settings.chromium, None
    if pdf:
        try:
            chromium = browser.find_chromium(chromium)
        except browser.ChromiumNotFoundError:
            pdf, warning = False, NO_PDF_WARNING
    try:
        key = month_text(parse_month_argument(month) if month else latest_month(settings.published_path))
    except ReportDataError:
        # Public-data mode: no register figure is published, only official statistics.
        official_month, folder, reports = write_official_reports(settings, out_dir)
        files = [ReportFiles(report.html, None, report.area_code, official_month, "fi") for report in reports]
        return ReportBatch(files, official_month, folder, False, warning)
    out_dir = Path(out_dir or settings.reports_dir)
    synthetic = published_is_synthetic(settings.published_path, settings.landing_dir)
    files = write_all_reports(
        settings.published_path,
        out_dir,
        month=key,
        lang=lang,
        pdf=pdf,
        synthetic=synthetic,
        suppression_threshold=settings.suppression_threshold,
        areas=areas,
        chromium=chromium,
        # Areas asked for by name get their PDFs whatever the setting: that is the request.
        municipality_pdfs=settings.municipality_pdfs or bool(areas),
    )
    return ReportBatch(files, key, out_dir / key, synthetic, warning)
