"""Disclosure control at national scale: the time of `apply_disclosure_control`.

What it measures
----------------
Builds a synthetic, additive indicator table of the shape `fct_indicators_monthly` has at
national scale (default: 120 months, 300 municipalities in 19 regions plus the country
SSS, 3 sexes, the 19 published indicators and the internal `tmt_persons_any_row`; about
2.3 million cells), then times `pipelines.publish.disclosure.apply_disclosure_control` on
it, twice (the first call includes one-time costs). Prints the size of the input, the
build time, each call's wall time, the number of suppressed cells and the process's peak
resident memory (`getrusage(RUSAGE_SELF).ru_maxrss`: everything runs in this process).

The table is additive by construction, as the real one is: municipality sizes are skewed
(many small municipalities, so many small counts to suppress), counts are Poisson,
`structural_unemployed` is the sum of its four groups, regions are sums of their
municipalities, the country the sum of the regions, `total` is `male + female`; the paid
euros follow the persons with a row, the municipal share is 30 % of them and the expected
share equals it.

How to run (from the repository root)
-------------------------------------
    .venv/bin/python bench/bench_disclosure.py
    .venv/bin/python bench/bench_disclosure.py --months 24 --municipalities 50 --repeats 3

The machine may be shared: other processes slow the figures down (the load average is
printed with them).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.publish.disclosure import (  # noqa: E402
    CANONICAL_INDICATORS,
    INTERNAL_PERSONS_ANY_ROW,
    STRUCTURAL_GROUPS,
    apply_disclosure_control,
)

SEXES = ("male", "female", "total")  # the last is the sum of the first two


def synthetic_indicator_table(months: int = 120, regions: int = 19, municipalities: int = 300,
                              seed: int = 0) -> pd.DataFrame:
    """An additive long table: month x area x sex x indicator, with value and status 'ok'."""
    rng = np.random.default_rng(seed)
    region_codes = [f"MK{i:02d}" for i in range(1, regions + 1)]
    municipality_numbers = sorted(rng.choice(np.arange(1, 1000), municipalities, replace=False))
    municipality_codes = [f"KU{number:03d}" for number in municipality_numbers]
    region_of_municipality = rng.integers(0, regions, municipalities)
    size = np.exp(rng.normal(1.0, 1.3, municipalities))  # skewed: many tiny municipalities

    indicators = list(CANONICAL_INDICATORS) + [INTERNAL_PERSONS_ANY_ROW]
    position = {name: i for i, name in enumerate(indicators)}

    # Municipality x month x sex (male, female) x indicator.
    expected_counts = size[:, None, None, None] * rng.uniform(0.3, 3, (1, 1, 1, len(indicators)))
    values = rng.poisson(np.broadcast_to(expected_counts, (municipalities, months, 2, len(indicators)))).astype(float)
    values[..., position["structural_unemployed"]] = sum(values[..., position[group]] for group in STRUCTURAL_GROUPS)
    values[..., position["tmt_paid_eur"]] = (
        values[..., position[INTERNAL_PERSONS_ANY_ROW]] * rng.uniform(50, 900, values.shape[:3])
    )
    values[..., position["tmt_municipal_share_eur"]] = (values[..., position["tmt_paid_eur"]] * 0.3).round(2)
    values[..., position["tmt_municipal_share_expected_eur"]] = values[..., position["tmt_municipal_share_eur"]]
    values[..., position["tmt_municipal_share_diff_eur"]] = 0.0

    # Regions are sums of their municipalities, the country the sum of the regions.
    membership = np.eye(regions)[region_of_municipality]  # municipalities x regions
    region_values = np.einsum("mr,mtsi->rtsi", membership, values)
    country_values = region_values.sum(axis=0, keepdims=True)
    all_values = np.concatenate([values, region_values, country_values])  # areas x months x 2 x indicators
    all_values = np.concatenate([all_values, all_values.sum(axis=2, keepdims=True)], axis=2)  # + total

    area_codes = municipality_codes + region_codes + ["SSS"]
    parent_codes = [region_codes[r] for r in region_of_municipality] + ["SSS"] * regions + [None]
    area_levels = ["municipality"] * municipalities + ["region"] * regions + ["country"]
    month_starts = pd.date_range("2010-01-01", periods=months, freq="MS")

    area_index, month_index, sex_index, indicator_index = (
        grid.ravel()
        for grid in np.meshgrid(np.arange(len(area_codes)), np.arange(months), np.arange(len(SEXES)),
                                np.arange(len(indicators)), indexing="ij")
    )
    return pd.DataFrame({
        "month": month_starts.values[month_index],
        "area_code": np.array(area_codes, dtype=object)[area_index],
        "area_level": np.array(area_levels, dtype=object)[area_index],
        "parent_area_code": np.array(parent_codes, dtype=object)[area_index],
        "sex": np.array(SEXES, dtype=object)[sex_index],
        "indicator": np.array(indicators, dtype=object)[indicator_index],
        "value": all_values.ravel(),
        "status": "ok",
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--regions", type=int, default=19)
    parser.add_argument("--municipalities", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="calls of apply_disclosure_control (default 2)")
    args = parser.parse_args(argv)

    print(f"disclosure control bench: {args.months} months, {args.municipalities} municipalities, "
          f"{args.regions} regions; load average {os.getloadavg()[0]:.2f}")
    began = time.perf_counter()
    cells = synthetic_indicator_table(args.months, args.regions, args.municipalities, args.seed)
    built_s = time.perf_counter() - began
    published_cells = int((cells["indicator"] != INTERNAL_PERSONS_ANY_ROW).sum())
    print(f"synthetic input: {len(cells):,} rows ({published_cells:,} published cells), built in {built_s:.1f} s")

    for call in range(1, args.repeats + 1):
        began = time.perf_counter()
        controlled = apply_disclosure_control(cells)
        elapsed_s = time.perf_counter() - began
        suppressed = int((controlled["status"] == "suppressed").sum())
        print(f"apply_disclosure_control, call {call}: {elapsed_s:.2f} s; "
              f"suppressed {suppressed:,} of {len(controlled):,} cells")

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process (RUSAGE_SELF): {peak_mib:,.0f} MiB; load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
