"""Many PDFs from one browser (pipelines.reports.browser.PdfPrinter), with Debian's real
headless Chromium: every report a PDF of A4 pages with its area's name in the text, one
browser process for all of them and none left afterwards, the profile removed, no secret in
the browser's environment; a browser killed or stopped midway is a ChromiumError naming the
report, promptly, and the browser is gone then too. Not skipped without a browser: it fails
and says what to install (CI installs it)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from pipelines.core.settings import load_settings
from pipelines.reports import ChromiumError, browser, write_all_reports
from tests.pdf_files import A4_POINTS, page_sizes, pdf_text
from tests.report_fixtures import write_published

AREA_NAMES = {"MK18": "Kainuu", "KU205": "Kajaani", "KU697": "Ristijärvi"}


@pytest.fixture(scope="module")
def chromium():
    try:
        return browser.find_chromium(load_settings().chromium)
    except browser.ChromiumNotFoundError as error:
        pytest.fail(f"the browser tests need headless Chromium: {error}")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """HTML reports of three areas, two months and both languages: (area code, HTML path)."""
    published = write_published(tmp_path_factory.mktemp("published") / "published.duckdb")
    out = tmp_path_factory.mktemp("html")
    files = []
    for month in ("2010-12", "2011-01"):
        for lang in ("fi", "en"):
            files += write_all_reports(published, out, month=month, lang=lang, pdf=False, synthetic=True)
    return [(written.area_code, written.html) for written in files]


def alive_in_group(group: int) -> list[int]:
    """Processes of the process group `group` that still run (zombies are dead)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            alive.append(int(stat.parent.name))
    return alive


def test_one_browser_prints_every_report_as_a4_pages_with_the_area_named(chromium, reports, tmp_path, monkeypatch):
    monkeypatch.setenv("KAIRA_PSEUDONYM_KEY", "secret-key-of-the-printer-test")
    printed = []
    with browser.PdfPrinter(chromium) as printer:
        pid, profile = printer.pid, Path(printer.browser.profile)
        assert b"secret-key-of-the-printer-test" not in Path(f"/proc/{pid}/environ").read_bytes()
        for number, (area, html) in enumerate(reports):
            pdf = tmp_path / f"{number:02d}_{area}.pdf"
            printer.submit(html, pdf)
            printed.append((area, pdf))
            assert printer.pid == pid  # the same browser for every report
        assert sorted(printer.finish()) == sorted(pdf for _, pdf in printed)

    assert len(printed) == 12
    for area, pdf in printed:
        assert pdf.read_bytes().startswith(b"%PDF-")
        sizes = page_sizes(pdf)
        assert len(sizes) >= 4
        assert all(abs(width - A4_POINTS[0]) < 1 and abs(height - A4_POINTS[1]) < 1 for width, height in sizes)
        text = "".join(pdf_text(pdf).split())
        assert AREA_NAMES[area] in text, pdf.name
        assert "Synteettinen" in text or "Synthetic" in text
    assert not list(tmp_path.glob(".*.partial"))
    # the browser and every process it started are gone, its profile with them
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert alive_in_group(pid) == []
    assert not profile.exists()


def test_a_browser_killed_midway_is_an_error_naming_the_report(chromium, reports, tmp_path):
    (_, first), (_, second) = reports[0], reports[1]
    began = time.monotonic()
    with pytest.raises(ChromiumError) as raised, browser.PdfPrinter(chromium, tabs=1) as printer:
        pid, profile = printer.pid, Path(printer.browser.profile)
        printer.submit(first, tmp_path / "first.pdf")
        printer.finish()
        printer.submit(second, tmp_path / "second.pdf")
        os.kill(pid, signal.SIGKILL)
        printer.finish()
    message = str(raised.value)
    assert "Chromium stopped" in message and second.name in message
    assert time.monotonic() - began < 30  # an error, not a wait for the page timeout
    assert (tmp_path / "first.pdf").read_bytes().startswith(b"%PDF-")
    assert not (tmp_path / "second.pdf").exists() and not list(tmp_path.glob(".*.partial"))
    assert alive_in_group(pid) == [] and not profile.exists()


def test_a_browser_that_stops_answering_times_out_naming_the_report(chromium, reports, tmp_path):
    (_, html) = reports[2]
    began = time.monotonic()
    with pytest.raises(ChromiumError, match=f"did not print .*{html.name} in 3 s"), browser.PdfPrinter(
        chromium, tabs=1
    ) as printer:
        pid = printer.pid
        printer.submit(reports[0][1], tmp_path / "warm.pdf")
        printer.finish()  # started and printing (in whatever time a busy machine takes)
        printer.page_timeout = 3
        os.killpg(pid, signal.SIGSTOP)  # alive, but it answers nothing any more
        printer.submit(html, tmp_path / "stopped.pdf")
        printer.finish()
    assert time.monotonic() - began < 30
    assert alive_in_group(pid) == []  # a stopped browser is killed all the same
    assert not (tmp_path / "stopped.pdf").exists()


def test_a_report_that_is_not_there_is_an_error_naming_it(chromium, tmp_path):
    missing = tmp_path / "kaira_KU999_2010-12_fi.html"
    with pytest.raises(ChromiumError, match="kaira_KU999_2010-12_fi.html"), browser.PdfPrinter(chromium) as printer:
        printer.submit(missing, tmp_path / "missing.pdf")
        printer.finish()
    assert not (tmp_path / "missing.pdf").exists()


def test_a_browser_that_exits_at_once_is_an_error_before_any_report(tmp_path, reports):
    # `false` is a real program that exits non-zero at once: a browser that could not start.
    with pytest.raises(ChromiumError, match=r"Chromium stopped .*exit status 1"):
        with browser.PdfPrinter("false", start_timeout=20) as printer:
            printer.submit(reports[0][1], tmp_path / "never.pdf")
            printer.finish()
    assert not (tmp_path / "never.pdf").exists()


def test_a_month_has_every_html_report_even_when_the_browser_fails(tmp_path):
    published = write_published(tmp_path / "published.duckdb")
    with pytest.raises(ChromiumError, match="Chromium stopped"):
        write_all_reports(published, tmp_path / "reports", month="2010-12", chromium="false")
    folder = tmp_path / "reports" / "2010-12"
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        f"kaira_{area}_2010-12_fi.html" for area in AREA_NAMES
    )
