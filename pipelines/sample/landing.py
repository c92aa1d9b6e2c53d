"""Landing files: format the simulated register and payments as the CSV files of docs/source-contracts.md.

Formatting is vectorised (numpy string arrays), so a national month of some 600,000 rows
takes about a second. A table is kept as formatted columns until it is written, which lets
the fault injection change single cells or drop a column before serialisation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipelines.core.source_registry import JOBSEEKER_SPELLS, KELA_PAYMENTS

from . import parameters as p
from .dates import month_first_day, month_label, month_last_day
from .engine import Simulation
from .kela import TmtPayments

STRING = np.dtypes.StringDType()

JOBSEEKER_COLUMNS = ("henkilotunnus", "jakso_id", "alkupvm", "loppupvm", "tila", "palvelu", "kuntanumero")
KELA_COLUMNS = (
    "henkilotunnus",
    "maksukuukausi",
    "kuntanumero",
    "etuus",
    "maksetut_paivat",
    "kertyneet_paivat",
    "maksettu_eur",
    "kuntaosuus_eur",
)


@dataclass(frozen=True)
class Dialect:
    """How values are spelled: today's UTF-8 export, or a legacy Windows-1252 one."""

    finnish_dates: bool = False
    decimal_comma: bool = False
    encoding: str = "utf-8"
    line_end: str = "\n"


MODERN = Dialect()
LEGACY = Dialect(finnish_dates=True, decimal_comma=True, encoding="cp1252", line_end="\r\n")


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    cells: dict[str, np.ndarray]  # column -> StringDType array, one value per row
    dialect: Dialect = MODERN

    @property
    def rows(self) -> int:
        return len(next(iter(self.cells.values()))) if self.cells else 0

    def without(self, column: str) -> Table:
        columns = tuple(name for name in self.columns if name != column)
        return replace(self, columns=columns, cells={name: self.cells[name] for name in columns})

    def to_bytes(self) -> bytes:
        lines = self.cells[self.columns[0]]
        for name in self.columns[1:]:
            lines = np.strings.add(np.strings.add(lines, ";"), self.cells[name])
        end = self.dialect.line_end
        text = ";".join(self.columns) + end + "".join(f"{line}{end}" for line in lines.tolist())
        return text.encode(self.dialect.encoding)


# --- value formatting -------------------------------------------------------------------


def format_days(days: np.ndarray, dialect: Dialect) -> np.ndarray:
    dates = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    if not dialect.finnish_dates:
        return np.datetime_as_string(dates, unit="D").astype(STRING)
    year = (dates.astype("datetime64[Y]").astype(np.int64) + 1970).astype(STRING)
    month_start = dates.astype("datetime64[M]")
    month = (month_start.astype(np.int64) % 12 + 1).astype(STRING)
    day = ((dates - month_start).astype(np.int64) + 1).astype(STRING)
    return np.strings.add(np.strings.add(np.strings.add(np.strings.add(day, "."), month), "."), year)


def format_cents(cents: np.ndarray, dialect: Dialect) -> np.ndarray:
    cents = np.asarray(cents, dtype=np.int64)
    magnitude = np.abs(cents)
    whole = (magnitude // 100).astype(STRING)
    fraction = np.strings.zfill((magnitude % 100).astype(STRING), 2)
    sign = np.where(cents < 0, "-", "").astype(STRING)
    separator = "," if dialect.decimal_comma else "."
    return np.strings.add(np.strings.add(np.strings.add(sign, whole), separator), fraction)


def _lookup(values: tuple[str, ...], index: np.ndarray) -> np.ndarray:
    return np.array(values, dtype=STRING)[np.asarray(index)]


# --- tables -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Register:
    """What the tables need besides the simulation: identity codes and spell ids."""

    simulation: Simulation
    identity_codes: np.ndarray  # StringDType, per person ("" for persons never delivered)
    spell_ids: np.ndarray  # StringDType, per spell ("" for spells never delivered)


def jobseeker_table(register: Register, month: int, dialect: Dialect = MODERN) -> Table:
    """Delivery `month`: every spell overlapping it, as the register stood at its end."""
    spells = register.simulation.spells
    first, last = month_first_day(month), month_last_day(month)
    rows = np.flatnonzero((spells.start <= last) & (spells.end >= first))
    status = spells.status[rows]
    service = spells.service[rows]
    end = spells.end[rows]
    # A spell still running at the end of the month has no end date in this delivery.
    end_text = np.where(end <= last, format_days(np.minimum(end, last), dialect), "").astype(STRING)
    service_text = np.where(service >= 0, _lookup(p.SERVICE_CODES, np.maximum(service, 0)), "").astype(STRING)
    codes = register.simulation.geography.codes
    return Table(
        JOBSEEKER_COLUMNS,
        {
            "henkilotunnus": register.identity_codes[spells.person[rows]],
            "jakso_id": register.spell_ids[rows],
            "alkupvm": format_days(spells.start[rows], dialect),
            "loppupvm": end_text,
            "tila": _lookup(p.STATUS_CODES, status),
            "palvelu": service_text,
            "kuntanumero": _lookup(codes, spells.municipality[rows]),
        },
        dialect,
    )


def kela_table(register: Register, payments: TmtPayments, month: int, dialect: Dialect = MODERN) -> Table:
    rows = np.flatnonzero(payments.month == month)
    codes = register.simulation.geography.codes
    count = rows.size
    return Table(
        KELA_COLUMNS,
        {
            "henkilotunnus": register.identity_codes[payments.person[rows]],
            "maksukuukausi": np.full(count, month_label(month), dtype=STRING),
            "kuntanumero": _lookup(codes, payments.municipality[rows]),
            "etuus": np.full(count, "TMT", dtype=STRING),
            "maksetut_paivat": payments.paid_days[rows].astype(STRING),
            "kertyneet_paivat": payments.cumulative_days[rows].astype(STRING),
            "maksettu_eur": format_cents(payments.paid_cents[rows], dialect),
            "kuntaosuus_eur": format_cents(payments.share_cents[rows], dialect),
        },
        dialect,
    )


def jobseeker_path(month: int) -> Path:
    return Path(JOBSEEKER_SPELLS.relative_path(month_label(month)))


def kela_path(month: int) -> Path:
    return Path(KELA_PAYMENTS.relative_path(month_label(month)))


def write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target and rename, so a watcher never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_bytes(content)
    os.replace(temporary, path)
