"""The automation's decisions as plain functions: which month is due, whether to run it, and
which runs a change in the landing folder needs. No Dagster and no I/O here: the schedule
and the sensor (schedule.py, sensor.py) gather the facts and call these."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipelines.core.months import contiguous_ranges
from pipelines.core.supported_months import HELSINKI as HELSINKI  # the schedule's time zone
from pipelines.core.supported_months import last_complete_month

HashPair = tuple[str, str]  # (jobseeker register file, Kela file)


def month_due(tick: datetime) -> str:
    """The month a tick processes: the calendar month before the tick's date in Helsinki.
    A naive time is taken as UTC."""
    return last_complete_month(tick)


@dataclass(frozen=True)
class Decision:
    run: bool
    reason: str


def decide_month(
    month: str,
    *,
    missing: Sequence[Path],
    hashes: HashPair | None,
    ingested_hashes: tuple[str | None, ...] | None,
    ingested_run_id: str | None = None,
    ingested_succeeded: bool = False,
    active_run_id: str | None = None,
    warehouse_exists: bool = True,
    reference_ready: bool = True,
) -> Decision:
    """Run `month` or skip it, with the reason in words an operator reads in the tick history.

    Skips while a file is missing (naming it), while a run of the month is queued or
    executing, when a successful run already processed these very files (same SHA-256),
    and while the reference data the models read has not been built.
    """
    if missing:
        return Decision(False, f"{month}: waiting for {' and '.join(str(path) for path in missing)}")
    if active_run_id:
        return Decision(False, f"{month} is already queued or running in run {active_run_id}")
    same_files = ingested_hashes is not None and tuple(ingested_hashes) == tuple(hashes or ())
    if same_files and ingested_succeeded and warehouse_exists:
        return Decision(False, f"{month} was already processed from these same files (run {ingested_run_id})")
    if not reference_ready:
        return Decision(
            False,
            f"{month}: the reference data (dbt seeds) has not been built in this Dagster instance yet; "
            "materialize reference_job once (UI: Jobs > reference_job) or run `kaira run`",
        )
    if ingested_hashes is None:
        reason = f"{month}: both files have landed and the month has not been processed"
    elif not same_files:
        reason = f"{month}: redelivered, the files differ from those of run {ingested_run_id}"
    elif not ingested_succeeded:
        reason = f"{month}: the last run with these files ({ingested_run_id}) did not finish successfully"
    else:
        reason = f"{month}: processed before, but the warehouse file does not exist"
    return Decision(True, reason)


# --- the landing sensor --------------------------------------------------------------------


@dataclass
class LandingCursor:
    """What the sensor has seen: month -> hash pair, and a stat cache of the files so an
    unchanged file is not hashed again every minute (relative path -> [size, mtime_ns, sha256])."""

    months: dict[str, HashPair] = field(default_factory=dict)
    files: dict[str, list] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            months={month: tuple(pair) for month, pair in data.get("months", {}).items()},  # type: ignore[misc]
            files=dict(data.get("files", {})),
        )

    def to_json(self) -> str:
        return json.dumps(
            {"months": {m: list(p) for m, p in sorted(self.months.items())}, "files": dict(sorted(self.files.items()))},
            separators=(",", ":"),
        )


def changed_months(landed: Mapping[str, HashPair], seen: Mapping[str, HashPair]) -> list[str]:
    """Months whose two files are new to the sensor or differ from what it saw."""
    return sorted(month for month, pair in landed.items() if tuple(seen.get(month, ())) != tuple(pair))


def plan_runs(to_run: Sequence[str], materialized: set[str], landed: set[str]) -> list[tuple[str, str]]:
    """Month ranges to run for new or redelivered months: from the earliest of them up to the
    latest month already materialized (a month is computed from the deliveries up to it,
    so a redelivery changes the later months too), covering every landed month in between.
    Months without files split the span into several ranges."""
    if not to_run:
        return []
    start = min(to_run)
    end = max([*to_run, *(month for month in materialized if month > start)])
    return contiguous_ranges([month for month in landed if start <= month <= end])


def run_key(first: str, last: str, landed: Mapping[str, HashPair]) -> str:
    """The same months from the same files give the same key: Dagster launches a key once."""
    digest = hashlib.sha256()
    for month in sorted(m for m in landed if first <= m <= last):
        digest.update(f"{month}:{landed[month][0]}:{landed[month][1]};".encode())
    span = first if first == last else f"{first}..{last}"
    return f"{span}@{digest.hexdigest()[:16]}"


