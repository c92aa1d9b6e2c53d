"""Failed runs leave an alert an operator will see: a log line and a file in the warehouse
folder, `<KAIRA_WAREHOUSE_DIR>/alerts/<UTC time>_<run id>.txt`.

The folder is owner-only (0700) and each alert 0600, like the rest of the person-level
working files (docs/security.md): an alert quotes an error about person-level files.

One small text file per failure, not one shared log: the daemon's sensor and `kaira run`
may write at the same moment, a new file is what a folder watch or a glance at `ls` notices,
and an operator deletes (or moves) the file once the failure is handled.

The error text is redacted of anything shaped like a Finnish identity code before it is
written anywhere; ingest's messages never contain one, this is the second line of defence.
The same `write_alert` serves the Dagster run-failure sensor (runs of the UI, the schedule
and the sensor, when the daemon runs) and `kaira run` (its in-process runs trigger no sensor).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipelines.core.identity_codes import redact
from pipelines.core.private_files import PRIVATE_FILE_MODE, private_dir

logger = logging.getLogger("kaira.alerts")

# "dagster._core.errors.DagsterAssetCheckFailedError: ..." -> "DagsterAssetCheckFailedError: ..."
MODULE_PREFIX = re.compile(r"^(?:[A-Za-z_]\w*\.)+(?=[A-Z]\w*:)")
ALERTS_FOLDER = "alerts"
MESSAGE_LIMIT = 2000  # characters of error text kept in an alert


@dataclass(frozen=True)
class Alert:
    run_id: str
    job_name: str
    step_key: str | None
    message: str
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    months: str | None = None  # "2024-01 .. 2024-03", from the run's partition tags
    started_by: str | None = None  # "schedule monthly_schedule", "sensor landing_sensor", "kaira run", ...

    def summary(self) -> str:
        """One line, for logs and the CLI's last line."""
        where = f"step {self.step_key}" if self.step_key else "the run"
        return redact(f"run {self.run_id} ({self.job_name}) failed in {where}: {first_line(self.message)}")

    def text(self) -> str:
        lines = [
            "KAIRA ALERT: a pipeline run failed",
            f"time (UTC):  {self.occurred_at.strftime('%Y-%m-%d %H:%M:%S')}",
            f"run id:      {self.run_id}",
            f"job:         {self.job_name}",
            f"months:      {self.months or '-'}",
            f"started by:  {self.started_by or '-'}",
            f"failed step: {self.step_key or '-'}",
            "error:",
            *(f"  {line}" for line in self.message.strip().splitlines()),
            "",
            "What next: open the run in the Dagster UI (Runs, search by the run id) for the full log;",
            "a file refused at ingest is in the quarantine folder with a .reason.txt beside it.",
            "Delete this file once the failure is handled.",
        ]
        return redact("\n".join(lines) + "\n")


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def write_alert(warehouse_dir: Path, alert: Alert, *, log: bool = True) -> Path:
    """Write the alert file (complete or not at all) and, with `log`, log the alert at error
    level; returns the file's path."""
    folder = private_dir(Path(warehouse_dir) / ALERTS_FOLDER)
    stamp = alert.occurred_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}_{alert.run_id}.txt"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".alert-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(alert.text())
        os.chmod(temporary, PRIVATE_FILE_MODE)  # mkstemp's 0600 already; said here, as the intent
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if log:
        logger.error("KAIRA ALERT %s (alert file %s)", alert.summary(), path)
    return path


# --- from Dagster's records ------------------------------------------------------------


def error_text(error) -> str:
    """The user's error in a Dagster SerializableErrorInfo: the innermost cause (Dagster wraps
    an asset's exception in DagsterExecutionStepExecutionError), without the stack."""
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return ""
    return MODULE_PREFIX.sub("", error.message.strip())


def step_failure_text(step_failure_data) -> str:
    """A dg.Failure's description, else the innermost error's message."""
    user_data = getattr(step_failure_data, "user_failure_data", None)
    if user_data is not None and user_data.description:
        return user_data.description.strip()
    return error_text(step_failure_data.error)


def started_by(tags: dict[str, str]) -> str:
    if tags.get("dagster/schedule_name"):
        return f"schedule {tags['dagster/schedule_name']}"
    if tags.get("dagster/sensor_name"):
        return f"sensor {tags['dagster/sensor_name']}"
    if tags.get("dagster/backfill"):
        return f"backfill {tags['dagster/backfill']}"
    return tags.get("kaira/started_by", "the Dagster UI or a script")


def alert_for_run(instance, run, *, started: str | None = None) -> Alert:
    """The alert of a failed run: its first failed step and that step's error."""
    import dagster as dg

    from pipelines.automation.history import months_of_run

    step_key, message = None, ""
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=1).records
    if records:
        entry = records[0].event_log_entry
        step_key = entry.step_key
        message = step_failure_text(entry.dagster_event.step_failure_data)
    else:
        failures = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE, limit=1).records
        if failures:
            event = failures[0].event_log_entry.dagster_event
            data = event.event_specific_data
            message = (error_text(data.error) if data is not None and data.error else "") or event.message or ""
    months = months_of_run(dict(run.tags))
    return Alert(
        run_id=run.run_id,
        job_name=run.job_name,
        step_key=step_key,
        # Redacted before it is cut, so that no half of a code survives the cut.
        message=redact(message or "the run failed (no error message recorded)")[:MESSAGE_LIMIT],
        months=(f"{months[0]} .. {months[-1]}" if len(months) > 1 else months[0]) if months else None,
        started_by=started or started_by(dict(run.tags)),
    )
