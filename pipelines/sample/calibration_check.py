"""Development aid: approximate METRICS.md figures computed straight from simulated spells.

Used to tune `parameters.py` against what is known of Kainuu (the KAIRA project's final
report: structural unemployment about 4,470 in 2008-02, about 3,350 at the end of 2010,
close to 3,000 at the end of 2012, long-term unemployed near 800 in 2010-2012). The
authoritative figures come from the dbt models; this module only has to be close enough to
steer the simulation. It reads the final spells (not delivery by delivery), which gives the
same states on a count date because no spell is ever revised in the generated register.

    python -m pipelines.sample.calibration_check [--seed N] [--scale kainuu|finland]
        [--from YYYY-MM] [--to YYYY-MM] [--months 2008-02,2010-12,...]
    python -m pipelines.sample.calibration_check --landing DIR [--months ...]

With `--landing` it reads generated jobseeker files instead (each spell as its latest
delivery has it), which checks the written files against the simulation's own figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import parameters as p
from .dates import add_months_to_days, age_in_years, count_date, date_to_day, month_label, parse_month
from .engine import Persons, Simulation, Spells
from .geography import KAINUU_REGION, finland_geography, kainuu_geography

TARGETS = {"2008-02": 4470, "2010-12": 3353, "2012-12": 3000}
LONG_TERM_TARGET_2010_2012 = 800
TOLERANCE = 0.08


@dataclass(frozen=True)
class _Runs:
    """Continuous unemployment runs and service placements, per spell."""

    run_start: np.ndarray  # per spell: start of its unemployment run (only for U spells)
    placement_start: np.ndarray  # per spell: start of its placement (only for PALVELU spells)
    placement_end: np.ndarray  # per spell: end of its placement
    previous_placement_end: np.ndarray  # per spell: end of the person's previous placement, or very early


def _touching_groups(spells: Spells, member: np.ndarray, same_group) -> np.ndarray:
    """Group index per member spell: consecutive member spells of a person that touch and
    satisfy `same_group(previous, current)` (spells are sorted by person and start)."""
    index = np.flatnonzero(member)
    person, start, end = spells.person[index], spells.start[index], spells.end[index]
    joins = np.zeros(index.size, dtype=bool)
    joins[1:] = (person[1:] == person[:-1]) & (start[1:] == end[:-1] + 1) & same_group(index[:-1], index[1:])
    return index, np.cumsum(~joins) - 1


def _group_edges(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the first and the last member of each group (groups are consecutive)."""
    change = group[1:] != group[:-1]
    if group.size == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    return np.r_[True, change], np.r_[change, True]


def _runs_and_placements(spells: Spells) -> _Runs:
    never = np.iinfo(np.int64).min // 4
    unemployed = (spells.status == p.TYOTON) | (spells.status == p.LOMAUTETTU)
    index, group = _touching_groups(spells, unemployed, lambda a, b: np.ones(a.size, dtype=bool))
    first_of_group, _ = _group_edges(group)
    run_start = np.full(spells.size, never, dtype=np.int64)
    run_start[index] = spells.start[index][first_of_group][group]

    in_service = spells.status == p.PALVELU
    index, group = _touching_groups(spells, in_service, lambda a, b: spells.service[a] == spells.service[b])
    first_of_group, last_of_group = _group_edges(group)
    group_start = spells.start[index][first_of_group]
    group_end = spells.end[index][last_of_group]
    group_person = spells.person[index][first_of_group]
    previous_end = np.full(group_start.size, never, dtype=np.int64)
    follows = np.flatnonzero(np.r_[False, group_person[1:] == group_person[:-1]])
    previous_end[follows] = group_end[follows - 1]
    placement_start = np.full(spells.size, never, dtype=np.int64)
    placement_end = np.full(spells.size, never, dtype=np.int64)
    previous_placement_end = np.full(spells.size, never, dtype=np.int64)
    placement_start[index] = group_start[group]
    placement_end[index] = group_end[group]
    previous_placement_end[index] = previous_end[group]
    return _Runs(run_start, placement_start, placement_end, previous_placement_end)


def classify(
    simulation: Simulation, day: int, runs: _Runs | None = None, region: str | None = KAINUU_REGION[0]
) -> dict:
    """Per-person flags of METRICS.md on `day`, for the persons with a spell covering it
    in `region` (None: everywhere). Keys: person, municipality, status, age and one
    boolean array per indicator."""
    spells = simulation.spells
    runs = runs or _runs_and_placements(spells)
    geography = simulation.geography
    d = day

    covering = np.flatnonzero((spells.start <= d) & (spells.end >= d))
    if region is not None:
        in_region = geography.region_of == geography.region_codes.index(region)
        covering = covering[in_region[spells.municipality[covering]]]
    person = spells.person[covering]
    status = spells.status[covering]
    unemployed = (status == p.TYOTON) | (status == p.LOMAUTETTU)
    in_service = status == p.PALVELU

    long_term_limit = add_months_to_days(np.array([d + 1]), -12)[0]
    long_term = unemployed & (runs.run_start[covering] <= long_term_limit)

    window_start = add_months_to_days(np.array([d]), -16)[0]  # exclusive
    u_spell = (spells.status == p.TYOTON) | (spells.status == p.LOMAUTETTU)
    overlap = np.minimum(spells.end, d) - np.maximum(spells.start, window_start + 1) + 1
    overlap = np.where(u_spell, np.clip(overlap, 0, None), 0)
    u_days = np.bincount(spells.person, weights=overlap, minlength=simulation.persons.size)
    equivalent = unemployed & ~long_term & (u_days[person] >= 365)

    return_window_start = add_months_to_days(np.array([d]), -3)[0]  # exclusive
    ended_recently = (
        (spells.status == p.PALVELU) & (runs.placement_end > return_window_start) & (runs.placement_end <= d)
    )
    returned_persons = np.zeros(simulation.persons.size, dtype=bool)
    returned_persons[spells.person[ended_recently]] = True
    returned = unemployed & ~long_term & ~equivalent & returned_persons[person]

    placement_start = runs.placement_start[covering]
    previous_end = runs.previous_placement_end[covering]
    gap_limit = add_months_to_days(placement_start, -3)
    lookback_limit = add_months_to_days(np.array([d]), -12)[0]
    service_to_service = (
        in_service & (previous_end >= gap_limit) & (previous_end < placement_start) & (previous_end > lookback_limit)
    )
    age = age_in_years(simulation.persons.birth_day[person], d)
    return {
        "person": person,
        "municipality": spells.municipality[covering],
        "status": status,
        "age": age,
        "unemployed": unemployed,
        "in_services": in_service,
        "long_term": long_term,
        "equivalent": equivalent,
        "returned": returned,
        "service_to_service": service_to_service,
        "structural": long_term | equivalent | returned | service_to_service,
        "youth": unemployed & (age < 25),
        "laid_off": status == p.LOMAUTETTU,
    }


def figures_on(simulation: Simulation, month: int, runs: _Runs | None = None, region: str = KAINUU_REGION[0]) -> dict:
    """The person counts of METRICS.md on the count date of `month`, for one region."""
    flags = classify(simulation, date_to_day(count_date(month)), runs, region)
    geography = simulation.geography
    unemployed = flags["unemployed"]
    kajaani = geography.codes.index("205") if "205" in geography.codes else -1
    return {
        "month": month_label(month),
        "unemployed": int(unemployed.sum()),
        "kajaani_share": float((unemployed & (flags["municipality"] == kajaani)).sum() / max(unemployed.sum(), 1)),
        "youth_share": float(flags["youth"].sum() / max(unemployed.sum(), 1)),
        "laid_off": int(flags["laid_off"].sum()),
        "in_services": int(flags["in_services"].sum()),
        "registered": int(flags["person"].size),
        "long_term": int(flags["long_term"].sum()),
        "equivalent": int(flags["equivalent"].sum()),
        "returned": int(flags["returned"].sum()),
        "service_to_service": int(flags["service_to_service"].sum()),
        "structural": int(flags["structural"].sum()),
    }


def check(simulation: Simulation, months: list[int]) -> list[dict]:
    runs = _runs_and_placements(simulation.spells)
    return [figures_on(simulation, month, runs) for month in months]


def simulation_from_landing(folder: Path) -> tuple[Simulation, list[int]]:
    """Rebuild spells from landing files: each spell as the latest delivery holding it."""
    import pandas as pd

    frames = []
    months = []
    for path in sorted((folder / "tyonhakijat").glob("tyonhakijat_*.csv")):
        for encoding in ("utf-8", "cp1252"):
            try:
                frames.append(pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding=encoding))
                break
            except UnicodeDecodeError:
                continue
        months.append(parse_month(path.stem.split("_")[1]))
    spells = pd.concat(frames, ignore_index=True).drop_duplicates("jakso_id", keep="last")
    kainuu = kainuu_geography()
    geography = kainuu if set(spells["kuntanumero"]) <= set(kainuu.codes) else finland_geography()

    def to_days(texts: pd.Series) -> np.ndarray:
        def parse(text: str) -> int:
            if not text:
                return date_to_day(dt.date(2999, 12, 31))
            if "." in text:
                return date_to_day(dt.datetime.strptime(text, "%d.%m.%Y").date())
            return date_to_day(dt.date.fromisoformat(text))

        return np.array([parse(text) for text in texts], dtype=np.int64)

    codes, person = np.unique(spells["henkilotunnus"].to_numpy(dtype=str), return_inverse=True)
    centuries = {"+": 1800, "-": 1900, "A": 2000}
    birth = np.array(
        [date_to_day(dt.date(centuries.get(c[6], 1900) + int(c[4:6]), int(c[2:4]), int(c[:2]))) for c in codes]
    )
    start = to_days(spells["alkupvm"])
    order = np.lexsort((start, person))
    municipality = np.array([geography.codes.index(code) for code in spells["kuntanumero"]])
    status = np.array([p.STATUS_CODES.index(code) for code in spells["tila"]], dtype=np.int8)
    service = np.array([p.SERVICE_CODES.index(code) if code else -1 for code in spells["palvelu"]], dtype=np.int8)
    zeros = np.zeros(codes.size, dtype=np.int64)
    persons = Persons(zeros.astype(np.int8), birth, zeros.astype(bool), zeros.astype(bool), zeros, zeros, zeros)
    end = to_days(spells["loppupvm"])
    rebuilt = Spells(
        person[order], start[order], end[order], status[order], service[order], municipality[order]
    )
    return Simulation(persons, rebuilt, int(start.min()), int(rebuilt.end.max()), geography), months


def _report(rows: list[dict]) -> None:
    columns = list(rows[0])
    print(" ".join(f"{name[:10]:>10}" for name in columns))
    for row in rows:
        cells = (f"{row[name]:>10.3f}" if isinstance(row[name], float) else f"{row[name]:>10}" for name in columns)
        print(" ".join(cells))


def main(argv: list[str] | None = None) -> int:
    from .generator import build_simulation
    from .options import DEFAULT_END, DEFAULT_SEED, DEFAULT_START, SampleOptions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", default="kainuu")
    parser.add_argument("--from", dest="start", default=DEFAULT_START)
    parser.add_argument("--to", dest="end", default=DEFAULT_END)
    parser.add_argument("--months", default="")
    parser.add_argument("--landing", type=Path, help="read generated files from this landing folder")
    args = parser.parse_args(argv)
    if args.landing:
        simulation, available = simulation_from_landing(args.landing)
    else:
        options = SampleOptions(start=args.start, end=args.end, seed=args.seed, scale=args.scale)
        simulation = build_simulation(options)
        available = list(options.months)
    if args.months:
        months = [parse_month(text) for text in args.months.split(",")]
    else:
        months = [m for m in available if m % 6 in (1, 5) or month_label(m) in TARGETS]
    rows = check(simulation, months)
    _report(rows)

    by_month = {row["month"]: row for row in rows}
    print()
    verdict = True
    for month, target in TARGETS.items():
        if month in by_month:
            value = by_month[month]["structural"]
            ok = abs(value - target) <= TOLERANCE * target
            verdict &= ok
            deviation = 100 * (value / target - 1)
            print(f"structural {month}: {value} (target {target}, {deviation:+.1f} %) {'ok' if ok else 'OFF'}")
    long_term = [row["long_term"] for row in check(simulation, [m for m in available if 2010 * 12 <= m < 2013 * 12])]
    if long_term:
        mean = float(np.mean(long_term))
        ok = abs(mean - LONG_TERM_TARGET_2010_2012) <= TOLERANCE * LONG_TERM_TARGET_2010_2012
        verdict &= ok
        print(f"long-term mean 2010-2012: {mean:.0f} (target {LONG_TERM_TARGET_2010_2012}) {'ok' if ok else 'OFF'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    raise SystemExit(main())
