"""Headless Chromium (Debian's package), offline: PDFs and screenshots of the reports.

Every call starts a fresh browser with its own temporary profile, every network feature off
and a minimal environment; the report is a local file with nothing to fetch. Which browser
runs is the caller's: `Settings.chromium` (KAIRA_CHROMIUM) if configured, else the first of
CANDIDATES on PATH. A browser that is not installed is `ChromiumNotFoundError`, which
`writer.write_followup_reports` (the data run, `kaira report`) turns into a warning: HTML
without PDF. A configured browser that is not there is `ChromiumConfigError`, a setting to
fix; one that ran and failed is `ChromiumError`. Both stay errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "apt-get install chromium"
TIMEOUT_SECONDS = 120
OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
)
# Passed through to the browser when set: the launcher script needs PATH, the locale and time
# zone keep the output as before, TMPDIR is where Debian's launcher puts shared memory when
# /dev/shm is small. Nothing else, so secrets such as KAIRA_PSEUDONYM_KEY never reach it.
PASSED_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")


class ChromiumNotFoundError(RuntimeError):
    """Headless Chromium is needed (PDFs, browser tests) and is not installed."""


class ChromiumConfigError(ValueError):
    """The configured browser (KAIRA_CHROMIUM) is not an executable: a setting to fix, not a
    browser to install."""


class ChromiumError(RuntimeError):
    """Chromium ran but did not produce what was asked."""


def find_chromium(configured: str | None = None) -> str:
    """The browser to run: `configured` (Settings.chromium) if given, else the first of
    CANDIDATES on PATH."""
    if configured:
        found = shutil.which(configured)
        if found:
            return found
        raise ChromiumConfigError(
            f"KAIRA_CHROMIUM={configured!r} is not an executable: fix the setting, "
            "or unset it to use Debian's chromium from PATH"
        )
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise ChromiumNotFoundError(
        "headless Chromium is needed to print the PDF reports and is not installed: "
        f"install Debian's package with `{INSTALL_HINT}` (or pass pdf=False / --no-pdf for HTML only)"
    )


def child_environment(profile: str) -> dict[str, str]:
    """The browser's whole environment: a few harmless variables, HOME in the temporary profile."""
    passed = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    return {"PATH": os.defpath, **passed, "HOME": profile}


def run_headless(
    arguments: list[str], *, chromium: str | None = None, capture: bool = False
) -> subprocess.CompletedProcess:
    """Run the browser offline with `arguments`; its exit status is the caller's to judge."""
    browser = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="kaira-chromium-") as profile:
        command = [browser, *OFFLINE_FLAGS, f"--user-data-dir={profile}", *arguments]
        try:
            return subprocess.run(
                command,
                stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=TIMEOUT_SECONDS,
                check=False,
                env=child_environment(profile),
            )
        except subprocess.TimeoutExpired as error:
            raise ChromiumError(f"Chromium did not finish in {TIMEOUT_SECONDS} s: {' '.join(command)}") from error


def _url(html_path: Path) -> str:
    return Path(html_path).resolve().as_uri()


def print_pdf(html_path: Path, pdf_path: Path, *, chromium: str | None = None) -> Path:
    """Print the page to an A4 PDF (the page size and margins come from the report's @page CSS)."""
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf_path.with_name(f".{pdf_path.name}.partial")
    partial.unlink(missing_ok=True)
    result = run_headless([f"--print-to-pdf={partial}", "--no-pdf-header-footer", _url(html_path)], chromium=chromium)
    if not partial.is_file() or partial.stat().st_size == 0:
        raise ChromiumError(
            f"Chromium wrote no PDF for {html_path} (exit {result.returncode}): "
            f"{result.stderr.decode(errors='replace')[-800:]}"
        )
    os.replace(partial, pdf_path)
    return pdf_path


def screenshot(
    html_path: Path, png_path: Path, width: int = 1280, height: int = 2000, *, chromium: str | None = None
) -> Path:
    """A PNG of the page's top `height` pixels at a window `width` pixels wide (screen media)."""
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.unlink(missing_ok=True)
    result = run_headless(
        [f"--screenshot={png_path}", f"--window-size={width},{height}", _url(html_path)], chromium=chromium
    )
    if not png_path.is_file():
        raise ChromiumError(
            f"Chromium wrote no screenshot for {html_path} (exit {result.returncode}): "
            f"{result.stderr.decode(errors='replace')[-800:]}"
        )
    return png_path
