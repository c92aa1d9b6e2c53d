"""Great Expectations suites as Dagster asset checks.

`gx_asset_checks` turns one suite into one multi-asset check: the checks are declared
from the suite's JSON when the definitions load (great_expectations is not imported
then), and at run time the frame is read read-only from the warehouse, prepared (helper
columns, relations.py), validated, and reported as one `AssetCheckResult` per
expectation. Severity `error` checks are blocking: a failure stops the downstream
assets (publishing); `warn` checks are reported and do not block.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.core.months import parse_month
from pipelines.core.settings import load_settings
from pipelines.partitions import WAREHOUSE_WRITER_POOL
from pipelines.validation.gx_runner import (
    ExpectationOutcome,
    check_specs_for_suite,
    combine_outcomes,
    load_suite_spec,
    observed_text,
    validate_frame,
)
from pipelines.validation.relations import PREPARE_BY_SUITE, prepare_published_frame
from pipelines.validation.report import write_validation_report

__all__ = [
    "SuiteOnAsset",
    "gx_asset_checks",
    "gx_suites_asset_checks",
    "read_table",
    "warehouse_table_loader",
    "default_prepare",
    "check_result",
    "write_validation_report",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

FrameLoader = Callable[[], pd.DataFrame] | Callable[[dg.AssetCheckExecutionContext], pd.DataFrame]


def _quoted(identifier: str) -> str:
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"not a plain SQL identifier: {identifier!r}")
    return f'"{identifier}"'


def read_table(
    warehouse_path: Path | str,
    schema_table: str,
    month_column: str | None = None,
    months: Iterable[date | str] | None = None,
) -> pd.DataFrame:
    """`schema.table` of the DuckDB file as a DataFrame, opened read-only.

    With `month_column` and `months`, only the rows of those months (dates, or
    'YYYY-MM' / 'YYYY-MM-DD' strings: the first day of the month is what is stored).
    """
    import duckdb

    relation = ".".join(_quoted(part) for part in schema_table.split("."))
    sql = f"select * from {relation}"
    parameters: list[object] = []
    if months is not None:
        if month_column is None:
            raise ValueError("months given without the month column to filter on")
        wanted = sorted({parse_month(m) for m in months})
        if not wanted:
            sql += " where false"
        else:
            sql += f" where {_quoted(month_column)} in ({', '.join('?' for _ in wanted)})"
            parameters = list(wanted)
    connection = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return connection.execute(sql, parameters).df()
    finally:
        connection.close()


def warehouse_table_loader(schema_table: str) -> Callable[[], pd.DataFrame]:
    """A loader reading the whole table from the working warehouse of the settings,
    resolved at run time (the environment of the run, not of the definitions' load)."""

    def load() -> pd.DataFrame:
        return read_table(load_settings().warehouse_path, schema_table)

    load.__name__ = f"load_{schema_table.replace('.', '_')}"
    return load


def default_prepare(suite_name: str) -> Callable[[pd.DataFrame], pd.DataFrame] | None:
    """The suite's prepare function from relations.py; the published suite gets the
    suppression threshold of the settings at run time."""
    if suite_name == "indicators_monthly":

        def prepare(frame: pd.DataFrame) -> pd.DataFrame:
            return prepare_published_frame(frame, threshold=load_settings().suppression_threshold)

        return prepare
    return PREPARE_BY_SUITE.get(suite_name)


def check_result(
    asset_key: dg.AssetKey,
    outcome: ExpectationOutcome,
    suite_name: str,
    extra_metadata: dict[str, object] | None = None,
) -> dg.AssetCheckResult:
    """The outcome as Dagster reports it: passed, severity, and the observed text."""
    metadata: dict[str, object] = {
        "observed": outcome.observed,
        "expectation_type": outcome.expectation_type,
        "severity": outcome.severity,
        "suite": suite_name,
    }
    if outcome.unexpected_count is not None:
        metadata["unexpected_count"] = outcome.unexpected_count
    if outcome.element_count is not None:
        metadata["element_count"] = outcome.element_count
    metadata.update(extra_metadata or {})
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=outcome.check_name,
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if outcome.blocking else dg.AssetCheckSeverity.WARN,
        description=outcome.description,
        metadata=metadata,
    )


def _takes_context(load_frame: Callable) -> bool:
    try:
        parameters = inspect.signature(load_frame).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return len(positional) == 1


@dataclass(frozen=True)
class SuiteOnAsset:
    """One suite validated against one asset's table."""

    asset_key: dg.AssetKey
    suite_name: str
    load_frame: FrameLoader
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None  # None: the suite's own


def gx_asset_checks(
    asset_key: dg.AssetKey,
    suite_name: str,
    load_frame: FrameLoader,
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    *,
    name: str | None = None,
    pool: str | None = WAREHOUSE_WRITER_POOL,
    report_dir: Path | Callable[[], Path] | None = None,
) -> dg.AssetChecksDefinition:
    """One Dagster multi-asset check per GX suite, one check per expectation.

    `load_frame()` returns the table to validate (it may instead take the check's
    context, to read only the run's months). `prepare` adds the suite's helper columns;
    None uses the suite's own from relations.py (`default_prepare`). The checks run in
    the warehouse pool by default: a read-only DuckDB connection cannot open the file
    while a writer holds it. With `report_dir`, each run also writes
    `<report_dir>/<name>.html` and links it in the results' metadata.
    """
    return gx_suites_asset_checks(
        [SuiteOnAsset(asset_key, suite_name, load_frame, prepare)],
        name=name or f"gx_{suite_name}",
        pool=pool,
        report_dir=report_dir,
    )


def gx_suites_asset_checks(
    suites: Sequence[SuiteOnAsset],
    *,
    name: str,
    pool: str | None = WAREHOUSE_WRITER_POOL,
    report_dir: Path | Callable[[], Path] | None = None,
) -> dg.AssetChecksDefinition:
    """Several suites (on one or several assets) as ONE step.

    Each step process imports great_expectations once (4-10 s): under Dagster's
    multiprocess executor, one step per suite pays that per suite; one step for all the
    marts pays it once. The step runs after every asset it checks. A table that cannot
    be loaded or validated fails all of its suite's checks (as errors, naming the
    exception) and then the step, after the other suites have reported.
    """
    if not suites:
        raise ValueError("no suites to check")
    specs: list[dg.AssetCheckSpec] = []
    seen: set[tuple[dg.AssetKey, str]] = set()
    for entry in suites:
        for check_name, description, blocking in check_specs_for_suite(entry.suite_name):
            if (entry.asset_key, check_name) in seen:
                raise ValueError(
                    f"check {check_name!r} of suite {entry.suite_name!r} is declared twice on "
                    f"{entry.asset_key.to_user_string()}: give the two suites separate checks"
                )
            seen.add((entry.asset_key, check_name))
            specs.append(
                dg.AssetCheckSpec(name=check_name, asset=entry.asset_key, blocking=blocking, description=description)
            )
    titles = [f"{e.suite_name} ({load_suite_spec(e.suite_name).get('meta', {}).get('title', e.suite_name)})" for e in suites]
    prepares = [e.prepare if e.prepare is not None else default_prepare(e.suite_name) for e in suites]
    takes_context = [_takes_context(e.load_frame) for e in suites]

    @dg.multi_asset_check(
        specs=specs,
        name=name,
        description="Great Expectations suites: " + "; ".join(titles),
        pool=pool,
    )
    def _gx_checks(context):  # not annotated: `from __future__` string annotations confuse Dagster
        outcomes_by_suite: dict[str, list[ExpectationOutcome]] = {}
        broken: list[str] = []
        for entry, prepare_frame, with_context in zip(suites, prepares, takes_context, strict=True):
            try:
                loaded = entry.load_frame(context) if with_context else entry.load_frame()
                # A loader may give one frame, or (label, frame) chunks, e.g. a month at a time.
                # One chunk resident at a time: never drain the generator into a list.
                chunks = [("all", loaded)] if isinstance(loaded, pd.DataFrame) else loaded
                parts, labels, rows = [], [], 0
                for label, frame in chunks:
                    rows += len(frame)
                    if prepare_frame is not None:
                        frame = prepare_frame(frame)
                    parts.append(validate_frame(frame, entry.suite_name))
                    labels.append(label)
                    del frame
                outcomes = combine_outcomes(parts, labels) if parts else validate_frame(
                    pd.DataFrame(), entry.suite_name)
            except Exception as error:  # noqa: BLE001 - reported as failed checks, then re-raised below
                context.log.exception(f"{entry.suite_name}: could not validate {entry.asset_key.to_user_string()}")
                broken.append(entry.suite_name)
                outcomes = _not_validated(entry.suite_name, error)
                rows = 0
            failed = [o.check_name for o in outcomes if not o.success]
            context.log.info(
                f"{entry.suite_name} on {entry.asset_key.to_user_string()}: {rows} rows, "
                f"{len(outcomes)} expectations, " + (f"not met: {', '.join(failed)}" if failed else "all met")
            )
            outcomes_by_suite[entry.suite_name] = outcomes
        extra = None
        if report_dir is not None:
            folder = report_dir() if callable(report_dir) else report_dir
            report = write_validation_report(outcomes_by_suite, Path(folder) / f"{name}.html", context=f"run {context.run.run_id}")
            extra = {"report": dg.MetadataValue.path(str(report))}
        for entry in suites:
            for outcome in outcomes_by_suite[entry.suite_name]:
                yield check_result(entry.asset_key, outcome, entry.suite_name, extra)
        if broken:
            raise RuntimeError(f"could not validate with suite(s) {', '.join(broken)}: see the log above")

    return _gx_checks


def _not_validated(suite_name: str, error: Exception) -> list[ExpectationOutcome]:
    """Every check of the suite failed, as a blocking error: the data were not validated."""
    message = observed_text(f"could not validate: {type(error).__name__}: {error}")
    return [
        ExpectationOutcome(
            check_name=check_name,
            expectation_type="(not run)",
            severity="error",
            success=False,
            description=description,
            observed=message,
        )
        for check_name, description, _ in check_specs_for_suite(suite_name)
    ]
