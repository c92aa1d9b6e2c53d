"""A suite's rows grouped in DuckDB, so that Great Expectations validates a few hundred
groups instead of millions of rows, and every count it reports is still a count of rows.

Reading a backfill's person-month rows into pandas for GX's pandas engine took most of
the check steps' time and gigabytes of memory (issue 12). Here DuckDB reads the rows
where they lie, computes the suite's helper columns (relations.CHECKED_ROWS), and
groups the rows into classes that every expectation of the suite treats alike:

* for each expectation, the rows its SQL form (`accepted_sql`, written from the same
  kwargs GX reads in expectations/*.json) surely accepts are one class;
* the other rows (rejected, NULL, or of a type without an SQL form) keep their
  values in the class key, so GX sees each distinct such value.

Each group becomes one row of the frame GX validates: the values of one real row of the
group (its representative), the number of rows it stands for (`ROW_COUNT_COLUMN`), the
sums of the columns an observed text adds up (`meta.observed_sum`), and the class flags
(`accepted_column`). GX still evaluates every expectation on those values and decides
success; gx_runner.validate_frame(grouped=True) turns the groups GX finds unexpected
back into counts of rows, and fails loudly should GX reject a group that the SQL form
accepted (the SQL form would then be wrong). Within a group, every row has either the
representative's outcome by class or the representative's very values, so GX's verdict
on the representative is its verdict on each row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipelines.core.months import previous_month
from pipelines.validation.gx_runner import ROW_COUNT_COLUMN, accepted_column, load_suite_spec
from pipelines.validation.relations import CHECKED_ROWS, CheckedRows

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXAMPLE = "kaira_example"
# The kwargs an SQL form below reads, per expectation type; any other kwarg (`mostly`, a
# row condition) would change what GX does on groups, so a suite using one is refused.
_FORMS: dict[str, frozenset[str]] = {
    "expect_column_values_to_be_in_set": frozenset({"column", "value_set"}),
    "expect_column_values_to_be_between": frozenset({"column", "min_value", "max_value", "strict_min", "strict_max"}),
    "expect_column_values_to_match_regex": frozenset({"column", "regex"}),
    "expect_column_values_to_not_be_null": frozenset({"column"}),
    "expect_column_pair_values_a_to_be_greater_than_b": frozenset({"column_A", "column_B", "or_equal", "ignore_row_if"}),
    "expect_column_pair_values_to_be_equal": frozenset({"column_A", "column_B", "ignore_row_if"}),
}


def _identifier(name: object) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain column name: {name!r}")
    return f'"{name}"'


def _literal(value: object) -> str:
    """An SQL literal for a kwarg of a suite file (JSON: booleans, numbers, strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"no SQL literal for {value!r}")


def expectation_columns(expectation: Mapping[str, Any]) -> list[str]:
    """The columns an expectation reads, in kwargs order."""
    kwargs = expectation["kwargs"]
    return [kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs]


def accepted_sql(expectation: Mapping[str, Any]) -> str:
    """An SQL predicate, never NULL, that is true only for rows GX accepts (for values it
    does not cover, false: those rows keep their values and GX judges them one by one).

    Raises ValueError naming the type or the kwarg for an expectation that cannot be
    validated on grouped rows.
    """
    kind = expectation["type"]
    kwargs = expectation["kwargs"]
    if kind not in _FORMS:
        raise ValueError(f"{kind} has no SQL form for grouped rows (pipelines/validation/pushdown.py)")
    unknown = set(kwargs) - _FORMS[kind]
    if unknown:
        raise ValueError(f"{kind}: {', '.join(sorted(unknown))} is not supported on grouped rows")
    if "column" in kwargs:
        column = _identifier(kwargs["column"])
        if kind == "expect_column_values_to_be_in_set":
            values = kwargs["value_set"]
            condition = f"{column} in ({', '.join(_literal(v) for v in values)})" if values else "false"
        elif kind == "expect_column_values_to_be_between":
            bounds = []
            if kwargs.get("min_value") is not None:
                bounds.append(f"{column} {'>' if kwargs.get('strict_min') else '>='} {_literal(kwargs['min_value'])}")
            if kwargs.get("max_value") is not None:
                bounds.append(f"{column} {'<' if kwargs.get('strict_max') else '<='} {_literal(kwargs['max_value'])}")
            if not bounds:
                raise ValueError(f"{kind}: neither min_value nor max_value")
            condition = " and ".join(bounds)
        elif kind == "expect_column_values_to_match_regex":
            # GX: the value as text, searched (re.search); DuckDB's regexp_matches searches
            # too, with RE2, which accepts no more than Python's re for these patterns.
            condition = f"regexp_matches(cast({column} as varchar), {_literal(kwargs['regex'])})"
        else:  # not null
            condition = f"{column} is not null"
        return f"coalesce({condition}, false)"
    a, b = _identifier(kwargs["column_A"]), _identifier(kwargs["column_B"])
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        condition = f"{a} {'>=' if kwargs.get('or_equal') else '>'} {b}"
    else:
        condition = f"{a} = {b}"
    return f"coalesce({condition}, false)"


def grouped_sql(suite_name: str, checked: CheckedRows, source: str, *, checked_where: str | None = None) -> str:
    """The query grouping the suite's rows: `source` (SQL of the rows to read) through the
    suite's SQL, then one row per class (see the module's docstring). With
    `checked_where` (SQL on the suite's rows, its parameters after those of `source`),
    only the rows it holds for are grouped: the others were read as context only."""
    spec = load_suite_spec(suite_name)
    expectations = spec["expectations"]
    columns: list[str] = []
    for expectation in expectations:
        for column in expectation_columns(expectation):
            if column not in columns:
                columns.append(column)
    sums = [
        config["column"]
        for expectation in expectations
        if (config := (expectation.get("meta") or {}).get("observed_sum"))
    ]
    reserved = {ROW_COUNT_COLUMN, _EXAMPLE} | {accepted_column(e["meta"]["check_name"]) for e in expectations}
    clash = (set(columns) & set(sums)) | ((set(columns) | set(sums)) & reserved)
    if clash:
        raise ValueError(f"{suite_name}: column(s) {', '.join(sorted(clash))} both checked and summed, or named as the grouping names its own")

    flags = [(accepted_column(e["meta"]["check_name"]), accepted_sql(e), expectation_columns(e)) for e in expectations]
    classed = ",\n        ".join(
        [_identifier(c) for c in columns]
        + [_identifier(s) for s in dict.fromkeys(sums)]
        + [f"{predicate} as {_identifier(flag)}" for flag, predicate, _ in flags]
    )
    where = f"\n    where {checked_where}" if checked_where else ""
    keys = []
    for flag, _, read in flags:
        keys.append(_identifier(flag))
        keys += [f"case when {_identifier(flag)} then null else {_identifier(c)} end" for c in read]
    example = ", ".join(f"{_identifier(c)} := {_identifier(c)}" for c in columns)
    summed = "".join(f",\n        sum({_identifier(s)}) as {_identifier(s)}" for s in dict.fromkeys(sums))
    outputs = ", ".join(
        [f"unnest({_EXAMPLE})"] + [_identifier(flag) for flag, _, _ in flags] + [ROW_COUNT_COLUMN]
        + [_identifier(s) for s in dict.fromkeys(sums)]
    )
    return f"""
with source as not materialized (
    {source}
),

checked as not materialized (
    {checked.sql}
),

classed as (
    select
        {classed}
    from checked{where}
),

grouped as (
    select
        {", ".join(keys)},
        first(struct_pack({example})) as {_EXAMPLE},
        count(*) as {ROW_COUNT_COLUMN}{summed}
    from classed
    group by all
)

select {outputs} from grouped
"""


def checked_rows(suite_name: str) -> CheckedRows:
    """The suite's SQL (relations.CHECKED_ROWS); a suite without one checks the rows as read."""
    return CHECKED_ROWS.get(suite_name) or CheckedRows("select * from source", "")


def group_rows(
    connection: duckdb.DuckDBPyConnection,
    suite_name: str,
    relation: str,
    *,
    months: Sequence[date] | None = None,
) -> pd.DataFrame:
    """The suite's rows of `relation` (a table, view or registered frame) grouped for GX.

    With `months`, the rows of those months (in the suite's month column); when the suite
    reads the previous month as context (the Kela counter), that month's rows are read
    too and only the given months' rows are grouped.
    """
    checked = checked_rows(suite_name)
    if months is None:
        return connection.execute(grouped_sql(suite_name, checked, f"select * from {relation}")).df()
    if not checked.month_column:
        raise ValueError(f"{suite_name}: months given, but the suite has no month column (relations.CHECKED_ROWS)")
    wanted = sorted(set(months))
    read = sorted(set(wanted) | ({previous_month(wanted[0])} if wanted and checked.previous_month else set()))
    month = _identifier(checked.month_column)
    condition, parameters = month_condition(month, read)
    source = f"select * from {relation} where {condition}"
    if checked.previous_month:
        condition, checked_parameters = month_condition(month, wanted)
        sql = grouped_sql(suite_name, checked, source, checked_where=condition)
        parameters += checked_parameters
    else:
        sql = grouped_sql(suite_name, checked, source)
    return connection.execute(sql, parameters).df()


def month_condition(column: str, months: Sequence[date]) -> tuple[str, list[object]]:
    """`column` is one of `months` (sorted), as SQL and its parameters: a range when the
    months are consecutive (a run's always are), which DuckDB prunes row groups by; a
    list otherwise (DuckDB joins against it: slower)."""
    if not months:
        return "false", []
    consecutive = all(previous_month(later) == earlier for earlier, later in zip(months, months[1:], strict=False))
    if consecutive:
        return f"{column} between ? and ?", [months[0], months[-1]]
    return f"{column} in ({', '.join('?' for _ in months)})", list(months)
