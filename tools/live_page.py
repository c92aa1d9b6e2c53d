"""A live web page in headless Chromium, driven over the DevTools protocol: for the browser
tests and screenshots of the dashboard.

The reports are static files, so `chromium --dump-dom` and `--screenshot` see them whole.
The dashboard is not: Streamlit draws the page in the browser from messages on a websocket,
after the document has loaded, and a one-shot `--dump-dom` (even with a virtual-time budget,
which does not wait for socket traffic) catches an empty shell. So this starts the browser
with a DevTools port (`--remote-debugging-port=0`: it picks a free one and writes it to
DevToolsActivePort in its profile), opens the page, waits until a JavaScript condition holds,
then reads the DOM and takes the screenshot. It also records every URL the page requested,
so a test can check that nothing was fetched from outside (the dashboard works offline).

The browser is Debian's, found and started as the reports' (pipelines.reports.browser: the
same offline flags and minimal environment). The protocol runs over the `websockets` client,
which the lock already has (uvicorn's dependency).

    with LivePage(chromium) as page:
        page.open("http://127.0.0.1:8611/?area=MK18", ready="document.querySelector('table') !== null")
        html = page.html()
        page.screenshot(Path("shot.png"))
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect

from pipelines.reports import browser


class LivePageError(RuntimeError):
    """The browser did not start, or the page never became ready."""


class LivePage:
    def __init__(self, chromium: str | None = None, *, width: int = 1280, height: int = 1600, timeout: float = 60):
        self.executable = browser.find_chromium(chromium)
        self.width, self.height, self.timeout = width, height, timeout
        self.requested: list[str] = []
        self._ids = itertools.count(1)

    # --- the browser process ----------------------------------------------------------------

    def __enter__(self) -> LivePage:
        self._profile = tempfile.TemporaryDirectory(prefix="kaira-livepage-", ignore_cleanup_errors=True)
        profile = self._profile.name
        command = [
            self.executable,
            *browser.OFFLINE_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=browser.child_environment(profile)
        )
        try:
            port = self._devtools_port(Path(profile) / "DevToolsActivePort")
            self._sockets = contextlib.ExitStack()
            self._socket = self._sockets.enter_context(
                connect(self._page_socket(port), max_size=None, open_timeout=self.timeout)
            )
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
            self._stop()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self._stop()

    def _stop(self) -> None:
        sockets = getattr(self, "_sockets", None)
        if sockets is not None:
            sockets.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._profile.cleanup()

    def _devtools_port(self, active_port: Path) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LivePageError(
                    f"Chromium exited ({self._process.returncode}): {self._process.stderr.read().decode(errors='replace')[-800:]}"
                )
            text = active_port.read_text() if active_port.exists() else ""
            if text.strip():
                return int(text.split()[0])
            time.sleep(0.1)
        raise LivePageError(f"Chromium opened no DevTools port in {self.timeout:.0f} s")

    def _page_socket(self, port: int) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=self.timeout) as answer:
            targets = json.load(answer)
        for target in targets:
            if target.get("type") == "page":
                return target["webSocketDebuggerUrl"]
        raise LivePageError("Chromium has no page to drive")

    # --- the protocol -----------------------------------------------------------------------

    def call(self, method: str, **params):
        """Send one command and return its result; events that arrive meanwhile are noted."""
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LivePageError(f"no answer to {method} in {self.timeout:.0f} s")
            message = json.loads(self._socket.recv(timeout=remaining))
            if message.get("method") == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            if message.get("id") == message_id:
                if "error" in message:
                    raise LivePageError(f"{method}: {message['error']}")
                return message.get("result", {})

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
