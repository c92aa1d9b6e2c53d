"""`kaira calibrate`: how closely the synthetic Kainuu sample looks like Kainuu.

Two comparisons (docs/sample-calibration.md):

1. the sample's unemployed on each count date 2006-01 … 2013-12 against Statistics
   Finland's official `TYOTTOMATLOPUSSA`, for Kainuu (`MK18`, without Vaala as the official
   series draws it) and for each municipality. The sample is simulated here, exactly as
   `kaira sample` writes it with the same seed, so this needs no run of the pipeline;
2. the structural figures of KAIRA's final report against the warehouse's figures for
   Kainuu, which exist after a run of the sample (`kaira demo`).

Exit status 0 when every figure is within its tolerance, 1 otherwise (or when the warehouse
has no figures yet).
"""

from __future__ import annotations

import argparse
import math

from pipelines.sample.options import DEFAULT_SEED


def add_calibrate_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "calibrate",
        help="the synthetic sample against the official unemployed and KAIRA's reported figures",
        description="Compare the synthetic Kainuu sample with Statistics Finland's official unemployed "
        "2006-01 … 2013-12 (Kainuu and each municipality) and with the structural figures of KAIRA's final "
        "report (from the warehouse, after `kaira demo`).",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"the sample's seed (default {DEFAULT_SEED})")
    parser.set_defaults(handler=run_calibrate)
    return parser


def run_calibrate(args: argparse.Namespace) -> int:
    from pipelines.core.settings import load_settings

    unemployed_ok = print_unemployed_comparison(args.seed)
    print()
    structural_ok = print_structural_comparison(load_settings().warehouse_path)
    return 0 if unemployed_ok and structural_ok else 1


def print_unemployed_comparison(seed: int) -> bool:
    from pipelines.sample import calibration as c

    rows = c.sample_comparison(seed)
    names = {"MK18": "Kainuu (MK18, ilman Vaalaa)"} | _municipality_names()
    print(f"Työttömät työnhakijat kuukauden lopussa {c.CALIBRATION_FIRST} … {c.CALIBRATION_LAST}: "
          f"virallinen tilasto ja synteettinen otos (siemen {seed})")
    print(f"  virallinen: Tilastokeskus 12r5, {c.MEASURE}. {c.OFFICIAL_CREDIT}")
    print(f"  otos: {c.SYNTHETIC_LABEL}")
    print(f"  toleranssi: Kainuu ±{c.KAINUU_TOLERANCE:.0%} joka kuukausi; kunta ±{c.MUNICIPALITY_MONTH_TOLERANCE:.0%} "
          f"joka kuukausi ja keskimäärin ±{c.MUNICIPALITY_MEAN_TOLERANCE:.0%}")
    by_area: dict[str, list] = {}
    for row in rows:
        by_area.setdefault(row.area_code, []).append(row)
    for area, area_rows in by_area.items():
        print()
        print(f"{names.get(area, area)} ({area})")
        print(f"  {'kuukausi':8s} {'virallinen':>10s} {'otos':>8s} {'suhde':>7s}")
        for row in area_rows:
            official = f"{row.official:10.0f}" if row.official is not None else f"{'..':>10s}"
            ratio = f"{row.ratio:7.3f}" if row.ratio is not None else f"{'..':>7s}"
            print(f"  {row.month:8s} {official} {row.sample:8d} {ratio}")
        ratios = [row.ratio for row in area_rows if row.ratio is not None]
        worst = max(area_rows, key=lambda row: abs(row.ratio - 1) if row.ratio is not None else -1.0)
        mean_deviation = sum(abs(ratio - 1) for ratio in ratios) / len(ratios)
        print(f"  suurin poikkeama {worst.month}: suhde {worst.ratio:.3f}; keskimääräinen poikkeama {mean_deviation:.1%}")
    problems = c.outside_tolerance(rows)
    print()
    if problems:
        print(f"Toleranssin ulkopuolella ({len(problems)}):")
        for problem in problems:
            print(f"  {problem}")
    else:
        print("Otos seuraa virallista tilastoa toleranssin rajoissa.")
    return not problems


def print_structural_comparison(warehouse_path) -> bool:
    from pipelines.core.kaira_report import REPORTED_FIGURES

    print("Rakennetyöttömyys: KAIRA-hankkeen loppuraportti ja synteettinen otos varastossa (Kainuu, MK18)")
    figures = structural_figures(warehouse_path)
    if figures is None:
        print(f"  varastossa {warehouse_path} ei ole vielä lukuja: aja ensin `kaira demo` (tai `kaira run` otokselle)")
        return False
    all_within = True
    for figure in REPORTED_FIGURES:
        got = figures[figure.name]
        deviation = (got - figure.value) / figure.value
        within = not math.isnan(got) and abs(deviation) <= figure.tolerance
        all_within &= within
        shown = f"{got:8.0f}" if not math.isnan(got) else f"{'puuttuu':>8s}"
        print(f"  {figure.name:38s} otos {shown}  KAIRA {figure.value:6.0f}  {deviation:+6.1%}  "
              f"{'ok' if within else 'ULKONA'} (±{figure.tolerance:.0%})")
    return all_within


def structural_figures(warehouse_path) -> dict[str, float] | None:
    """Each of KAIRA's reported figures as the warehouse has it for Kainuu (NaN for a month
    it lacks); None when there is no warehouse with indicators yet."""
    import duckdb

    from pipelines.core.duckdb_tables import table_exists
    from pipelines.core.kaira_report import KAINUU, REPORTED_FIGURES

    if not warehouse_path.is_file():
        return None
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        if not table_exists(con, "marts", "fct_indicators_monthly"):
            return None
        figures = {}
        for figure in REPORTED_FIGURES:
            (value,) = con.execute(
                "select avg(value) from marts.fct_indicators_monthly "
                "where area_code = ? and sex = 'total' and indicator = ? and strftime(month, '%Y-%m') in ?",
                [KAINUU, figure.indicator, list(figure.months)],
            ).fetchone()
            figures[figure.name] = float(value) if value is not None else float("nan")
        return figures
    finally:
        con.close()


def _municipality_names() -> dict[str, str]:
    from pipelines.sample.geography import KAINUU_MUNICIPALITIES

    return {f"KU{code}": name for code, name, _swedish, _share in KAINUU_MUNICIPALITIES}
