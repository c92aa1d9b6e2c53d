"""Source 1, the jobseeker register's status spells: row validation (docs/source-contracts.md).

`validate_spells` turns the text rows of `tyonhakijat/tyonhakijat_YYYY-MM.csv` into the
columns of `raw.jobseeker_spells` and the rejects. A row is rejected, with every reason
that applies, when

- the identity code is invalid (or gives a birth date after the delivery month);
- any other column holds an identity code, in any form (the reason names the column,
  never the value: such a value would otherwise reach the raw table as it is);
- jakso_id is empty, or appears on more than one row of the file (all of them go);
- alkupvm is empty or not a date, loppupvm is not a date, or ends before alkupvm;
- the spell does not overlap the delivery month (the file holds exactly those);
- tila is not one of the six codes; palvelu is not one of the eight codes, or is
  empty with tila = PALVELU, or set with another tila;
- kuntanumero is not one to three digits (one or two digits get their leading zeros
  back: Excel drops them, and '5' can only be '005');
- the row is one of two or more overlapping spells of one person (all of them go),
  among the rows that passed every check above.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.core.identity_codes import Pseudonymiser
from pipelines.core.months import month_end, month_text, parse_month
from pipelines.core.register_codes import SERVICE_STATUS, SERVICES, STATUSES
from pipelines.core.source_registry import JOBSEEKER_SPELLS
from pipelines.sources import values
from pipelines.sources.checks import (
    Problems,
    ValidatedDelivery,
    build_result,
    is_empty,
    person_columns,
    reject_identity_codes_outside_their_column,
    text_array,
    to_dates,
)
from pipelines.sources.csv_reader import LandingFile

SOURCE = JOBSEEKER_SPELLS.name

COLUMNS = ("henkilotunnus", "jakso_id", "alkupvm", "loppupvm", "tila", "palvelu", "kuntanumero")

RAW_COLUMNS = (
    "delivery_month",
    "source_file",
    "source_line",
    "person_id",
    "birth_date",
    "sex",
    "spell_id",
    "start_date",
    "end_date",
    "status",
    "service",
    "municipality_code",
)

REASON_OVERLAP = "overlapping spells of one person"
REASON_DUPLICATE_ID = "duplicate jakso_id in this delivery"
REASON_NOT_IN_MONTH = "spell does not overlap the delivery month"


def validate_spells(landing: LandingFile, month: str | date, pseudonym_key: str | bytes | Pseudonymiser) -> ValidatedDelivery:
    first = parse_month(month)
    last = month_end(first)
    rows = landing.rows
    problems = Problems(len(rows))

    persons = person_columns(text_array(rows["henkilotunnus"]), pseudonym_key, problems, latest_birth=last)
    reject_identity_codes_outside_their_column(rows, problems)

    spell_id = text_array(rows["jakso_id"])
    problems.add(is_empty(spell_id), "jakso_id is missing")

    start, bad_start = values.parse_dates(rows["alkupvm"])
    end, bad_end = values.parse_dates(rows["loppupvm"])
    problems.add(is_empty(text_array(rows["alkupvm"])), "alkupvm is missing")
    problems.add(bad_start, "alkupvm is not a date (YYYY-MM-DD or D.M.YYYY)")
    problems.add(bad_end, "loppupvm is not a date (YYYY-MM-DD or D.M.YYYY)")
    start_np = start.to_numpy()
    end_np = end.to_numpy()
    problems.add(end_np < start_np, "loppupvm is before alkupvm")  # NaT compares False
    outside = (start_np > np.datetime64(last, "s")) | (end_np < np.datetime64(first, "s"))
    problems.add(outside, REASON_NOT_IN_MONTH + f" {month_text(first)}")

    status = values.normalise_codes(text_array(rows["tila"]))
    is_status = np.asarray(pc.is_in(status, value_set=_STATUSES), dtype=bool)
    problems.add(is_empty(status), "tila is missing")
    problems.add(~is_empty(status) & ~is_status, "tila is not one of " + ", ".join(STATUSES))
    service = values.normalise_codes(text_array(rows["palvelu"]))
    in_service = np.asarray(pc.equal(status, SERVICE_STATUS), dtype=bool)
    has_service = ~is_empty(service)
    problems.add(in_service & ~has_service, "palvelu is missing (required when tila = PALVELU)")
    problems.add(~in_service & has_service & is_status, "palvelu must be empty unless tila = PALVELU")
    problems.add(has_service & ~np.asarray(pc.is_in(service, value_set=_SERVICES), dtype=bool), "palvelu is not one of " + ", ".join(SERVICES))

    municipality, bad_municipality, padded = values.normalise_municipality_codes(rows["kuntanumero"])
    problems.add(is_empty(text_array(rows["kuntanumero"])), "kuntanumero is missing")
    problems.add(bad_municipality, "kuntanumero is not a three-digit municipality code")

    problems.add(_duplicated_ids(spell_id), REASON_DUPLICATE_ID)
    problems.add(_overlapping(persons.numbers, start_np, end_np, ~problems.rejected), REASON_OVERLAP)

    keep = ~problems.rejected
    return build_result(
        source=SOURCE,
        landing=landing,
        delivery_month=first,
        problems=problems,
        columns={
            "source_line": rows["source_line"].to_numpy(dtype=np.int32),
            "person_id": persons.person_id,
            "birth_date": persons.birth_date,
            "sex": persons.sex,
            "spell_id": spell_id,
            "start_date": to_dates(start),
            "end_date": to_dates(end),
            "status": status,
            "service": pc.if_else(has_service, service, None),
            "municipality_code": text_array(municipality),
        },
        raw_columns=RAW_COLUMNS,
        padded=int((padded & keep).sum()),
    )


_STATUSES = pa.array(STATUSES, type=pa.large_string())
_SERVICES = pa.array(SERVICES, type=pa.large_string())


def _duplicated_ids(spell_id: pa.Array) -> np.ndarray:
    """Non-empty ids that appear on more than one row (every such row)."""
    encoded = pc.dictionary_encode(spell_id)
    position = np.asarray(encoded.indices, dtype=np.int64)
    return (np.bincount(position, minlength=len(encoded.dictionary))[position] > 1) & ~is_empty(spell_id)


def _overlapping(person: np.ndarray, start: np.ndarray, end: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Rows whose spell shares a day with another candidate spell of the same person
    (`person`: one number per person, identity_codes.ParsedCodes.numbers).

    Sorted by person and start, a spell starts a new group when it begins after every
    earlier spell of the person has ended; every row of a group of two or more overlaps
    at least one other row of it. (Spells that start on the same day are in one group
    whichever comes first, so the order of such ties does not matter.)
    """
    result = np.zeros(len(start), dtype=bool)
    positions = np.flatnonzero(candidate)
    if len(positions) < 2:
        return result
    # A person with one candidate spell overlaps nothing: only the others are sorted.
    by_person = np.argsort(person[positions])
    persons = person[positions][by_person]
    same = persons[1:] == persons[:-1]
    shared = np.zeros(len(persons), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    positions = positions[by_person[shared]]
    if len(positions) < 2:
        return result
    rank = np.cumsum(np.concatenate([[True], person[positions][1:] != person[positions][:-1]])) - 1
    first_day = start[positions].astype("datetime64[D]").astype(np.int64)
    last = end[positions].astype("datetime64[D]")
    last_day = np.where(np.isnat(last), np.iinfo(np.int32).max, last.astype(np.int64))
    # one sort by (person, first day): the person's rank above the day (days fit 23 bits)
    order = np.argsort(rank * (1 << 23) + (first_day - _FIRST_DAY))
    person, first_day, last_day = rank[order], first_day[order], last_day[order]
    same_person = np.concatenate([[False], person[1:] == person[:-1]])
    # running maximum of the end day within each person: offset each person above the last
    offset = person * (2 * np.int64(np.iinfo(np.int32).max) + 2)
    reach = np.maximum.accumulate(last_day - np.int64(np.iinfo(np.int32).min) + offset) - offset
    reach = reach + np.int64(np.iinfo(np.int32).min)
    new_group = ~same_person | (first_day > np.concatenate([[0], reach[:-1]]))
    group = np.cumsum(new_group)
    size = np.bincount(group)[group]
    result[positions[order[size > 1]]] = True
    return result


# The first day a date of the files can be (0001-01-01), in days since 1970-01-01.
_FIRST_DAY = np.datetime64("0001-01-01", "D").astype(np.int64)
