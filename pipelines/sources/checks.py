"""What the row validation of both registers shares: the month, the reasons a row is
rejected, the person columns, and the shape of the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.core import identity_codes
from pipelines.sources.csv_reader import LandingFile

REJECT_COLUMNS = ("source", "delivery_month", "source_file", "source_line", "reason")

# The one column where an identity code belongs; it is validated and pseudonymised.
IDENTITY_CODE_COLUMN = "henkilotunnus"


class Problems:
    """Reasons collected per row; a row with any reason is rejected, with all of them."""

    def __init__(self, n: int):
        self.n = n
        self._reasons = np.full(n, "", dtype=object)

    def add(self, mask: np.ndarray | pd.Series, reason: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        current = self._reasons[mask]
        self._reasons[mask] = np.where(current == "", reason, current + "; " + reason)

    @property
    def rejected(self) -> np.ndarray:
        return self._reasons != ""

    def reasons(self) -> np.ndarray:
        return self._reasons


@dataclass(frozen=True)
class ValidatedDelivery:
    """One month's file, split into rows to load and rows to reject."""

    source: str
    delivery_month: date
    source_file: str
    rows: pd.DataFrame  # exactly the raw table's columns
    rejects: pd.DataFrame  # exactly raw.rejects' columns, ordered by line
    padded_municipality_codes: int = 0

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.rejects)


@dataclass(frozen=True)
class Persons:
    """The person columns of a delivery's rows (null where the identity code is invalid)."""

    person_id: pa.Array  # the pseudonym
    birth_date: pa.Array  # date32
    sex: pa.Array
    numbers: np.ndarray  # int64: one number per person (identity_codes.ParsedCodes.numbers), -1 if invalid


def text_array(values: pd.Series) -> pa.Array:
    """A column of the landing file (trimmed text, '' when empty) as an Arrow string array
    (the reader's columns are Arrow-backed: no copy)."""
    array = pa.array(values, type=pa.large_string(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def is_empty(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.equal(values, ""), dtype=bool)


def person_columns(codes: pa.Array, key: str | bytes | identity_codes.Pseudonymiser, problems: Problems, latest_birth: date) -> Persons:
    """person_id, birth_date and sex from the identity codes; invalid codes become problems.
    Each distinct code is hashed once (with a Pseudonymiser, once for the run)."""
    parsed = identity_codes.parse_codes(codes)
    valid = parsed.valid
    for rows, reason in parsed.problems():
        problems.add(rows, reason)
    latest = (latest_birth - date(1970, 1, 1)).days
    problems.add(valid & (parsed.birth_days > latest), "birth date (from the identity code) is after the delivery month")
    numbers = np.where(valid, parsed.numbers, -1)
    invalid = pa.array(~valid)
    return Persons(
        person_id=identity_codes.pseudonyms(pc.if_else(invalid, None, parsed.normalised), key, numbers=numbers),
        birth_date=pa.array(parsed.birth_days.astype(np.int32), type=pa.date32(), mask=~valid),
        sex=pc.take(_SEXES, pa.array(parsed.male.astype(np.int8), mask=~valid)),
        numbers=numbers,
    )


_SEXES = pa.array([identity_codes.SEX_FEMALE, identity_codes.SEX_MALE], type=pa.large_string())


def code_in_column_reason(column: str) -> str:
    return f"{column} holds an identity code (only {IDENTITY_CODE_COLUMN} may; the value is not shown)"


def reject_identity_codes_outside_their_column(rows: pd.DataFrame, problems: Problems) -> None:
    """A row with an identity code (any form, see identity_codes.code_like_mask) in any
    column but henkilotunnus is rejected, the reason naming the column and not the value:
    such a value would otherwise reach a raw table as it is (a code as jakso_id becomes
    spell_id). Run before the checks that compare rows (overlaps, duplicates), so that a
    rejected row takes no other row with it."""
    columns = [column for column in rows.columns if column not in (IDENTITY_CODE_COLUMN, "source_line")]
    for column, found in zip(columns, identity_codes.code_like_masks([text_array(rows[c]) for c in columns])):
        problems.add(found, code_in_column_reason(column))


def to_dates(values: pd.Series) -> pa.Array:
    """datetime64 -> Arrow date32 (null for NaT)."""
    return pa.array(values.to_numpy(dtype="datetime64[D]"), type=pa.date32(), from_pandas=True)


def to_euros(values: pd.Series) -> pa.Array:
    """Normalised decimal strings (NA: null) -> Arrow decimal(18, 2), exactly."""
    return pa.array(values, type=pa.large_string(), from_pandas=True).cast(pa.decimal128(18, 2))


def build_result(
    *,
    source: str,
    landing: LandingFile,
    delivery_month: date,
    problems: Problems,
    columns: dict[str, pa.Array | np.ndarray],
    raw_columns: tuple[str, ...],
    padded: int = 0,
) -> ValidatedDelivery:
    """Keep the rows without problems (`columns`: every raw column but the delivery's
    month and file, one value per row read), turn the rest and the reader's malformed rows
    into rejects. Text columns become pandas' Arrow-backed `str`, dates and amounts Arrow
    dtypes, `source_line` int32: the same frame whatever the path."""
    keep = ~problems.rejected
    kept = int(keep.sum())
    everything = kept == len(keep)
    mask = pa.array(keep)
    data: dict[str, pd.Series] = {}
    for name in raw_columns:
        if name == "delivery_month":
            values = _constant_date(delivery_month, kept)
        elif name == "source_file":
            values = pa.array([landing.name], type=pa.large_string()).take(pa.array(np.zeros(kept, dtype=np.int64)))
        else:
            values = columns[name]
        if isinstance(values, np.ndarray):
            values = values if everything else values[keep]
            data[name] = pd.Series(values, dtype=_NUMPY_DTYPES.get(name, values.dtype))
            continue
        if name not in ("delivery_month", "source_file") and not everything:
            values = values.filter(mask)
        data[name] = _pandas(values)
    rows = pd.DataFrame(data, columns=list(raw_columns))

    bad_lines = landing.rows["source_line"].to_numpy()[~keep]
    lines = np.concatenate([bad_lines, landing.malformed["source_line"].to_numpy(dtype=np.int64)])
    reasons = np.concatenate([problems.reasons()[~keep], landing.malformed["reason"].to_numpy(dtype=object)])
    order = np.argsort(lines, kind="stable")
    rejects = pd.DataFrame(
        {
            "source": pd.Series(np.full(len(lines), source, dtype=object), dtype="str"),
            "delivery_month": _pandas(_constant_date(delivery_month, len(lines))),
            "source_file": pd.Series(np.full(len(lines), landing.name, dtype=object), dtype="str"),
            "source_line": pd.Series(lines[order], dtype="int32"),
            "reason": pd.Series(reasons[order], dtype="str"),
        }
    )
    return ValidatedDelivery(
        source=source,
        delivery_month=delivery_month,
        source_file=landing.name,
        rows=rows,
        rejects=rejects,
        padded_municipality_codes=padded,
    )


# Whole-number columns of the raw tables that pandas holds as nullable integers.
_NUMPY_DTYPES = {"source_line": "int32", "paid_days": "Int32", "cumulative_days": "Int32"}


def _constant_date(day: date, n: int) -> pa.Array:
    return pa.array(np.full(n, (day - date(1970, 1, 1)).days, dtype=np.int32), type=pa.date32())


def _pandas(values: pa.Array) -> pd.Series:
    """Arrow -> pandas: text as the `str` dtype, anything else as the Arrow dtype."""
    if pa.types.is_large_string(values.type) or pa.types.is_string(values.type):
        return pd.Series(values.cast(pa.large_string()), dtype="str")
    return pd.Series(pd.arrays.ArrowExtensionArray(values))
