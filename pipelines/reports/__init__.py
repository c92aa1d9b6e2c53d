"""Follow-up reports of KAIRA's goals, in Finnish (or English), from the published tables only.

    from pipelines.reports import build_report, render_html, write_report, write_all_reports
    content = build_report(Path("data/warehouse/published.duckdb"), "MK18", "2010-12")
    html = render_html(content)
    files = write_report(published, Path("data/reports"), "KU205", "2010-12", lang="fi", pdf=True)
    every = write_all_reports(published, Path("data/reports"))  # the latest month, every area

The reports open `published.duckdb` read-only and never the working warehouse. Each is one
self-contained HTML file (inline CSS, inline SVG charts drawn in Python, no script) and a PDF
printed by Debian's headless Chromium. Whether the data came from the sample generator (the
"Synteettinen esimerkkiaineisto" banner) is `provenance`'s answer.

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
from .writer import ReportFiles, report_paths, write_all_reports, write_report

__all__ = [
    "ChromiumConfigError",
    "ChromiumError",
    "ChromiumNotFoundError",
    "ReportContent",
    "ReportDataError",
    "ReportFiles",
    "build_report",
    "latest_month",
    "published_areas",
    "render_html",
    "report_paths",
    "write_all_reports",
    "write_report",
]
