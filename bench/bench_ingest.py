"""Ingest throughput on a generated national-scale file; prints figures.

    .venv/bin/python bench/bench_ingest.py [--rows 1500000] [--source jobseeker_spells|kela_payments]

Writes a synthetic file (identity codes with individual numbers 900-999 only) to a
temporary folder, runs `ingest_month` on it into a fresh DuckDB file and prints the rows
per second of the whole load and of its stages.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from pipelines.core.identity_codes import make_identity_code
from pipelines.core.settings import load_settings
from pipelines.sources import jobseeker
from pipelines.sources.csv_reader import read_landing_csv
from pipelines.sources.loader import SOURCES, expected_path, ingest_month

MONTH = "2024-03"


def synthetic_codes(n: int, seed: int = 1) -> list[str]:
    """n distinct codes: birth dates 1960-2004, individual numbers 900-999."""
    rng = np.random.default_rng(seed)
    days = 365 * 45
    if n > days * 100:
        raise ValueError(f"at most {days * 100:,} distinct synthetic codes")
    picks = rng.choice(days * 100, size=n, replace=False)
    start = date(1960, 1, 1)
    return [make_identity_code(start + timedelta(days=int(p // 100)), 900 + int(p % 100)) for p in picks]


def spells_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    """Three consecutive, non-overlapping spells per person, all overlapping MONTH."""
    persons = -(-rows // 3)
    codes = np.repeat(np.array(synthetic_codes(persons, seed), dtype=object), 3)[:rows]
    k = np.tile(np.arange(3), persons)[:rows]
    starts = np.array(["2023-11-01", "2024-03-06", "21.3.2024"])[k]
    ends = np.array(["2024-03-05", "20.3.2024", ""])[k]
    status = np.array(["TYOTON", "PALVELU", "LOMAUTETTU"])[k]
    service = np.array(["", "TYOVOIMAKOULUTUS", ""])[k]
    municipalities = np.array(["205", "105", "290", "578", "620", "697", "765", "777", "091", "005"])
    return pd.DataFrame(
        {
            "henkilotunnus": codes,
            "jakso_id": [f"J{i:08d}" for i in range(rows)],
            "alkupvm": starts,
            "loppupvm": ends,
            "tila": status,
            "palvelu": service,
            "kuntanumero": municipalities[np.repeat(np.arange(persons) % 10, 3)[:rows]],
        }
    )


def payments_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 24, size=rows)
    return pd.DataFrame(
        {
            "henkilotunnus": synthetic_codes(rows, seed),
            "maksukuukausi": MONTH,
            "kuntanumero": "205",
            "etuus": "TMT",
            "maksetut_paivat": days,
            "kertyneet_paivat": days + rng.integers(0, 2000, size=rows),
            "maksettu_eur": [f"{v / 100:.2f}".replace(".", ",") for v in rng.integers(-5000, 200000, size=rows)],
            "kuntaosuus_eur": [f"{v / 100:.2f}" for v in rng.integers(-2000, 100000, size=rows)],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--source", choices=sorted(SOURCES), default=jobseeker.SOURCE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {
                "KAIRA_LANDING_DIR": f"{tmp}/landing",
                "KAIRA_WAREHOUSE_DIR": f"{tmp}/warehouse",
                "KAIRA_QUARANTINE_DIR": f"{tmp}/quarantine",
                "KAIRA_PSEUDONYM_KEY": "benchmark-key-not-secret-at-least-32-bytes",
            }
        )
        path = expected_path(args.source, MONTH, settings.landing_dir)
        path.parent.mkdir(parents=True)
        t = time.perf_counter()
        frame = spells_frame(args.rows) if args.source == jobseeker.SOURCE else payments_frame(args.rows)
        frame.to_csv(path, sep=";", index=False)
        print(f"generated {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")

        spec = SOURCES[args.source]
        t = time.perf_counter()
        landing = read_landing_csv(path, spec.columns, name=path.name)
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        spec.validate(landing, MONTH, settings.pseudonym_key)
        validate_s = time.perf_counter() - t
        t = time.perf_counter()
        report = ingest_month(args.source, MONTH, settings)
        total_s = time.perf_counter() - t
        print(f"read:     {read_s:6.1f} s  ({args.rows / read_s:,.0f} rows/s)")
        print(f"validate: {validate_s:6.1f} s  ({args.rows / validate_s:,.0f} rows/s)")
        print(
            f"ingest_month (read + validate + load into DuckDB): {total_s:.1f} s, "
            f"{report.rows_read / total_s:,.0f} rows/s; loaded {report.rows_loaded:,}, rejected {report.rows_rejected:,}"
        )


if __name__ == "__main__":
    main()
