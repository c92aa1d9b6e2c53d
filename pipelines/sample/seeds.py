"""The dbt seeds of the national-scale sample's synthetic municipalities and regions.

They come from the generator's geography (pipelines/sample/finland_municipalities.csv), so
the warehouse knows every municipality the sample uses. Run
`python -m pipelines.sample.seeds` after changing the geography; a unit test
checks the committed seeds match.
"""

from __future__ import annotations

import csv
import io

from pipelines.package_files import (
    dbt_project_dir,
)
from pipelines.sample.geography import CSV_PATH

SEEDS_DIR = dbt_project_dir() / "seeds"
OPEN_FROM, OPEN_TO = "1900-01-01", "9999-12-31"


def _rows() -> list[dict[str, str]]:
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def municipalities_seed_text() -> str:
    rows = [
        [r["municipality_code"], r["municipality_name_fi"], r["municipality_name_sv"], r["region_code"], OPEN_FROM, OPEN_TO]
        for r in _rows()
    ]
    header = ["municipality_code", "municipality_name_fi", "municipality_name_sv", "region_code", "valid_from", "valid_to"]
    return _csv(header, rows)


def regions_seed_text() -> str:
    regions = sorted({(r["region_code"], r["region_name_fi"]) for r in _rows()})
    swedish = {"Kainuu": "Kajanaland"}
    rows = [[code, name, swedish.get(name, name.replace("Synteettinen maakunta", "Syntetiskt landskap"))] for code, name in regions]
    return _csv(["region_code", "region_name_fi", "region_name_sv"], rows)


def write_seeds() -> None:
    (SEEDS_DIR / "synthetic_municipalities.csv").write_text(municipalities_seed_text(), encoding="utf-8")
    (SEEDS_DIR / "synthetic_regions.csv").write_text(regions_seed_text(), encoding="utf-8")


if __name__ == "__main__":
    write_seeds()
