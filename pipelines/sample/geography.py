"""Municipalities the generator places jobseekers in, for both scales.

`kainuu`: the real municipalities of Kainuu (MK18) as they stood before 2016, Vaala included.
`finland`: those nine plus 291 synthetic municipalities in 19 regions. The synthetic set is
derived from a fixed seed (independent of the sample's seed) so that it is the same in every
run; `finland_municipalities.csv` beside this module is its export, for the reference data
of a national-scale demo. Regenerate that file with
`python -m pipelines.sample.geography` after changing anything here (a unit test compares).

Each municipality has an `inflow_weight`: its share of the modelled (hard-to-employ)
jobseekers. For Kainuu the shares come from Statistics Finland's official series 2006-2013
(docs/sample-calibration.md): each municipality's smallest share of Kainuu's unemployed
relative to the modelled ones, so that the fitted short-term newcomers (fitted_inflow.py)
can make up the rest everywhere (Kajaani about 47 %). A region's `hardship` scales its
number of hard-to-employ people.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

KAINUU_REGION = ("MK18", "Kainuu")

# code, Finnish name, Swedish name, share of the modelled jobseekers (per cent)
KAINUU_MUNICIPALITIES = (
    ("105", "Hyrynsalmi", "Hyrynsalmi", 3.9),
    ("205", "Kajaani", "Kajana", 47.1),
    ("290", "Kuhmo", "Kuhmo", 14.6),
    ("578", "Paltamo", "Paltamo", 4.7),
    ("620", "Puolanka", "Puolanka", 4.2),
    ("697", "Ristijärvi", "Ristijärvi", 1.2),
    ("765", "Sotkamo", "Sotkamo", 8.5),
    ("777", "Suomussalmi", "Suomussalmi", 11.1),
    ("785", "Vaala", "Vaala", 4.7),
)

# Statistics Finland's region codes (MK03 and MK20 do not exist); names synthetic except Kainuu.
REGION_CODES = (
    "MK01", "MK02", "MK04", "MK05", "MK06", "MK07", "MK08", "MK09", "MK10", "MK11",
    "MK12", "MK13", "MK14", "MK15", "MK16", "MK17", "MK18", "MK19", "MK21",
)
SYNTHETIC_MUNICIPALITY_COUNT = 291
# Kela's open data uses 199 for "unknown municipality": never give it to a synthetic one.
RESERVED_CODES = frozenset({"199"})
# The national set is fixed, not drawn from the user's seed.
_GEOGRAPHY_SEED = 19_731_001
# Jobseekers registered at a time in Finland relative to Kainuu (about 500,000 / 11,000).
NATIONAL_TO_KAINUU = 45.0

CSV_PATH = Path(__file__).with_name("finland_municipalities.csv")
CSV_COLUMNS = (
    "municipality_code",
    "municipality_name_fi",
    "municipality_name_sv",
    "region_code",
    "region_name_fi",
)


@dataclass(frozen=True)
class Geography:
    codes: tuple[str, ...]  # three-digit municipality codes, sorted
    names_fi: tuple[str, ...]
    names_sv: tuple[str, ...]
    region_of: np.ndarray  # index into region_codes, per municipality
    region_codes: tuple[str, ...]
    region_names: tuple[str, ...]
    inflow_weight: np.ndarray  # new jobseekers per day relative to Kainuu's total
    hardship: np.ndarray  # per municipality (from its region), multiplies the hard-to-employ share

    @property
    def size(self) -> int:
        return len(self.codes)


def kainuu_geography() -> Geography:
    shares = np.array([row[3] for row in KAINUU_MUNICIPALITIES], dtype=float)
    return Geography(
        codes=tuple(row[0] for row in KAINUU_MUNICIPALITIES),
        names_fi=tuple(row[1] for row in KAINUU_MUNICIPALITIES),
        names_sv=tuple(row[2] for row in KAINUU_MUNICIPALITIES),
        region_of=np.zeros(len(KAINUU_MUNICIPALITIES), dtype=np.int64),
        region_codes=(KAINUU_REGION[0],),
        region_names=(KAINUU_REGION[1],),
        inflow_weight=shares / shares.sum(),
        hardship=np.ones(len(KAINUU_MUNICIPALITIES)),
    )


def finland_geography() -> Geography:
    """Kainuu's real municipalities plus a fixed synthetic rest of the country."""
    rng = np.random.default_rng(_GEOGRAPHY_SEED)
    kainuu = kainuu_geography()
    taken = set(kainuu.codes) | RESERVED_CODES
    free_codes = np.array([f"{code:03d}" for code in range(1, 1000) if f"{code:03d}" not in taken])
    synthetic_codes = np.sort(rng.choice(free_codes, SYNTHETIC_MUNICIPALITY_COUNT, replace=False))

    other_regions = [code for code in REGION_CODES if code != KAINUU_REGION[0]]
    # Uneven region sizes, like the real ones (Uusimaa large, Ahvenanmaa small).
    region_weights = rng.dirichlet(np.full(len(other_regions), 2.0))
    region_of_synthetic = rng.choice(len(other_regions), SYNTHETIC_MUNICIPALITY_COUNT, p=region_weights)
    # Municipality sizes are heavy-tailed: a few cities, many small municipalities.
    synthetic_size = rng.lognormal(mean=0.0, sigma=1.1, size=SYNTHETIC_MUNICIPALITY_COUNT)
    region_hardship = rng.lognormal(mean=0.0, sigma=0.25, size=len(other_regions))

    # Scale the synthetic rest so that the country is NATIONAL_TO_KAINUU times Kainuu.
    synthetic_weight = synthetic_size / synthetic_size.sum() * (NATIONAL_TO_KAINUU - 1.0)

    region_codes = tuple(REGION_CODES)
    region_names = tuple(
        KAINUU_REGION[1] if code == KAINUU_REGION[0] else f"Synteettinen maakunta {code[2:]}"
        for code in region_codes
    )
    kainuu_region = region_codes.index(KAINUU_REGION[0])
    other_region_index = np.array([region_codes.index(code) for code in other_regions])

    rows = [
        (code, name_fi, name_sv, kainuu_region, weight, 1.0)
        for code, name_fi, name_sv, weight in zip(
            kainuu.codes, kainuu.names_fi, kainuu.names_sv, kainuu.inflow_weight
        )
    ]
    for i, code in enumerate(synthetic_codes):
        rows.append(
            (
                str(code),
                f"Synteettinen kunta {code}",
                f"Syntetisk kommun {code}",
                int(other_region_index[region_of_synthetic[i]]),
                float(synthetic_weight[i]),
                float(region_hardship[region_of_synthetic[i]]),
            )
        )
    rows.sort(key=lambda row: row[0])
    return Geography(
        codes=tuple(row[0] for row in rows),
        names_fi=tuple(row[1] for row in rows),
        names_sv=tuple(row[2] for row in rows),
        region_of=np.array([row[3] for row in rows], dtype=np.int64),
        region_codes=region_codes,
        region_names=region_names,
        inflow_weight=np.array([row[4] for row in rows]),
        hardship=np.array([row[5] for row in rows]),
    )


def geography_for(scale: str) -> Geography:
    if scale == "kainuu":
        return kainuu_geography()
    if scale == "finland":
        return finland_geography()
    raise ValueError(f"unknown scale {scale!r}: use 'kainuu' or 'finland'")


def municipalities_csv_text(geography: Geography) -> str:
    lines = [";".join(CSV_COLUMNS)]
    for i, code in enumerate(geography.codes):
        region = geography.region_of[i]
        lines.append(
            ";".join(
                (
                    code,
                    geography.names_fi[i],
                    geography.names_sv[i],
                    geography.region_codes[region],
                    geography.region_names[region],
                )
            )
        )
    return "\n".join(lines) + "\n"


def write_municipalities_csv(path: Path = CSV_PATH) -> None:
    path.write_text(municipalities_csv_text(finland_geography()), encoding="utf-8", newline="\n")


if __name__ == "__main__":
    write_municipalities_csv()
    print(f"wrote {CSV_PATH}")
