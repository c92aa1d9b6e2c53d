"""Great Expectations suites as Dagster asset checks.

`gx_suites_asset_checks` turns suites into one multi-asset check: the checks are declared
from the suites' JSON when the definitions load (great_expectations is not imported
then), and at run time each suite's rows are grouped by DuckDB where they lie, through a
read-only connection to the warehouse resource (helper columns: relations.py; grouping:
pushdown.py), the groups validated, and reported as one `AssetCheckResult` per
expectation. Severity `error` checks are blocking: a failure stops
the downstream assets (publishing); `warn` checks are reported and do not block. Each
step rewrites the run's validation report (run_record.py) and links it in its results.

No `from __future__ import annotations` here: Dagster reads the check functions'
resource parameters from their (evaluated) annotations.
"""

import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from pipelines.core.months import parse_month
from pipelines.partitions import WAREHOUSE_WRITER_POOL, month_dates_of_run
from pipelines.resources import SettingsResource, WarehouseResource
from pipelines.validation.gx_runner import (
    ROW_COUNT_COLUMN,
    ExpectationOutcome,
    check_specs_for_suite,
    load_in_background,
    load_suite_spec,
    observed_text,
    redact,
    validate_frame,
)
from pipelines.validation.pushdown import group_rows
from pipelines.validation.run_record import (
    REPORT_METADATA_KEY,
    check_descriptions,
    checks_of_run,
    report_folder,
    with_pending,
    write_run_report,
)

__all__ = [
    "CheckScope",
    "SuiteOnAsset",
    "WarehouseRows",
    "gx_asset_checks",
    "gx_suites_asset_checks",
    "query_table",
    "read_table",
    "warehouse_table_loader",
    "validate_suites",
    "check_result",
    "record_run_report",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CheckScope:
    """What a loader reads from: the working warehouse, and the run's months (None: all)."""

    warehouse: WarehouseResource
    months: tuple[date, ...] | None = None


@dataclass(frozen=True)
class WarehouseRows:
    """A table (or view) of the warehouse, validated where it lies: DuckDB reads and groups
    its rows (pushdown.py); none of them is loaded into pandas. `months`: only the rows of
    those months, in the suite's month column (relations.CHECKED_ROWS); None: all."""

    schema_table: str
    months: tuple[date, ...] | None = None


# A loader gives the rows a suite validates: a warehouse table, or a DataFrame (grouped the
# same way, in a DuckDB of its own).
Rows = WarehouseRows | pd.DataFrame
RowsLoader = Callable[[CheckScope], Rows]

# DuckDB's memory for grouping a suite's rows: the groups are few, but the Kela counter
# sorts the payment rows by person (it spills to disk beyond this). Peak RSS of the check
# steps stays under 1 GB with it.
QUERY_MEMORY_LIMIT = "512MB"


def _quoted(identifier: str) -> str:
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"not a plain SQL identifier: {identifier!r}")
    return f'"{identifier}"'


def query_table(
    connection: duckdb.DuckDBPyConnection,
    schema_table: str,
    month_column: str | None = None,
    months: Iterable[date | str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """`schema.table` as a DataFrame, through an open connection.

    With `month_column` and `months`, only the rows of those months (dates, or
    'YYYY-MM' / 'YYYY-MM-DD' strings: the first day of the month is what is stored).
    With `columns`, only those columns (default: all).
    """
    relation = ".".join(_quoted(part) for part in schema_table.split("."))
    selected = ", ".join(_quoted(column) for column in columns) if columns else "*"
    sql = f"select {selected} from {relation}"
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
    return connection.execute(sql, parameters).df()


def read_table(
    warehouse_path: Path | str,
    schema_table: str,
    month_column: str | None = None,
    months: Iterable[date | str] | None = None,
) -> pd.DataFrame:
    """`query_table` on the DuckDB file at `warehouse_path`, opened read-only."""
    connection = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return query_table(connection, schema_table, month_column, months)
    finally:
        connection.close()


def warehouse_table_loader(schema_table: str, *, by_month: bool = False) -> RowsLoader:
    """A loader of a table of the warehouse of the check's scope: all of its rows, or with
    `by_month` the rows of the run's months (all when the run names none)."""
    for part in schema_table.split("."):
        _quoted(part)  # an odd name is refused when the definitions load, not at run time

    def load(scope: CheckScope) -> WarehouseRows:
        return WarehouseRows(schema_table, scope.months if by_month else None)

    load.__name__ = f"load_{schema_table.replace('.', '_')}"
    return load


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


def check_specs(asset_key: dg.AssetKey, suite_name: str) -> list[dg.AssetCheckSpec]:
    """The suite's expectations as declared asset checks on `asset_key` (JSON only)."""
    return [
        dg.AssetCheckSpec(name=check_name, asset=asset_key, blocking=blocking, description=description)
        for check_name, description, blocking in check_specs_for_suite(suite_name)
    ]


def record_run_report(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
    settings: SettingsResource,
    pending: Mapping[str, Sequence[ExpectationOutcome]],
) -> tuple[pd.DataFrame, Path]:
    """The run's checks so far plus this step's `pending` outcomes (by asset), and the
    run's report rewritten from them (see run_record.py)."""
    run_id = context.run.run_id
    # The job's graph, not the repository's: an in-process `materialize` has no repository.
    descriptions = check_descriptions(context.job_def.asset_layer.asset_graph)
    checks = with_pending(checks_of_run(context.instance, run_id, descriptions), run_id, pending)
    return checks, write_run_report(checks, report_folder(settings.settings), run_id)


@dataclass(frozen=True)
class SuiteOnAsset:
    """One suite validated against one asset's rows (its helper columns: relations.py)."""

    asset_key: dg.AssetKey
    suite_name: str
    load_rows: RowsLoader


@dataclass(frozen=True)
class SuiteOutcomes:
    suite: SuiteOnAsset
    outcomes: list[ExpectationOutcome]
    rows: int
    error: Exception | None = None  # the table could not be read or validated


def grouped_rows(suite_name: str, rows: Rows, scope: CheckScope) -> pd.DataFrame:
    """The suite's rows grouped for GX (pushdown.py): DuckDB reads a warehouse table
    through a read-only connection, or a DataFrame registered in a DuckDB of its own."""
    with _duckdb_for(rows, scope) as (connection, relation):
        connection.execute(f"set memory_limit = '{QUERY_MEMORY_LIMIT}'")
        connection.execute("set enable_progress_bar = false")  # no bar in the step's logs
        months = rows.months if isinstance(rows, WarehouseRows) else None
        return group_rows(connection, suite_name, relation, months=months)


@contextmanager
def _duckdb_for(rows: Rows, scope: CheckScope):
    if isinstance(rows, pd.DataFrame):
        connection = duckdb.connect()
        try:
            connection.register("kaira_frame", rows)
            yield connection, "kaira_frame"
        finally:
            connection.close()
    elif isinstance(rows, WarehouseRows):
        relation = ".".join(_quoted(part) for part in rows.schema_table.split("."))
        with scope.warehouse.connect(read_only=True) as connection:
            yield connection, relation
    else:
        raise TypeError(f"a loader gave {type(rows).__name__}: expected WarehouseRows or a DataFrame")


def validate_suites(suites: Sequence[SuiteOnAsset], scope: CheckScope) -> list[SuiteOutcomes]:
    """Validate each suite on its rows, grouped by DuckDB (one query per suite, whatever
    the number of months: the groups are few).

    GX is imported in the background meanwhile; every suite's rows are grouped before the
    first is validated, so the import overlaps the queries. A table that cannot be read
    or validated fails all of its suite's checks, as errors naming the exception; the
    other suites are still validated.
    """
    load_in_background()
    grouped: list[pd.DataFrame | Exception] = []
    for entry in suites:
        try:
            grouped.append(grouped_rows(entry.suite_name, entry.load_rows(scope), scope))
        except Exception as error:  # noqa: BLE001 - reported as failed checks; the step then fails
            grouped.append(error)
    results = []
    for entry, frame in zip(suites, grouped, strict=True):
        try:
            if isinstance(frame, Exception):
                raise frame
            outcomes = validate_frame(frame, entry.suite_name, grouped=True)
            results.append(SuiteOutcomes(entry, outcomes, int(frame[ROW_COUNT_COLUMN].sum())))
        except Exception as error:  # noqa: BLE001 - reported as failed checks; the step then fails
            results.append(SuiteOutcomes(entry, _not_validated(entry.suite_name, error), 0, error))
    return results


def gx_asset_checks(
    asset_key: dg.AssetKey,
    suite_name: str,
    load_rows: RowsLoader,
    *,
    name: str | None = None,
    pool: str | None = WAREHOUSE_WRITER_POOL,
) -> dg.AssetChecksDefinition:
    """One Dagster multi-asset check for one GX suite, one check per expectation."""
    return gx_suites_asset_checks([SuiteOnAsset(asset_key, suite_name, load_rows)], name=name or f"gx_{suite_name}", pool=pool)


def gx_suites_asset_checks(
    suites: Sequence[SuiteOnAsset],
    *,
    name: str,
    pool: str | None = WAREHOUSE_WRITER_POOL,
) -> dg.AssetChecksDefinition:
    """Several suites (on one or several assets) as ONE step.

    Each step process imports great_expectations once (4-10 s): one step for all the
    marts pays it once. The step runs after every asset it checks, in the warehouse pool
    by default (a read-only DuckDB connection cannot open the file while a writer holds
    it). A table that cannot be loaded or validated fails all of its suite's checks and
    then the step, after the other suites have reported.
    """
    if not suites:
        raise ValueError("no suites to check")
    specs: list[dg.AssetCheckSpec] = []
    seen: set[tuple[dg.AssetKey, str]] = set()
    for entry in suites:
        for spec in check_specs(entry.asset_key, entry.suite_name):
            if (entry.asset_key, spec.name) in seen:
                raise ValueError(
                    f"check {spec.name!r} of suite {entry.suite_name!r} is declared twice on "
                    f"{entry.asset_key.to_user_string()}: give the two suites separate checks"
                )
            seen.add((entry.asset_key, spec.name))
            specs.append(spec)
    titles = [f"{e.suite_name} ({load_suite_spec(e.suite_name).get('meta', {}).get('title', e.suite_name)})" for e in suites]

    @dg.multi_asset_check(
        specs=specs,
        name=name,
        description="Great Expectations suites: " + "; ".join(titles),
        pool=pool,
    )
    def _gx_checks(context: dg.AssetCheckExecutionContext, settings: SettingsResource, warehouse: WarehouseResource):
        months = month_dates_of_run(dict(context.run.tags))
        results = validate_suites(suites, CheckScope(warehouse, None if months is None else tuple(months)))
        pending: dict[str, list[ExpectationOutcome]] = {}
        for result in results:
            asset = result.suite.asset_key.to_user_string()
            if result.error is not None:
                # DuckDB's errors can quote a value (a failed cast): never a code in the log.
                trace = redact("".join(traceback.format_exception(result.error)))
                context.log.error(f"{result.suite.suite_name}: could not validate {asset}:\n{trace}")
            failed = [o.check_name for o in result.outcomes if not o.success]
            context.log.info(
                f"{result.suite.suite_name} on {asset}: {result.rows} rows, {len(result.outcomes)} expectations, "
                + (f"not met: {', '.join(failed)}" if failed else "all met")
            )
            pending.setdefault(asset, []).extend(result.outcomes)
        _, report = record_run_report(context, settings, pending)
        link = {REPORT_METADATA_KEY: dg.MetadataValue.path(str(report))}
        for result in results:
            for outcome in result.outcomes:
                yield check_result(result.suite.asset_key, outcome, result.suite.suite_name, link)
        broken = [r.suite.suite_name for r in results if r.error is not None]
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
