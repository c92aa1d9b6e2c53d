"""What `kaira run` shows while it works: one line per step started and finished, with its
duration, failed checks and warnings as they happen, and a "still running" line during a
long step. Dagster's own log (very verbose) and dbt's output go to a log file instead.

The display is fed by Dagster's event listener (`DagsterInstance.add_event_listener`, called
synchronously for every event the in-process run stores), so it needs no polling and works
the same in a terminal and in CI: plain ASCII lines, flushed one at a time.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import IO

from pipelines.automation.alerts import first_line, step_failure_text
from pipelines.core.identity_codes import redact
from pipelines.core.private_files import open_private, private_dir

STEP_LABELS = {
    "kaira_reference_models": "reference data (dbt seeds)",
    "raw_jobseeker_spells": "ingest the jobseeker register (tyonhakijat)",
    "raw_kela_payments": "ingest the Kela payments (tmt)",
    "kaira_monthly_models": "dbt models and tests",
    "gx_marts": "GX checks on the marts",
    "published_tables": "publish",
    "followup_reports": "follow-up reports",
}


def step_label(step_key: str) -> str:
    if step_key in STEP_LABELS:
        return STEP_LABELS[step_key]
    if step_key.startswith("gx_"):
        return f"GX checks on {step_key[3:]}"
    return step_key


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 60 else f"{int(value // 60)} min {int(value % 60):02d} s"


@contextmanager
def output_to_log(log_path: Path) -> Iterator[IO[str]]:
    """Send everything written to stdout and stderr into `log_path`: file descriptors 1 and 2
    (dbt's subprocesses, C libraries) and Python's sys.stdout/sys.stderr (Dagster's console
    logger, warnings, print) even where those are not fds 1 and 2. Yields a stream to the
    real stdout for the progress lines. The log folder and file are owner-only: the log
    names the person-level files and quotes their errors."""
    private_dir(log_path.parent)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    original, console = sys.stdout, _console_stream()
    saved_out, saved_err = os.dup(1), os.dup(2)
    with open_private(log_path, "a", encoding="utf-8", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            with redirect_stdout(log), redirect_stderr(log):
                yield console
        finally:
            log.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            if console is not original:
                console.close()
            else:
                console.flush()


def _console_stream() -> IO[str]:
    """Where sys.stdout writes now, kept open past the redirection."""
    try:
        return os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8", errors="replace")
    except (AttributeError, OSError, ValueError):  # sys.stdout is not a file (an embedding, a test)
        return sys.stdout


class Progress:
    """Turns the runs' events into progress lines on `out`."""

    def __init__(self, out: IO[str], *, heartbeat_seconds: float = 30.0):
        self.out = out
        self.heartbeat_seconds = heartbeat_seconds
        self._lock = threading.Lock()
        self._running: dict[str, float] = {}  # step key -> start (monotonic)
        self._assets: dict[str, set[str]] = {}
        self._checks: dict[str, list[int]] = {}  # step key -> [passed, failed, warnings]
        self._last_line = time.monotonic()

    def line(self, text: str) -> None:
        # Every line is redacted here, whatever built it: the one exit of the display.
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')}  {redact(text)}\n")
            self.out.flush()
            self._last_line = time.monotonic()

    def on_event(self, entry) -> None:
        """Dagster event listener; a display problem never fails the run."""
        try:
            self._handle(entry)
        except Exception:  # noqa: BLE001
            logging.getLogger(__name__).debug("progress display failed on an event", exc_info=True)

    def _handle(self, entry) -> None:
        import dagster as dg

        event = entry.dagster_event
        if event is None:
            message = entry.user_message or ""
            if entry.step_key and message.startswith("Dependencies for step"):
                self.line(f"  {step_label(entry.step_key)} not run (an earlier step failed)")
            elif entry.level >= logging.WARNING and message:
                self.line(f"    warning: {redact(first_line(message))[:300]}")
            return
        kind, step = event.event_type, entry.step_key
        if kind == dg.DagsterEventType.RUN_START:
            self.line(f"{event.job_name}: run {entry.run_id} started")
        elif kind == dg.DagsterEventType.STEP_START:
            with self._lock:
                self._running[step] = time.monotonic()
                self._assets[step], self._checks[step] = set(), [0, 0, 0]
            self.line(f"  {step_label(step)} ...")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION and step:
            self._assets.setdefault(step, set()).add(event.asset_key.to_user_string())
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION and step:
            evaluation = event.event_specific_data
            counts = self._checks.setdefault(step, [0, 0, 0])
            # A warning that did not pass stops nothing: counted apart, as in the summary.
            warning = evaluation.severity == dg.AssetCheckSeverity.WARN
            counts[0 if evaluation.passed else 2 if warning else 1] += 1
            if not evaluation.passed:
                self.line(
                    f"    {'warning' if warning else 'check failed'} ({evaluation.severity.value}): "
                    f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}"
                )
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            self.line(f"  {step_label(step)} ok in {seconds(self._finish(step))}{self._detail(step)}")
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            message = redact(first_line(step_failure_text(event.step_failure_data)))[:300]
            self.line(f"  {step_label(step)} FAILED after {seconds(self._finish(step))}: {message}")
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self.line(f"  {step_label(step)} skipped (an earlier step failed)")
        elif kind == dg.DagsterEventType.RUN_SUCCESS:
            self.line(f"{event.job_name}: run finished")
        elif kind == dg.DagsterEventType.RUN_FAILURE:
            self.line(f"{event.job_name}: run FAILED")

    def _finish(self, step: str) -> float:
        with self._lock:
            started = self._running.pop(step, None)
        return time.monotonic() - started if started is not None else 0.0

    def _detail(self, step: str) -> str:
        parts = []
        assets = self._assets.get(step, set())
        if len(assets) > 1:
            parts.append(plural(len(assets), "asset"))
        passed, failed, warnings = self._checks.get(step, [0, 0, 0])
        counts = [f"{plural(passed, 'check')} passed"] if passed else []
        if failed:
            counts.append(f"{failed} failed" if passed else f"{plural(failed, 'check')} failed")
        if warnings:
            counts.append(plural(warnings, "warning"))
        parts += counts
        return f" ({', '.join(parts)})" if parts else ""

    def beat(self) -> None:
        """A line for each step running longer than the heartbeat without other output."""
        now = time.monotonic()
        if now - self._last_line < self.heartbeat_seconds:
            return
        with self._lock:
            running = dict(self._running)
        for step, started in running.items():
            self.line(f"  {step_label(step)} still running ({seconds(now - started)})")

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(min(5.0, self.heartbeat_seconds)):
                self.beat()

        thread = threading.Thread(target=loop, name="kaira-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=10)
