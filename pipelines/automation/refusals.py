"""Landing files that are not deliveries Kaira can process: quarantined, named, alerted.

A file in a register's folder whose name is not a month (`tyonhakijat_2010-13.csv`) or
whose month is outside the supported range (pipelines.core.supported_months) is not read.
`kaira run`, the landing sensor and the monthly schedule each call `refuse_landing_files`
before deciding what to run: the file is copied to the quarantine folder with a
`.reason.txt` (once per content: the sensor looks every minute), a new refusal leaves an
alert file, and the caller names the file in its summary or skip reason and goes on with
the valid months.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipelines.automation.alerts import Alert, write_alert
from pipelines.core.identity_codes import redact
from pipelines.core.landing import RefusedFile, refused_files
from pipelines.core.settings import Settings


@dataclass(frozen=True)
class Refusal:
    file: RefusedFile
    quarantined: Path
    new: bool  # quarantined by this call (else an identical copy was there already)

    def line(self) -> str:
        return redact(f"{self.file.relative_name}: {self.file.reason}; not read (quarantined as {self.quarantined})")


@dataclass(frozen=True)
class LandingAlert(Alert):
    """An alert about refused landing files rather than a failed run (same folder, same
    writer, so that an operator finds every alert in one place)."""

    def summary(self) -> str:
        return redact(f"landing file(s) refused, not read: {self.message.splitlines()[0] if self.message else ''}")

    def text(self) -> str:
        lines = [
            "KAIRA ALERT: landing file(s) refused",
            f"time (UTC):  {self.occurred_at.strftime('%Y-%m-%d %H:%M:%S')}",
            f"seen by:     {self.started_by or '-'}",
            "files:",
            *(f"  {line}" for line in self.message.strip().splitlines()),
            "",
            "The months with valid file names were processed without these files. Deliver each file",
            "again under the name of its month (tyonhakijat/tyonhakijat_YYYY-MM.csv, kela/tmt_YYYY-MM.csv),",
            "for a month from the first supported one to the last complete one, or remove it from the",
            "landing folder. Delete this alert once handled.",
        ]
        return redact("\n".join(lines) + "\n")


def refuse_landing_files(settings: Settings, *, seen_by: str, log: bool = True) -> tuple[list[Refusal], Path | None]:
    """Quarantine the refused files of the landing folder, and write one alert file naming
    the files quarantined for the first time (with `log`, also an error log line).
    Returns every refusal, and the new alert file if one was written."""
    from pipelines.sources.loader import quarantine_refused_file

    refusals = []
    for file in refused_files(settings.landing_dir):
        try:
            copy, new = quarantine_refused_file(file, settings.quarantine_dir)
        except FileNotFoundError:
            continue  # removed while we looked
        refusals.append(Refusal(file, copy, new))
    fresh = [refusal for refusal in refusals if refusal.new]
    if not fresh:
        return refusals, None
    text = "\n".join(refusal.line() for refusal in fresh)
    key = hashlib.sha256(text.encode()).hexdigest()[:12]
    alert = LandingAlert(run_id=f"landing-{key}", job_name="landing folder", step_key=None, message=text,
                         started_by=seen_by)
    return refusals, write_alert(settings.warehouse_dir, alert, log=log)


def refusal_note(refusals: list[Refusal]) -> str | None:
    """One clause for a skip reason: the refused files and why."""
    if not refusals:
        return None
    return "refused, not read (quarantined): " + "; ".join(
        redact(f"{refusal.file.relative_name} ({refusal.file.reason})") for refusal in refusals
    )
