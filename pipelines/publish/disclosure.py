"""Disclosure control of the published indicators (docs/disclosure-control.md).

One pure, deterministic function, :func:`apply_disclosure_control`, takes the
unsuppressed long table (one row per month, area, sex and indicator) and returns the
same rows, less the internal indicator ``tmt_persons_any_row``, with every cell that
must not leave the warehouse set to ``value = NaN`` and ``status = 'suppressed'``.

The rules
---------
1. *Primary.* A person count (the 15 count indicators below) with
   ``1 <= value <= threshold - 1`` is suppressed; 0 is published.
2. *Euro block.* The four euro indicators of one (month, area, sex) are one block,
   suppressed together. The block is primarily suppressed where the internal
   indicator ``tmt_persons_any_row`` of that cell is between 1 and ``threshold - 1``.
   In the secondary step the block is ONE cell whose value is ``tmt_paid_eur``.
3. *Secondary*, within one month, on the additive relations

   a. ``total = male + female`` per area and indicator (all 15 counts and the block);
   b. ``region = sum of its municipalities`` per sex (the 10 source-1 counts and the
      block; NOT the Kela recipient counts, which are distinct persons);
   c. ``SSS = sum of regions`` per sex, where the country row exists (same set as b);
   d. ``structural_unemployed = long_term_unemployed + equivalent_long_term_unemployed
      + returned_from_services + service_to_service`` per area and sex.

   Passes run until one changes nothing. Each pass reads the suppression as it stood
   at the start of the pass; every relation instance with exactly one suppressed cell
   chooses one more cell: the unsuppressed part with the smallest non-zero value (ties:
   female before male, then the lowest area code, then the canonical indicator order),
   or, if no part qualifies, the whole if it is not suppressed. All choices of a pass
   are applied together.

Decisions where the rule is open
----------------------------------
* **Not-available cells.** A cell whose value is NULL without being suppressed (status
  ``not_available``/``no_rule``, or any other NULL) is neither a suppressed cell nor a
  candidate: it does not count towards "exactly one suppressed cell" and is never
  chosen. Instances containing such a cell are still processed (conservative: may
  suppress a little more than strictly needed, never less).
* **Block value.** The block's value is ``tmt_paid_eur``; if that is NULL the block is
  not a candidate (it can still be primarily suppressed by the persons rule).
* **"Smallest non-zero" with negative euros.** Euro sums can be negative (corrections).
  Parts are ranked by absolute value, so the part revealing the least money is chosen;
  for counts this is the plain value.
* **Relation membership** comes from ``parent_area_code``: a municipality belongs to
  the region it points at in that month, a region to ``SSS`` only when it points at
  ``SSS``. An instance exists only where its whole (total / region / SSS / structural
  row) exists in the table; parts without a whole reveal nothing through the relation.
* **Area codes** compare as strings (Statistics Finland codes are zero-padded:
  ``KU005 < KU205``, ``MK01 < MK18``).
* **Fractional counts** cannot occur; the test is ``0 < value < threshold`` so that a
  non-integer would err towards suppression.
* **Input errors fail loudly** (``ValueError``): unknown indicator or sex, duplicate
  keys, missing key columns, negative counts, and a euro block with data but no
  ``tmt_persons_any_row`` value for its cell (the block could not be controlled).
* ``area_level`` is carried through unchanged; the relations are read from
  ``parent_area_code`` alone. The output ``value`` column is float64 (DOUBLE).
* A whole that is alone suppressed in an instance whose parts are all zero or NULL
  cannot be helped by the rule (no candidate part, the whole is already suppressed);
  with consistent data the parts then add up to the whole, so such a whole is either
  protected by a NULL part or the data are not additive. It is left as it is.

The result does not depend on the order of the input rows: every choice is decided
by values and the tie-break order, never by row position.

Implementation: cells become integer-keyed *units* (a count, or a euro block); every
relation instance is identified by its whole unit, and its membership is a pair of
flat arrays. A pass is then a handful of whole-table numpy operations (a bincount of
suppressed members per instance, one lexsort of the candidate parts), over all months
at once; about 2 s for the national 2.3M-cell table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.core import indicators

__all__ = [
    "SOURCE1_COUNTS",
    "KELA_COUNTS",
    "COUNT_INDICATORS",
    "EURO_BLOCK",
    "INTERNAL_PERSONS_ANY_ROW",
    "CANONICAL_INDICATORS",
    "STRUCTURAL_GROUPS",
    "SUPPRESSED",
    "apply_disclosure_control",
]

SOURCE1_COUNTS = indicators.JOBSEEKER_COUNTS
KELA_COUNTS = indicators.KELA_COUNTS
COUNT_INDICATORS: tuple[str, ...] = SOURCE1_COUNTS + KELA_COUNTS
EURO_BLOCK = indicators.EURO_BLOCK
INTERNAL_PERSONS_ANY_ROW = indicators.PERSONS_ANY_TMT_ROW
CANONICAL_INDICATORS: tuple[str, ...] = COUNT_INDICATORS + EURO_BLOCK
STRUCTURAL_WHOLE = indicators.STRUCTURAL_WHOLE
STRUCTURAL_GROUPS = indicators.STRUCTURAL_GROUPS
SUPPRESSED = "suppressed"

REQUIRED_COLUMNS = (
    "month",
    "area_code",
    "area_level",
    "parent_area_code",
    "sex",
    "indicator",
    "value",
    "status",
)

# Sex codes double as the tie-break rank: female before male (total is never a part).
_SEX_CODE = {"female": 0, "male": 1, "total": 2}
_TOTAL = _SEX_CODE["total"]

# Indicator codes: canonical order, then the internal indicator.
_IND_CODE = {name: i for i, name in enumerate(CANONICAL_INDICATORS + (INTERNAL_PERSONS_ANY_ROW,))}
_N_COUNTS = len(COUNT_INDICATORS)  # 15: codes 0..14 are counts
_EURO_CODES = np.array([_IND_CODE[name] for name in EURO_BLOCK])  # 15..18
_PAID_CODE = _IND_CODE["tmt_paid_eur"]
_PERSONS_CODE = _IND_CODE[INTERNAL_PERSONS_ANY_ROW]

# Unit codes (a unit is one cell of the secondary step): each count is its own unit
# 0..14; the euro block is unit 15 and sorts where tmt_paid_eur sorts (after counts).
_BLOCK_UNIT = _N_COUNTS
_N_UNITS = _N_COUNTS + 1
_HIERARCHY_UNITS = np.array([_IND_CODE[name] for name in SOURCE1_COUNTS] + [_BLOCK_UNIT])
_STRUCTURAL_GROUP_UNITS = np.array([_IND_CODE[name] for name in STRUCTURAL_GROUPS])
_STRUCTURAL_UNIT = _IND_CODE[STRUCTURAL_WHOLE]

# Relation ids, used to keep instance ids of different relations apart.
_REL_SEX, _REL_HIERARCHY, _REL_STRUCTURAL = 0, 1, 2
_N_RELATIONS = 3


def apply_disclosure_control(cells: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """Return ``cells`` under disclosure control (see the module docstring for the rules).

    ``cells`` is the unsuppressed long table with the columns ``month``, ``area_code``,
    ``area_level``, ``parent_area_code``, ``sex``, ``indicator``, ``value``, ``status``
    and one row per (month, area_code, sex, indicator), including the internal
    indicator ``tmt_persons_any_row``. The input is not modified.

    The result has the same columns and the same rows in the same order (index kept)
    less the ``tmt_persons_any_row`` rows; a suppressed cell has ``value`` NaN and
    ``status`` ``'suppressed'`` (which takes precedence over any earlier status).
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
        raise TypeError(f"threshold must be an int, got {threshold!r}")
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    missing = [c for c in REQUIRED_COLUMNS if c not in cells.columns]
    if missing:
        raise ValueError(f"disclosure control: missing columns {missing}")

    n = len(cells)
    if n == 0:
        return cells.copy()
    ind = _codes(cells["indicator"], _IND_CODE, "indicator")
    sex = _codes(cells["sex"], _SEX_CODE, "sex")
    for col in ("month", "area_code"):
        if cells[col].isna().any():
            raise ValueError(f"disclosure control: null {col}")
    month = pd.factorize(cells["month"])[0].astype(np.int64)

    # One area index over area codes and parent codes, in string order (= tie-break).
    # Factorize first (hashing), then order the few distinct codes as strings.
    area_f, area_u = pd.factorize(cells["area_code"])
    parent_f, parent_u = pd.factorize(cells["parent_area_code"])  # NULL -> -1
    areas = np.unique(np.concatenate([np.asarray(area_u, dtype=str), np.asarray(parent_u, dtype=str)]))
    area = np.searchsorted(areas, np.asarray(area_u, dtype=str)).astype(np.int64)[area_f]
    # parent index, -1 where NULL (a sentinel slot appended after the real parents)
    parent_pos = np.append(np.searchsorted(areas, np.asarray(parent_u, dtype=str)), -1).astype(np.int64)
    parent = parent_pos[np.where(parent_f >= 0, parent_f, len(parent_u))]
    n_areas = len(areas)

    value = pd.to_numeric(cells["value"], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)

    cell_key = ((month * n_areas + area) * 3 + sex) * (_PERSONS_CODE + 1) + ind
    sorted_key = np.sort(cell_key)
    if (sorted_key[1:] == sorted_key[:-1]).any():
        dup = cells.loc[pd.Series(cell_key).duplicated(keep=False).to_numpy(),
                        ["month", "area_code", "sex", "indicator"]].head(5)
        raise ValueError(f"disclosure control: duplicate (month, area_code, sex, indicator):\n{dup}")

    is_count = ind < _N_COUNTS
    if (value[is_count] < 0).any():
        raise ValueError("disclosure control: negative person count")
    if (value[ind == _PERSONS_CODE] < 0).any():
        raise ValueError(f"disclosure control: negative {INTERNAL_PERSONS_ANY_ROW}")

    # ---- units: counts are units; the euro block of (month, area, sex) is one unit.
    mas = (month * n_areas + area) * 3 + sex  # (month, area, sex) key
    unit_of_row = np.where(ind < _N_COUNTS, ind, _BLOCK_UNIT)
    row_unit_key = mas * _N_UNITS + unit_of_row
    in_unit = ind != _PERSONS_CODE
    unit_keys, first_row = np.unique(row_unit_key[in_unit], return_index=True)
    unit_rows = np.flatnonzero(in_unit)[first_row]  # one representative row per unit
    n_u = len(unit_keys)

    def lookup(keys: np.ndarray) -> np.ndarray:
        """Unit index of each key, -1 where there is no such unit."""
        if n_u == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(unit_keys, keys), n_u - 1)
        return np.where(unit_keys[pos] == keys, pos, -1)

    u_unit = unit_keys % _N_UNITS
    u_mas = unit_keys // _N_UNITS
    u_sex = u_mas % 3
    u_area = (u_mas // 3) % n_areas
    u_month = u_mas // 3 // n_areas
    u_parent = parent[unit_rows]
    is_block = u_unit == _BLOCK_UNIT

    u_value = value[unit_rows].copy()
    # A block's value is tmt_paid_eur (NaN when that row is missing or NULL).
    u_value[is_block] = np.nan
    paid_rows = np.flatnonzero(ind == _PAID_CODE)
    paid_units = np.searchsorted(unit_keys, row_unit_key[paid_rows])
    u_value[paid_units] = value[paid_rows]

    # ---- primary suppression
    sup = np.zeros(n_u, dtype=bool)
    cv = u_value[~is_block]
    sup[~is_block] = (cv > 0) & (cv < threshold)

    block_idx = np.flatnonzero(is_block)
    persons = np.full(n_u, np.nan)
    p_rows = np.flatnonzero(ind == _PERSONS_CODE)
    p_keys = mas[p_rows] * _N_UNITS + _BLOCK_UNIT
    p_units = lookup(p_keys)
    found = p_units >= 0
    persons[p_units[found]] = value[p_rows[found]]
    # A block with any euro value but no persons figure cannot be controlled.
    euro_rows = np.flatnonzero(np.isin(ind, _EURO_CODES))
    euro_units = np.searchsorted(unit_keys, row_unit_key[euro_rows])
    block_has_data = np.zeros(n_u, dtype=bool)
    block_has_data[euro_units[~np.isnan(value[euro_rows])]] = True
    uncontrolled = block_has_data & np.isnan(persons)
    if uncontrolled.any():
        r = unit_rows[np.flatnonzero(uncontrolled)[:5]]
        raise ValueError(
            f"disclosure control: euro block without {INTERNAL_PERSONS_ANY_ROW} for\n"
            f"{cells.iloc[r][['month', 'area_code', 'sex']]}"
        )
    bp = persons[block_idx]
    sup[block_idx] = (bp > 0) & (bp < threshold)

    # ---- relation instances: (instance id, member unit, is whole). An instance is
    # identified by its whole unit, offset by the relation id.
    def unit_key(m, a, s, u):
        return ((m * n_areas + a) * 3 + s) * _N_UNITS + u

    inst_parts, inst_members, inst_wholes = [], [], []

    def add_relation(rel: int, part_mask: np.ndarray, whole_keys: np.ndarray) -> None:
        parts = np.flatnonzero(part_mask)
        whole = lookup(whole_keys)
        has = whole >= 0
        parts, whole = parts[has], whole[has]
        inst = rel * n_u + whole
        inst_parts.append(inst)
        inst_members.append(parts)
        is_whole = np.zeros(n_u, dtype=bool)
        is_whole[whole] = True
        w = np.flatnonzero(is_whole)
        inst_wholes.append((rel * n_u + w, w))

    # (a) total = male + female, per area and unit (every count and the block)
    m_sex = u_sex != _TOTAL
    add_relation(_REL_SEX, m_sex,
                 unit_key(u_month[m_sex], u_area[m_sex], _TOTAL, u_unit[m_sex]))
    # (b, c) region = sum of municipalities, SSS = sum of regions (via parent code)
    m_h = (u_parent >= 0) & np.isin(u_unit, _HIERARCHY_UNITS)
    add_relation(_REL_HIERARCHY, m_h,
                 unit_key(u_month[m_h], u_parent[m_h], u_sex[m_h], u_unit[m_h]))
    # (d) structural = the four groups, per area and sex
    m_s = np.isin(u_unit, _STRUCTURAL_GROUP_UNITS)
    add_relation(_REL_STRUCTURAL, m_s,
                 unit_key(u_month[m_s], u_area[m_s], u_sex[m_s], _STRUCTURAL_UNIT))

    part_inst = np.concatenate(inst_parts)
    part_unit = np.concatenate(inst_members)
    whole_inst = np.concatenate([w[0] for w in inst_wholes])
    whole_unit = np.concatenate([w[1] for w in inst_wholes])
    n_inst = _N_RELATIONS * n_u  # sparse instance ids: relation * n_u + whole unit
    mem_inst = np.concatenate([part_inst, whole_inst])
    mem_unit = np.concatenate([part_unit, whole_unit])

    # Tie-break rank of a unit among the parts of one instance: sex (female first),
    # then area code (string order), then canonical indicator order.
    tiebreak = np.empty(n_u, dtype=np.int64)
    tiebreak[np.lexsort((u_unit, u_area, u_sex))] = np.arange(n_u)
    absval = np.abs(u_value)
    available = ~np.isnan(u_value)
    part_ok = available & (absval > 0)

    # ---- secondary passes
    while True:
        n_sup = np.bincount(mem_inst[sup[mem_unit]], minlength=n_inst)
        single = n_sup == 1
        if not single.any():
            break
        # candidate parts of single-suppression instances
        pm = single[part_inst] & ~sup[part_unit] & part_ok[part_unit]
        ci, cu = part_inst[pm], part_unit[pm]
        order = np.lexsort((tiebreak[cu], absval[cu], ci))
        ci, cu = ci[order], cu[order]
        first = np.ones(len(ci), dtype=bool)
        first[1:] = ci[1:] != ci[:-1]
        chosen_parts = cu[first]
        has_part = np.zeros(n_inst, dtype=bool)
        has_part[ci[first]] = True
        # otherwise the whole, if not suppressed (and available)
        wm = single[whole_inst] & ~has_part[whole_inst] & ~sup[whole_unit] & available[whole_unit]
        chosen = np.concatenate([chosen_parts, whole_unit[wm]])
        if len(chosen) == 0 or sup[chosen].all():
            break
        sup[chosen] = True

    # ---- back to rows
    out_mask = in_unit
    row_sup = np.zeros(n, dtype=bool)
    row_sup[in_unit] = sup[np.searchsorted(unit_keys, row_unit_key[in_unit])]
    out = cells.loc[out_mask].copy()
    if not pd.api.types.is_float_dtype(out["value"]):
        # value is DOUBLE in the published contract; an int column cannot hold NULL
        out["value"] = pd.to_numeric(out["value"]).astype(np.float64)
    s = row_sup[out_mask]
    if s.any():
        out.loc[s, "value"] = np.nan
        out.loc[s, "status"] = SUPPRESSED
    return out


def _codes(col: pd.Series, mapping: dict[str, int], name: str) -> np.ndarray:
    """Map a column of a few distinct strings to integer codes; refuse unknown values."""
    f, uniques = pd.factorize(col, use_na_sentinel=False)
    unknown = [u for u in uniques if not isinstance(u, str) or u not in mapping]
    if unknown:
        raise ValueError(f"disclosure control: unknown {name} {sorted(map(str, unknown))[:10]}")
    return np.array([mapping[u] for u in uniques], dtype=np.int64)[f]
