"""The official-statistics tables (docs/official-statistics.md, docs/published-tables.md):
pure functions over the loaded StatFin cells, the real geography and the published indicators.

- `official_statistics`: every cell of every official file, as published: no disclosure
  control (the figures are public), the symbol kept beside its status.
- `official_consistency`: each region of the current division against the sum of its
  municipalities, per table, month and measure. StatFin's tables use the division of their
  release year for the whole series, so the current division is used for every month.
- `official_reconciliation`: each published derived figure beside its official
  counterpart (OFFICIAL_COUNTERPARTS); a suppressed derived cell is never compared, so the
  difference never reveals it, and a region is compared only in months when its members
  on the count date are its members in the current division.

The geography is the real one (seeds municipalities and regions): official statistics are
about the real country whatever sample the registers are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from pipelines.core.duckdb_tables import table_exists
from pipelines.publish.tables import (
    OFFICIAL_CONSISTENCY_COLUMNS,
    OFFICIAL_RECONCILIATION_COLUMNS,
    OFFICIAL_STATISTICS_COLUMNS,
)
from pipelines.sources.statfin import status_of

# The columns are the contract's (pipelines/publish/tables.py).
# (indicator, sex) of indicators_monthly -> the official measure of table 12r5 (METRICS.md).
OFFICIAL_COUNTERPARTS: dict[tuple[str, str], str] = {
    ("unemployed", "total"): "TYOTTOMATLOPUSSA",
    ("unemployed", "male"): "TYOTTOMATMIEHET",
    ("unemployed", "female"): "TYOTTOMATNAISET",
    ("long_term_unemployed", "total"): "PITKAAIKAISTYOTTOMAT",
    ("youth_unemployed", "total"): "TYOTTOMAT25",
    ("laid_off", "total"): "LOMAUTETTU",
}
RECONCILED_TABLE = "12r5"
OPEN_END = date(9999, 12, 31)


@dataclass(frozen=True)
class Geography:
    """The real division: each municipality's region by validity, and the regions' names."""

    municipalities: pd.DataFrame  # municipality_code (3 digits), municipality_name_fi, region_code, valid_from, valid_to
    regions: pd.DataFrame  # region_code, region_name_fi
    subregions: pd.DataFrame  # subregion_code, subregion_name_fi, region_code

    def current(self) -> pd.DataFrame:
        """Each municipality's row of the current division, with 'KU' codes."""
        frame = self.municipalities[pd.to_datetime(self.municipalities["valid_to"]) >= pd.Timestamp(OPEN_END)]
        return frame.assign(area_code="KU" + frame["municipality_code"])

    def members_on(self, day: date) -> pd.DataFrame:
        """(area_code KU###, region_code) on `day`."""
        frame = self.municipalities
        day = pd.Timestamp(day)
        valid = frame[(pd.to_datetime(frame["valid_from"]) <= day) & (pd.to_datetime(frame["valid_to"]) >= day)]
        return pd.DataFrame({"area_code": "KU" + valid["municipality_code"], "region_code": valid["region_code"]})


def area_level(code: str, municipalities: set[str]) -> str:
    if code == "SSS":
        return "country"
    if code.startswith("MK"):
        return "region"
    if code.startswith("SK"):
        return "subregion"
    if code in municipalities:
        return "municipality"
    return "other"  # KU199 (unknown), a merged municipality's code, ELY centres, ...


def official_statistics(cells: pd.DataFrame, geography: Geography) -> pd.DataFrame:
    """The published `official_statistics` rows of the loaded cells (raw.official_cells)."""
    if cells.empty:
        return empty(OFFICIAL_STATISTICS_COLUMNS)
    current = geography.current()
    municipality_codes = set(current["area_code"])
    parents = dict(zip(current["area_code"], current["region_code"]))
    names = {
        **dict(zip(current["area_code"], current["municipality_name_fi"])),
        **dict(zip(geography.regions["region_code"], geography.regions["region_name_fi"])),
        **dict(zip(geography.subregions["subregion_code"], geography.subregions["subregion_name_fi"])),
        "SSS": "Koko maa",
    }
    codes = cells["area_code"]
    levels = codes.map(lambda code: area_level(code, municipality_codes))
    symbols = pd.Series([None if pd.isna(symbol) else str(symbol) for symbol in cells["symbol"]], index=cells.index,
                        dtype="object")
    frame = pd.DataFrame(
        {
            "source_table": cells["source_table"],
            "month": pd.to_datetime(cells["month"]),
            "area_code": codes,
            "area_level": levels,
            "area_name": cells["area_name"].where(cells["area_name"].notna(), codes.map(names)),
            "parent_area_code": np.where(levels == "municipality", codes.map(parents), None),
            "measure": cells["measure"],
            "value": pd.to_numeric(cells["value"]),
            "status": [status_of(symbol) for symbol in symbols],
            "source_symbol": symbols,
            "source_file": cells["source_file"],
            "source_updated": pd.to_datetime(cells["source_updated"]),
        }
    )
    frame = frame.sort_values(["source_table", "month", "area_code", "measure"], kind="stable")
    return frame[list(OFFICIAL_STATISTICS_COLUMNS)].reset_index(drop=True)


def official_consistency(statistics: pd.DataFrame, geography: Geography) -> pd.DataFrame:
    """Each region of the current division present in a file against its municipalities."""
    regions = statistics[statistics["area_code"].isin(set(geography.regions["region_code"]))]
    if regions.empty:
        return empty(OFFICIAL_CONSISTENCY_COLUMNS)
    current = geography.current()[["area_code", "region_code"]]
    members = current.groupby("region_code")["area_code"].apply(set).to_dict()
    municipal = statistics[statistics["area_code"].isin(set(current["area_code"]))].merge(current, on="area_code")
    numbered = municipal[municipal["value"].notna()]
    sums = numbered.groupby(["source_table", "month", "measure", "region_code"])["value"].agg(["sum", "count"])
    rows = []
    for region in regions.itertuples(index=False):
        key = (region.source_table, region.month, region.measure, region.area_code)
        total, with_number = (sums.loc[key, "sum"], int(sums.loc[key, "count"])) if key in sums.index else (0.0, 0)
        count = len(members.get(region.area_code, ()))
        without = count - with_number
        if without > 0 or pd.isna(region.value):
            status = "not_checkable"
        elif abs(total - region.value) < 1e-9:
            status = "consistent"
        else:
            status = "inconsistent"
        rows.append(
            {
                "source_table": region.source_table,
                "month": region.month,
                "area_code": region.area_code,
                "measure": region.measure,
                "official_value": region.value,
                "sum_of_municipalities": float(total) if with_number else None,
                "municipalities": count,
                "municipalities_without_number": without,
                "status": status,
            }
        )
    frame = pd.DataFrame(rows, columns=list(OFFICIAL_CONSISTENCY_COLUMNS))
    return frame.sort_values(["source_table", "month", "area_code", "measure"], kind="stable").reset_index(drop=True)


def official_reconciliation(
    indicators: pd.DataFrame,
    statistics: pd.DataFrame,
    geography: Geography,
    *,
    absolute_tolerance: float = 5.0,
    relative_tolerance: float = 0.02,
) -> pd.DataFrame:
    """Derived (published indicators_monthly) beside official, where both exist.

    Status, the first that applies: derived_suppressed (derived value and difference NULL),
    official_unavailable, not_comparable (a region whose members on the count date differ
    from the current division), agree (|difference| <= max(absolute, relative × official)),
    differs."""
    if indicators.empty or statistics.empty:
        return empty(OFFICIAL_RECONCILIATION_COLUMNS)
    wanted = pd.DataFrame(
        [(indicator, sex, measure) for (indicator, sex), measure in OFFICIAL_COUNTERPARTS.items()],
        columns=["indicator", "sex", "measure"],
    )
    derived = indicators.merge(wanted, on=["indicator", "sex"])
    derived = derived.assign(month=pd.to_datetime(derived["month"]))
    official = statistics[statistics["source_table"] == RECONCILED_TABLE][["month", "area_code", "measure", "value"]]
    official = official.assign(month=pd.to_datetime(official["month"])).rename(columns={"value": "official_value"})
    both = derived.merge(official, on=["month", "area_code", "measure"], how="inner")
    if both.empty:
        return empty(OFFICIAL_RECONCILIATION_COLUMNS)

    comparable = region_membership_matches(both[["month", "area_code"]].drop_duplicates(), geography)
    both = both.merge(comparable, on=["month", "area_code"], how="left")
    suppressed = both["status"].eq("suppressed") | both["value"].isna()
    no_official = both["official_value"].isna()
    not_comparable = ~both["comparable"].fillna(True).astype(bool)
    derived_value = both["value"].where(~suppressed)
    difference = (derived_value - both["official_value"]).where(~suppressed & ~no_official)
    relative = difference / both["official_value"].where(both["official_value"] != 0)
    allowed = np.maximum(absolute_tolerance, relative_tolerance * both["official_value"].abs())
    status = np.select(
        [suppressed, no_official, not_comparable, difference.abs() <= allowed],
        ["derived_suppressed", "official_unavailable", "not_comparable", "agree"],
        default="differs",
    )
    frame = pd.DataFrame(
        {
            "month": both["month"],
            "area_code": both["area_code"],
            "area_level": both["area_level"],
            "sex": both["sex"],
            "indicator": both["indicator"],
            "measure": both["measure"],
            "derived_value": derived_value,
            "official_value": both["official_value"],
            "difference": difference,
            "relative_difference": relative,
            "status": status,
        }
    )
    level_order = {"country": 0, "region": 1, "municipality": 2}
    frame = frame.assign(_level=frame["area_level"].map(level_order)).sort_values(
        ["month", "_level", "area_code", "indicator", "sex"], kind="stable"
    )
    return frame[list(OFFICIAL_RECONCILIATION_COLUMNS)].reset_index(drop=True)


def reconciled_months(statistics: pd.DataFrame) -> set[str]:
    """The months (YYYY-MM) `official_reconciliation` can have rows of: those of the reconciled
    table's cells (it joins on the month). Published rows of other months change nothing in it."""
    reconciled = statistics[statistics["source_table"] == RECONCILED_TABLE]
    return {month.strftime("%Y-%m") for month in pd.to_datetime(reconciled["month"]).dropna()}


def region_membership_matches(areas: pd.DataFrame, geography: Geography) -> pd.DataFrame:
    """(month, area_code, comparable): False for a region whose municipalities at the end
    of the month differ from its municipalities in the current division (MK18 and MK17
    before 2016, with Vaala); True for every other area."""
    current = geography.current().groupby("region_code")["area_code"].apply(frozenset).to_dict()
    rows = []
    for month, area_code in areas.itertuples(index=False):
        if not str(area_code).startswith("MK"):
            rows.append((month, area_code, True))
            continue
        month_end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
        members = geography.members_on(month_end)
        then = frozenset(members[members["region_code"] == area_code]["area_code"])
        rows.append((month, area_code, then == current.get(area_code, frozenset())))
    return pd.DataFrame(rows, columns=["month", "area_code", "comparable"])


def empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})


# --- gathering the inputs (read-only warehouse) and building the three tables -------------


@dataclass(frozen=True)
class OfficialTables:
    statistics: pd.DataFrame
    consistency: pd.DataFrame
    reconciliation: pd.DataFrame
    deliveries: pd.DataFrame  # raw.official_deliveries: the files read, or quarantined


def read_official_inputs(connection) -> tuple[pd.DataFrame, pd.DataFrame, Geography]:
    """raw.official_cells, raw.official_deliveries (empty before the first official load)
    and the real geography (the reference seeds)."""
    cells = (
        connection.execute("select * from raw.official_cells").df()
        if table_exists(connection, "raw", "official_cells")
        else pd.DataFrame(columns=["source_table", "month", "area_code", "area_name", "measure", "value", "symbol",
                                   "source_file", "source_updated"])
    )
    deliveries = (
        connection.execute("select * from raw.official_deliveries order by source_file").df()
        if table_exists(connection, "raw", "official_deliveries")
        else pd.DataFrame(columns=["source_file", "status", "problem"])
    )
    if cells.empty:
        # No official file loaded: nothing to place, so the geography is not needed either.
        return cells, deliveries, Geography(
            pd.DataFrame(columns=["municipality_code", "municipality_name_fi", "region_code", "valid_from", "valid_to"]),
            pd.DataFrame(columns=["region_code", "region_name_fi"]),
            pd.DataFrame(columns=["subregion_code", "subregion_name_fi", "region_code"]),
        )
    geography = Geography(
        municipalities=connection.execute(
            "select municipality_code, municipality_name_fi, region_code, valid_from, valid_to "
            "from reference.municipalities"
        ).df(),
        regions=connection.execute("select region_code, region_name_fi from reference.regions").df(),
        subregions=connection.execute("select subregion_code, subregion_name_fi, region_code from reference.subregions").df(),
    )
    return cells, deliveries, geography


def build_official_tables(
    cells: pd.DataFrame,
    deliveries: pd.DataFrame,
    geography: Geography,
    indicators: pd.DataFrame,
    *,
    absolute_tolerance: float,
    relative_tolerance: float,
    statistics: pd.DataFrame | None = None,
) -> OfficialTables:
    """`statistics`: `official_statistics(cells, geography)` when the caller has made it already."""
    if statistics is None:
        statistics = official_statistics(cells, geography)
    return OfficialTables(
        statistics=statistics,
        consistency=official_consistency(statistics, geography),
        reconciliation=official_reconciliation(
            indicators,
            statistics,
            geography,
            absolute_tolerance=absolute_tolerance,
            relative_tolerance=relative_tolerance,
        ),
        deliveries=deliveries,
    )
