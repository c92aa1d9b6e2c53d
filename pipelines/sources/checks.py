"""What the row validation of both registers shares: the month, the reasons a row is
rejected, the person columns, and the shape of the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.core import identity_codes
from pipelines.sources.csv_reader import LandingFile

REJECT_COLUMNS = ("source", "delivery_month", "source_file", "source_line", "reason")

# The one column where an identity code belongs; it is validated and pseudonymised.
IDENTITY_CODE_COLUMN = "henkilotunnus"

DATE = pd.ArrowDtype(pa.date32())
EUROS = pd.ArrowDtype(pa.decimal128(18, 2))


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


def person_columns(codes: pd.Series, key: str | bytes | identity_codes.Pseudonymiser, problems: Problems, latest_birth: date) -> pd.DataFrame:
    """person_id, birth_date and sex from the identity codes; invalid codes become problems."""
    parsed = identity_codes.parse_series(codes)
    invalid = parsed["reason"].notna().to_numpy()
    for reason in parsed["reason"].dropna().unique():
        problems.add((parsed["reason"] == reason).to_numpy(), reason)
    born_later = ~invalid & (parsed["birth_date"].to_numpy() > np.datetime64(latest_birth, "s"))
    problems.add(born_later, "birth date (from the identity code) is after the delivery month")
    return pd.DataFrame(
        {
            "person_id": identity_codes.pseudonymise_series(parsed["code"], key),
            "birth_date": parsed["birth_date"],
            "sex": parsed["sex"],
        },
        index=codes.index,
    )


def code_in_column_reason(column: str) -> str:
    return f"{column} holds an identity code (only {IDENTITY_CODE_COLUMN} may; the value is not shown)"


def reject_identity_codes_outside_their_column(rows: pd.DataFrame, problems: Problems) -> None:
    """A row with an identity code (any form, see identity_codes.code_like_mask) in any
    column but henkilotunnus is rejected, the reason naming the column and not the value:
    such a value would otherwise reach a raw table as it is (a code as jakso_id becomes
    spell_id). Run before the checks that compare rows (overlaps, duplicates), so that a
    rejected row takes no other row with it."""
    for column in rows.columns:
        if column in (IDENTITY_CODE_COLUMN, "source_line"):
            continue
        problems.add(identity_codes.code_like_mask(rows[column]), code_in_column_reason(column))


def to_dates(values: pd.Series) -> pd.Series:
    """datetime64 -> Arrow date32 (values are datetime.date, NA for NaT)."""
    array = pa.array(values.to_numpy(dtype="datetime64[D]"), type=pa.date32(), from_pandas=True)
    return pd.Series(array.to_pandas(types_mapper=pd.ArrowDtype), index=values.index)


def to_euros(values: pd.Series) -> pd.Series:
    """Normalised decimal strings -> Arrow decimal(18, 2), exactly."""
    array = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True).cast(pa.decimal128(18, 2))
    return pd.Series(array.to_pandas(types_mapper=pd.ArrowDtype), index=values.index)


def build_result(
    *,
    source: str,
    landing: LandingFile,
    delivery_month: date,
    problems: Problems,
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    padded: int = 0,
) -> ValidatedDelivery:
    """Keep the rows without problems (in `columns` order), turn the rest and the
    reader's malformed rows into rejects."""
    keep = ~problems.rejected
    rows = frame.loc[keep].reset_index(drop=True)
    rows.insert(0, "delivery_month", pd.Series([delivery_month] * len(rows), dtype=DATE))
    rows.insert(1, "source_file", pd.Series([landing.name] * len(rows), dtype="str"))
    rows = rows[list(columns)]

    bad_lines = landing.rows["source_line"].to_numpy()[~keep]
    lines = np.concatenate([bad_lines, landing.malformed["source_line"].to_numpy(dtype=np.int64)])
    reasons = np.concatenate([problems.reasons()[~keep], landing.malformed["reason"].to_numpy(dtype=object)])
    order = np.argsort(lines, kind="stable")
    rejects = pd.DataFrame(
        {
            "source": pd.Series([source] * len(lines), dtype="str"),
            "delivery_month": pd.Series([delivery_month] * len(lines), dtype=DATE),
            "source_file": pd.Series([landing.name] * len(lines), dtype="str"),
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
