"""Dynamics of the synthetic register: every number the simulation draws from.

The model is a semi-Markov process per person. A person has a latent type (how hard it is
for them to find work) and moves between register statuses; each stay (an "episode") has a
duration drawn from a log-normal distribution and ends in a next status drawn from the
type's transition row. Two pseudo-statuses are not written to the register: GAP (a short
absence, e.g. the job search lapsed for a few weeks) and AWAY (working or studying outside
the register for months or years); EXIT ends the person's history for good.

The modelled population is the hard-to-employ (type chronic); the other three types are the
short-term newcomers of the fitted inflow (fitted_inflow.py), who register once and leave.
The modelled figures were tuned (checked with `kaira calibrate` on a run of the sample) so
that Kainuu's structural unemployment follows what the KAIRA project's final report tells
(about 4,470 in 2008-02, 25 % fewer at the end of 2010, close to 3,000 at the end of 2012,
long-term unemployed near 800) while leaving room under Statistics Finland's official
unemployed for the fitted newcomers (docs/sample-calibration.md). Calendar multipliers carry
the business cycle: a slowly improving economy to 2008, the 2009 recession (lay-offs), the
project's activation years 2008-2010, flat from 2014 on (ranges outside 2004-2013 are
plausible but not calibrated to anything). The national scale uses the same dynamics in
every region, only with more or fewer hard-to-employ people, so its figures are Kainuu-like
rather than Finland's.
"""

from __future__ import annotations

import numpy as np

from pipelines.core.register_codes import SERVICES, STATUSES

# Register statuses, in the contract's order (pipelines.core.register_codes); the codes
# written are STATUS_CODES[i].
TYOTON, LOMAUTETTU, LYHENNETTY, PALVELU, TYOLLINEN, MUU = range(6)
# Pseudo-statuses that are never written.
GAP, AWAY, EXIT = 6, 7, 8
STATUS_CODES = STATUSES
N_STATES = 9

SERVICE_CODES = SERVICES
OMAEHTOINEN = SERVICE_CODES.index("OMAEHTOINEN_OPISKELU")
# Self-motivated study on unemployment benefit exists from 2010 on.
OMAEHTOINEN_FROM_MONTH = 2010 * 12

# Person types.
CHRONIC, CYCLIC, REGULAR, SEASONAL = range(4)
TYPE_NAMES = ("chronic", "cyclic", "regular", "seasonal")
N_TYPES = 4


def _rows(table: dict[int, dict[int, float]]) -> np.ndarray:
    matrix = np.zeros((N_STATES, N_STATES))
    for source, row in table.items():
        for target, weight in row.items():
            matrix[source, target] = weight
    sums = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)


# Next-status weights per type and current status (rows are normalised).
TRANSITIONS = np.stack(
    [
        _rows(  # chronic: long unemployment broken by short lapses (GAP), and chains of services
            {
                TYOTON: {LOMAUTETTU: 1, PALVELU: 10, TYOLLINEN: 2, MUU: 2, GAP: 82, AWAY: 1, EXIT: 3},
                LOMAUTETTU: {TYOTON: 45, PALVELU: 5, TYOLLINEN: 5, GAP: 5, AWAY: 5, EXIT: 10},
                LYHENNETTY: {TYOTON: 20, LOMAUTETTU: 20, TYOLLINEN: 10, AWAY: 45, EXIT: 5},
                PALVELU: {TYOTON: 25, PALVELU: 70, TYOLLINEN: 5, MUU: 1, GAP: 1, EXIT: 8},
                TYOLLINEN: {TYOTON: 85, PALVELU: 2, GAP: 5, AWAY: 5, EXIT: 5},
                MUU: {TYOTON: 85, PALVELU: 5, TYOLLINEN: 2, GAP: 3, AWAY: 2, EXIT: 3},
                GAP: {TYOTON: 95, PALVELU: 3, TYOLLINEN: 1, MUU: 1},
                AWAY: {TYOTON: 85, LOMAUTETTU: 3, PALVELU: 2, TYOLLINEN: 5, MUU: 5},
            }
        ),
        _rows(  # cyclic: medium spells, frequent services and short jobs
            {
                TYOTON: {LOMAUTETTU: 2, LYHENNETTY: 1, PALVELU: 32, TYOLLINEN: 15, MUU: 5, GAP: 12, AWAY: 30, EXIT: 5},
                LOMAUTETTU: {TYOTON: 30, PALVELU: 3, TYOLLINEN: 5, GAP: 5, AWAY: 52, EXIT: 5},
                LYHENNETTY: {TYOTON: 10, LOMAUTETTU: 20, TYOLLINEN: 5, AWAY: 60, EXIT: 5},
                PALVELU: {TYOTON: 70, PALVELU: 18, TYOLLINEN: 3, MUU: 2, GAP: 1, AWAY: 5, EXIT: 1},
                TYOLLINEN: {TYOTON: 55, PALVELU: 2, MUU: 3, GAP: 5, AWAY: 30, EXIT: 5},
                MUU: {TYOTON: 65, PALVELU: 5, TYOLLINEN: 5, GAP: 5, AWAY: 15, EXIT: 5},
                GAP: {TYOTON: 85, PALVELU: 3, TYOLLINEN: 5, MUU: 7},
                AWAY: {TYOTON: 85, LOMAUTETTU: 4, LYHENNETTY: 1, PALVELU: 2, TYOLLINEN: 5, MUU: 3},
            }
        ),
        _rows(  # regular: short unemployment, then work for years
            {
                TYOTON: {LOMAUTETTU: 1, LYHENNETTY: 1, PALVELU: 10, TYOLLINEN: 8, MUU: 3, GAP: 5, AWAY: 60, EXIT: 12},
                LOMAUTETTU: {TYOTON: 20, PALVELU: 2, TYOLLINEN: 3, GAP: 3, AWAY: 67, EXIT: 5},
                LYHENNETTY: {TYOTON: 5, LOMAUTETTU: 15, TYOLLINEN: 5, AWAY: 70, EXIT: 5},
                PALVELU: {TYOTON: 45, PALVELU: 8, TYOLLINEN: 5, MUU: 2, GAP: 2, AWAY: 33, EXIT: 5},
                TYOLLINEN: {TYOTON: 35, PALVELU: 1, MUU: 2, GAP: 2, AWAY: 50, EXIT: 10},
                MUU: {TYOTON: 50, PALVELU: 3, TYOLLINEN: 5, GAP: 5, AWAY: 30, EXIT: 7},
                GAP: {TYOTON: 85, PALVELU: 3, TYOLLINEN: 5, MUU: 7},
                AWAY: {TYOTON: 80, LOMAUTETTU: 6, LYHENNETTY: 2, PALVELU: 2, TYOLLINEN: 6, MUU: 4},
            }
        ),
        _rows(  # seasonal: lay-offs and shortened weeks between working periods
            {
                TYOTON: {LOMAUTETTU: 20, LYHENNETTY: 2, PALVELU: 5, TYOLLINEN: 5, MUU: 2, GAP: 3, AWAY: 55, EXIT: 8},
                LOMAUTETTU: {TYOTON: 15, LYHENNETTY: 5, PALVELU: 2, TYOLLINEN: 3, GAP: 2, AWAY: 68, EXIT: 5},
                LYHENNETTY: {TYOTON: 5, LOMAUTETTU: 20, TYOLLINEN: 5, AWAY: 65, EXIT: 5},
                PALVELU: {TYOTON: 40, LOMAUTETTU: 5, PALVELU: 5, TYOLLINEN: 5, AWAY: 40, EXIT: 5},
                TYOLLINEN: {TYOTON: 25, LOMAUTETTU: 10, MUU: 2, GAP: 3, AWAY: 55, EXIT: 5},
                MUU: {TYOTON: 40, LOMAUTETTU: 10, TYOLLINEN: 5, GAP: 5, AWAY: 35, EXIT: 5},
                GAP: {TYOTON: 60, LOMAUTETTU: 30, TYOLLINEN: 10},
                AWAY: {TYOTON: 15, LOMAUTETTU: 65, LYHENNETTY: 15, TYOLLINEN: 5},
            }
        ),
    ]
)

# Median duration (days) and log-normal sigma of an episode, per status (rows) and type.
# PALVELU is drawn per service instead (SERVICE_DURATION).
DURATION_MEDIAN = np.array(
    [
        [150.0, 75.0, 40.0, 40.0],  # TYOTON
        [45.0, 30.0, 30.0, 40.0],  # LOMAUTETTU
        [60.0, 60.0, 60.0, 60.0],  # LYHENNETTY
        [0.0, 0.0, 0.0, 0.0],  # PALVELU (per service)
        [25.0, 60.0, 90.0, 60.0],  # TYOLLINEN
        [20.0, 40.0, 40.0, 40.0],  # MUU
        [10.0, 20.0, 20.0, 20.0],  # GAP
        [120.0, 250.0, 600.0, 250.0],  # AWAY
        [1.0, 1.0, 1.0, 1.0],  # EXIT (never drawn)
    ]
)
DURATION_SIGMA = np.array(
    [
        [0.9, 0.7, 0.6, 0.6],
        [0.8, 0.8, 0.8, 0.8],
        [0.7, 0.7, 0.7, 0.7],
        [0.0, 0.0, 0.0, 0.0],
        [0.9, 0.9, 0.9, 0.9],
        [0.9, 0.9, 0.9, 0.9],
        [0.8, 0.8, 0.8, 0.8],
        [1.0, 1.0, 1.0, 0.8],
        [0.0, 0.0, 0.0, 0.0],
    ]
)
# (median days, sigma) per service, in SERVICE_CODES order.
SERVICE_DURATION = np.array(
    [
        [180.0, 0.4],  # PALKKATUKI: typically six months
        [120.0, 0.5],  # TYOHARJOITTELU
        [60.0, 0.5],  # TYOKOKEILU
        [100.0, 0.6],  # TYOVOIMAKOULUTUS
        [50.0, 0.5],  # VALMENNUS
        [150.0, 0.6],  # VUOROTTELUSIJAINEN
        [270.0, 0.5],  # OMAEHTOINEN_OPISKELU
        [150.0, 0.6],  # KUNTOUTTAVA_TYOTOIMINTA
    ]
)
# Which service a placement is, per type (rows normalised when drawn).
SERVICE_WEIGHTS = np.array(
    [
        [25, 5, 10, 10, 10, 2, 5, 33],  # chronic: rehabilitative work activity, pay subsidy
        [25, 15, 10, 25, 12, 5, 6, 2],
        [15, 15, 10, 35, 15, 5, 5, 0],
        [10, 5, 5, 50, 20, 5, 5, 0],
    ],
    dtype=float,
)

# Unemployment lasts longer for older people (and into retirement near the end of a career).
AGE_DURATION_FACTOR = ((0, 25, 1.0), (25, 55, 1.0), (55, 59, 1.4), (59, 200, 2.0))
# The longest episode the engine draws, so that a log-normal tail does not run for decades.
MAX_EPISODE_DAYS = 15 * 365

# Moves to another municipality, per year of an episode, and on returning to the register.
MOVE_RATE_PER_YEAR = 0.035
MOVE_ON_RETURN = 0.04
# Share of moves that stay within the region at national scale.
MOVE_WITHIN_REGION = 0.6

# The modelled population is the hard-to-employ (type CHRONIC): new ones per day in the whole
# of Kainuu before calendar effects, and those registered when the simulation starts.
KAINUU_ENTRANTS_PER_DAY = 0.79
KAINUU_INITIAL_STOCK = 7_800
# Mix of types of the fitted short-term newcomers (fitted_inflow.py): mostly quick to find
# work, some laid off by season, some who go through services.
FITTED_TYPE_MIX = np.array([0.0, 0.15, 0.65, 0.2])
# Status of a person at entry (rows: type; columns: statuses TYOTON..MUU).
ENTRY_STATUS_MIX = np.array(
    [
        [85, 1, 0, 5, 4, 5],
        [82, 3, 1, 4, 6, 4],
        [82, 3, 1, 3, 7, 4],
        [15, 70, 10, 0, 5, 0],
    ],
    dtype=float,
)
# Status of the initial stock (rows: type), so that services and lay-offs exist from day one.
STOCK_STATUS_MIX = np.array(
    [
        [80, 1, 0, 12, 3, 4],
        [70, 3, 1, 15, 7, 4],
        [75, 4, 2, 10, 6, 3],
        [25, 55, 15, 0, 5, 0],
    ],
    dtype=float,
)

# Age at entry: a share of young (17-24, uniform) and otherwise normal(mean, sd) clipped to 25-62.
ENTRY_AGE = np.array(
    [
        # young share, mean, sd
        [0.05, 48.0, 8.0],
        [0.65, 38.0, 10.0],
        [0.65, 37.0, 10.0],
        [0.15, 42.0, 10.0],
    ]
)
STOCK_AGE = np.array(
    [
        [0.03, 50.0, 7.0],
        [0.15, 40.0, 10.0],
        [0.15, 40.0, 10.0],
        [0.10, 43.0, 10.0],
    ]
)
MIN_AGE, MAX_ENTRY_AGE = 17, 62
# People leave the register for good at an age drawn between these (old-age pension).
RETIREMENT_AGE = (63, 65)
MALE_SHARE = np.array([0.62, 0.56, 0.52, 0.68])

# Labour market subsidy (TMT): the share of a type's unemployed who receive it (young people
# without a work history get it whatever their type).
TMT_SHARE = np.array([0.75, 0.50, 0.20, 0.05])
TMT_SHARE_YOUNG = 0.70
# TMT days paid before the simulation (or before entry): gamma(shape, scale) per type.
PRIOR_COUNTER_STOCK = np.array([[1.2, 250.0], [1.2, 100.0], [1.0, 30.0], [1.0, 0.0]])
PRIOR_COUNTER_ENTRANT = np.array([[1.2, 200.0], [1.0, 60.0], [1.0, 0.0], [1.0, 0.0]])
# Full TMT per day in euros, approximate, by year (the last value holds for later years).
TMT_DAILY_EUR = {
    2000: 22.86, 2001: 22.86, 2002: 23.18, 2003: 23.50, 2004: 23.50, 2005: 23.50,
    2006: 23.85, 2007: 24.51, 2008: 25.63, 2009: 25.63, 2010: 25.63, 2011: 26.30,
    2012: 31.36, 2013: 32.08, 2014: 32.66, 2015: 32.80, 2016: 32.40, 2017: 32.40,
    2018: 32.40, 2019: 32.40, 2020: 33.66, 2021: 33.78, 2022: 34.73, 2023: 37.21,
    2024: 37.21, 2025: 37.21,
}
# Means testing cuts the subsidy of some (a spouse's income); child increments raise others.
PARTIAL_TMT_SHARE = 0.15
PARTIAL_TMT_PERMILLE = (400, 950)
CHILD_INCREMENT_SHARE = 0.2
CHILD_INCREMENT_CENTS = (506, 743, 955)
# Share of payment rows followed by a recovery (a correction row) in the next month.
CORRECTION_SHARE = 0.002


# Calendar effects: knots (YYYY-MM, multiplier), linear in between, flat outside.
CALENDAR_KNOTS: dict[str, tuple[tuple[str, float], ...]] = {
    # new jobseekers per day: an improving economy to 2008, the 2009 recession, then fewer
    "inflow": (
        ("2000-01", 1.15), ("2004-01", 1.05), ("2007-06", 0.90), ("2008-06", 0.85), ("2009-03", 1.05),
        ("2010-01", 0.85), ("2011-01", 0.80), ("2012-01", 0.80), ("2014-01", 0.80),
    ),
    # length of unemployment episodes of the chronic and cyclic types
    "unemployment_duration": (
        ("2000-01", 1.0), ("2007-06", 1.0), ("2008-06", 0.85), ("2010-12", 0.85), ("2013-01", 0.95),
    ),
    # length of unemployment episodes of the regular and seasonal types
    "short_term_duration": (("2009-06", 1.0), ("2010-06", 0.7), ("2014-01", 0.8)),
    # exits from unemployment to work of the hard-to-employ: the KAIRA project from 1.3.2008
    "activation": (("2008-03", 1.0), ("2008-09", 2.0), ("2010-12", 2.0), ("2011-06", 1.6), ("2014-01", 1.3)),
    # probability that unemployment ends in a service: activation through services 2009-2011
    "service": (("2000-01", 1.2), ("2008-01", 1.3), ("2009-06", 1.6), ("2011-01", 1.6), ("2012-06", 1.2)),
    # lay-offs: seasonal newcomers and returns to lay-off (the 2009 recession)
    "layoff": (("2008-06", 1.0), ("2009-03", 3.0), ("2010-01", 1.5), ("2011-01", 1.0)),
}

# Effects of one municipality only, multiplying the regional ones (same knots format).
# Paltamo's full-employment experiment (2009-2013) took its long-term unemployed into work:
# the official series of Paltamo falls from about 300 unemployed to about 70 and returns
# when the experiment ends. More of the hard-to-employ leave unemployment for work, and
# stay away longer.
LOCAL_KNOTS: dict[str, dict[str, tuple[tuple[str, float], ...]]] = {
    "578": {
        "activation": (("2009-03", 1.0), ("2009-09", 40.0), ("2012-09", 40.0), ("2013-03", 1.0)),
        "away_duration": (("2009-03", 1.0), ("2009-09", 8.0), ("2012-09", 8.0), ("2013-03", 1.0)),
    },
}
