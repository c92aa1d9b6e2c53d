"""Write the real Kainuu series of StatFin table 12r5 as a PX file, once, for the package.

    .venv/bin/python tools/make_statfin_kainuu_px.py SOURCE_CSV [SEEDS_DIR] [OUT_PX]

SOURCE_CSV is the long-form extract `month,area_code,measure,value` of the real 12r5
figures (the project's shared data folder: statfin_12r5_kainuu_2006-01_2023-10.csv,
extracted from the public R package pttry/kohtaantoindeksit, which holds StatFin's 12r5 as
downloaded; an empty value was confidential in the source). SEEDS_DIR gives the areas'
Finnish names (dbt_project/seeds/municipalities.csv and regions.csv by default: their folder). OUT_PX defaults to
pipelines/official_data/statfin_12r5_kainuu_2006-01_2023-10.px.

The PX file is written as StatFin writes them: CODEPAGE iso-8859-15, CRLF, STUB month,
HEADING measure and area, confidential cells as "...", the credit line in SOURCE and NOTE.
It has no LAST-UPDATED: the extract does not say when StatFin last updated the figures, so
the file does not pretend to know. The pipeline never runs this script; it reads the PX.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CREDIT = "Lähde: Tilastokeskus / KEHA-keskus, työnvälitystilasto, CC BY 4.0"
MEASURES = {
    "TYOTTOMATLOPUSSA": "Työttömät työnhakijat laskentapäivänä (lkm.)",
    "TYOVOIMATK": "TK:n Työssäkäyntitilaston työvoima (lkm.)",
    "AVPAIKATLOPUSSA": "Avoimet työpaikat kuukauden laskentapäivänä (lkm.)",
}
AREA_ORDER_FIRST = ("SSS", "MK18")


def quoted(values: list[str]) -> str:
    return ",".join(f'"{value}"' for value in values)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    source = Path(argv[0])
    seeds = Path(argv[1]) if len(argv) > 1 else ROOT / "dbt_project/seeds"
    out = Path(argv[2]) if len(argv) > 2 else ROOT / "pipelines/official_data/statfin_12r5_kainuu_2006-01_2023-10.px"

    names = {"SSS": "KOKO MAA"}
    with open(seeds / "municipalities.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names["KU" + row["municipality_code"]] = row["municipality_name_fi"]
    with open(seeds / "regions.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names[row["region_code"]] = row["region_name_fi"]

    cells: dict[tuple[str, str, str], str] = {}
    months: set[str] = set()
    areas: set[str] = set()
    with open(source, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = (row["month"], row["measure"], row["area_code"])
            if key in cells:
                raise SystemExit(f"{source}: {key} appears twice")
            if row["measure"] not in MEASURES:
                raise SystemExit(f"{source}: unknown measure {row['measure']}")
            cells[key] = row["value"].strip()
            months.add(row["month"])
            areas.add(row["area_code"])
    month_list = sorted(months)
    area_list = [code for code in AREA_ORDER_FIRST if code in areas] + sorted(areas - set(AREA_ORDER_FIRST))
    measure_list = list(MEASURES)
    missing = [(m, s, a) for m in month_list for s in measure_list for a in area_list if (m, s, a) not in cells]
    if missing:
        raise SystemExit(f"{source}: {len(missing)} cells missing, first {missing[0]}")

    month_codes = [month.replace("-", "M") for month in month_list]
    first, last = month_codes[0], month_codes[-1]
    title = "12r5 -- Työttömät työnhakijat eri ryhmissä, palveluissa olevat ja avoimet työpaikat kuukauden lopussa"
    lines = [
        'CHARSET="ANSI";',
        'AXIS-VERSION="2010";',
        'CODEPAGE="iso-8859-15";',
        'LANGUAGE="fi";',
        "DECIMALS=0;",
        "SHOWDECIMALS=0;",
        'MATRIX="001_12r5_2023";',
        'SUBJECT-CODE="tym";',
        'SUBJECT-AREA="Työmarkkinat";',
        f'DESCRIPTION="{title}, {first}-{last}, Kainuu";',
        f'TITLE="{title} muuttujina Kuukausi, Tiedot ja Alue";',
        f'CONTENTS="{title}";',
        'STUB="Kuukausi";',
        'HEADING="Tiedot","Alue";',
        'CONTVARIABLE="Tiedot";',
        'VARIABLECODE("Kuukausi")="Kuukausi";',
        f'VALUES("Kuukausi")={quoted(month_codes)};',
        'VARIABLECODE("Tiedot")="Tiedot";',
        f'VALUES("Tiedot")={quoted([MEASURES[m] for m in measure_list])};',
        'VARIABLECODE("Alue")="Alue";',
        f'VALUES("Alue")={quoted([names[a] for a in area_list])};',
        f'TIMEVAL("Kuukausi")=TLIST(M1),{quoted([m.replace("M", "") for m in month_codes])};',
        f'CODES("Kuukausi")={quoted(month_codes)};',
        f'CODES("Tiedot")={quoted(measure_list)};',
        f'CODES("Alue")={quoted(area_list)};',
        'MAP("Alue")="Alue 2023";',
        'UNITS="lukumäärä";',
        'TABLEID="statfin_tyonv_pxt_12r5";',
        'VARIABLE-TYPE("Kuukausi")="Time";',
        'VARIABLE-TYPE("Alue")="Classificatory";',
        f'SOURCE="{CREDIT}";',
        f'NOTE="{CREDIT}. Todelliset luvut: StatFin-taulukon 12r5 Kainuun alueet 2006M01-2023M10 vuoden 2023 '
        "aluejaolla (Vaala ei kuulu Kainuuseen). ... = luottamuksellinen tai ei saatavilla. Kairan "
        'tools/make_statfin_kainuu_px.py muunsi luvut PX-muotoon.";',
        "DATA=",
    ]
    for month in month_list:
        row = []
        for measure in measure_list:
            for area in area_list:
                value = cells[(month, measure, area)]
                row.append(value if value else '"..."')
        lines.append(" ".join(row))
    lines[-1] += ";"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(("\r\n".join(lines) + "\r\n").encode("iso-8859-15"))
    print(f"wrote {out}: {len(month_list)} months × {len(measure_list)} measures × {len(area_list)} areas")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
