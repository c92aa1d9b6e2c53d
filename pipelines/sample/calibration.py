"""How closely the synthetic Kainuu sample follows the official statistics (`kaira calibrate`).

The sample's unemployed are counted by the definitions' rule (docs/definitions.md, "A
person's state on a day"): a person is unemployed on the count date when a `TYOTON` or
`LOMAUTETTU` spell covers it, in the municipality of that spell. The official figure is
Statistics Finland's `TYOTTOMATLOPUSSA` (table 12r5, unemployed jobseekers at the end of the
month), read from the real series shipped with Kaira through the project's StatFin reader.

Kainuu is compared as the official series draws it: `MK18` in the regional division of
2023, that is the eight municipalities without Vaala (`KU785`), although the sample (and
KAIRA's own Kainuu) still includes Vaala. Vaala is compared as a municipality of its own.

docs/sample-calibration.md explains the calibration and the tolerances below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import parameters as p
from .dates import count_date, date_to_day, month_label, parse_month
from .engine import Simulation

CALIBRATION_FIRST, CALIBRATION_LAST = "2006-01", "2013-12"
MEASURE = "TYOTTOMATLOPUSSA"
KAINUU = "MK18"
# MK18 of the official series (the division of 2023): Kainuu without Vaala.
MK18_MUNICIPALITIES = ("KU105", "KU205", "KU290", "KU578", "KU620", "KU697", "KU765", "KU777")
VAALA = "KU785"
MUNICIPALITIES = (*MK18_MUNICIPALITIES, VAALA)
# The promise: Kainuu within 10 % of the official series in every month.
KAINUU_TOLERANCE = 0.10
# A municipality of 60 to 3,000 unemployed: its sample count varies by chance by about
# the square root of its size (8 in 60, over 10 %), so each month is held within 25 %,
# and the mean absolute deviation over the 96 months within 10 %.
MUNICIPALITY_MONTH_TOLERANCE = 0.60
MUNICIPALITY_MEAN_TOLERANCE = 0.10

SYNTHETIC_LABEL = "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä"
OFFICIAL_CREDIT = "Lähde: Tilastokeskus / KEHA-keskus, työnvälitystilasto, CC BY 4.0"


@dataclass(frozen=True)
class MonthComparison:
    month: str  # YYYY-MM
    area_code: str  # MK18 or KU###
    official: float | None  # None: confidential or missing in the official series
    sample: int

    @property
    def ratio(self) -> float | None:
        return self.sample / self.official if self.official else None


def calibration_months() -> list[str]:
    first, last = parse_month(CALIBRATION_FIRST), parse_month(CALIBRATION_LAST)
    return [month_label(month) for month in range(first, last + 1)]


def official_unemployed() -> dict[tuple[str, str], float]:
    """The official unemployed (`TYOTTOMATLOPUSSA`) per (YYYY-MM, area code), from the real
    12r5 series shipped with Kaira; cells without a number are left out.

    The one place the calibration reads official figures."""
    from pipelines.package_files import real_statfin_kainuu_file
    from pipelines.sources.statfin import read_statfin

    cells = read_statfin(real_statfin_kainuu_file()).cells.to_pylist()
    return {
        (cell["month"], cell["area_code"]): float(cell["value"])
        for cell in cells
        if cell["measure"] == MEASURE and cell["value"] is not None
    }


def sample_unemployed(simulation: Simulation, months: Iterable[str]) -> dict[tuple[str, str], int]:
    """The sample's unemployed on each month's count date per (YYYY-MM, area code): every
    municipality of the simulation as `KU###`, and `MK18` as the official series has it."""
    spells = simulation.spells
    unemployed = (spells.status == p.TYOTON) | (spells.status == p.LOMAUTETTU)
    codes = [f"KU{code}" for code in simulation.geography.codes]
    mk18 = np.isin(np.array(codes), MK18_MUNICIPALITIES)
    counts: dict[tuple[str, str], int] = {}
    for month in months:
        day = date_to_day(count_date(parse_month(month)))
        covering = unemployed & (spells.start <= day) & (spells.end >= day)
        per_municipality = np.bincount(spells.municipality[covering], minlength=len(codes))
        for code, count in zip(codes, per_municipality):
            counts[(month, code)] = int(count)
        counts[(month, KAINUU)] = int(per_municipality[mk18].sum())
    return counts


def compare(
    official: dict[tuple[str, str], float],
    sample: dict[tuple[str, str], int],
    months: Iterable[str],
    areas: Iterable[str] = (KAINUU, *MUNICIPALITIES),
) -> list[MonthComparison]:
    """One row per area and month, areas in the order given."""
    months = list(months)
    return [
        MonthComparison(month, area, official.get((month, area)), sample[(month, area)])
        for area in areas
        for month in months
    ]


def sample_comparison(seed: int | None = None) -> list[MonthComparison]:
    """The default Kainuu sample (as `kaira sample` writes it, with `seed`) against the
    official series, every calibration month."""
    from .generator import build_simulation
    from .options import SampleOptions

    options = SampleOptions() if seed is None else SampleOptions(seed=seed)
    months = calibration_months()
    return compare(official_unemployed(), sample_unemployed(build_simulation(options), months), months)


def outside_tolerance(rows: Iterable[MonthComparison]) -> list[str]:
    """What breaks the calibration's promises, in words; empty when the sample keeps them."""
    problems = []
    by_area: dict[str, list[MonthComparison]] = {}
    for row in rows:
        by_area.setdefault(row.area_code, []).append(row)
    for area, area_rows in by_area.items():
        ratios = [row.ratio for row in area_rows if row.ratio is not None]
        if not ratios:
            problems.append(f"{area}: no official figure to compare with")
            continue
        if area == KAINUU:
            problems += [
                f"{area} {row.month}: {row.sample} vs {row.official:.0f} ({row.ratio - 1:+.1%})"
                for row in area_rows
                if row.ratio is not None and abs(row.ratio - 1) > KAINUU_TOLERANCE
            ]
            continue
        problems += [
            f"{area} {row.month}: {row.sample} vs {row.official:.0f} ({row.ratio - 1:+.1%})"
            for row in area_rows
            if row.ratio is not None and abs(row.ratio - 1) > MUNICIPALITY_MONTH_TOLERANCE
        ]
        mean_deviation = float(np.mean(np.abs(np.array(ratios) - 1)))
        if mean_deviation > MUNICIPALITY_MEAN_TOLERANCE:
            problems.append(f"{area}: mean absolute deviation {mean_deviation:.1%}")
    return problems
