"""Kela's labour market subsidy (TMT) payments, derived from the simulated unemployment.

A person who receives TMT is paid for the weekdays (Monday-Friday, holidays included, as
Kela pays five days a week) of their TYOTON spells. One row per person, municipality and
month; a person who moved during the month has a row per municipality, in the order lived,
so their counters follow one another. The counter `kertyneet_paivat` starts from the days
paid before the simulation and grows by every row's days; it never decreases.

The municipal share follows the rule by payment period (docs/kela-share-rules.md): the rate is decided by
the counter before the period (`kertyneet - maksetut`), in whole cents rounded half away
from zero. About 0.2 % of rows are followed next month by a recovery: a row with no days, a
negative amount and the matching negative share (same counter, so the counter rule holds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import parameters as p
from .dates import month_first_day, month_last_day, month_of_days, weekday_prefix
from .engine import Simulation


@dataclass(frozen=True)
class TmtPayments:
    """One row per payment period, sorted by (month, person, order within the month)."""

    person: np.ndarray
    month: np.ndarray
    municipality: np.ndarray
    paid_days: np.ndarray
    cumulative_days: np.ndarray
    paid_cents: np.ndarray
    share_cents: np.ndarray

    @property
    def size(self) -> int:
        return self.person.size


def municipal_share_percent(month: np.ndarray, counter_before: np.ndarray) -> np.ndarray:
    """The rate by period (docs/kela-share-rules.md): 2006-2014 50 % from 500 days; 2015-2024 50 % from 300,
    70 % from 1000; nothing before 2006 and (no rule yet) from 2025."""
    month = np.asarray(month)
    counter_before = np.asarray(counter_before)
    first_rule = (month >= 2006 * 12) & (month <= 2014 * 12 + 11)
    second_rule = (month >= 2015 * 12) & (month <= 2024 * 12 + 11)
    percent = np.zeros(np.broadcast(month, counter_before).shape, dtype=np.int64)
    percent = np.where(first_rule & (counter_before >= 500), 50, percent)
    percent = np.where(second_rule & (counter_before >= 300), 50, percent)
    percent = np.where(second_rule & (counter_before >= 1000), 70, percent)
    return percent


def municipal_share_cents(paid_cents: np.ndarray, percent: np.ndarray) -> np.ndarray:
    """percent x amount, rounded half away from zero to the cent (exact integer arithmetic)."""
    magnitude = (np.abs(paid_cents) * percent + 50) // 100
    return np.sign(paid_cents) * magnitude


def daily_rate_cents(persons_rate_permille: np.ndarray, child_cents: np.ndarray, month: np.ndarray) -> np.ndarray:
    years = np.array(sorted(p.TMT_DAILY_EUR))
    base = np.array([round(p.TMT_DAILY_EUR[year] * 100) for year in years], dtype=np.int64)
    index = np.clip(np.asarray(month) // 12 - years[0], 0, years.size - 1)
    return (base[index] * persons_rate_permille + 500) // 1000 + child_cents


def derive_payments(simulation: Simulation, first_month: int, last_month: int, rng: np.random.Generator) -> TmtPayments:
    persons, spells = simulation.persons, simulation.spells
    out_first, out_last = month_first_day(first_month), month_last_day(last_month)
    chosen = np.flatnonzero(
        (spells.status == p.TYOTON) & persons.receives_tmt[spells.person] & (spells.start <= out_last)
    )
    person = spells.person[chosen]
    start = spells.start[chosen]
    end = np.minimum(spells.end[chosen], out_last)
    municipality = spells.municipality[chosen]

    origin = int(min(start.min(initial=out_first), out_first))
    prefix = weekday_prefix(origin, out_last)

    def weekdays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(b >= a, prefix[np.maximum(b, a - 1) + 1 - origin] - prefix[a - origin], 0)

    # Days paid before the first delivery still count towards the counter.
    paid_before = np.bincount(person, weights=weekdays(start, np.minimum(end, out_first - 1)), minlength=persons.size)
    counter_at_start = persons.prior_tmt_days + paid_before.astype(np.int64)

    rows = _monthly_rows(person, np.maximum(start, out_first), end, municipality, weekdays)
    row_person, row_month, row_municipality, row_days, row_order = rows
    cumulative = counter_at_start[row_person] + _cumsum_within(row_person, row_days)
    rate = daily_rate_cents(persons.rate_permille[row_person], persons.child_increment_cents[row_person], row_month)
    paid = row_days * rate

    corrections = _recoveries(rng, row_person, row_month, row_municipality, cumulative, persons, last_month)
    person_all = np.concatenate([row_person, corrections[0]])
    month_all = np.concatenate([row_month, corrections[1]])
    municipality_all = np.concatenate([row_municipality, corrections[2]])
    days_all = np.concatenate([row_days, np.zeros(corrections[0].size, dtype=np.int64)])
    cumulative_all = np.concatenate([cumulative, corrections[3]])
    paid_all = np.concatenate([paid, corrections[4]])
    # A recovery is booked at the start of its month, before any payment of that month.
    order_all = np.concatenate([row_order, _month_start_days(corrections[1])])

    percent = municipal_share_percent(month_all, cumulative_all - days_all)
    share = municipal_share_cents(paid_all, percent)
    order = np.lexsort((order_all, person_all, month_all))
    return TmtPayments(
        person=person_all[order],
        month=month_all[order],
        municipality=municipality_all[order],
        paid_days=days_all[order],
        cumulative_days=cumulative_all[order],
        paid_cents=paid_all[order],
        share_cents=share[order],
    )


def _month_start_days(months: np.ndarray) -> np.ndarray:
    return (months - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _monthly_rows(person, start, end, municipality, weekdays):
    """Split spells into (spell, month) pieces, sum pieces per person, month and municipality.

    Returns rows sorted by (person, month, first day in the month) and that first day.
    """
    valid = end >= start
    person, start, end, municipality = person[valid], start[valid], end[valid], municipality[valid]
    first_month = month_of_days(start)
    month_count = month_of_days(end) - first_month + 1
    piece_of = np.repeat(np.arange(person.size), month_count)
    offset = np.arange(piece_of.size) - np.repeat(np.cumsum(month_count) - month_count, month_count)
    month = first_month[piece_of] + offset
    low = np.maximum(start[piece_of], _month_start_days(month))
    high = np.minimum(end[piece_of], _month_start_days(month + 1) - 1)
    days = weekdays(low, high)
    paid = days > 0
    piece_person, month, low, days = person[piece_of][paid], month[paid], low[paid], days[paid]
    piece_municipality = municipality[piece_of][paid]

    # Two stays in the same municipality within a month are one payment row.
    order = np.lexsort((low, piece_municipality, month, piece_person))
    key_person, key_month, key_muni = piece_person[order], month[order], piece_municipality[order]
    changes = (key_person[1:] != key_person[:-1]) | (key_month[1:] != key_month[:-1]) | (key_muni[1:] != key_muni[:-1])
    new_group = np.r_[True, changes]
    starts = np.flatnonzero(new_group)
    row_days = np.add.reduceat(days[order], starts) if starts.size else np.zeros(0, dtype=np.int64)
    row_low = np.minimum.reduceat(low[order], starts) if starts.size else np.zeros(0, dtype=np.int64)
    row_person, row_month, row_muni = key_person[starts], key_month[starts], key_muni[starts]
    # The order lived decides the order of a mover's rows (and so their counters).
    final = np.lexsort((row_low, row_month, row_person))
    return (
        row_person[final].astype(np.int64),
        row_month[final].astype(np.int64),
        row_muni[final].astype(np.int64),
        row_days[final].astype(np.int64),
        row_low[final].astype(np.int64),
    )


def _cumsum_within(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sum of values within runs of equal (sorted) group keys."""
    total = np.cumsum(values)
    first = np.r_[True, group[1:] != group[:-1]]
    block_start_total = (total - values)[first]
    block_index = np.cumsum(first) - 1
    return total - block_start_total[block_index]


def _recoveries(rng, person, month, municipality, cumulative, persons, last_month):
    """Correction rows for about CORRECTION_SHARE of the payment rows.

    A recovery goes into the month after a person's last row of a month when that person
    has no payment in that next month, so that no (person, municipality, month) key repeats.
    """
    same_person_next = np.r_[person[1:] == person[:-1], False]
    next_month = np.r_[month[1:], -1]
    last_of_month = ~(same_person_next & (next_month == month))
    paid_next_month = same_person_next & (next_month == month + 1)
    candidate = np.flatnonzero(last_of_month & ~paid_next_month & (month < last_month))
    share = p.CORRECTION_SHARE * person.size / max(candidate.size, 1)
    picked = candidate[rng.random(candidate.size) < share]
    recovery_month = month[picked] + 1
    days_recovered = rng.integers(1, 6, picked.size)
    who = person[picked]
    rate = daily_rate_cents(persons.rate_permille[who], persons.child_increment_cents[who], recovery_month)
    return (
        person[picked],
        recovery_month,
        municipality[picked],
        cumulative[picked],
        -(days_recovered * rate),
    )
