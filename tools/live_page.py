"""A live web page in headless Chromium, driven over the DevTools protocol: for the browser
tests and screenshots of the dashboard.

The reports are static files, so `chromium --dump-dom` and `--screenshot` see them whole.
The dashboard is not: Streamlit draws the page in the browser from messages on a websocket,
after the document has loaded, and a one-shot `--dump-dom` (even with a virtual-time budget,
which does not wait for socket traffic) catches an empty shell. So this opens the page in a
browser it drives, waits until a JavaScript condition holds, then reads the DOM and takes
the screenshot. It also records every URL the page requested, so a test can check that
nothing was fetched from outside (the dashboard works offline).

The browser and the protocol are the reports' (`pipelines.reports.browser.Browser`: the same
offline flags, minimal environment and DevTools pipe that print the PDFs); this adds only
what a live page needs.

    with LivePage(chromium) as page:
        page.open("http://127.0.0.1:8611/?area=MK18", ready="document.querySelector('table') !== null")
        html = page.html()
        page.screenshot(Path("shot.png"))
"""

from __future__ import annotations

import base64
import contextlib
import subprocess
import time
import urllib.request
from pathlib import Path

from pipelines.reports import browser


class LivePageError(browser.ChromiumError):
    """The browser did not start, or the page never became ready."""


class LivePage:
    def __init__(self, chromium: str | None = None, *, width: int = 1280, height: int = 1600, timeout: float = 60):
        self.executable = browser.find_chromium(chromium)
        self.width, self.height, self.timeout = width, height, timeout
        self.requested: list[str] = []

    # --- the browser process ----------------------------------------------------------------

    def __enter__(self) -> LivePage:
        self._browser = browser.Browser(
            self.executable, arguments=(f"--window-size={self.width},{self.height}",), timeout=self.timeout
        ).start()
        try:
            self._browser.listeners.append(self._note_request)
            self._session = self._browser.new_tab()
            # The page's size exactly (a window's size includes the browser's own bars).
            self.call(
                "Emulation.setDeviceMetricsOverride",
                width=self.width,
                height=self.height,
                deviceScaleFactor=1,
                mobile=False,
            )
            self.call("Page.enable")
            self.call("Network.enable")
            self.call("Runtime.enable")
        except BaseException:
            self._browser.close()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self._browser.close()

    def _note_request(self, event: dict) -> None:
        if event.get("method") == "Network.requestWillBeSent" and event.get("sessionId") == self._session:
            self.requested.append(event["params"]["request"]["url"])

    # --- the protocol -----------------------------------------------------------------------

    def call(self, method: str, **params):
        """Send one command to the page and return its result; events that arrive meanwhile are noted."""
        try:
            return self._browser.call(method, self._session, **params)
        except browser.ChromiumError as error:
            raise LivePageError(str(error)) from error

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise LivePageError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    # --- what the tests and tools use ---------------------------------------------------------

    def open(self, url: str, ready: str, settle: float = 1.0) -> None:
        """Navigate to `url` and wait until the JavaScript expression `ready` is true, then
        `settle` seconds more (charts finish drawing after their data arrive)."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + self.timeout
        while not self.evaluate(f"Boolean({ready})"):
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText.slice(0, 1500) : ''")
                raise LivePageError(f"{url} was not ready in {self.timeout:.0f} s ({ready}); the page says: {text!r}")
            time.sleep(0.25)
        time.sleep(settle)
        self.evaluate("0")  # collect the requests made while settling

    def html(self) -> str:
        return self.evaluate("document.documentElement.outerHTML")

    def text(self) -> str:
        return self.evaluate("document.body.innerText")

    def screenshot(self, png_path: Path) -> Path:
        png_path = Path(png_path)
        png_path.parent.mkdir(parents=True, exist_ok=True)
        shot = self.call("Page.captureScreenshot", format="png")
        png_path.write_bytes(base64.b64decode(shot["data"]))
        return png_path


@contextlib.contextmanager
def running_dashboard(env: dict[str, str], *, port: int | None = None, timeout: float = 120):
    """`kaira dashboard` started as a user starts it, with the environment `env` (its
    KAIRA_WAREHOUSE_DIR says which published tables it reads); yields (base URL, seconds
    until it answered its health check), and stops it afterwards."""
    import os
    import socket
    import sys

    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    kaira = Path(sys.executable).with_name("kaira")
    began = time.monotonic()
    process = subprocess.Popen(
        [str(kaira), "dashboard", "--port", str(port)],
        env={"PATH": os.environ["PATH"], **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise LivePageError(f"kaira dashboard exited ({process.returncode}): {process.stdout.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - began > timeout:
                raise LivePageError(f"kaira dashboard did not answer in {timeout:.0f} s")
            time.sleep(0.1)
        yield base, time.monotonic() - began
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
