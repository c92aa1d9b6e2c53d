"""Headless Chromium (Debian's package), offline: PDFs and screenshots of the reports, and
live pages for the browser tests.

Every browser runs with its own temporary profile, every network feature off and a minimal
environment; a report is a local file with nothing to fetch. Two ways to run one:

- `Browser`: one Chromium for many pages, driven over the DevTools protocol through a pipe
  (`--remote-debugging-pipe`: Chromium reads commands on descriptor 3 and answers on 4, one
  JSON message each, ended by a NUL byte). A pipe rather than a TCP port: any local user can
  connect to a DevTools port and drive the browser, which can read every file Kaira's user
  can (a key file too). `PdfPrinter` prints the reports of a month with it, PRINT_TABS at a
  time, and `tools/live_page.py` opens the dashboard with it. Starting Chromium costs more
  than printing one report, so a browser per PDF is what made the reports slow.
- `run_headless`: one command-line run (`--dump-dom`, `--screenshot`), a fresh browser a call.

Which browser runs is the caller's: `Settings.chromium` (KAIRA_CHROMIUM) if configured, else
the first of CANDIDATES on PATH. A browser that is not installed is `ChromiumNotFoundError`,
which `writer.write_followup_reports` (the data run, `kaira report`) turns into a warning:
HTML without PDF. A configured browser that is not there is `ChromiumConfigError`, a setting
to fix; one that ran and failed, died or stopped answering is `ChromiumError`. Both stay
errors. Every wait has a deadline, and a browser is closed, its processes ended and its
profile removed on every path out, an exception's too.
"""

from __future__ import annotations

import base64
import fcntl
import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "apt-get install chromium"
TIMEOUT_SECONDS = 120  # one command-line run (run_headless)
START_TIMEOUT_SECONDS = 60  # a Browser: from starting it to its first answer
PAGE_TIMEOUT_SECONDS = 60  # one PDF: loading the report and printing it
# Pages printed at the same time: each tab gets its own renderer process, so two keep both of
# the machine's cores busy while the browser assembles the other's PDF.
PRINT_TABS = 2
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
# Page.printToPDF as `--print-to-pdf --no-pdf-header-footer` asks for it (compared: the same
# PDF byte for byte but its creation date): the A4 size and margins of the report's @page
# rule, its backgrounds, no header or footer.
PDF_PARAMETERS = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False}
_STDERR_NAME = "chromium-stderr.log"
PIPE_BYTES = 1 << 20  # Linux's default most for an unprivileged process
# A Browser's profile goes to memory where there is a tmpfs for it: Chromium writes a couple of
# hundred small files into a new profile, and removing them from a disk took half a second.
SHARED_MEMORY = Path("/dev/shm")


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


def _running_in_group(group: int) -> bool:
    """Whether a process of the process group `group` still runs (a zombie has ended)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


# --- one browser, many pages -----------------------------------------------------------------


class Browser:
    """One headless Chromium, driven over the DevTools protocol through a pipe.

        with Browser(chromium) as chrome:
            tab = chrome.new_tab()
            chrome.call("Page.navigate", tab, url="file:///…")

    `call` sends one command and waits for its answer; `send` and `receive` are for callers
    that keep several commands in flight (PdfPrinter). Events go to the `listeners`.

    Sending never blocks: a command longer than the pipe holds (a report's whole text, for
    PdfPrinter) waits in `_outgoing` and is written while `receive` waits for answers, so a
    browser that stops reading runs into the caller's deadline instead of hanging it.
    """

    def __init__(self, chromium: str | None = None, *, arguments: tuple[str, ...] = (),
                 timeout: float = START_TIMEOUT_SECONDS):
        self.executable = find_chromium(chromium)
        self.arguments = tuple(arguments)
        self.timeout = timeout
        self.listeners: list[Callable[[dict], None]] = []
        self.pid: int | None = None
        self.profile: str | None = None
        self._ids = itertools.count(1)
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already searched for a NUL
        self._outgoing = bytearray()  # commands sent but not yet taken by the browser
        self._to_browser: int | None = None
        self._from_browser: int | None = None
        self._exit_status: int | None = None
        self._reaped = False

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.close()

    # --- the process ------------------------------------------------------------------------

    def start(self) -> Browser:
        """Start Chromium; it answers once it is up (the first `call` waits for that)."""
        in_memory = SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK | os.X_OK)
        self.profile = tempfile.mkdtemp(prefix="kaira-chromium-", dir=str(SHARED_MEMORY) if in_memory else None)
        try:
            self._spawn()
        except BaseException:
            self.close()
            raise
        return self

    def _spawn(self) -> None:
        command_read, command_write = os.pipe()
        answer_read, answer_write = os.pipe()
        self._to_browser, self._from_browser = command_write, answer_read
        os.set_blocking(command_write, False)  # our end only: `send` never waits for the browser
        try:  # room for a whole report: the rest of a longer command waits for the next poll
            fcntl.fcntl(command_write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # more than /proc/sys/fs/pipe-max-size allows: the default 64 KiB
            pass
        # The child's ends become its descriptors 3 and 4. Moved above 9 first, so that the
        # first dup2 cannot overwrite the second's source; close-on-exec, so that dup2 (which
        # clears the flag on its copy) is the only way they reach the child.
        child_ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (command_read, answer_write)]
        os.close(command_read)
        os.close(answer_write)
        command = [
            self.executable,
            *OFFLINE_FLAGS,
            f"--user-data-dir={self.profile}",
            "--remote-debugging-pipe",
            *self.arguments,
            "about:blank",
        ]
        try:
            # posix_spawn, not subprocess: only it places a descriptor at a given number
            # without running Python in the child (preexec_fn is unsafe with threads).
            self.pid = os.posix_spawn(
                self.executable,
                command,
                child_environment(self.profile),
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 2, str(Path(self.profile) / _STDERR_NAME),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                    (os.POSIX_SPAWN_DUP2, child_ends[0], 3),
                    (os.POSIX_SPAWN_DUP2, child_ends[1], 4),
                ],
                setpgroup=0,  # a process group of its own: closing ends every process it started
            )
        except OSError as error:
            raise ChromiumError(f"could not start Chromium ({self.executable}): {error}") from error
        finally:
            for fd in child_ends:
                os.close(fd)

    def stderr_tail(self, characters: int = 800) -> str:
        """The end of what the browser wrote to its standard error (for error messages)."""
        try:
            text = (Path(self.profile) / _STDERR_NAME).read_text(encoding="utf-8", errors="replace")
        except (OSError, TypeError):
            return ""
        return text[-characters:].strip()

    def _exited(self) -> bool:
        """Whether the browser's main process has ended (it stays unreaped, so its process
        group id cannot be reused until `close` has ended the rest of the group)."""
        if self._exit_status is not None:
            return True
        try:
            state = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        if state is None:
            return False
        self._exit_status = state.si_status if state.si_code == os.CLD_EXITED else -state.si_status
        return True

    def _wait_exit(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not self._exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def gone(self, doing: str) -> ChromiumError:
        """The error for a browser that closed its end of the pipe (it died, or was killed)."""
        self._wait_exit(2)
        status = "still running" if self._exit_status is None else f"exit status {self._exit_status}"
        tail = self.stderr_tail()
        return ChromiumError(f"Chromium stopped {doing} ({status})" + (f": {tail}" if tail else ""))

    def close(self) -> None:
        """End the browser and every process it started, close the pipe, remove the profile.

        Killed, not asked to close: the profile is thrown away, so there is nothing to save,
        and a polite Browser.close costs half a second of waiting.
        """
        try:
            if self.pid is not None and not self._reaped:
                # Its process group reaches its helpers (zygotes, renderers) and no one else:
                # the main process is reaped only after them, so the group id stays its own.
                deadline = time.monotonic() + 5
                while True:
                    try:
                        os.killpg(self.pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        break
                    if not _running_in_group(self.pid) or time.monotonic() > deadline:
                        break
                    time.sleep(0.01)  # a killed process takes a moment to be gone
                try:
                    os.waitpid(self.pid, 0)
                except ChildProcessError:  # reaped elsewhere already
                    pass
                self._reaped = True
        finally:
            for fd in (self._to_browser, self._from_browser):
                if fd is not None:
                    os.close(fd)
            self._to_browser = self._from_browser = None
            if self.profile is not None:
                shutil.rmtree(self.profile, ignore_errors=True)

    # --- the protocol -----------------------------------------------------------------------

    def send(self, method: str, session: str | None = None, **params) -> int:
        """Send one command (to the tab `session`, or to the browser); returns its id."""
        if self._to_browser is None:
            raise ChromiumError(f"Chromium is not running (sending {method})")
        message_id = next(self._ids)
        message = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._outgoing += json.dumps(message).encode() + b"\0"
        self._write_pending(f"before {method} could be sent")
        return message_id

    def _write_pending(self, doing: str) -> None:
        """Write what the pipe takes now of the commands sent; the rest waits for `receive`."""
        try:
            while self._outgoing:
                del self._outgoing[: os.write(self._to_browser, self._outgoing)]
        except BlockingIOError:  # the pipe is full: the browser has not read it yet
            pass
        except OSError as error:  # BrokenPipeError: nobody reads the other end any more
            raise self.gone(doing) from error

    def receive(self, timeout: float) -> dict | None:
        """The next message (an answer or an event), or None when none came in `timeout`
        seconds. Events are handed to the listeners first."""
        deadline = time.monotonic() + timeout
        while True:
            end = self._buffer.find(b"\0", self._scanned)
            if end >= 0:
                message = json.loads(bytes(self._buffer[:end]))
                del self._buffer[: end + 1]
                self._scanned = 0
                if "method" in message:
                    for listener in self.listeners:
                        listener(message)
                return message
            self._scanned = len(self._buffer)
            remaining = deadline - time.monotonic()
            writing = [self._to_browser] if self._outgoing else []
            ready, writable, _ = select.select([self._from_browser], writing, [], max(remaining, 0))
            if writable:
                self._write_pending("before a command could be sent")
            if not ready:
                if remaining <= 0:
                    return None
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise self.gone("answering")
            self._buffer += chunk

    def call(self, method: str, session: str | None = None, *, timeout: float | None = None, **params) -> dict:
        """Send one command and return its result. One at a time: anything else that arrives
        meanwhile is an event, seen by the listeners only."""
        timeout = self.timeout if timeout is None else timeout
        message_id = self.send(method, session, **params)
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(deadline - time.monotonic())
            if message is None:
                raise ChromiumError(f"Chromium did not answer {method} in {timeout:.0f} s")
            if message.get("id") == message_id:
                if "error" in message:
                    raise ChromiumError(f"{method}: {message['error'].get('message', message['error'])}")
                return message.get("result", {})

    def new_tab(self) -> str:
        """A new blank page; returns the session to send its commands to."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        return self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]


# --- many PDFs from one browser --------------------------------------------------------------


@dataclass
class _Job:
    html: Path
    pdf: Path
    opened: bool = False  # its document is open in the tab: the next "load" starts the printing


class _Tab:
    """One page of the printer: its session once attached, its job, what it waits for."""

    def __init__(self):
        self.session: str | None = None
        self.frame: str | None = None  # the page's main frame, which each report is written into
        self.ready = False  # attached, its events enabled, its frame known
        self.job: _Job | None = None
        self.deadline = 0.0


class PdfPrinter:
    """Many reports printed to PDF by one browser, PRINT_TABS at a time.

        with PdfPrinter(chromium) as printer:
            printer.submit(html_path, pdf_path)   # starts it if a tab is free; never waits
            ...                                   # render the next report meanwhile
            printer.finish()                      # waits for every PDF

    Nothing runs in the background: `submit` and `poll` move the work on with whatever the
    browser has answered, `finish` waits; leaving the block closes the browser, done or not.
    Each PDF is written to a `.partial` file beside it and renamed into place. A browser that
    dies, crashes a page or takes longer than `page_timeout` for one report raises
    ChromiumError naming the report, as does a report that cannot be read.

    A report is written into its tab's page (Page.setDocumentContent, the file's text) and
    printed once the page has loaded, not navigated to: a navigation a report made the
    browser set up a new document, frame and loader each time, a fifth of its CPU time. The
    PDFs are the same (compared on 370 reports of four published files, both languages: byte
    for byte but for the creation date and the tagged PDF's element numbers, which differ
    between any two prints). A report is self-contained (inline CSS and SVG): it has nothing
    to load from its address.
    """

    def __init__(self, chromium: str | None = None, *, tabs: int = PRINT_TABS,
                 start_timeout: float = START_TIMEOUT_SECONDS, page_timeout: float = PAGE_TIMEOUT_SECONDS):
        self.browser = Browser(chromium, timeout=start_timeout)
        self.start_timeout, self.page_timeout = start_timeout, page_timeout
        self._tabs = [_Tab() for _ in range(tabs)]
        self._queue: deque[_Job] = deque()
        self._waiting: dict[int, tuple[_Tab, str, Callable[[_Tab, dict], None]]] = {}
        self.printed: list[Path] = []

    def __enter__(self) -> PdfPrinter:
        self.browser.start()
        try:
            deadline = time.monotonic() + self.start_timeout
            for tab in self._tabs:
                # Sent at once: the browser reads them when it is up, the caller goes on meanwhile.
                tab.deadline = deadline
                self._expect(tab, "Target.createTarget", self._attach, url="about:blank")
        except BaseException:
            self.browser.close()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.browser.close()  # printed or not: `finish` is what waits

    @property
    def pid(self) -> int | None:
        return self.browser.pid

    # --- what the writer calls --------------------------------------------------------------

    def submit(self, html_path: Path, pdf_path: Path) -> None:
        """Queue one report; it starts at once if a tab is free."""
        pdf_path = Path(pdf_path)
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        self._queue.append(_Job(Path(html_path), pdf_path))
        self.poll()

    def poll(self) -> None:
        """Handle whatever the browser has answered, without waiting."""
        self._step(0)

    def finish(self) -> list[Path]:
        """Wait until every submitted report is printed; returns the PDFs printed so far."""
        while self._queue or any(tab.job is not None for tab in self._tabs):
            self._step(self._next_deadline() - time.monotonic())
        return self.printed

    # --- the work ---------------------------------------------------------------------------

    def _step(self, wait: float) -> None:
        self._start_jobs()
        try:
            message = self.browser.receive(max(wait, 0))
            while message is not None:
                self._handle(message)
                self._start_jobs()
                message = self.browser.receive(0)
        except ChromiumError as error:
            raise self._naming_reports(error) from error
        self._check_deadlines()

    def _naming_reports(self, error: ChromiumError) -> ChromiumError:
        """The error with the reports it concerns: those being printed, else the next one."""
        reports = [str(tab.job.html) for tab in self._tabs if tab.job is not None]
        if reports:
            return ChromiumError(f"{error}, while printing {', '.join(reports)}")
        if self._queue:
            return ChromiumError(f"{error}, before printing {self._queue[0].html}")
        return error

    def _next_deadline(self) -> float:
        busy = [tab.deadline for tab in self._tabs if tab.job is not None or not tab.ready]
        return min(busy) if busy else time.monotonic()

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        for tab in self._tabs:
            if tab.job is not None and now > tab.deadline:
                raise ChromiumError(f"Chromium did not print {tab.job.html} in {self.page_timeout:.0f} s")
            if not tab.ready and now > tab.deadline:
                raise self._naming_reports(ChromiumError(
                    f"Chromium did not start in {self.start_timeout:.0f} s: {self.browser.stderr_tail()}"
                ))

    def _expect(self, tab: _Tab, method: str, then: Callable[[_Tab, dict], None], **params) -> None:
        try:
            message_id = self.browser.send(method, tab.session, **params)
        except ChromiumError as error:
            raise self._naming_reports(error) from error
        self._waiting[message_id] = (tab, method, then)

    def _handle(self, message: dict) -> None:
        if "id" in message:
            tab, method, then = self._waiting.pop(message["id"], (None, "", None))
            if tab is None:
                return
            if "error" in message:
                what = f" for {tab.job.html}" if tab.job else ""
                raise ChromiumError(f"{method}{what}: {message['error'].get('message', message['error'])}")
            then(tab, message.get("result", {}))
            return
        tab = next((tab for tab in self._tabs if tab.session and tab.session == message.get("sessionId")), None)
        if tab is None:
            return
        event = message["method"]
        if event == "Page.documentOpened" and tab.job is not None:
            tab.job.opened = True
        elif event == "Page.loadEventFired" and tab.job is not None and tab.job.opened:
            self._print(tab)
        elif event in ("Inspector.targetCrashed", "Inspector.detached"):
            what = f" while printing {tab.job.html}" if tab.job else ""
            raise ChromiumError(f"Chromium's page crashed{what} ({event}): {self.browser.stderr_tail()}")

    # A tab's setup, each step when the previous one is answered.

    def _attach(self, tab: _Tab, result: dict) -> None:
        self._expect(tab, "Target.attachToTarget", self._enable, targetId=result["targetId"], flatten=True)

    def _enable(self, tab: _Tab, result: dict) -> None:
        tab.session = result["sessionId"]
        tab.deadline = time.monotonic() + self.start_timeout
        self._expect(tab, "Inspector.enable", _ignore)  # for Inspector.targetCrashed
        self._expect(tab, "Page.enable", _ignore)  # for Page.documentOpened and Page.loadEventFired
        self._expect(tab, "Page.getFrameTree", self._ready)

    def _ready(self, tab: _Tab, result: dict) -> None:
        tab.frame = result["frameTree"]["frame"]["id"]
        tab.ready = True
        self._start_jobs()

    # A job's steps: write the report into the page, wait for its load, print, write the PDF.

    def _start_jobs(self) -> None:
        for tab in self._tabs:
            if self._queue and tab.job is None and tab.ready:
                job = tab.job = self._queue.popleft()
                tab.deadline = time.monotonic() + self.page_timeout
                try:
                    html = job.html.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    raise ChromiumError(f"could not read the report {job.html} to print it: {error}") from error
                self._expect(tab, "Page.setDocumentContent", _ignore, frameId=tab.frame, html=html)

    def _print(self, tab: _Tab) -> None:
        tab.job.opened = False  # printed once, even if another "load" came
        self._expect(tab, "Page.printToPDF", self._write, **PDF_PARAMETERS)

    def _write(self, tab: _Tab, result: dict) -> None:
        job = tab.job
        data = base64.b64decode(result.get("data", ""))
        if not data.startswith(b"%PDF"):
            raise ChromiumError(f"Chromium printed no PDF for {job.html} ({len(data)} bytes)")
        partial = job.pdf.with_name(f".{job.pdf.name}.partial")
        try:
            partial.write_bytes(data)
            os.replace(partial, job.pdf)
        finally:
            partial.unlink(missing_ok=True)
        self.printed.append(job.pdf)
        tab.job = None


def _ignore(_tab: _Tab, _result: dict) -> None:
    pass


def print_pdf(html_path: Path, pdf_path: Path, *, chromium: str | None = None) -> Path:
    """Print one page to an A4 PDF (the page size and margins come from the report's @page CSS).
    For many, one PdfPrinter: a browser's start costs more than a page."""
    with PdfPrinter(chromium, tabs=1) as printer:
        printer.submit(html_path, pdf_path)
        printer.finish()
    return Path(pdf_path)


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
