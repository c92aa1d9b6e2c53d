"""generate_sample: simulate, derive the Kela payments, write the landing files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from . import faults as fault_injection
from .dates import month_first_day, month_label, month_last_day
from .engine import FittedNewcomers, Simulation, simulate
from .fitted_inflow import FittedInflow, load_fitted_inflow
from .geography import Geography, geography_for
from .identity import allocate_codes, format_codes
from .kela import TmtPayments, derive_payments
from .landing import (
    LEGACY,
    MODERN,
    STRING,
    Register,
    Table,
    jobseeker_path,
    jobseeker_table,
    kela_path,
    kela_table,
    write_atomically,
)
from .options import SampleOptions

README_NAME = "README.txt"
REDELIVERY_DIR = "redelivery"

FAULT_DESCRIPTIONS = {
    "cp1252": "first month's jobseeker and Kela files in Windows-1252, CRLF, D.M.YYYY dates, decimal commas",
    "missing_column": "last month's Kela file lacks the column kertyneet_paivat",
    "invalid_hetu": "3 rows of the second month's jobseeker file have a wrong check character",
    "overlapping_spells": "third month's jobseeker file: one person has an extra spell (MUU) overlapping another",
    "redelivery": f"{REDELIVERY_DIR}/tyonhakijat/...: a corrected copy of the middle month's jobseeker file",
}


# Independent random streams per concern, derived from the seed. The fitted newcomers have
# their own two, so that refitting their inflow leaves the modelled persons as they were.
_REGISTER_STREAM, _BENEFIT_STREAM, _PAYMENT_STREAM, _FITTED_STREAM, _FITTED_BENEFIT_STREAM = 0, 1, 2, 3, 4


def build_simulation(options: SampleOptions, inflow: FittedInflow | None = None) -> Simulation:
    """The simulation behind the sample; `inflow` replaces the shipped fitted table (the
    fitting tool tries its candidates this way)."""
    geography = geography_for(options.scale)
    fitted_inflow: FittedInflow | _ScaledInflow = inflow if inflow is not None else load_fitted_inflow()
    if options.population != 1.0:
        # Both inflows grow by the factor: the modelled persons (the simulation sizes their
        # stock and daily inflow by the weights' sum) and the fitted short-term newcomers.
        fitted_inflow = _ScaledInflow(fitted_inflow, geography, options.population)
        geography = dataclasses.replace(geography, inflow_weight=geography.inflow_weight * options.population)
    fitted = FittedNewcomers(
        fitted_inflow,
        np.random.default_rng([options.seed, _FITTED_STREAM]),
        np.random.default_rng([options.seed, _FITTED_BENEFIT_STREAM]),
    )
    return simulate(
        geography,
        month_first_day(options.simulation_first_month),
        month_last_day(options.last_month),
        np.random.default_rng([options.seed, _REGISTER_STREAM]),
        np.random.default_rng([options.seed, _BENEFIT_STREAM]),
        fitted,
    )


@dataclasses.dataclass(frozen=True)
class _ScaledInflow:
    """The fitted inflow times a population factor, per municipality of the unscaled
    geography (whose weights share out the rest of the country's newcomers)."""

    inflow: FittedInflow
    geography: Geography
    factor: float

    def for_geography(self, geography: Geography, months: np.ndarray) -> np.ndarray:
        return self.factor * self.inflow.for_geography(self.geography, months)


def generate_sample(
    out_dir: Path,
    start: str = SampleOptions.start,
    end: str = SampleOptions.end,
    seed: int = SampleOptions.seed,
    scale: str = SampleOptions.scale,
    faults: frozenset[str] = frozenset(),
    population: float = SampleOptions.population,
) -> dict:
    """Write synthetic landing files for every month from `start` to `end` into `out_dir`.

    Returns a summary: the files written (relative to out_dir), rows per source and month,
    the number of distinct persons delivered, and what each injected fault touched.
    """
    options = SampleOptions(
        start=start, end=end, seed=seed, scale=scale, faults=frozenset(faults), population=population
    )
    out_dir = Path(out_dir)
    simulation = build_simulation(options)
    # The payments have their own random stream (only the recoveries draw from it).
    payments = derive_payments(
        simulation, options.first_month, options.last_month, np.random.default_rng([options.seed, _PAYMENT_STREAM])
    )
    register = _register(simulation, options)
    return _write_all(out_dir, options, register, payments)


def _register(simulation: Simulation, options: SampleOptions) -> Register:
    """Identity codes for the persons who appear in some delivery, ids for their spells."""
    spells = simulation.spells
    first, last = month_first_day(options.first_month), month_last_day(options.last_month)
    delivered = (spells.start <= last) & (spells.end >= first)

    persons = simulation.persons
    appearing = np.unique(spells.person[delivered])
    birth_day, individual = allocate_codes(persons.birth_day[appearing], persons.male[appearing])
    codes = np.full(persons.size, "", dtype=STRING)
    codes[appearing] = format_codes(birth_day, individual)

    # Ids follow the register's order of creation: by start day, then person.
    delivered_rows = np.flatnonzero(delivered)
    order = delivered_rows[np.lexsort((spells.person[delivered_rows], spells.start[delivered_rows]))]
    spell_ids = np.full(spells.size, "", dtype=STRING)
    numbers = np.arange(1, order.size + 1)
    spell_ids[order] = np.strings.add("J", np.strings.zfill(numbers.astype(STRING), 8))
    return Register(simulation, codes, spell_ids)


def _write_all(out_dir: Path, options: SampleOptions, register: Register, payments: TmtPayments) -> dict:
    months = list(options.months)
    faults = options.faults
    summary: dict = {
        "out_dir": str(out_dir),
        "options": {
            "start": options.start,
            "end": options.end,
            "seed": options.seed,
            "scale": options.scale,
            "population": options.population,
            "faults": sorted(faults),
        },
        "files": [],
        "rows": {"tyonhakijat": 0, "kela": 0},
        "rows_per_month": {},
        "persons": int((register.identity_codes != "").sum()),
        "faults": {},
    }
    spell_count = int((register.spell_ids != "").sum())
    for position, month in enumerate(months):
        legacy = "cp1252" in faults and position == 0
        dialect = LEGACY if legacy else MODERN
        jobseekers = jobseeker_table(register, month, dialect)
        kela = kela_table(register, payments, month, dialect)

        if "invalid_hetu" in faults and position == 1:
            rng = fault_injection.fault_rng(options.seed, "invalid_hetu")
            jobseekers, rows = fault_injection.break_check_characters(jobseekers, rng)
            summary["faults"]["invalid_hetu"] = {"file": str(jobseeker_path(month)), "data_lines": (rows + 2).tolist()}
        if "overlapping_spells" in faults and position == 2:
            rng = fault_injection.fault_rng(options.seed, "overlapping_spells")
            new_id = f"J{spell_count + 1:08d}"
            month_first = month_label(month) + "-01"
            jobseekers, row = fault_injection.add_overlapping_spell(jobseekers, rng, new_id, month_first)
            summary["faults"]["overlapping_spells"] = {
                "file": str(jobseeker_path(month)),
                "data_lines": [row + 2, row + 3],
                "extra_spell_id": new_id,
            }
        if "missing_column" in faults and position == len(months) - 1:
            kela = kela.without("kertyneet_paivat")
            summary["faults"]["missing_column"] = {"file": str(kela_path(month)), "column": "kertyneet_paivat"}
        if legacy:
            summary["faults"]["cp1252"] = {"files": [str(jobseeker_path(month)), str(kela_path(month))]}

        _write(out_dir, jobseeker_path(month), jobseekers, summary, "tyonhakijat")
        _write(out_dir, kela_path(month), kela, summary, "kela")
        summary["rows_per_month"][month_label(month)] = {"tyonhakijat": jobseekers.rows, "kela": kela.rows}

    if "redelivery" in faults:
        month = months[len(months) // 2]
        rng = fault_injection.fault_rng(options.seed, "redelivery")
        original = jobseeker_table(register, month, MODERN)
        changed, touched = fault_injection.change_for_redelivery(original, rng, month_label(month) + "-01")
        relative = Path(REDELIVERY_DIR) / jobseeker_path(month)
        write_atomically(out_dir / relative, changed.to_bytes())
        summary["files"].append(str(relative))
        summary["faults"]["redelivery"] = {
            "file": str(relative),
            "replaces": str(jobseeker_path(month)),
            "end_date_changed_lines": [row + 2 for row in touched["end_date_changed"]],
            "status_changed_lines": [row + 2 for row in touched["status_changed"]],
        }

    write_atomically(out_dir / README_NAME, _readme(options, summary).encode("utf-8"))
    summary["files"].append(README_NAME)
    return summary


def _write(out_dir: Path, relative: Path, table: Table, summary: dict, source: str) -> None:
    write_atomically(out_dir / relative, table.to_bytes())
    summary["files"].append(str(relative))
    summary["rows"][source] += table.rows


def _readme(options: SampleOptions, summary: dict) -> str:
    arguments = f"--from {options.start} --to {options.end} --seed {options.seed} --scale {options.scale}"
    arguments += "".join(f" --fault {name}" for name in sorted(options.faults))
    if options.population != 1.0:
        arguments += f" --population {options.population:g}"
    fault_lines = [f"  {name}: {FAULT_DESCRIPTIONS[name]}" for name in sorted(options.faults)] or ["  (none)"]
    lines = [
        "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä",
        "Synthetic sample data – no real persons",
        "",
        "Tuotettu komennolla / generated with:",
        f"  kaira sample --out <kansio> {arguments}",
        "",
        f"Kuukaudet / months: {options.start} … {options.end}",
        f"Henkilöitä / persons: {summary['persons']}",
        f"Rivejä / rows: tyonhakijat {summary['rows']['tyonhakijat']}, kela {summary['rows']['kela']}",
        "",
        "Henkilötunnukset käyttävät yksilönumeroita 900–999 (tilapäiset tunnukset):",
        "yksikään tunnus ei ole todellisen henkilön.",
        "Identity codes use individual numbers 900–999 (temporary codes): none is a real person's.",
        "",
        "Tahalliset virheet / injected faults:",
        *fault_lines,
        "",
    ]
    return "\n".join(lines)
