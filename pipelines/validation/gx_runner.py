"""Great Expectations 1.x, run by hand: suites from `expectations/*.json`, validated on
pandas DataFrames in an ephemeral context.

Why by hand: dagster-ge supports GX < 1.0 only, and GX cannot validate a DuckDB table
through SQLAlchemy reliably, so GX validates frames in memory. The warehouse's tables
reach it grouped (pushdown.py): a frame of a few hundred groups, each standing for
`ROW_COUNT_COLUMN` rows, which `validate_frame(..., grouped=True)` weighs back into
counts of rows.

Each expectation in a suite file carries in its `meta`:

* `check_name`  a stable snake_case name, the Dagster asset check's name;
* `severity`    `error` (blocks publishing) or `warn` (reported, does not block); default `error`;
* `description` what the check protects, in English;
* `unexpected_label` (optional) how the observed text names the unexpected rows
  (default "rows unexpected"), e.g. "rows disagree by more than 0.01 EUR";
* `observed_sum` (optional, set expectations only) `{"column", "label", "unit"}`: the observed
  text adds the sum of that column over the unexpected rows.

Importing great_expectations takes seconds, so it is imported inside the functions that
validate; :func:`load_suite_spec` and :func:`check_specs_for_suite` parse JSON only and are
safe at Dagster definition-load time.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.core.collector import freeze_loaded
from pipelines.core.identity_codes import REDACTED, contains_code_like
from pipelines.core.identity_codes import redact as redact_identity_codes
from pipelines.package_files import (
    expectations_dir,
)

EXPECTATIONS_DIR = expectations_dir()

SEVERITIES = ("error", "warn")
OBSERVED_MAX_CHARS = 200
EXAMPLE_COUNT = 3
EXAMPLE_MAX_CHARS = 24

_CHECK_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SUITE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# Columns whose values are never shown, whatever they hold: person identifiers and the
# quasi-identifiers that come with them. Matched on the lower-cased column name.
_SENSITIVE_COLUMN_PARTS = ("person", "henkilo", "hetu", "ssn", "identity", "birth", "spell_id", "pseudonym")
# Any value shaped like an identity code or a pseudonym (long hex) is redacted anyway.
_LONG_HEX = re.compile(r"[0-9a-fA-F]{32,}")


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, in the shape of an asset check result and of `run_checks`."""

    check_name: str
    expectation_type: str
    severity: str  # 'error' blocks, 'warn' does not
    success: bool
    description: str
    observed: str  # short text, no person identifiers
    unexpected_count: int | None = None
    element_count: int | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    @property
    def outcome(self) -> str:
        """'pass', 'fail' (an error) or 'warn' (a failed warning)."""
        if self.success:
            return "pass"
        return "fail" if self.blocking else "warn"


# --- Suite files: JSON only, no great_expectations import ---------------------------------


def suite_path(name: str) -> Path:
    if not _SUITE_NAME.fullmatch(name):
        raise ValueError(f"not a suite name: {name!r}")
    return EXPECTATIONS_DIR / f"{name}.json"


def suite_names() -> list[str]:
    """Every suite in `expectations/`, by file name."""
    return sorted(path.stem for path in EXPECTATIONS_DIR.glob("*.json"))


def load_suite_spec(name: str) -> dict[str, Any]:
    """The suite `expectations/<name>.json` as a dict, its metadata checked.

    Raises ValueError naming the file and the problem if an expectation lacks a
    snake_case `meta.check_name`, repeats one, has an unknown `meta.severity`, or has
    no `meta.description`.
    """
    path = suite_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite {name!r}: {path} does not exist")
    spec = json.loads(path.read_text(encoding="utf-8"))
    _check_spec(spec, name, path)
    return spec


def _check_spec(spec: Mapping[str, Any], name: str, path: Path) -> None:
    def fail(problem: str) -> None:
        raise ValueError(f"{path.name}: {problem}")

    if spec.get("name") != name:
        fail(f"suite name {spec.get('name')!r} differs from the file name {name!r}")
    expectations = spec.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        fail("no expectations")
    seen: set[str] = set()
    for position, expectation in enumerate(expectations, start=1):
        meta = expectation.get("meta") or {}
        check_name = meta.get("check_name")
        if not isinstance(check_name, str) or not _CHECK_NAME.fullmatch(check_name):
            fail(f"expectation {position} ({expectation.get('type')}): meta.check_name {check_name!r} is not snake_case")
        if check_name in seen:
            fail(f"check name {check_name!r} is used twice")
        seen.add(check_name)
        if meta.get("severity", "error") not in SEVERITIES:
            fail(f"{check_name}: meta.severity {meta.get('severity')!r} is not one of {SEVERITIES}")
        if not str(meta.get("description", "")).strip():
            fail(f"{check_name}: meta.description is missing")
        if not isinstance(expectation.get("type"), str) or not isinstance(expectation.get("kwargs"), dict):
            fail(f"{check_name}: an expectation needs a type and kwargs")


def _severity(expectation: Mapping[str, Any]) -> str:
    return (expectation.get("meta") or {}).get("severity", "error")


def check_specs_for_suite(suite_name: str) -> list[tuple[str, str, bool]]:
    """(check name, description, blocking) per expectation, in the suite's order.

    Parses the JSON only: usable when Dagster loads its definitions.
    """
    spec = load_suite_spec(suite_name)
    return [
        (e["meta"]["check_name"], e["meta"]["description"], _severity(e) == "error")
        for e in spec["expectations"]
    ]


# --- Validation ----------------------------------------------------------------------------

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}
_DATA_SOURCE = "kaira_frames"
_BATCH_DEFINITION = "whole_frame"

# A grouped frame (pushdown.py): how many rows each of its rows stands for, and per
# expectation whether DuckDB's SQL form accepted the group's rows.
ROW_COUNT_COLUMN = "kaira_row_count"
_ACCEPTED_PREFIX = "kaira_accepted__"


def accepted_column(check_name: str) -> str:
    return _ACCEPTED_PREFIX + check_name


def load_in_background() -> None:
    """Start importing great_expectations and building the context in a thread, so that
    the import (seconds) overlaps the DuckDB queries of the first check step; the first
    validation waits for it. An error is left for that validation to raise."""
    with _LOCK:
        if "source" in _STATE or "loading" in _STATE:
            return
        _STATE["loading"] = threading.Thread(target=_load_quietly, name="kaira-gx-import", daemon=True)
        _STATE["loading"].start()


def _load_quietly() -> None:
    with _LOCK:
        try:
            _data_source()
        except Exception:  # noqa: BLE001 - the next validation tries again and raises it
            pass


def _data_source():
    """The process's one ephemeral GX context and its pandas data source (created once)."""
    if "source" not in _STATE:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        # No tqdm bars in the Dagster logs; nothing is sent anywhere (ephemeral, no cloud).
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _STATE["context"] = context
        _STATE["source"] = context.data_sources.add_pandas(_DATA_SOURCE)
        # Great Expectations and its imports live as long as the process (pipelines/core/collector.py).
        freeze_loaded()
    return _STATE["source"]


def _batch_definition(suite_name: str):
    source = _data_source()
    try:
        asset = source.get_asset(suite_name)
    except LookupError:
        asset = source.add_dataframe_asset(name=suite_name)
    try:
        return asset.get_batch_definition(_BATCH_DEFINITION)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)


def _gx_suite(spec: Mapping[str, Any]):
    import great_expectations as gx

    # GX adds its own fields (ids, its version, a severity of its own); keep the file intact.
    return gx.ExpectationSuite(**json.loads(json.dumps(spec)))


def validate_frame(frame: pd.DataFrame, suite_name: str, *, grouped: bool = False) -> list[ExpectationOutcome]:
    """Validate `frame` (already prepared: see relations.PREPARE_BY_SUITE) against the
    suite `expectations/<suite_name>.json`; one outcome per expectation, in suite order.

    `grouped`: each row of `frame` stands for `ROW_COUNT_COLUMN` rows (pushdown.py); the
    counts, percentages and examples are then of those rows.

    An expectation that GX cannot evaluate (a missing column, say) fails, with the
    error as its observed text.
    """
    spec = load_suite_spec(suite_name)
    # On a grouped frame GX lists every unexpected group (cheap: a few hundred rows).
    result_format = {"result_format": "COMPLETE" if grouped else "SUMMARY", "partial_unexpected_count": EXAMPLE_COUNT * 4}
    with _LOCK:
        batch = _batch_definition(suite_name).get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(_gx_suite(spec), result_format=result_format)
    by_name = {r.expectation_config.meta.get("check_name"): r for r in result.results}
    outcomes = []
    for expectation in spec["expectations"]:
        meta = expectation["meta"]
        gx_result = by_name.get(meta["check_name"])
        outcomes.append(_outcome(expectation, gx_result, frame, grouped))
    return outcomes


def _outcome(expectation: Mapping[str, Any], gx_result, frame: pd.DataFrame, grouped: bool = False) -> ExpectationOutcome:
    meta = expectation["meta"]
    common = dict(
        check_name=meta["check_name"],
        expectation_type=expectation["type"],
        severity=_severity(expectation),
        description=meta["description"],
    )
    if gx_result is None:
        return ExpectationOutcome(success=False, observed="not evaluated: GX returned no result", **common)
    info = gx_result.exception_info or {}
    message = _exception_message(info)
    if message:
        return ExpectationOutcome(success=False, observed=observed_text(f"could not evaluate: {message}"), **common)
    result = gx_result.result or {}
    if grouped:
        result = weighted_result(expectation, result, frame)
    unexpected = result.get("unexpected_count")
    elements = result.get("element_count")
    return ExpectationOutcome(
        success=bool(gx_result.success),
        observed=_observed_text(expectation, result, bool(gx_result.success), frame),
        unexpected_count=None if unexpected is None else int(unexpected),
        element_count=None if elements is None else int(elements),
        **common,
    )


def _exception_message(info: Mapping[str, Any]) -> str | None:
    """GX reports errors either flat or per metric; the first message, if any."""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "error")
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message") or "error")
    return None


def _missing(expectation: Mapping[str, Any], frame: pd.DataFrame) -> pd.Series:
    """The rows GX leaves out as missing: a NULL column, or for a pair what `ignore_row_if`
    says (GX's default: both values NULL)."""
    kwargs = expectation["kwargs"]
    if "column" in kwargs:
        return frame[kwargs["column"]].isna()
    a, b = frame[kwargs["column_A"]].isna(), frame[kwargs["column_B"]].isna()
    rule = kwargs.get("ignore_row_if", "both_values_are_missing")
    if rule == "both_values_are_missing":
        return a & b
    if rule == "either_value_is_missing":
        return a | b
    return pd.Series(False, index=frame.index)


def _is_null(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _null_last(value: Any) -> tuple:
    parts = value if isinstance(value, tuple) else (value,)
    return tuple((True, 0) if _is_null(part) else (False, part) for part in parts)


def weighted_result(expectation: Mapping[str, Any], result: Mapping[str, Any], frame: pd.DataFrame) -> dict[str, Any]:
    """GX's result on a grouped frame, as counts of the rows the groups stand for.

    Raises RuntimeError if GX's groups disagree with the grouping: a group counted
    neither as GX counted it, or rejected by GX although DuckDB's SQL form accepted its
    rows (pushdown.accepted_sql would be wrong, and the rows behind it unchecked).
    """
    check = expectation["meta"]["check_name"]
    if "unexpected_count" not in result:
        raise RuntimeError(f"{check}: {expectation['type']} reports no unexpected rows, so it cannot count groups")
    weights = frame[ROW_COUNT_COLUMN]
    index = list(result.get("unexpected_index_list") or [])
    values = list(result.get("unexpected_list") or [])
    missing = _missing(expectation, frame)
    if len(index) != int(result.get("unexpected_count") or 0) or int(missing.sum()) != int(result.get("missing_count") or 0):
        raise RuntimeError(f"{check}: GX's counts of groups differ from the grouping's")
    accepted = frame.get(accepted_column(check))
    if accepted is not None and bool(accepted.loc[index].any()):
        raise RuntimeError(
            f"{check}: GX rejects rows that the SQL form of {expectation['type']} accepted (pipelines/validation/pushdown.py)"
        )
    element_count = int(weights.sum())
    missing_count = int(weights[missing].sum())
    unexpected_count = int(weights.loc[index].sum())
    checked = element_count - missing_count
    counts: dict[Any, int] = {}
    for value, group in zip(values, index, strict=False):
        counts[value] = counts.get(value, 0) + int(weights.loc[group])
    try:  # as GX ranks them: most rows first, then by value (NULLs last, so the order is defined)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], _null_last(item[0])))
    except TypeError:  # values of different types: by count alone
        ranked = sorted(counts.items(), key=lambda item: -item[1])
    return {
        "element_count": element_count,
        "missing_count": missing_count,
        "unexpected_count": unexpected_count,
        "unexpected_percent": unexpected_count / checked * 100 if checked else None,
        "partial_unexpected_counts": [{"value": v, "count": n} for v, n in ranked[: EXAMPLE_COUNT * 4]],
        "partial_unexpected_list": values[: EXAMPLE_COUNT * 4],
    }


def _columns_of(expectation: Mapping[str, Any]) -> list[str]:
    kwargs = expectation.get("kwargs", {})
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    columns += list(kwargs.get("column_list", []))
    return [str(c) for c in columns]


def is_sensitive_column(column: str) -> bool:
    lowered = column.lower()
    return any(part in lowered for part in _SENSITIVE_COLUMN_PARTS)


def _safe_example(value: Any) -> str | None:
    """A short rendering of an unexpected value, or None when it must not be shown."""
    if isinstance(value, (bool, np.bool_)):
        return None  # a helper column's False says nothing the count does not
    if isinstance(value, tuple):
        parts = [_safe_example(v) for v in value]
        return None if any(p is None for p in parts) else "(" + ", ".join(parts) + ")"
    if isinstance(value, float) and math.isnan(value):
        return "NULL"
    if value is None or value is pd.NA or value is pd.NaT:
        return "NULL"
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, (dt.date, np.datetime64)):
        stamp = pd.Timestamp(value)
        text = stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    else:
        text = str(value)
    if contains_code_like(text) or _LONG_HEX.search(text):
        return REDACTED
    if len(text) > EXAMPLE_MAX_CHARS:
        text = text[: EXAMPLE_MAX_CHARS - 1] + "…"
    return repr(text) if isinstance(value, str) else text


def _examples(expectation: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    if (expectation.get("meta") or {}).get("show_values") is False:
        return ""
    if any(is_sensitive_column(c) for c in _columns_of(expectation)):
        return ""
    shown: list[str] = []
    for item in result.get("partial_unexpected_counts") or []:
        example = _safe_example(item.get("value"))
        if example is None:
            return ""
        shown.append(f"{example} ×{item.get('count')}" if item.get("count", 1) > 1 else example)
        if len(shown) == EXAMPLE_COUNT:
            break
    if not shown:
        for value in (result.get("partial_unexpected_list") or [])[:EXAMPLE_COUNT]:
            example = _safe_example(value)
            if example is None:
                return ""
            shown.append(example)
    return ", ".join(shown)


def _observed_sum(expectation: Mapping[str, Any], frame: pd.DataFrame) -> str:
    config = (expectation.get("meta") or {}).get("observed_sum")
    if not config or expectation.get("type") != "expect_column_values_to_be_in_set":
        return ""
    column, flag = config["column"], expectation["kwargs"]["column"]
    if column not in frame.columns or flag not in frame.columns:
        return ""
    flags = frame[flag]
    unexpected = flags.notna() & ~flags.isin(expectation["kwargs"]["value_set"])
    total = pd.to_numeric(frame.loc[unexpected, column], errors="coerce").sum()
    unit = f" {config['unit']}" if config.get("unit") else ""
    return f"; {config.get('label', 'sum of ' + column)}: {total:.2f}{unit}"


def _format_count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _observed_text(expectation: Mapping[str, Any], result: Mapping[str, Any], success: bool, frame: pd.DataFrame) -> str:
    if "unexpected_count" in result:
        unexpected = int(result.get("unexpected_count") or 0)
        elements = int(result.get("element_count") or 0)
        missing = int(result.get("missing_count") or 0)
        checked = elements - missing
        if unexpected == 0 and checked == 0:
            return "no rows to check" + (f" ({_format_count(missing)} NULL)" if missing else "")
        if unexpected == 0:
            text = f"all {_format_count(checked)} rows as expected"
            if missing:
                text += f" ({_format_count(missing)} NULL, not checked)"
            return observed_text(text)
        percent = float(result.get("unexpected_percent") or 0.0)
        label = (expectation.get("meta") or {}).get("unexpected_label") or "rows unexpected"
        text = f"{_format_count(unexpected)} of {_format_count(checked)} {label} ({percent:.2f} %)"
        examples = _examples(expectation, result)
        if examples:
            text += f"; e.g. {examples}"
        text += _observed_sum(expectation, frame)
        return observed_text(text)
    if "observed_value" in result:
        columns = _columns_of(expectation)
        value = result["observed_value"]
        shown = "<hidden>" if any(is_sensitive_column(c) for c in columns) else _safe_example(value)
        return observed_text(f"observed {shown}")
    return "passed" if success else "failed"


def redact(text: str) -> str:
    """Anything shaped like an identity code or a pseudonym (long hex), replaced."""
    return _LONG_HEX.sub(REDACTED, redact_identity_codes(text))


def observed_text(text: str) -> str:
    """One line, redacted, at most OBSERVED_MAX_CHARS characters."""
    text = redact(" ".join(text.split()))
    return text if len(text) <= OBSERVED_MAX_CHARS else text[: OBSERVED_MAX_CHARS - 1] + "…"




def outcomes_frame(outcomes_by_suite: Mapping[str, Sequence[ExpectationOutcome]], asset_by_suite: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The outcomes as rows shaped like `run_checks` (without run_id and checked_at)."""
    rows = []
    for suite_name, outcomes in outcomes_by_suite.items():
        asset = (asset_by_suite or {}).get(suite_name, suite_name)
        for o in outcomes:
            rows.append(
                {
                    "asset": asset,
                    "check_name": o.check_name,
                    "severity": o.severity,
                    "passed": o.success,
                    "description": o.description,
                    "observed": o.observed,
                }
            )
    return pd.DataFrame(rows, columns=["asset", "check_name", "severity", "passed", "description", "observed"])


def combine_outcomes(parts: Sequence[Sequence[ExpectationOutcome]], labels: Sequence[str]) -> list[ExpectationOutcome]:
    """One suite validated part by part (months at a time, so memory is bounded by a part,
    not by the history: the published-table checks of a long publication): an expectation
    is met when every part meets it; the observed text names the parts that did not, and
    the first one's observation."""
    if len(parts) <= 1:
        return list(parts[0]) if parts else []
    combined = []
    for index, first in enumerate(parts[0]):
        outcomes = [part[index] for part in parts]
        failed = [(label, o) for label, o in zip(labels, outcomes, strict=True) if not o.success]
        counts = [o.unexpected_count for o in outcomes if o.unexpected_count is not None]
        elements = [o.element_count for o in outcomes if o.element_count is not None]
        if failed:
            where = ", ".join(label for label, _ in failed[:3]) + (" …" if len(failed) > 3 else "")
            observed = observed_text(f"{len(failed)} of {len(parts)} months ({where}): {failed[0][1].observed}")
        else:
            observed = observed_text(f"{len(parts)} months, all met; {labels[0]}: {first.observed}")
        combined.append(
            ExpectationOutcome(
                check_name=first.check_name,
                expectation_type=first.expectation_type,
                severity=first.severity,
                success=not failed,
                description=first.description,
                observed=observed,
                unexpected_count=sum(counts) if counts else None,
                element_count=sum(elements) if elements else None,
            )
        )
    return combined


def blocking_failures(outcomes: Iterable[ExpectationOutcome]) -> list[ExpectationOutcome]:
    """The failed checks that block publishing."""
    return [o for o in outcomes if not o.success and o.blocking]
