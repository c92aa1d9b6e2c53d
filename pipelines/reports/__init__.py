"""Follow-up reports of KAIRA's goals, in Finnish (or English), from the published tables only.

    from pipelines.reports import build_report, render_html, write_report, write_followup_reports
    content = build_report(Path("data/warehouse/published.duckdb"), "MK18", "2010-12")
    html = render_html(content)
    files = write_report(published, Path("data/reports"), "KU205", "2010-12", lang="fi", pdf=True)
    batch = write_followup_reports(load_settings())  # the latest month, every area, as the run does

The reports open `published.duckdb` read-only and never the working warehouse. Each is one
self-contained HTML file (inline CSS, inline SVG charts drawn in Python, no script) and, where
Debian's headless Chromium is installed, a PDF printed by it. Whether the data came from the
sample generator (the "Synteettinen esimerkkiaineisto" banner) is `provenance`'s answer.

Modules: `content` (gathering), `charts` (SVG), `render` (jinja2 templates in assets/),
`formatting` (Finnish numbers), `translations`, `browser` (Chromium), `writer` (files),
`provenance` (synthetic or not) and `assets` (the Dagster asset). `kaira report` is
pipelines/cli/report_command.py.
"""

from .browser import ChromiumConfigError, ChromiumError, ChromiumNotFoundError
from .content import (
    ReportContent,
    ReportDataError,
    build_report,
    latest_month,
    published_areas,
)
from .render import render_html
from .writer import (
    ReportBatch,
    ReportFiles,
    report_paths,
    write_all_reports,
    write_followup_reports,
    write_report,
)

__all__ = [
    "ChromiumConfigError",
    "ChromiumError",
    "ChromiumNotFoundError",
    "ReportBatch",
    "ReportContent",
    "ReportDataError",
    "ReportFiles",
    "build_report",
    "latest_month",
    "published_areas",
    "render_html",
    "report_paths",
    "write_all_reports",
    "write_followup_reports",
    "write_report",
]
