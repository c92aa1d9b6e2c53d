"""Load the monthly files of a person-level register into the working warehouse.

`ingest_month` loads one month, `ingest_months` the months of a run (the Dagster asset's
way: see its docstring for what the months share). For each month: refuse without a
usable pseudonymisation key (at least 32 bytes; the public demo key only on the generated
sample; the key the warehouse was built with, by its fingerprint:
pipelines/core/pseudonym_key.py), refuse a symbolic link in the landing folder, find the
file, read it (an unreadable file goes to quarantine and fails the month), validate its
rows, fail the month if too many were rejected (the file goes to quarantine with the
list of rejected lines; the warehouse is not touched), else replace the month in one
DuckDB transaction: the source's rows of that delivery month, its rejects, and one new
`raw.deliveries` record. The connection is closed before returning, so dbt can open the
file next.

A failed month leaves the warehouse exactly as it was: an earlier load of the same month
stays in place until a good delivery replaces it. A refused key or link changes nothing at
all: nothing is read, quarantined or written.

The warehouse and the quarantine hold person-level data: both are written owner-only
(pipelines/core/private_files.py).
"""

from __future__ import annotations

import concurrent.futures
import logging
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.core.identity_codes import Pseudonymiser, redact
from pipelines.core.landing import RefusedFile, file_sha256
from pipelines.core.months import month_text, parse_month
from pipelines.core.private_files import (
    copy_private,
    make_database_private,
    private_dir,
    private_umask,
    write_private_text,
)
from pipelines.core.pseudonym_key import (
    PseudonymKeyError,
    PseudonymKeyInvalidError,
    check_demo_key,
    check_key_unchanged,
    fingerprint,
)
from pipelines.core.settings import Settings
from pipelines.core.source_registry import (
    JOBSEEKER_SPELLS,
    KELA_PAYMENTS,
    RegisterSource,
)
from pipelines.sources import jobseeker, kela
from pipelines.sources.checks import ValidatedDelivery
from pipelines.sources.csv_reader import LandingFile, read_landing_csv
from pipelines.sources.errors import (
    IngestError,
    MissingDeliveryError,
    PseudonymKeyMissingError,
    RejectLimitExceeded,
    UnexpectedIngestError,
    UnreadableFileError,
)
from pipelines.sources.landing_marker import is_synthetic
from pipelines.sources.raw_schema import DDL, MIGRATIONS, RAW_SCHEMA

logger = logging.getLogger(__name__)

# How many rejected lines an error message shows, and a quarantine reason file lists.
FIRST_REJECTS_SHOWN = 5
REJECTS_LISTED = 10_000


class LandingSymlinkError(IngestError):
    """A file or folder of the landing folder is a symbolic link: not read."""

    def __init__(self, link: str, landing_dir: Path) -> None:
        self.link = link
        super().__init__(
            f"{link} in the landing folder {landing_dir} is a symbolic link: Kaira reads only regular files "
            "and folders there (a link could bring in any file of the machine). Replace the link with the "
            "file or folder itself. Nothing was loaded."
        )


@dataclass(frozen=True)
class SourceSpec:
    registry: RegisterSource  # its name (the raw table, raw.deliveries.source) and its file
    columns: tuple[str, ...]  # required header columns
    raw_columns: tuple[str, ...]
    validate: Callable[[LandingFile, date, str], ValidatedDelivery]


SOURCES: dict[str, SourceSpec] = {
    JOBSEEKER_SPELLS.name: SourceSpec(
        JOBSEEKER_SPELLS, jobseeker.COLUMNS, jobseeker.RAW_COLUMNS, jobseeker.validate_spells
    ),
    KELA_PAYMENTS.name: SourceSpec(KELA_PAYMENTS, kela.COLUMNS, kela.RAW_COLUMNS, kela.validate_payments),
}


@dataclass(frozen=True)
class DeliveryReport:
    """What one load did; the same facts as its raw.deliveries record, plus detail."""

    source: str
    month: str  # YYYY-MM
    source_file: str  # relative to the landing folder
    sha256: str
    encoding: str
    delimiter: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    ignored_columns: tuple[str, ...]
    padded_municipality_codes: int
    reject_reasons: dict[str, int]
    loaded_at: datetime  # UTC


def expected_path(source: str, month: str | date, landing_dir: Path) -> Path:
    return _spec(source).registry.path(landing_dir, parse_month(month))


def ingest_month(
    source: str,
    month: str | date,
    settings: Settings,
    *,
    log: logging.Logger | logging.LoggerAdapter | None = None,
    report_ignored_columns: bool = True,
    pseudonymiser: Pseudonymiser | None = None,
) -> DeliveryReport:
    """Load `source` ('jobseeker_spells' | 'kela_payments') for `month` ('YYYY-MM').

    Raises PseudonymKeyMissingError or a PseudonymKeyError (the key is too short, the demo
    key on real data, or not the key of the warehouse), LandingSymlinkError,
    MissingDeliveryError, UnreadableFileError (file quarantined) or RejectLimitExceeded
    (file quarantined); in each case the warehouse is unchanged. With `report_ignored_columns=False` the caller logs extra columns itself
    (the Dagster asset does, once per run). A `pseudonymiser` made with the same key and
    shared by the months of a run hashes each person once for the run.
    """
    (report,) = ingest_months(
        source, [month], settings, log=log, report_ignored_columns=report_ignored_columns, pseudonymiser=pseudonymiser
    )
    return report


def ingest_months(
    source: str,
    months: Sequence[str | date],
    settings: Settings,
    *,
    log: logging.Logger | logging.LoggerAdapter | None = None,
    report_ignored_columns: bool = True,
    pseudonymiser: Pseudonymiser | None = None,
) -> list[DeliveryReport]:
    """Load `months` of `source` in the order given, each as `ingest_month` does, as one run.

    What a run shares: one Pseudonymiser (each person hashed once), one look at the key
    fingerprints the warehouse records (before the first file is read), and one warehouse
    connection, opened at the first write and closed at the end. Each month is still its
    own transaction, written by a background thread while the next month is read and
    validated (DuckDB's insert and the reading share the machine's cores). A month's
    failure is raised only after the months before it are committed, and nothing of a
    month is quarantined, logged or written before the month before it has committed: a
    failing write stops the run where it would have stopped one month at a time.
    """
    log = log or logger
    spec = _spec(source)
    key = usable_pseudonym_key(settings)
    key_fingerprint = fingerprint(key)
    pseudonymiser = pseudonymiser if pseudonymiser is not None else Pseudonymiser(key)
    reports: list[DeliveryReport] = []
    checked = False
    with _MonthWriter(settings.warehouse_path, key_fingerprint) as writer:
        for month in months:
            first = parse_month(month)
            label = month_text(first)
            path = expected_path(source, first, settings.landing_dir)
            name = _relative_name(path, settings.landing_dir)
            try:
                refuse_symbolic_links(path, settings.landing_dir)
                if not path.is_file():
                    raise MissingDeliveryError(source, label, str(path))
                if not checked:
                    # Before any file is read: a refused key quarantines nothing and writes nothing.
                    check_key_unchanged(
                        settings.warehouse_path, recorded_key_fingerprints(settings.warehouse_path), key_fingerprint
                    )
                    checked = True
                landing = read_landing_csv(path, spec.columns, name=name)
                validated = spec.validate(landing, first, pseudonymiser)
                failure = None
            except BaseException as error:  # noqa: BLE001 - raised below, once the month before is written
                failure = error
            # Outside the handler, so that an error of the month before is not chained to this one.
            _finish(writer, reports, log)
            if failure is not None:
                _raise_failure(failure, path, source, first, name, settings, log)

            reasons = Counter(validated.rejects["reason"].tolist())
            read, rejected = validated.rows_read, len(validated.rejects)
            if read and rejected / read > settings.reject_limit:
                error = _reject_limit_error(validated, settings.reject_limit, reasons)
                listing = _reject_listing(validated)
                error.quarantined_to = str(quarantine(path, source, first, settings.quarantine_dir, f"{error}\n\n{listing}"))
                log.error("ingest of %s %s failed: %s", source, label, error)
                raise error

            if landing.ignored_columns and report_ignored_columns:
                log.warning("%s: ignored extra column(s): %s", name, ", ".join(landing.ignored_columns))
            if validated.padded_municipality_codes:
                log.warning(
                    "%s: %d row(s) had kuntanumero without its leading zeros (as Excel writes it); padded to three digits",
                    name,
                    validated.padded_municipality_codes,
                )
            loaded_at = datetime.now(UTC).replace(tzinfo=None)
            report = DeliveryReport(
                source=source,
                month=label,
                source_file=name,
                sha256=landing.sha256,
                encoding=landing.encoding,
                delimiter=landing.delimiter,
                rows_read=read,
                rows_loaded=len(validated.rows),
                rows_rejected=rejected,
                ignored_columns=landing.ignored_columns,
                padded_municipality_codes=validated.padded_municipality_codes,
                reject_reasons=dict(reasons.most_common()),
                loaded_at=loaded_at,
            )
            writer.submit(validated, landing, loaded_at, report)
            del landing, validated
        _finish(writer, reports, log)
    return reports


def _finish(writer: _MonthWriter, reports: list[DeliveryReport], log: logging.Logger | logging.LoggerAdapter) -> None:
    """Wait for the month being written (raising its error), then report it."""
    report = writer.wait()
    if report is None:
        return
    reports.append(report)
    log.info(
        "loaded %s for %s: %d rows read, %d loaded, %d rejected (encoding %s, delimiter '%s', sha256 %s)",
        report.source_file,
        report.month,
        report.rows_read,
        report.rows_loaded,
        report.rows_rejected,
        report.encoding,
        report.delimiter,
        report.sha256,
    )
    if report.reject_reasons:
        reasons = Counter(report.reject_reasons)
        log.warning(
            "%s: rejected rows by reason: %s", report.source_file, "; ".join(f"{n} × {r}" for r, n in reasons.most_common(10))
        )


def _raise_failure(error: BaseException, path: Path, source: str, first: date, name: str, settings: Settings, log) -> None:
    """Raise what checking, reading or validating the month's file raised, as ingest
    reports it: an unreadable file is quarantined, an unforeseen error replaced."""
    label = month_text(first)
    if isinstance(error, UnreadableFileError):
        error.quarantined_to = str(quarantine(path, source, first, settings.quarantine_dir, str(error)))
        log.error("ingest of %s %s failed: %s", source, label, error)
        raise error
    if isinstance(error, IngestError | PseudonymKeyError) or not isinstance(error, Exception):
        raise error
    # A library's message may quote a value of the file: the error that leaves ingest
    # (into Dagster's event log) is a redacted one, without the original chained to it.
    log.error("ingest of %s %s failed:\n%s", source, label, redact("".join(traceback.format_exception(error))))
    raise UnexpectedIngestError(name, error) from None


# DuckDB keeps the blocks it has written cached up to its memory limit (by default 80 % of
# the machine's memory): on one connection for a whole backfill that grows by every month
# written, several hundred MB that ingest never reads back. A month's insert needs far
# less (full row groups go to disk as they fill); more would spill, owner-only.
WRITER_MEMORY_LIMIT = "256MB"


class _MonthWriter:
    """Writes validated months into the warehouse, one transaction each, in a background
    thread, on one connection opened at the first write (a run that writes nothing creates
    no warehouse) and closed with the writer. One month at a time: `submit` needs the
    previous month finished (`wait`)."""

    def __init__(self, warehouse_path: Path, key_fingerprint: str) -> None:
        self._path = Path(warehouse_path)
        self._key_fingerprint = key_fingerprint
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kaira-ingest-writer")
        self._pending: Future | None = None
        self._connection: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> _MonthWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            if self._pending is not None:
                concurrent.futures.wait([self._pending])  # an error here is the caller's already, or lost with it
                self._pending = None
            if self._connection is not None:
                self._executor.submit(self._close).result()
        finally:
            self._executor.shutdown(wait=True)

    def submit(self, validated: ValidatedDelivery, landing: LandingFile, loaded_at: datetime, report: DeliveryReport) -> None:
        if self._pending is not None:
            raise RuntimeError("the previous month is still being written")
        self._pending = self._executor.submit(self._write, validated, landing, loaded_at, report)

    def wait(self) -> DeliveryReport | None:
        """The report of the month written since the last wait (None if none); raises its error."""
        pending, self._pending = self._pending, None
        return None if pending is None else pending.result()

    def _write(self, validated: ValidatedDelivery, landing: LandingFile, loaded_at: datetime, report: DeliveryReport) -> DeliveryReport:
        if self._connection is None:
            # the folder keeps the umask's mode: it holds the published tables too
            self._path.parent.mkdir(parents=True, exist_ok=True)
            make_database_private(self._path)
        with private_umask():
            if self._connection is None:
                self._connection = duckdb.connect(str(self._path))
                self._connection.execute(f"set memory_limit = '{WRITER_MEMORY_LIMIT}'")
            write_delivery(self._connection, self._path, validated, landing, loaded_at, key_fingerprint=self._key_fingerprint)
        return report

    def _close(self) -> None:
        try:
            with private_umask():
                self._connection.close()
        finally:
            self._connection = None
            make_database_private(self._path)


def usable_pseudonym_key(settings: Settings) -> str:
    """The settings' key if ingest may use it on this landing folder; else raise
    PseudonymKeyMissingError or a PseudonymKeyError, whose message never contains the key."""
    if settings.pseudonym_key is None:
        if settings.pseudonym_key_problem:
            raise PseudonymKeyInvalidError(settings.pseudonym_key_problem)
        raise PseudonymKeyMissingError()
    check_demo_key(settings.pseudonym_key, synthetic=is_synthetic(settings.landing_dir), landing_dir=settings.landing_dir)
    return settings.pseudonym_key


def recorded_key_fingerprints(warehouse_path: Path) -> set[str]:
    """The key fingerprints in the warehouse's delivery log (read-only; empty for a new
    warehouse or one from before fingerprints were recorded). write_delivery checks again
    inside its transaction; this early look lets a refused load touch nothing."""
    if not Path(warehouse_path).is_file():
        return set()
    try:
        con = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.Error:
        return set()  # e.g. locked by another process: write_delivery's check still applies
    try:
        (has_column,) = con.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = ? and table_name = 'deliveries' and column_name = 'key_fingerprint'",
            [RAW_SCHEMA],
        ).fetchone()
        if not has_column:
            return set()
        rows = con.execute(
            f"select distinct key_fingerprint from {RAW_SCHEMA}.deliveries where key_fingerprint is not null"
        ).fetchall()
        return {value for (value,) in rows}
    finally:
        con.close()


def refuse_symbolic_links(path: Path, landing_dir: Path) -> None:
    """Raise LandingSymlinkError if `path` or a folder between the landing folder and it is
    a symbolic link (the landing folder itself may be one: the settings resolve it)."""
    landing_dir = Path(landing_dir)
    try:
        parts = Path(path).relative_to(landing_dir).parts
    except ValueError:
        return
    for depth in range(1, len(parts) + 1):
        candidate = landing_dir.joinpath(*parts[:depth])
        if candidate.is_symlink():
            raise LandingSymlinkError(Path(*parts[:depth]).as_posix(), landing_dir)


def write_delivery(
    con: duckdb.DuckDBPyConnection,
    warehouse_path: Path,
    validated: ValidatedDelivery,
    landing: LandingFile,
    loaded_at: datetime,
    *,
    key_fingerprint: str,
) -> None:
    """Replace the delivery month of the source in one transaction on `con`: its rows, its
    rejects and a new raw.deliveries record. Refuses (PseudonymKeyChangedError, nothing
    written) when the warehouse records another key. Rolled back on any error."""
    spec = _spec(validated.source)
    table = f"{RAW_SCHEMA}.{spec.registry.name}"
    columns = ", ".join(spec.raw_columns)
    rows = pa.Table.from_pandas(validated.rows, preserve_index=False)
    rejects = pa.Table.from_pandas(validated.rejects, preserve_index=False)
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {RAW_SCHEMA}")
        for ddl in DDL.values():
            con.execute(ddl)
        for migration in MIGRATIONS:
            con.execute(migration)
        recorded = con.execute(
            f"select distinct key_fingerprint from {RAW_SCHEMA}.deliveries where key_fingerprint is not null"
        ).fetchall()
        check_key_unchanged(warehouse_path, (value for (value,) in recorded), key_fingerprint)
        con.execute(f"delete from {table} where delivery_month = ?", [validated.delivery_month])
        con.register("incoming_rows", rows)
        con.execute(f"insert into {table} ({columns}) select {columns} from incoming_rows")
        con.execute(
            f"delete from {RAW_SCHEMA}.rejects where source = ? and delivery_month = ?",
            [validated.source, validated.delivery_month],
        )
        con.register("incoming_rejects", rejects)
        con.execute(
            f"insert into {RAW_SCHEMA}.rejects (source, delivery_month, source_file, source_line, reason) "
            "select source, delivery_month, source_file, source_line, reason from incoming_rejects"
        )
        con.execute(
            f"insert into {RAW_SCHEMA}.deliveries (source, delivery_month, source_file, sha256, encoding, "
            "delimiter, rows_read, rows_loaded, rows_rejected, ignored_columns, loaded_at, key_fingerprint) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                validated.source,
                validated.delivery_month,
                validated.source_file,
                landing.sha256,
                landing.encoding,
                landing.delimiter,
                validated.rows_read,
                len(validated.rows),
                len(validated.rejects),
                # plain identifiers and a count only (csv_reader); redacted all the same
                redact(",".join(landing.ignored_columns)) or None,
                loaded_at,
                key_fingerprint,
            ],
        )
        con.execute("commit")
    except BaseException:
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass  # the original error says more
        raise
    finally:
        for name in ("incoming_rows", "incoming_rejects"):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass  # not registered: the transaction failed before


@contextmanager
def private_warehouse_connection(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the working warehouse, closed at the end. DuckDB creates
    the file, its WAL and its spill folder: under umask 077, so they are owner-only; a
    file from before Kaira made them so is tightened."""
    warehouse_path = Path(warehouse_path)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    make_database_private(warehouse_path)
    try:
        with private_umask():
            con = duckdb.connect(str(warehouse_path))
            try:
                yield con
            finally:
                con.close()
    finally:
        make_database_private(warehouse_path)


def quarantine(path: Path, source: str, month: date, quarantine_dir: Path, reason: str) -> Path:
    """Copy the file as delivered to quarantine_dir/<source>/<YYYY-MM>/<UTC time>_<name>,
    with `<that>.reason.txt` beside it. Returns the copy's path. The quarantine holds
    person-level files: its folders are 0700 and the copies and reasons 0600."""
    root = Path(quarantine_dir)
    folder = private_dir(root / source / month_text(month), root=root)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{stamp}_{path.name}"
    copy_private(path, target)
    # The reason is built without values of the file; redacted again, as everything leaving ingest.
    write_private_text(target.with_name(target.name + ".reason.txt"), redact(reason).rstrip() + "\n")
    return target


# Refused files (pipelines.core.landing.refused_files) are kept apart from the months'
# quarantine: they have no month, or one Kaira does not process.
REFUSED_FOLDER = "refused"


def quarantine_refused_file(refused: RefusedFile, quarantine_dir: Path) -> tuple[Path, bool]:
    """Copy a refused landing file to quarantine_dir/<source>/refused/<UTC time>_<name>,
    with `<that>.reason.txt` beside it, unless a copy with the same bytes is there already
    (the sensor looks every minute, `kaira run` at every run). Returns (the copy, whether
    it is new). Copied, not moved: the landing folder is the supplier's; owner-only, as
    the months' quarantine."""
    folder = private_dir(Path(quarantine_dir) / refused.source / REFUSED_FOLDER, root=Path(quarantine_dir))
    if refused.path.is_symlink():
        # Its target is not the supplier's delivery and is never read: only the reason is kept.
        reason_path = folder / f"{refused.path.name}.symlink.reason.txt"
        if reason_path.exists():
            return reason_path, False
        write_private_text(reason_path, redact(f"{refused.relative_name}: not read: a symbolic link in the landing "
                                               "folder is not a delivery; put the file itself there.\n"))
        return reason_path, True
    digest = file_sha256(refused.path)
    for earlier in sorted(folder.glob(f"*_{refused.path.name}")):
        if earlier.is_file() and not earlier.name.endswith(".reason.txt") and file_sha256(earlier) == digest:
            return earlier, False
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = copy_private(refused.path, folder / f"{stamp}_{refused.path.name}")
    reason = (
        f"{refused.relative_name}: not read: {refused.reason}.\n"
        "The months with valid file names were processed without it. Deliver the file again under "
        "the name of its month (tyonhakijat/tyonhakijat_YYYY-MM.csv or kela/tmt_YYYY-MM.csv), "
        "or remove it from the landing folder.\n"
    )
    # A file name is the supplier's text: no identity code leaves it.
    write_private_text(target.with_name(target.name + ".reason.txt"), redact(reason))
    return target, True


def _spec(source: str) -> SourceSpec:
    try:
        return SOURCES[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}") from None


def _relative_name(path: Path, landing_dir: Path) -> str:
    try:
        return path.resolve().relative_to(Path(landing_dir).resolve()).as_posix()
    except ValueError:
        return path.name


def _reject_limit_error(validated: ValidatedDelivery, limit: float, reasons: Counter) -> RejectLimitExceeded:
    read, rejected = validated.rows_read, len(validated.rejects)
    first = validated.rejects.head(FIRST_REJECTS_SHOWN)
    shown = "; ".join(f"line {line}: {reason}" for line, reason in zip(first["source_line"], first["reason"]))
    by_reason = "; ".join(f"{n} × {r}" for r, n in reasons.most_common(5))
    message = (
        f"{validated.source_file}: {rejected} of {read} rows rejected ({rejected / read:.2%}), above the limit of "
        f"{limit:.2%} (KAIRA_REJECT_LIMIT); nothing of {validated.source} {month_text(validated.delivery_month)} "
        f"was loaded. First rejected lines: {shown}. By reason: {by_reason}"
    )
    return RejectLimitExceeded(message, file=validated.source_file, rows_read=read, rows_rejected=rejected, limit=limit)


def _reject_listing(validated: ValidatedDelivery) -> str:
    listed = validated.rejects.head(REJECTS_LISTED)
    lines = [f"line {line}: {reason}" for line, reason in zip(listed["source_line"], listed["reason"])]
    more = len(validated.rejects) - len(listed)
    if more > 0:
        lines.append(f"… and {more} more")
    return "Rejected lines:\n" + "\n".join(lines)
