"""One publication, one configuration: which settings the warehouse's months were computed
under, and the rule that keeps a publication from mixing two.

The marts are incremental by month: a run recomputes only its own months, with its own
area scope (KAIRA_AREA_SCOPE) and municipality set (KAIRA_MUNICIPALITY_SET). After a change
of either, the months not recomputed still hold the old settings' figures, and publishing
then would mix the two. So the warehouse folder records its settings in
`computed_with.json` beside `kaira.duckdb`:

    {"area_scope": "MK18", "municipality_set": "real", "pending": ["2009-01", ...]}

`pending` lists the months still to be recomputed after a change of settings. The rule
(docs/faults.md, "Settings changed"):

- a run with the recorded settings and nothing pending runs as always;
- a run with other settings (or with months still pending from an interrupted change)
  must cover every month the warehouse holds: `kaira run` without --from/--to does, and
  then recomputes and republishes all of them under the new settings; a run of only
  some months is refused with a message saying so; the schedule and the sensor skip;
- publishing checks the record last: it never publishes while a month it would publish
  was computed under other settings.

The suppression threshold is not part of it: disclosure control is applied when publishing,
and a publication under another threshold than the previous one controls every month again
(pipelines/publish/incremental.py), so a new threshold takes effect for every month at the
next publication.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.months import describe_months
from pipelines.core.settings import Settings

RECORD_NAME = "computed_with.json"


class ConfigurationMismatchError(RuntimeError):
    """A run or a publication would mix months computed under different settings."""


@dataclass(frozen=True)
class Computation:
    """The settings that change what a month's figures are in the marts."""

    area_scope: str  # as the dbt var takes it: 'MK18', 'MK17,MK18' or 'all'
    municipality_set: str

    @classmethod
    def of(cls, settings: Settings) -> Computation:
        return cls(settings.area_scope_var, settings.municipality_set)

    def describe(self) -> str:
        return f"KAIRA_AREA_SCOPE={self.area_scope}, KAIRA_MUNICIPALITY_SET={self.municipality_set}"


@dataclass(frozen=True)
class Record:
    computation: Computation
    pending: tuple[str, ...] = field(default=())  # months (YYYY-MM) still under earlier settings


def record_path(warehouse_dir: Path) -> Path:
    return Path(warehouse_dir) / RECORD_NAME


def read_record(settings: Settings) -> Record | None:
    """The warehouse's record; None when there is none, or no warehouse (a record without
    its warehouse speaks of months that no longer exist)."""
    path = record_path(settings.warehouse_dir)
    if not settings.warehouse_path.exists() or not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Record(Computation(data["area_scope"], data["municipality_set"]), tuple(sorted(data.get("pending", []))))


def write_record(settings: Settings, record: Record) -> None:
    """Replace the record whole (written aside, fsynced, renamed): a crash leaves the old one."""
    folder = Path(settings.warehouse_dir)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {
            "area_scope": record.computation.area_scope,
            "municipality_set": record.computation.municipality_set,
            "pending": sorted(record.pending),
        },
        indent=2,
    )
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{RECORD_NAME}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, record_path(folder))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class RunPlan:
    recompute: bool  # the settings changed (or a change is unfinished): every month is recomputed
    previous: Computation | None  # what the record said (None: no record)
    note: str | None = None  # for the run's output


def plan_run(settings: Settings, run_months: Iterable[str], computed_months: Iterable[str]) -> RunPlan:
    """Whether `kaira run` over `run_months` may start, given the months the marts hold.
    Raises ConfigurationMismatchError (saying what to do) when it would leave a mix.
    Writes the record when a recompute begins: every held month pending."""
    current = Computation.of(settings)
    record = read_record(settings)
    run, held = set(run_months), set(computed_months)
    if record is None and not held:
        write_record(settings, Record(current))
        return RunPlan(False, None)
    if record is not None and record.computation == current and not record.pending:
        return RunPlan(False, record.computation)

    to_recompute = held | (set(record.pending) if record else set())
    left_out = sorted(to_recompute - run)
    if record is None:
        why = f"the settings the warehouse's months {describe_months(sorted(held))} were computed under are not recorded"
    elif record.computation != current:
        why = (f"the warehouse's months {describe_months(sorted(held))} were computed with "
               f"{record.computation.describe()}; these settings are {current.describe()}")
    else:
        why = (f"a change of settings to {current.describe()} is unfinished: months "
               f"{describe_months(list(record.pending))} still hold the figures of the earlier settings")
    if left_out:
        raise ConfigurationMismatchError(
            f"{why}. A run of only {describe_months(sorted(run))} would publish a mix. Run `kaira run` without "
            "--from/--to to recompute and republish every month under these settings (their landing files must "
            f"all be there: {describe_months(left_out)} would be left out), or set the settings back."
        )
    write_record(settings, Record(current, tuple(sorted(to_recompute))))
    return RunPlan(True, record.computation if record else None,
                   note=f"{why}: recomputing every month ({describe_months(sorted(to_recompute))}) under these settings")


def mark_computed(settings: Settings, months: Iterable[str]) -> None:
    """The months were computed under the current settings (after a successful run)."""
    record = read_record(settings)
    if record is None or record.computation != Computation.of(settings) or not record.pending:
        return
    done = set(months)
    write_record(settings, Record(record.computation, tuple(m for m in record.pending if m not in done)))


def check_publication(settings: Settings, published_months: Iterable[str], run_months: Iterable[str] | None) -> None:
    """Before publishing: every month of the publication must have been computed under the
    current settings, by this run or an earlier one. Records this run's months as done.
    Raises ConfigurationMismatchError otherwise (nothing is published)."""
    current = Computation.of(settings)
    published = set(published_months)
    run = published if run_months is None else set(run_months)
    record = read_record(settings)
    if record is None:
        if published - run:
            raise ConfigurationMismatchError(
                f"not published: the settings months {describe_months(sorted(published - run))} were computed under "
                "are not recorded (a warehouse from before Kaira recorded them); run `kaira run` without "
                "--from/--to once to recompute every month under the current settings"
            )
        write_record(settings, Record(current))
        return
    if record.computation != current:
        raise ConfigurationMismatchError(
            f"not published: the warehouse's months were computed with {record.computation.describe()}, and this "
            f"run's settings are {current.describe()}: publishing would mix the two. Run `kaira run` without "
            "--from/--to to recompute every month under the new settings, or set the settings back"
        )
    still = sorted((set(record.pending) & published) - run)
    if still:
        raise ConfigurationMismatchError(
            f"not published: months {describe_months(still)} still hold the figures of the settings before the "
            f"change to {current.describe()}; run `kaira run` without --from/--to to recompute every month"
        )
    if record.pending:
        write_record(settings, Record(current, tuple(m for m in record.pending if m not in run)))


def automation_refusal(settings: Settings) -> str | None:
    """Why the schedule and the sensor must not start a run now (None: they may): they
    never change the settings of a warehouse."""
    record = read_record(settings)
    if record is None:
        return None
    current = Computation.of(settings)
    if record.computation != current:
        return (
            f"the warehouse's months were computed with {record.computation.describe()} and these settings are "
            f"{current.describe()}: no run, it would publish a mix; run `kaira run` (all months) to recompute "
            "them under the new settings, or set the settings back"
        )
    if record.pending:
        return (
            f"a change of settings is unfinished: months {describe_months(list(record.pending))} still hold the "
            "earlier settings' figures; run `kaira run` (all months) to finish it"
        )
    return None
