"""Load one month's file of a person-level register into the working warehouse.

`ingest_month` is the one entry point: refuse without a pseudonymisation key, find the
file, read it (an unreadable file goes to quarantine and fails the month), validate its
rows, fail the month if too many were rejected (the file goes to quarantine with the
list of rejected lines; the warehouse is not touched), else replace the month in one
DuckDB transaction: the source's rows of that delivery month, its rejects, and one new
`raw.deliveries` record. The connection is closed before returning, so dbt can open the
file next.

A failed month leaves the warehouse exactly as it was: an earlier load of the same month
stays in place until a good delivery replaces it.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.core.identity_codes import redact
from pipelines.core.landing import RefusedFile, file_sha256
from pipelines.core.months import month_text, parse_month
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
    MissingDeliveryError,
    PseudonymKeyMissingError,
    RejectLimitExceeded,
    UnreadableFileError,
)
from pipelines.sources.raw_schema import DDL, RAW_SCHEMA

logger = logging.getLogger(__name__)

# How many rejected lines an error message shows, and a quarantine reason file lists.
FIRST_REJECTS_SHOWN = 5
REJECTS_LISTED = 10_000


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
) -> DeliveryReport:
    """Load `source` ('jobseeker_spells' | 'kela_payments') for `month` ('YYYY-MM').

    Raises PseudonymKeyMissingError, MissingDeliveryError, UnreadableFileError (file
    quarantined) or RejectLimitExceeded (file quarantined); in each case the warehouse is
    unchanged. With `report_ignored_columns=False` the caller logs extra columns itself
    (the Dagster asset does, once per run).
    """
    log = log or logger
    spec = _spec(source)
    if not settings.pseudonym_key:
        raise PseudonymKeyMissingError()
    first = parse_month(month)
    label = month_text(first)
    path = expected_path(source, first, settings.landing_dir)
    if not path.is_file():
        raise MissingDeliveryError(source, label, str(path))
    name = _relative_name(path, settings.landing_dir)

    try:
        landing = read_landing_csv(path, spec.columns, name=name)
    except UnreadableFileError as error:
        error.quarantined_to = str(quarantine(path, source, first, settings.quarantine_dir, str(error)))
        log.error("ingest of %s %s failed: %s", source, label, error)
        raise

    validated = spec.validate(landing, first, settings.pseudonym_key)
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
    write_delivery(settings.warehouse_path, validated, landing, loaded_at)

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
    log.info(
        "loaded %s for %s: %d rows read, %d loaded, %d rejected (encoding %s, delimiter '%s', sha256 %s)",
        name,
        label,
        report.rows_read,
        report.rows_loaded,
        report.rows_rejected,
        report.encoding,
        report.delimiter,
        report.sha256,
    )
    if reasons:
        log.warning("%s: rejected rows by reason: %s", name, "; ".join(f"{n} × {r}" for r, n in reasons.most_common(10)))
    return report


def write_delivery(warehouse_path: Path, validated: ValidatedDelivery, landing: LandingFile, loaded_at: datetime) -> None:
    """Replace the delivery month of the source in one transaction, then close."""
    spec = _spec(validated.source)
    table = f"{RAW_SCHEMA}.{spec.registry.name}"
    columns = ", ".join(spec.raw_columns)
    rows = pa.Table.from_pandas(validated.rows, preserve_index=False)
    rejects = pa.Table.from_pandas(validated.rejects, preserve_index=False)
    Path(warehouse_path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_path))
    try:
        con.execute("begin transaction")
        try:
            con.execute(f"create schema if not exists {RAW_SCHEMA}")
            for ddl in DDL.values():
                con.execute(ddl)
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
                "delimiter, rows_read, rows_loaded, rows_rejected, ignored_columns, loaded_at) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    ",".join(landing.ignored_columns) or None,
                    loaded_at,
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
        con.close()


def quarantine(path: Path, source: str, month: date, quarantine_dir: Path, reason: str) -> Path:
    """Copy the file as delivered to quarantine_dir/<source>/<YYYY-MM>/<UTC time>_<name>,
    with `<that>.reason.txt` beside it. Returns the copy's path."""
    folder = Path(quarantine_dir) / source / month_text(month)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{stamp}_{path.name}"
    shutil.copy2(path, target)
    target.with_name(target.name + ".reason.txt").write_text(reason.rstrip() + "\n", encoding="utf-8")
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
    folder = Path(quarantine_dir) / refused.source / REFUSED_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = file_sha256(refused.path)
    for earlier in sorted(folder.glob(f"*_{refused.path.name}")):
        if earlier.is_file() and not earlier.name.endswith(".reason.txt") and file_sha256(earlier) == digest:
            return earlier, False
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{stamp}_{refused.path.name}"
    shutil.copyfile(refused.path, target)
    os.chmod(target, 0o600)
    reason = (
        f"{refused.relative_name}: not read: {refused.reason}.\n"
        "The months with valid file names were processed without it. Deliver the file again under "
        "the name of its month (tyonhakijat/tyonhakijat_YYYY-MM.csv or kela/tmt_YYYY-MM.csv), "
        "or remove it from the landing folder.\n"
    )
    reason_path = target.with_name(target.name + ".reason.txt")
    descriptor = os.open(reason_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(redact(reason))  # a file name is the supplier's text: no identity code leaves it
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
