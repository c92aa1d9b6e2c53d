"""The vectorised simulation: persons, and their episodes in the register.

Every person's history is a chain of episodes (see `parameters.py`). The engine advances
all persons together in rounds: round k draws the k-th episode of every person who is
still within the simulated period, so each round is a handful of numpy operations over
an array of persons, and the cost grows with the number of episodes, not of days. The
same code serves Kainuu (some 10,000 registered at a time) and the national scale
(some 450,000).

A move to another municipality splits an episode into two spells that touch, with the
same status (and service); the person then lives in the new municipality. People who
are in the register when the simulation starts have their first episode drawn
length-biased and backdated, so that long spells and runs exist from the first day.

Two populations share the municipalities: the modelled one (an initial stock and newcomers
following the calendar of parameters.py) and, when a fitted inflow is given
(`fitted_inflow.py`), short-term newcomers whose number per day and municipality comes
from that table. Each draws from its own random streams, so refitting the table never
changes a single modelled person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import parameters as p
from .dates import add_years_to_days, month_of_days, parse_month
from .fitted_inflow import FittedInflow
from .geography import Geography

_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Persons:
    person_type: np.ndarray  # int8, parameters.CHRONIC ...
    birth_day: np.ndarray  # int64 day number
    male: np.ndarray  # bool
    receives_tmt: np.ndarray  # bool: paid labour market subsidy when unemployed
    prior_tmt_days: np.ndarray  # int64: TMT days paid before the simulation / entry
    rate_permille: np.ndarray  # int64: share of the full TMT paid (means testing)
    child_increment_cents: np.ndarray  # int64: per day
    fitted: np.ndarray  # bool: a newcomer of the fitted short-term inflow (fitted_inflow.py)

    @property
    def size(self) -> int:
        return self.person_type.size

    def followed_by(self, other: Persons) -> Persons:
        """Both populations, `other`'s persons numbered after this one's."""
        return Persons(**{name: np.concatenate([getattr(self, name), getattr(other, name)]) for name in _PERSON_FIELDS})


_PERSON_FIELDS = tuple(Persons.__dataclass_fields__)


@dataclass(frozen=True)
class Spells:
    """Register spells sorted by (person, start). `end` may lie beyond the simulation."""

    person: np.ndarray  # int64
    start: np.ndarray  # int64 day
    end: np.ndarray  # int64 day, inclusive
    status: np.ndarray  # int8, parameters.TYOTON ...
    service: np.ndarray  # int8, index into SERVICE_CODES, -1 unless PALVELU
    municipality: np.ndarray  # int64, index into Geography.codes

    @property
    def size(self) -> int:
        return self.person.size


@dataclass(frozen=True)
class Simulation:
    persons: Persons
    spells: Spells
    first_day: int
    last_day: int
    geography: Geography


class CalendarEffects:
    """The calendar multipliers of parameters.CALENDAR_KNOTS, looked up by day, and the local
    ones of parameters.LOCAL_KNOTS, looked up by day and municipality."""

    def __init__(self, geography: Geography) -> None:
        self._knots = {name: _knot_arrays(knots) for name, knots in p.CALENDAR_KNOTS.items()}
        self._local = {
            (geography.codes.index(code), name): _knot_arrays(knots)
            for code, effects in p.LOCAL_KNOTS.items()
            if code in geography.codes
            for name, knots in effects.items()
        }

    def at(self, name: str, days: np.ndarray) -> np.ndarray:
        months, values = self._knots[name]
        return np.interp(month_of_days(np.asarray(days)).astype(float), months, values)

    def local(self, name: str, municipality: np.ndarray, days: np.ndarray) -> np.ndarray:
        """1 where a municipality has no such local effect."""
        factor = np.ones(np.shape(days))
        for (index, effect), (months, values) in self._local.items():
            here = (municipality == index) if effect == name else np.zeros(factor.shape, dtype=bool)
            if here.any():
                factor[here] = np.interp(month_of_days(np.asarray(days)[here]).astype(float), months, values)
        return factor


def _knot_arrays(knots: tuple[tuple[str, float], ...]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([parse_month(month) for month, _ in knots], dtype=float), np.array([value for _, value in knots])


@dataclass(frozen=True)
class FittedNewcomers:
    """The fitted short-term inflow and the random streams its newcomers draw from."""

    inflow: FittedInflow
    rng: np.random.Generator
    benefit_rng: np.random.Generator


def simulate(
    geography: Geography,
    first_day: int,
    last_day: int,
    rng: np.random.Generator,
    benefit_rng: np.random.Generator,
    fitted: FittedNewcomers | None = None,
) -> Simulation:
    """Simulate the register from `first_day` to `last_day` (inclusive).

    Benefit attributes draw from `benefit_rng`, so that tuning the Kela side never changes
    the register.
    """
    calendar = CalendarEffects(geography)
    population = _create_population(geography, first_day, last_day, rng, benefit_rng, calendar)
    episodes = _run_episodes(population, geography, first_day, last_day, rng, calendar)
    persons = population.persons
    if fitted is not None:
        newcomers = _create_fitted_newcomers(geography, fitted, first_day, last_day)
        if newcomers.persons.size:
            more = _run_episodes(newcomers, geography, first_day, last_day, fitted.rng, calendar, register_once=True)
            more["person"] = more["person"] + persons.size
            episodes = {name: np.concatenate([episodes[name], more[name]]) for name in episodes}
            persons = persons.followed_by(newcomers.persons)
    spells = _split_moves(episodes, last_day)
    return Simulation(persons, spells, first_day, last_day, geography)


# --- population -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Population:
    persons: Persons
    entry_day: np.ndarray
    entry_status: np.ndarray
    home: np.ndarray
    in_initial_stock: np.ndarray
    retire_day: np.ndarray


def _draw_category(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of a (n, k) weight matrix; rows need not be normalised."""
    cumulative = np.cumsum(weights, axis=1)
    threshold = rng.random(weights.shape[0]) * cumulative[:, -1]
    return (threshold[:, None] >= cumulative).sum(axis=1).clip(max=weights.shape[1] - 1)


def _create_population(
    geography: Geography,
    first_day: int,
    last_day: int,
    rng: np.random.Generator,
    benefit_rng: np.random.Generator,
    calendar: CalendarEffects,
) -> _Population:
    """The modelled population: the hard-to-employ, registered at the start or arriving
    later. (The short-term jobseekers are the fitted newcomers, `_create_fitted_newcomers`.)"""
    # Hard regions have more hard-to-employ people (at national scale; Kainuu's hardship is 1).
    presence = geography.inflow_weight * geography.hardship
    scale = presence.sum()

    # Those registered when the simulation starts.
    stock_size = int(round(p.KAINUU_INITIAL_STOCK * scale))
    stock_day = np.full(stock_size, first_day, dtype=np.int64)
    # Newcomers: a Poisson number per day, following the business cycle.
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    daily_rate = p.KAINUU_ENTRANTS_PER_DAY * scale * calendar.at("inflow", days)
    entrant_day = np.repeat(days, rng.poisson(daily_rate))

    entry_day = np.concatenate([stock_day, entrant_day])
    in_stock = np.zeros(entry_day.size, dtype=bool)
    in_stock[:stock_size] = True
    home = rng.choice(geography.size, size=entry_day.size, p=presence / scale)
    person_type = np.full(entry_day.size, p.CHRONIC, dtype=np.int8)
    return _with_attributes(entry_day, in_stock, home, person_type, rng, benefit_rng, fitted=False)


def _create_fitted_newcomers(
    geography: Geography, fitted: FittedNewcomers, first_day: int, last_day: int
) -> _Population:
    """Newcomers of the short-term types: a Poisson number per day and municipality, at the
    fitted rate of the day's month."""
    rng = fitted.rng
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    months = month_of_days(days)
    month_range = np.arange(months[0], months[-1] + 1)
    daily_rate = fitted.inflow.for_geography(geography, month_range)[months - months[0]]  # (days, municipalities)
    counts = rng.poisson(daily_rate)
    entry_day = np.repeat(np.repeat(days, geography.size), counts.ravel())
    home = np.repeat(np.tile(np.arange(geography.size), days.size), counts.ravel())
    n = entry_day.size
    person_type = _draw_category(rng, np.broadcast_to(p.FITTED_TYPE_MIX, (n, p.N_TYPES))).astype(np.int8)
    return _with_attributes(entry_day, np.zeros(n, dtype=bool), home, person_type, rng, fitted.benefit_rng, fitted=True)


def _with_attributes(
    entry_day: np.ndarray,
    in_stock: np.ndarray,
    home: np.ndarray,
    person_type: np.ndarray,
    rng: np.random.Generator,
    benefit_rng: np.random.Generator,
    *,
    fitted: bool,
) -> _Population:
    """Age, sex, status at entry and benefit attributes of persons whose entry is drawn."""
    n = entry_day.size
    age_table = np.where(in_stock[:, None], p.STOCK_AGE[person_type], p.ENTRY_AGE[person_type])
    young = rng.random(n) < age_table[:, 0]
    adult_age = np.clip(rng.normal(age_table[:, 1], age_table[:, 2]), 25.0, p.MAX_ENTRY_AGE)
    age_years = np.where(young, rng.uniform(p.MIN_AGE, 25.0, n), adult_age)
    birth_day = entry_day - np.round(age_years * _DAYS_PER_YEAR).astype(np.int64)
    retirement_years = rng.integers(p.RETIREMENT_AGE[0], p.RETIREMENT_AGE[1] + 1, n)
    retire_day = add_years_to_days(birth_day, retirement_years)

    male = rng.random(n) < p.MALE_SHARE[person_type]
    status_mix = np.where(in_stock[:, None], p.STOCK_STATUS_MIX[person_type], p.ENTRY_STATUS_MIX[person_type])
    entry_status = _draw_category(rng, status_mix).astype(np.int8)

    tmt_share = np.where(young & (person_type != p.SEASONAL), p.TMT_SHARE_YOUNG, p.TMT_SHARE[person_type])
    receives_tmt = benefit_rng.random(n) < tmt_share
    counter_table = np.where(
        in_stock[:, None], p.PRIOR_COUNTER_STOCK[person_type], p.PRIOR_COUNTER_ENTRANT[person_type]
    )
    prior = np.round(benefit_rng.gamma(counter_table[:, 0], 1.0) * counter_table[:, 1]).astype(np.int64)
    prior = np.where(receives_tmt & ~young, prior, 0)
    partial = benefit_rng.random(n) < p.PARTIAL_TMT_SHARE
    rate_permille = np.where(partial, benefit_rng.integers(*p.PARTIAL_TMT_PERMILLE, n, endpoint=True), 1000)
    has_children = (benefit_rng.random(n) < p.CHILD_INCREMENT_SHARE) & (age_years >= 25) & (age_years <= 50)
    child_cents = np.where(has_children, benefit_rng.choice(np.array(p.CHILD_INCREMENT_CENTS), n), 0)

    persons = Persons(
        person_type=person_type,
        birth_day=birth_day,
        male=male,
        receives_tmt=receives_tmt,
        prior_tmt_days=prior,
        rate_permille=rate_permille.astype(np.int64),
        child_increment_cents=child_cents.astype(np.int64),
        fitted=np.full(n, fitted),
    )
    return _Population(persons, entry_day, entry_status, home, in_stock, retire_day)


# --- episodes ---------------------------------------------------------------------------


class _Episodes:
    """Columns of the recorded episodes, collected round by round."""

    COLUMNS = ("person", "start", "end", "status", "service", "municipality", "move_day", "destination")

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = {name: [] for name in self.COLUMNS}

    def append(self, **columns: np.ndarray) -> None:
        for name in self.COLUMNS:
            self._parts[name].append(columns[name])

    def concatenated(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(parts) for name, parts in self._parts.items()}


def _age_factor(age_years: np.ndarray) -> np.ndarray:
    factor = np.ones_like(age_years)
    for low, high, value in p.AGE_DURATION_FACTOR:
        factor = np.where((age_years >= low) & (age_years < high), value, factor)
    return factor


def _draw_duration(
    rng: np.random.Generator,
    status: np.ndarray,
    person_type: np.ndarray,
    service: np.ndarray,
    start: np.ndarray,
    age_years: np.ndarray,
    length_biased: np.ndarray,
    municipality: np.ndarray,
    calendar: CalendarEffects,
) -> np.ndarray:
    in_service = status == p.PALVELU
    safe_service = np.where(in_service, service, 0)
    median = np.where(in_service, p.SERVICE_DURATION[safe_service, 0], p.DURATION_MEDIAN[status, person_type])
    sigma = np.where(in_service, p.SERVICE_DURATION[safe_service, 1], p.DURATION_SIGMA[status, person_type])
    unemployed = status == p.TYOTON
    cyclical = unemployed & (person_type <= p.CYCLIC)
    median = np.where(cyclical, median * calendar.at("unemployment_duration", start), median)
    short_term = unemployed & (person_type > p.CYCLIC)
    median = np.where(short_term, median * calendar.at("short_term_duration", start), median)
    median = np.where(unemployed, median * _age_factor(age_years), median)
    # A local employment programme keeps the hard-to-employ it took on away for longer.
    away = (status == p.AWAY) & (person_type <= p.CYCLIC)
    median = np.where(away, median * calendar.local("away_duration", municipality, start), median)
    # Someone found in the register on a given day is more likely to be in a long episode.
    mu = np.log(median) + np.where(length_biased, sigma**2, 0.0)
    days = np.ceil(np.exp(mu + sigma * rng.standard_normal(status.size)))
    return np.clip(days, 1, p.MAX_EPISODE_DAYS).astype(np.int64)


def _draw_next_status(
    rng: np.random.Generator,
    status: np.ndarray,
    person_type: np.ndarray,
    decision_day: np.ndarray,
    municipality: np.ndarray,
    calendar: CalendarEffects,
) -> np.ndarray:
    weights = p.TRANSITIONS[person_type, status].copy()
    from_unemployment = status == p.TYOTON
    weights[from_unemployment, p.PALVELU] *= calendar.at("service", decision_day[from_unemployment])
    # Activation years: more of the hard-to-employ leave unemployment for work.
    activated = from_unemployment & (person_type <= p.CYCLIC)
    activation = calendar.at("activation", decision_day[activated])
    activation = activation * calendar.local("activation", municipality[activated], decision_day[activated])
    weights[activated, p.AWAY] *= activation
    weights[activated, p.TYOLLINEN] *= activation
    # A recession lays off more people, from any status.
    weights[:, p.LOMAUTETTU] *= calendar.at("layoff", decision_day)
    return _draw_category(rng, weights).astype(np.int8)


def _draw_service(
    rng: np.random.Generator, person_type: np.ndarray, start: np.ndarray, previous: np.ndarray
) -> np.ndarray:
    """The service of a new placement; never the same as the placement just ended."""
    weights = p.SERVICE_WEIGHTS[person_type].copy()
    before_study_benefit = month_of_days(start) < p.OMAEHTOINEN_FROM_MONTH
    weights[before_study_benefit, p.OMAEHTOINEN] = 0.0
    had_previous = previous >= 0
    weights[np.flatnonzero(had_previous), previous[had_previous]] = 0.0
    return _draw_category(rng, weights).astype(np.int8)


class _Destinations:
    """Where movers go: mostly within their region at national scale, by inflow weight."""

    def __init__(self, geography: Geography) -> None:
        self._region_of = geography.region_of
        self._order = np.lexsort((np.arange(geography.size), geography.region_of))
        sorted_weights = geography.inflow_weight[self._order]
        self._cumulative = np.cumsum(sorted_weights)
        regions = geography.region_of[self._order]
        n_regions = int(geography.region_of.max()) + 1
        self._block_start = np.searchsorted(regions, np.arange(n_regions), side="left")
        self._block_end = np.searchsorted(regions, np.arange(n_regions), side="right")

    def draw(self, rng: np.random.Generator, current: np.ndarray) -> np.ndarray:
        region = self._region_of[current]
        within = rng.random(current.size) < p.MOVE_WITHIN_REGION
        low = np.where(within, self._block_start[region], 0)
        high = np.where(within, self._block_end[region], self._cumulative.size)
        base = np.where(low > 0, self._cumulative[np.maximum(low - 1, 0)], 0.0)
        target = base + rng.random(current.size) * (self._cumulative[high - 1] - base)
        index = np.searchsorted(self._cumulative, target, side="right")
        return self._order[np.clip(index, low, high - 1)]


def _run_episodes(
    population: _Population,
    geography: Geography,
    first_day: int,
    last_day: int,
    rng: np.random.Generator,
    calendar: CalendarEffects,
    *,
    register_once: bool = False,
) -> dict[str, np.ndarray]:
    """The episodes of every person, round by round. With `register_once`, a person who
    leaves the register (AWAY) never comes back: the fitted newcomers stand for one
    registration each, so that a month's newcomers leave their mark on the months just
    after it and not, by returning, on years to come."""
    persons = population.persons
    n = persons.size
    status = population.entry_status.copy()
    next_start = population.entry_day.copy()
    municipality = population.home.copy()
    service = np.full(n, -1, dtype=np.int8)
    entering_service = status == p.PALVELU
    service[entering_service] = _draw_service(
        rng, persons.person_type[entering_service], next_start[entering_service], service[entering_service]
    )
    length_biased = population.in_initial_stock.copy()
    destinations = _Destinations(geography)
    earliest_start = persons.birth_day + int(16 * _DAYS_PER_YEAR)
    episodes = _Episodes()

    active = np.arange(n)
    while active.size:
        person_type = persons.person_type[active]
        current = status[active]
        start = next_start[active]
        retire = population.retire_day[active]
        age_years = (start - persons.birth_day[active]) / _DAYS_PER_YEAR
        biased = length_biased[active]

        home = municipality[active]
        duration = _draw_duration(rng, current, person_type, service[active], start, age_years, biased, home, calendar)
        # The initial stock's first episode is already under way: backdate its start.
        elapsed = np.floor(rng.random(active.size) * duration).astype(np.int64)
        start = np.where(biased, np.maximum(start - elapsed, earliest_start[active]), start)
        end = start + duration - 1
        # Old-age pension ends the history: the last episode stops the day before it.
        retiring = end >= retire - 1
        end = np.where(retiring, np.maximum(retire - 1, start), end)

        following = _draw_next_status(rng, current, person_type, end, home, calendar)
        if register_once:
            following = np.where(following == p.AWAY, p.EXIT, following)
        following = np.where(retiring | (start >= retire), p.EXIT, following)

        recorded = (current <= p.MUU) & (start < retire)
        moved, move_day, destination = _draw_moves(rng, destinations, municipality[active], start, end, recorded)
        episodes.append(
            person=active[recorded],
            start=start[recorded],
            end=end[recorded],
            status=current[recorded],
            service=np.where(current == p.PALVELU, service[active], -1)[recorded].astype(np.int8),
            municipality=municipality[active][recorded],
            move_day=np.where(moved, move_day, -1)[recorded],
            destination=destination[recorded],
        )
        new_home = np.where(moved, destination, municipality[active])
        # Some come back to the register in another municipality after a long absence.
        returning = (current == p.AWAY) & (following <= p.MUU)
        relocate = returning & (rng.random(active.size) < p.MOVE_ON_RETURN)
        new_home = np.where(relocate, destinations.draw(rng, new_home), new_home)
        municipality[active] = new_home

        new_service = np.full(active.size, -1, dtype=np.int8)
        entering = following == p.PALVELU
        previous = np.where(current == p.PALVELU, service[active], -1).astype(np.int64)
        new_service[entering] = _draw_service(rng, person_type[entering], end[entering] + 1, previous[entering])
        service[active] = new_service
        status[active] = following
        next_start[active] = end + 1
        length_biased[active] = False
        active = active[(following != p.EXIT) & (end + 1 <= last_day)]
    return episodes.concatenated()


def _draw_moves(
    rng: np.random.Generator,
    destinations: _Destinations,
    home: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    recorded: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether an episode is split by a move, on which day the new spell starts, and where to."""
    length = end - start + 1
    probability = 1.0 - np.exp(-length / 365.0 * p.MOVE_RATE_PER_YEAR)
    moved = recorded & (length >= 2) & (rng.random(start.size) < probability)
    move_day = start + 1 + np.floor(rng.random(start.size) * (length - 1)).astype(np.int64)
    destination = destinations.draw(rng, home)
    moved &= destination != home
    return moved, move_day, np.where(moved, destination, home)


def _split_moves(episodes: dict[str, np.ndarray], last_day: int) -> Spells:
    moved = episodes["move_day"] >= 0
    first_end = np.where(moved, episodes["move_day"] - 1, episodes["end"])
    second = np.flatnonzero(moved)
    person = np.concatenate([episodes["person"], episodes["person"][second]])
    start = np.concatenate([episodes["start"], episodes["move_day"][second]])
    end = np.concatenate([first_end, episodes["end"][second]])
    status = np.concatenate([episodes["status"], episodes["status"][second]])
    service = np.concatenate([episodes["service"], episodes["service"][second]])
    municipality = np.concatenate([episodes["municipality"], episodes["destination"][second]])
    # A spell that starts after the last simulated day is not in any delivery yet.
    keep = start <= last_day
    order = np.lexsort((start[keep], person[keep]))
    return Spells(
        person=person[keep][order].astype(np.int64),
        start=start[keep][order].astype(np.int64),
        end=end[keep][order].astype(np.int64),
        status=status[keep][order].astype(np.int8),
        service=service[keep][order].astype(np.int8),
        municipality=municipality[keep][order].astype(np.int64),
    )
