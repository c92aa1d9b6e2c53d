"""Publishing what changed: which months a publication controls and checks again, and which
it carries unchanged from the previous publication (docs/disclosure-control.md, "Months that
did not change").

Disclosure control works within one month (every relation instance is a month's), and so do
the published-table checks; `indicators_monthly` sorts by month first. So a month's
published rows depend only on that month's rows of `marts.fct_indicators_monthly`, the
suppression threshold and the code that controls and orders them. A month whose mart rows,
threshold and code are those of the previous publication would be published exactly as that
publication has it, and is carried from it instead of being controlled again.

What the previous publication was made from is known from two places:

- its `publication` row in `published.duckdb`: suppression threshold, area scope,
  municipality set and schema version;
- the fingerprints file beside it (`published.fingerprints.json`, owner-only: the
  fingerprints are of unsuppressed figures), written after each publication: which
  publication it describes (run id and `published_at`), a fingerprint of the rules (the
  code deciding published cells and the checks they passed) and, per published month, a
  fingerprint of that month's mart rows (row count and a sum of DuckDB row hashes).

A month is controlled and checked again when the run recomputed it, when its mart rows
differ from those the previous publication was made from (a month recomputed by a run that
did not publish: a killed or failed run, a range of `kaira run` before its last), or when the
previous publication lacks it. Every other month is carried. Anything else (no previous
publication, an unreadable one, a fingerprints file of another publication, another
threshold, scope, municipality set, schema version or rules) republishes every month.
The file is written after the new `published.duckdb` is in place and names that
publication, so a crash between the two leaves a file that names another publication:
the next run republishes every month, never carries from a mismatched pair.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines.core import indicators as indicator_lists
from pipelines.core.duckdb_tables import table_exists
from pipelines.core.months import contiguous_ranges, describe_months, month_text, parse_month
from pipelines.core.private_files import open_private
from pipelines.core.settings import Settings
from pipelines.package_files import expectations_dir
from pipelines.publish import disclosure, tables
from pipelines.publish.writer import Carried
from pipelines.validation import published as published_checks
from pipelines.validation import relations

FINGERPRINTS_NAME = "published.fingerprints.json"
INDICATOR_MART = ("marts", "fct_indicators_monthly")
# Columns of the published table as the publication stores them (the contract's order).
_PUBLISHED_COLUMNS = list(tables.INDICATORS_COLUMNS)
_DATE_COLUMNS = ("month", "count_date")


def fingerprints_path(settings: Settings) -> Path:
    return Path(settings.warehouse_dir) / FINGERPRINTS_NAME


# --- what decides a published month --------------------------------------------------------


def rules_fingerprint() -> str:
    """A hash of everything besides a month's mart rows and the publication's settings that
    decides its published rows, or the checks they passed: disclosure control (its module
    and the indicator lists it reads), the table's columns and order, the published-table
    suite and the modules preparing its frame, Kaira's version, and the libraries computing
    them (DuckDB also hashes the mart's rows). Any change republishes every month once."""
    digest = hashlib.sha256()
    parts = [
        Path(inspect.getfile(disclosure)).read_bytes(),
        Path(inspect.getfile(indicator_lists)).read_bytes(),
        inspect.getsource(tables.indicators_monthly).encode(),
        repr((tables.INDICATORS_COLUMNS, tables.AREA_LEVEL_ORDER, tables.SEX_ORDER)).encode(),
        (expectations_dir() / "indicators_monthly.json").read_bytes(),
        # Whole modules, not named functions: whatever they are refactored into, a change
        # re-checks every month once.
        Path(inspect.getfile(relations)).read_bytes(),
        Path(inspect.getfile(published_checks)).read_bytes(),
        inspect.getsource(combine_published).encode(),
        inspect.getsource(carried_rows).encode(),
        " ".join(f"{name}=={_version(name)}"
                 for name in ("kaira", "duckdb", "pandas", "numpy", "great_expectations")).encode(),
    ]
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:  # a checkout run without installing it
        return "not installed"


def followup_fingerprint(targets: pd.DataFrame) -> str:
    """A hash of what makes `target_followup` from the published indicator rows: the targets
    (every column of the seed, in its order) and the module that follows them (the rule, its
    order and which rows may be carried). With the rules fingerprint, whose indicator rows
    the follow-up reads, any change recomputes every row of the follow-up once."""
    digest = hashlib.sha256()
    for part in (targets.to_csv(index=False).encode(), Path(inspect.getfile(tables)).read_bytes(),
                 inspect.getsource(plan_followup).encode(), inspect.getsource(carried_followup).encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def mart_month_fingerprints(connection: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """Per month (YYYY-MM) of the indicator mart: its row count and the sum of DuckDB's hash
    of each whole row (order-free; a changed value, status, name or parent changes it).
    None when there is no mart (public-data mode). One scan of the mart in DuckDB, about
    0.2 s for 240 national months."""
    if not table_exists(connection, *INDICATOR_MART):
        return None
    rows = connection.execute(
        "select strftime(month, '%Y-%m'), count(*), sum(hash(row_)) "
        "from marts.fct_indicators_monthly as row_ group by month order by month"
    ).fetchall()
    return {month: f"{count}:{total}" for month, count, total in rows}


# --- the previous publication --------------------------------------------------------------


@dataclass(frozen=True)
class PreviousPublication:
    """What the current `published.duckdb` was made from (read, never written, here)."""

    run_id: str
    suppression_threshold: int
    area_scope: str
    municipality_set: str
    schema_version: int
    rules: str
    months: Mapping[str, str]  # YYYY-MM -> the mart fingerprint its published rows come from
    followup: str = ""  # followup_fingerprint of its target follow-up ("": not recorded)


def _published_at_text(value) -> str:
    """`published_at` as the file stores it (TIMESTAMP: microseconds), the same text both ways."""
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.%f")


def read_previous(published_path: Path, fingerprints: Path) -> tuple[PreviousPublication | None, str]:
    """The previous publication and its fingerprints, or None and why it cannot be built on.

    Never raises for a missing, unreadable or inconsistent pair: the answer is then a full
    publication, as the first one is."""
    if not Path(published_path).is_file():
        return None, "no previous publication"
    try:
        recorded = json.loads(Path(fingerprints).read_text(encoding="utf-8"))
        written_for = recorded["publication"]
        recorded_months = dict(recorded["months"])
        rules = str(recorded["rules"])
        followup = str(recorded.get("followup", ""))  # absent from older files: nothing of it is carried
    except FileNotFoundError:
        return None, f"the previous publication has no {FINGERPRINTS_NAME}"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, f"{FINGERPRINTS_NAME} is unreadable ({type(error).__name__})"
    try:
        connection = duckdb.connect(str(published_path), read_only=True)
        try:
            row = connection.sql(
                "select run_id, published_at, suppression_threshold, area_scope, municipality_set, schema_version "
                "from publication").fetchall()
            published_months = {m for (m,) in connection.sql(
                "select distinct strftime(month, '%Y-%m') from indicators_monthly").fetchall()}
        finally:
            connection.close()
    except (duckdb.Error, OSError) as error:
        return None, f"the previous published.duckdb is unreadable ({type(error).__name__})"
    if len(row) != 1:
        return None, "the previous publication has no single publication row"
    run_id, published_at, threshold, scope, municipality_set, schema_version = row[0]
    if (written_for.get("run_id"), written_for.get("published_at")) != (run_id, _published_at_text(published_at)):
        return None, f"{FINGERPRINTS_NAME} describes another publication than published.duckdb"
    if published_months != set(recorded_months):
        return None, f"the months of {FINGERPRINTS_NAME} are not those of published.duckdb"
    return PreviousPublication(run_id, threshold, scope, municipality_set, schema_version, rules,
                               recorded_months, followup), f"previous publication of run {run_id}"


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicationPlan:
    recontrol: tuple[str, ...]  # months (YYYY-MM) controlled and checked in this run
    carry: tuple[str, ...] = field(default=())  # months carried from the previous publication
    basis: str = ""  # why: what was carried from, or why nothing was

    def describe(self) -> str:
        if not self.carry:
            return f"every month controlled and checked ({self.basis})"
        return (f"controlled and checked {describe_months(self.recontrol) or 'no month'}; carried "
                f"{describe_months(self.carry)} from the {self.basis}")


def plan_publication(
    settings: Settings,
    previous: PreviousPublication | None,
    why_not: str,
    mart_months: Mapping[str, str] | None,
    run_months: Iterable[str] | None,
    rules: str,
) -> PublicationPlan:
    """Which months to control and check, and which to carry (the module docstring's rule)."""
    months = sorted(mart_months or {})
    if previous is None:
        return PublicationPlan(tuple(months), basis=why_not)
    differences = [
        f"{name} {before!r} -> {now!r}"
        for name, before, now in (
            ("suppression threshold", previous.suppression_threshold, settings.suppression_threshold),
            ("area scope", previous.area_scope, settings.area_scope_var),
            ("municipality set", previous.municipality_set, settings.municipality_set),
            ("schema version", previous.schema_version, tables.SCHEMA_VERSION),
        )
        if before != now
    ]
    if differences:
        return PublicationPlan(tuple(months), basis=f"changed since the previous publication: {', '.join(differences)}")
    if previous.rules != rules:
        return PublicationPlan(tuple(months), basis="the previous publication was made by other code (its rules "
                                                    "fingerprint differs)")
    recomputed = {month_text(month) for month in run_months or ()}
    recontrol = tuple(m for m in months if m in recomputed or previous.months.get(m) != mart_months[m])
    carry = tuple(m for m in months if m not in set(recontrol))
    return PublicationPlan(recontrol, carry, basis=f"previous publication (run {previous.run_id})")


# --- reading and combining -------------------------------------------------------------------


def _frame(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> pd.DataFrame:
    """A query's result as pandas, through Arrow (several times faster than `.df()` for text
    columns), with the same dtypes `.df()` gives: dates as datetime64[us]. On a cursor of its
    own: the connection may hold another statement's unfinished result."""
    cursor = connection.cursor()
    try:
        frame = cursor.sql(sql, params=parameters).to_arrow_table().to_pandas(date_as_object=False)
    finally:
        cursor.close()
    for column in _DATE_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].astype("datetime64[us]")
    return frame


def _month_filter(months: Iterable[str]) -> tuple[str, list]:
    """A WHERE condition for `months`, as ranges of consecutive months: a plain filter on one
    table, which keeps the table's row order (DuckDB's order preservation; a join would not)."""
    ranges = contiguous_ranges(parse_month(month) for month in set(months))
    if not ranges:
        return "false", []
    condition = " or ".join("month between ? and ?" for _ in ranges)
    return f"({condition})", [day for first_last in ranges for day in first_last]


def read_mart_months(connection: duckdb.DuckDBPyConnection, months: Iterable[str]) -> pd.DataFrame:
    """The indicator mart's rows of `months`, all its columns."""
    condition, parameters = _month_filter(months)
    return _frame(connection, f"select * from marts.fct_indicators_monthly where {condition}", parameters)


class CarryFailed(RuntimeError):
    """The previous publication's rows could not be carried: publish every month instead."""


def read_carried(published_path: Path, months: Iterable[str], previous: PreviousPublication | None,
                 indicators: Iterable[str] | None = None) -> pd.DataFrame | None:
    """The previous publication's `indicators_monthly` rows of `months` (and of `indicators`
    only, when given), in the order it stores them (written sorted, month first; a scan with
    a plain filter keeps it). None when no month is asked for. Raises CarryFailed when the rows
    cannot be read (a file damaged past its first pages), or when the file is no longer the
    publication `previous` describes."""
    months = list(months)
    if not months:
        return None
    condition, parameters = _month_filter(months)
    order = ""
    if indicators is not None:
        condition, parameters = f"{condition} and list_contains(?, indicator)", [*parameters, sorted(set(indicators))]
        # DuckDB plans a list of several values as a join, which does not keep the stored
        # order; the file is written once, appended in order, so its row ids are that order.
        order = " order by rowid"
    try:
        connection = duckdb.connect(str(published_path), read_only=True)
        try:
            # The writer pool keeps other publications out meanwhile; should one have slipped
            # in, carrying from it would mix two publications' rows.
            run_ids = connection.execute("select run_id from publication").fetchall()
            if previous is None or run_ids != [(previous.run_id,)]:
                raise CarryFailed("published.duckdb was replaced by another publication while this run read it")
            columns = ", ".join(_PUBLISHED_COLUMNS)
            return _frame(connection, f"select {columns} from indicators_monthly where {condition}{order}", parameters)
        finally:
            connection.close()
    except (duckdb.Error, OSError) as error:
        raise CarryFailed(f"the previous published.duckdb is unreadable ({type(error).__name__})") from error


def carried_rows(published_path: Path, plan: PublicationPlan, previous: PreviousPublication | None) -> Carried | None:
    """How the writer merges the carried months with the months controlled now (the frame it
    is given), exactly the rows and order `combine_published` gives (the order of a full
    publication) without moving the carried rows through pandas or copying them row by row.

    The new file starts as a byte copy of the previous one. Its rows stay in place up to the
    first month that is not carried (controlled again or no longer published), or that a
    month controlled now would precede; after them come month ranges in month order, each
    from one side: the previous file or the frame. A month's run of the newest month keeps
    every earlier month in place and inserts one month. None when nothing is carried."""
    if not plan.carry or previous is None:
        return None
    carry = set(plan.carry)
    kept = []
    for month in sorted(previous.months):
        if month not in carry or (plan.recontrol and month >= min(plan.recontrol)):
            break
        kept.append(month)
    months = sorted((carry | set(plan.recontrol)) - set(kept))
    parts, run = [], months[:1]
    for month in months[1:] + [None] if months else []:
        if month is not None and (month in carry) == (run[0] in carry):
            run.append(month)
            continue
        condition, parameters = _month_filter(run)
        parts.append((run[0] in carry, condition, parameters))
        run = [month]
    kept_condition, kept_parameters = ("month <= ?", [parse_month(kept[-1])]) if kept else ("false", [])
    return Carried(Path(published_path), previous.run_id, tuple(parts), kept_condition, tuple(kept_parameters))


@dataclass(frozen=True)
class FollowupPlan:
    """Which rows of `target_followup` a publication makes now and which it carries."""

    carried_targets: tuple[str, ...] = ()  # targets whose carried months' rows are carried
    recontrol: tuple[str, ...] = ()  # months (YYYY-MM) whose rows of the carried targets are made now
    carry: tuple[str, ...] = ()  # carried months: the months of their carried rows
    read: tuple[str, ...] = ()  # carried months whose published rows the new follow-up rows are made from

    def new_rows(self, followup: pd.DataFrame) -> pd.DataFrame:
        """Of a follow-up made from the months controlled now and `read`, the rows that are
        published from it: every row of a target not carried, the months controlled now of
        the others."""
        if not self.carried_targets:
            return followup
        months = pd.to_datetime(followup["month"]).dt.strftime("%Y-%m")
        made_now = ~followup["target_id"].isin(list(self.carried_targets)) | months.isin(list(self.recontrol))
        return followup[made_now].reset_index(drop=True)


def plan_followup(plan: PublicationPlan, previous: PreviousPublication | None, targets: pd.DataFrame,
                  fingerprint: str) -> FollowupPlan:
    """The follow-up's part of the plan: a target's rows of the carried months are carried
    (tables.followup_carried_targets says which targets may be) when the previous follow-up
    was made from the same targets by the same code; the rest is made now, from the rows of
    the months controlled now and of the carried months it needs (every carried month for
    a target made whole, else the baseline months)."""
    if not plan.carry or previous is None or previous.followup != fingerprint:
        return FollowupPlan(read=plan.carry)
    carry = set(plan.carry)
    chosen = tables.followup_carried_targets(targets, carry, set(previous.months), carry | set(plan.recontrol))
    if len(chosen) < len(targets):
        read = plan.carry
    else:
        read = tuple(sorted(tables.followup_baseline_months(targets, chosen) & carry))
    return FollowupPlan(chosen, plan.recontrol, plan.carry, read)


def carried_followup(published_path: Path, followup: FollowupPlan, previous: PreviousPublication | None,
                     ) -> Carried | None:
    """How the writer merges the carried rows of `target_followup` (the carried targets'
    rows of the carried months, from the previous file) with the rows made now (the frame):
    sorted together by the follow-up's order, since new months interleave with the old in
    every series. None when nothing of it is carried."""
    if not followup.carried_targets or previous is None:
        return None
    condition, parameters = _month_filter(followup.carry)
    carried = (True, f"list_contains(?, target_id) and {condition}", [list(followup.carried_targets), *parameters])
    return Carried(Path(published_path), previous.run_id, (carried, (False, "true", [])),
                   order_by=tables.TARGET_FOLLOWUP_ORDER_SQL)


def combine_published(carried: pd.DataFrame | None, recontrolled: pd.DataFrame) -> pd.DataFrame:
    """The published table of every month: carried and newly controlled months, each in the
    order `tables.indicators_monthly` gives, merged by month (a stable sort keeps the order
    within a month), exactly the rows and order a full publication has."""
    if carried is None or carried.empty:
        return recontrolled
    if not recontrolled.empty:
        carried = carried.astype({column: recontrolled[column].dtype for column in _PUBLISHED_COLUMNS
                                  if carried[column].dtype != recontrolled[column].dtype})
    frame = pd.concat([carried, recontrolled[_PUBLISHED_COLUMNS]], ignore_index=True)
    if frame["month"].is_monotonic_increasing:
        # The usual month's run (the newest month controlled, the rest carried): the stable
        # sort would keep every row in place, and taking rows of Arrow strings costs seconds.
        return frame
    order = np.argsort(frame["month"].to_numpy(), kind="stable")
    return frame.take(order).reset_index(drop=True)


def published_summary(published_path: Path) -> tuple[int, int, int]:
    """The rows and suppressed cells of the `indicators_monthly` just published, and the rows
    of its `target_followup` (the step's metadata): counted in the file, since the carried
    rows never pass through pandas."""
    connection = duckdb.connect(str(published_path), read_only=True)
    try:
        rows, suppressed = connection.execute(
            "select count(*), count(*) filter (where status = 'suppressed') from indicators_monthly").fetchone()
        (targets,) = connection.execute("select count(*) from target_followup").fetchone()
    finally:
        connection.close()
    return rows, suppressed, targets


# --- after publishing -------------------------------------------------------------------------


def write_fingerprints(path: Path, publication: pd.DataFrame, rules: str, months: Mapping[str, str],
                       followup: str = "") -> None:
    """Record what the publication now in place was made from: written aside (owner-only),
    flushed, renamed over the old file, then the folder flushed. `publication` is the one-row
    table just published; only the published months' fingerprints are kept; `followup` is the
    `followup_fingerprint` its target follow-up was made with."""
    row = publication.iloc[0]
    text = json.dumps(
        {
            "publication": {"run_id": row["run_id"], "published_at": _published_at_text(row["published_at"])},
            "rules": rules,
            "followup": followup,
            "months": dict(sorted(months.items())),
        },
        indent=1,
    )
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")  # a leftover the writer removes
    try:
        with open_private(temporary, "w") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
