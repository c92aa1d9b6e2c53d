"""StatFin files for tests, in the shapes the PxWeb API answers: JSON-stat 2.0 and the v1
`json` format, written from a frame of cells (month 'YYYY-MM', area_code, area_name,
measure, value, symbol), and a small PX writer. Test-only: the pipeline never writes these.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

UPDATED = "2024-12-23T06:00:00Z"


def _axes(cells: pd.DataFrame) -> tuple[list[str], list[str], list[str], dict[str, str]]:
    areas = list(dict.fromkeys(cells["area_code"]))
    months = sorted(set(cells["month"]))
    measures = list(dict.fromkeys(cells["measure"]))
    names = dict(zip(cells["area_code"], cells["area_name"].fillna(cells["area_code"]))) if "area_name" in cells else {}
    return areas, months, measures, names


def _lookup(cells: pd.DataFrame) -> dict[tuple[str, str, str], tuple[float | None, str | None]]:
    out = {}
    for row in cells.itertuples(index=False):
        value = (
            None if row.value is None or (isinstance(row.value, float) and math.isnan(row.value)) else float(row.value)
        )
        symbol = row.symbol if isinstance(row.symbol, str) else None
        out[(row.area_code, row.month, row.measure)] = (value, symbol)
    return out


def json_stat2(
    cells: pd.DataFrame,
    *,
    updated: str = UPDATED,
    table: str = "statfin_tyonv_pxt_12r5.px",
    time_name: str = "Kuukausi",
    label: str = "12r5 -- Työttömät työnhakijat",
) -> dict:
    """Dimensions Alue, <time>, Tiedot (StatFin's API order); a symbol's value is null and
    the symbol is in `status` (except '-', which StatFin writes as 0 with status '-')."""
    areas, months, measures, names = _axes(cells)
    lookup = _lookup(cells)
    values, status = [], {}
    for area in areas:
        for month in months:
            for measure in measures:
                value, symbol = lookup[(area, month, measure)]
                if symbol is not None:
                    status[str(len(values))] = symbol
                    values.append(0 if symbol == "-" else None)
                else:
                    values.append(int(value) if value == int(value) else value)
    return {
        "version": "2.0",
        "class": "dataset",
        "label": label,
        "source": "Tilastokeskus",
        "updated": updated,
        "id": ["Alue", time_name, "Tiedot"],
        "size": [len(areas), len(months), len(measures)],
        "dimension": {
            "Alue": {
                "label": "Alue",
                "category": {
                    "index": {a: i for i, a in enumerate(areas)},
                    "label": {a: names.get(a, a) for a in areas},
                },
            },
            time_name: {
                "label": "Kuukausi",
                "category": {
                    "index": {m.replace("-", "M"): i for i, m in enumerate(months)},
                    "label": {m.replace("-", "M"): m.replace("-", "M") for m in months},
                },
            },
            "Tiedot": {
                "label": "Tiedot",
                "category": {"index": {s: i for i, s in enumerate(measures)}, "label": {s: s for s in measures}},
            },
        },
        "value": values,
        "status": status,
        "role": {"time": [time_name], "metric": ["Tiedot"]},
        "extension": {"px": {"tableid": table.removesuffix(".px"), "decimals": 0}},
    }


def pxweb_json(cells: pd.DataFrame, *, updated: str = UPDATED, time_name: str = "Kuukausi") -> dict:
    """The PxWeb API v1 `json` answer: one data row per (area, month), a value per measure."""
    areas, months, measures, _ = _axes(cells)
    lookup = _lookup(cells)
    data = []
    for area in areas:
        for month in months:
            row = []
            for measure in measures:
                value, symbol = lookup[(area, month, measure)]
                row.append(symbol if symbol is not None else (str(int(value)) if value == int(value) else str(value)))
            data.append({"key": [area, month.replace("-", "M")], "values": row})
    return {
        "columns": [{"code": "Alue", "text": "Alue", "type": "d"}, {"code": time_name, "text": "Kuukausi", "type": "t"}]
        + [{"code": measure, "text": measure, "type": "c"} for measure in measures],
        "comments": [],
        "data": data,
        "metadata": [
            {
                "infofile": "https://stat.fi/til/tyonv",
                "updated": updated,
                "label": "12r5 -- Työttömät työnhakijat",
                "source": "Tilastokeskus",
            }
        ],
    }


def write_json(path: Path, document: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path
