"""Fault injection: deliberately broken landing files for the ingest's tests.

Each fault touches one file (or adds one), chosen by its position in the range, and draws
from its own random stream, so every other file stays byte-identical to a run without it.
See the package docstring for what each fault does.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipelines.core.identity_codes import CHECK_CHARACTERS

from .landing import STRING, Table

INVALID_HETU_ROWS = 3
REDELIVERY_CHANGED_END_DATES = 3
REDELIVERY_CHANGED_STATUSES = 3


def fault_rng(seed: int, fault: str) -> np.random.Generator:
    """A stream per fault, independent of the simulation's."""
    return np.random.default_rng([seed, sum(ord(char) * 31**i for i, char in enumerate(fault)) % 2**32])


def break_check_characters(
    table: Table, rng: np.random.Generator, count: int = INVALID_HETU_ROWS
) -> tuple[Table, np.ndarray]:
    """Replace the check character of `count` rows by the next one in the alphabet (always wrong)."""
    rows = np.sort(rng.choice(table.rows, size=min(count, table.rows), replace=False))
    codes = table.cells["henkilotunnus"].copy()
    for row in rows:
        code = str(codes[row])
        wrong = CHECK_CHARACTERS[(CHECK_CHARACTERS.index(code[-1]) + 1) % len(CHECK_CHARACTERS)]
        codes[row] = code[:-1] + wrong
    return replace(table, cells={**table.cells, "henkilotunnus": codes}), rows


def add_overlapping_spell(
    table: Table, rng: np.random.Generator, new_spell_id: str, month_first_text: str
) -> tuple[Table, int]:
    """Give one person an extra spell (MUU) lying inside one of their spells.

    The extra spell runs from the later of the chosen spell's start and the month's first day
    to the chosen spell's end (or stays open with it), so it overlaps exactly that spell and
    no other of the person's. Returns the table and the chosen row; the extra row follows it.
    """
    row = int(rng.integers(table.rows))
    start = max(str(table.cells["alkupvm"][row]), month_first_text)  # ISO dates sort as text
    extra = {
        "henkilotunnus": table.cells["henkilotunnus"][row],
        "jakso_id": new_spell_id,
        "alkupvm": start,
        "loppupvm": table.cells["loppupvm"][row],
        "tila": "MUU",
        "palvelu": "",
        "kuntanumero": table.cells["kuntanumero"][row],
    }
    cells = {
        name: np.insert(values, row + 1, np.array([extra[name]], dtype=STRING))
        for name, values in table.cells.items()
    }
    return replace(table, cells=cells), row


def change_for_redelivery(table: Table, rng: np.random.Generator, month_first_text: str) -> tuple[Table, dict]:
    """A corrected copy of a delivery: some spells end earlier, some change status.

    End dates move earlier but stay on or after both the spell's start and the month's first
    day (so the spell still belongs to the month); status changes turn TYOTON into MUU.
    """
    start = table.cells["alkupvm"]
    end = table.cells["loppupvm"]
    status = table.cells["tila"].copy()
    new_end = end.copy()

    start_date = np.array(start.tolist(), dtype="datetime64[D]")
    month_first = np.datetime64(month_first_text)
    closed = np.flatnonzero(end != "")
    end_date = np.array(end[closed].tolist(), dtype="datetime64[D]")
    earliest = np.maximum(start_date[closed], month_first)
    room = (end_date - earliest).astype(np.int64)
    movable = closed[room >= 1]
    ended = np.sort(rng.choice(movable, size=min(REDELIVERY_CHANGED_END_DATES, movable.size), replace=False))
    for row in ended:
        position = int(np.flatnonzero(closed == row)[0])
        shift = int(rng.integers(1, room[position] + 1))
        new_end[row] = str(end_date[position] - np.timedelta64(shift, "D"))

    unemployed = np.setdiff1d(np.flatnonzero(status == "TYOTON"), ended)
    changed = np.sort(rng.choice(unemployed, size=min(REDELIVERY_CHANGED_STATUSES, unemployed.size), replace=False))
    status[changed] = "MUU"
    cells = {**table.cells, "loppupvm": new_end, "tila": status}
    return replace(table, cells=cells), {"end_date_changed": ended.tolist(), "status_changed": changed.tolist()}
