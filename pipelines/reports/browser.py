"""Headless Chromium (Debian's package), offline: PDFs and screenshots of the reports.

Every call starts a fresh browser with its own temporary profile and every network feature
off; the report is a local file with nothing to fetch. A missing browser is an error that
says what to install, never a silently skipped PDF.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "apt-get update && apt-get install -y chromium chromium-driver"
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


class ChromiumNotFoundError(RuntimeError):
    """Headless Chromium is needed (PDFs, browser tests) and is not installed."""


class ChromiumError(RuntimeError):
    """Chromium ran but did not produce what was asked."""


def find_chromium() -> str:
    """The browser to run: $KAIRA_CHROMIUM if set, else the first of CANDIDATES on PATH."""
    configured = os.environ.get("KAIRA_CHROMIUM")
    if configured:
        if shutil.which(configured):
            return shutil.which(configured)
        raise ChromiumNotFoundError(f"KAIRA_CHROMIUM={configured!r} is not an executable")
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise ChromiumNotFoundError(
        "headless Chromium is needed to make the PDF reports and is not installed: "
        f"install Debian's package with `{INSTALL_HINT}` (or pass pdf=False / --no-pdf for HTML only)"
    )


def run_headless(arguments: list[str], *, capture: bool = False) -> subprocess.CompletedProcess:
    """Run the browser offline with `arguments`; its exit status is the caller's to judge."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="kaira-chromium-") as profile:
        command = [browser, *OFFLINE_FLAGS, f"--user-data-dir={profile}", *arguments]
        try:
            return subprocess.run(
                command,
                stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=TIMEOUT_SECONDS,
                check=False,
                env={**os.environ, "HOME": profile},
            )
        except subprocess.TimeoutExpired as error:
            raise ChromiumError(f"Chromium did not finish in {TIMEOUT_SECONDS} s: {' '.join(command)}") from error


def _url(html_path: Path) -> str:
    return Path(html_path).resolve().as_uri()


def print_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print the page to an A4 PDF (the page size and margins come from the report's @page CSS)."""
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf_path.with_name(f".{pdf_path.name}.partial")
    partial.unlink(missing_ok=True)
    result = run_headless([f"--print-to-pdf={partial}", "--no-pdf-header-footer", _url(html_path)])
    if not partial.is_file() or partial.stat().st_size == 0:
        raise ChromiumError(
            f"Chromium wrote no PDF for {html_path} (exit {result.returncode}): "
            f"{result.stderr.decode(errors='replace')[-800:]}"
        )
    os.replace(partial, pdf_path)
    return pdf_path


def screenshot(html_path: Path, png_path: Path, width: int = 1280, height: int = 2000) -> Path:
    """A PNG of the page's top `height` pixels at a window `width` pixels wide (screen media)."""
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    png_path.unlink(missing_ok=True)
    result = run_headless([f"--screenshot={png_path}", f"--window-size={width},{height}", _url(html_path)])
    if not png_path.is_file():
        raise ChromiumError(
            f"Chromium wrote no screenshot for {html_path} (exit {result.returncode}): "
            f"{result.stderr.decode(errors='replace')[-800:]}"
        )
    return png_path
