"""Fit the short-term newcomers of the synthetic sample to the official series.

    .venv/bin/python tools/fit_sample_inflow.py [--iterations 8]

rewrites pipelines/sample/kainuu_short_term_inflow.csv: newcomers per day for each Kainuu
municipality and month 2006-01 ... 2013-12, so that the default sample's unemployed follow
Statistics Finland's `TYOTTOMATLOPUSSA` of each municipality (docs/sample-calibration.md).
Run it after changing anything in the engine or its parameters, then `kaira calibrate`.

Each round simulates the default sample with the current table and measures two things:
how far each municipality's unemployed are from the official figure in each month, and how
many of a month's newcomers are still unemployed on each later count date (a response
matrix, the same for every municipality). A month's correction is then solved month by
month in order, since newcomers of earlier months are still there later: the correction of
month t makes up what the corrections of the months before t have not. Only the fitted
newcomers change between rounds (their random streams are their own), so the modelled
population stays the same and the fit settles in a few rounds; the best round is kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.sample import parameters as p  # noqa: E402
from pipelines.sample.calibration import (  # noqa: E402
    KAINUU,
    MUNICIPALITIES,
    calibration_months,
    compare,
    official_unemployed,
    outside_tolerance,
    sample_unemployed,
)
from pipelines.sample.dates import count_date, date_to_day, month_of_days, parse_month  # noqa: E402
from pipelines.sample.fitted_inflow import (  # noqa: E402
    TABLE_PATH,
    FittedInflow,
    fitted_inflow_csv_text,
)
from pipelines.sample.generator import build_simulation  # noqa: E402
from pipelines.sample.options import SampleOptions  # noqa: E402

# A correction is applied at this fraction: the response matrix is itself measured with noise.
DAMPING = 0.8
# The first guess: each missing unemployed person needs a newcomer every this many days.
FIRST_GUESS_DAYS = 90.0


def fit(iterations: int) -> FittedInflow:
    months = calibration_months()
    month_index = np.array([parse_month(month) for month in months])
    codes = tuple(code.removeprefix("KU") for code in MUNICIPALITIES)
    official = official_unemployed()
    target = np.array([[official[(month, f"KU{code}")] for code in codes] for month in months])
    options = SampleOptions()

    # The modelled population alone: what the newcomers have to make up.
    empty = FittedInflow(int(month_index[0]), codes, np.zeros(target.shape))
    modelled = unemployed_matrix(build_simulation(options, empty), months, codes)
    inflow = empty.with_rates(np.maximum(target - modelled, 5.0) / FIRST_GUESS_DAYS)

    best, best_score = inflow, (np.inf, np.inf)
    for round_number in range(1, iterations + 1):
        simulation = build_simulation(options, inflow)
        current = unemployed_matrix(simulation, months, codes)
        score = _score(official, simulation, months)
        print(f"round {round_number}: {score[1]} (worst Kainuu month {score[0]:.1%})", flush=True)
        # Fewest broken promises first, then the closest fit.
        if (score[3], score[0] + score[2]) < best_score:
            best, best_score = inflow, (score[3], score[0] + score[2])
        response = response_matrix(simulation, month_index, inflow)
        correction = _solve_in_order(response, target - current)
        inflow = inflow.with_rates(np.maximum(inflow.rates + DAMPING * correction, 0.0))
    return best


def unemployed_matrix(simulation, months: list[str], codes: tuple[str, ...]) -> np.ndarray:
    counts = sample_unemployed(simulation, months)
    return np.array([[counts[(month, f"KU{code}")] for code in codes] for month in months], dtype=float)


def response_matrix(simulation, month_index: np.ndarray, inflow: FittedInflow) -> np.ndarray:
    """R[t, e]: unemployed fitted newcomers on count date t per newcomer per day of month e."""
    persons, spells = simulation.persons, simulation.spells
    first_start = np.full(persons.size, np.iinfo(np.int64).max)
    np.minimum.at(first_start, spells.person, spells.start)
    entry_month = month_of_days(first_start.clip(max=date_to_day(count_date(int(month_index[-1])))))
    fitted = persons.fitted[spells.person]
    unemployed = fitted & ((spells.status == p.TYOTON) | (spells.status == p.LOMAUTETTU))
    n = month_index.size
    response = np.zeros((n, n))
    for t, month in enumerate(month_index):
        day = date_to_day(count_date(int(month)))
        covering = unemployed & (spells.start <= day) & (spells.end >= day)
        cohort = entry_month[spells.person[covering]] - month_index[0]
        cohort = cohort[(cohort >= 0) & (cohort <= t)]
        response[t] = np.bincount(cohort, minlength=n)[:n]
    rate_per_month = inflow.rates.sum(axis=1)
    return np.divide(response, rate_per_month[None, :], out=np.zeros_like(response), where=rate_per_month > 0)


def _solve_in_order(response: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """The change of rates (months x municipalities) that makes up `missing` month by month."""
    correction = np.zeros_like(missing)
    for t in range(missing.shape[0]):
        made_up = response[t, :t] @ correction[:t]
        own = response[t, t] if response[t, t] > 0 else 1.0
        correction[t] = (missing[t] - made_up) / own
    return correction


def _score(official, simulation, months: list[str]) -> tuple[float, str, float, int]:
    rows = compare(official, sample_unemployed(simulation, months), months)
    kainuu = max(abs(row.ratio - 1) for row in rows if row.area_code == KAINUU)
    municipal = float(np.mean([abs(row.ratio - 1) for row in rows if row.area_code != KAINUU]))
    problems = outside_tolerance(rows)
    return kainuu, f"{len(problems)} outside tolerance, municipal mean deviation {municipal:.1%}", municipal, len(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=8)
    args = parser.parse_args()
    inflow = fit(args.iterations)
    TABLE_PATH.write_text(fitted_inflow_csv_text(inflow), encoding="utf-8", newline="\n")
    print(f"wrote {TABLE_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
