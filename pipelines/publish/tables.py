"""The published tables (docs/published-tables.md), built from the warehouse's marts: pure functions.

`indicators_monthly` is the disclosure-controlled indicator table; `target_followup`
follows each target of the (editable) targets seed on the published values only, so that
a target never reveals a suppressed figure; `run_checks` lists the checks of the run.
The tables' columns, types and meanings below are the contract dashboards depend on
(docs/published-tables.md is generated from them): add, never rename.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.core.indicators import SEXES

# --- the contract: every published table's columns, types and meanings, defined once --------
#
# docs/published-tables.md is generated from these definitions (tools/published_contract.py;
# a test fails when the page is stale), the publish stage writes exactly these columns, and
# SCHEMA_VERSION names them: raise it on any change, which may only add (a table, or columns
# at the end of a table), never rename, remove or retype. tests/unit/test_published_contract.py
# compares the tables with the schema recorded for each version
# (tests/fixtures/published_schema.json) and fails on a change without a new version.
SCHEMA_VERSION = 2  # 2: indicators_monthly.parent_area_code and the three official-statistics tables


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB's type name, as written to published.duckdb and the Parquet files
    meaning: str  # Markdown, for the contract page


@dataclass(frozen=True)
class PublishedTable:
    name: str
    grain: str  # Markdown: what one row is
    columns: tuple[Column, ...]

    @property
    def types(self) -> dict[str, str]:
        """column -> type, in the published order: what the writer creates."""
        return {column.name: column.type for column in self.columns}


INDICATORS_MONTHLY = PublishedTable(
    "indicators_monthly",
    "one row per (`month`, `area_code`, `sex`, `indicator`)",
    (
        Column("month", "DATE", "the month, as its first day (`2010-12-01`)"),
        Column("count_date", "DATE", "the month's count date `d` (its last working day)"),
        Column(
            "area_code",
            "VARCHAR",
            "Statistics Finland code: `SSS` (whole country), `MK##` (region), `KU###` (municipality)",
        ),
        Column("area_level", "VARCHAR", "`country`, `region` or `municipality`"),
        Column("area_name", "VARCHAR", "the area's Finnish name (`Koko maa` for `SSS`)"),
        Column("sex", "VARCHAR", "`total`, `male` or `female`"),
        Column("indicator", "VARCHAR", "an indicator code (list below)"),
        Column("value", "DOUBLE", "the figure; **NULL** when suppressed or not available (see `status`)"),
        Column("status", "VARCHAR", "`suppressed`, `no_rule`, `not_available`, `incomplete` or `ok` (below)"),
        Column(
            "lookback_complete",
            "BOOLEAN",
            "whether the month's 16-month look-back is complete (the same on every row of the month)",
        ),
        # Added in version 2, last: the contract adds, never renames or reorders.
        Column(
            "parent_area_code",
            "VARCHAR",
            "the region of a municipality on the count date (Vaala: `MK18` until 2015-12), `SSS` for a region "
            "when the scope is `all`, else NULL: dashboards and reports group without a second source",
        ),
    ),
)

TARGET_FOLLOWUP = PublishedTable(
    "target_followup",
    "one row per (`target_id`, `month`, `area_code`, `sex`)",
    (
        Column("target_id", "VARCHAR", "from the seed"),
        Column("indicator", "VARCHAR", "the indicator followed"),
        Column("month", "DATE", "the month followed (first day)"),
        Column("area_code", "VARCHAR", "the area"),
        Column("sex", "VARCHAR", "`total`, `male` or `female`"),
        Column("baseline_month", "DATE", "from the seed"),
        Column(
            "baseline_value",
            "DOUBLE",
            "the published value of the baseline month; NULL when there is none (status `no_baseline`, "
            "or `suppressed` if the month's value is suppressed too)",
        ),
        Column("target_month", "DATE", "from the seed; NULL for a monitoring target"),
        Column(
            "target_value",
            "DOUBLE",
            "`target_ratio × baseline_value`; NULL for a monitoring target or without a baseline",
        ),
        Column("value", "DOUBLE", "the month's published value (NULL when suppressed or not available)"),
        Column(
            "progress_pct",
            "DOUBLE",
            "`100 × (baseline_value − value) / (baseline_value − target_value)`: 0 at the baseline, 100 when "
            "the target is reached. NULL when the baseline equals the target, and in the statuses below.",
        ),
        Column("status", "VARCHAR", "the first that applies, see below"),
    ),
)

RUN_CHECKS = PublishedTable(
    "run_checks",
    "one row per check evaluated in the run that published",
    (
        Column("run_id", "VARCHAR", "the Dagster run that published"),
        Column("checked_at", "TIMESTAMP", "when the check was evaluated (UTC, without time zone)"),
        Column(
            "asset",
            "VARCHAR",
            "the checked asset, e.g. `stg_kela__tmt_payments`, `fct_kela_payment_shares`, or "
            "`indicators_monthly` for the published table",
        ),
        Column("check_name", "VARCHAR", "e.g. `invoiced_share_matches_recomputed`, `total_equals_male_plus_female`"),
        Column("severity", "VARCHAR", "`error` (blocking) or `warn` (does not block)"),
        Column("passed", "BOOLEAN", "the outcome"),
        Column("description", "VARCHAR", "what the check verifies"),
        Column(
            "observed",
            "VARCHAR",
            "a short text of what it saw (at most 200 characters); for a dbt test, `N failing rows (dbt test)`",
        ),
    ),
)

# One row describing the publication, so a dashboard can label what it shows (an addition
# to the contract's first three tables; it renames nothing).
PUBLICATION = PublishedTable(
    "publication",
    "one row: the publication as a whole",
    (
        Column("run_id", "VARCHAR", "the Dagster run that published"),
        Column("published_at", "TIMESTAMP", "when the tables were built (UTC, without time zone)"),
        Column("first_month", "DATE", "the earliest month in `indicators_monthly` (NULL if it is empty)"),
        Column("last_month", "DATE", "the latest month in `indicators_monthly` (NULL if it is empty)"),
        Column(
            "area_scope", "VARCHAR", "the scope as given: region codes, comma-separated (`MK18`), or `all`"
        ),
        Column("suppression_threshold", "INTEGER", "the threshold applied (`KAIRA_SUPPRESSION_THRESHOLD`)"),
        Column(
            "synthetic",
            "BOOLEAN",
            "`true` when the landed data are the generated sample (the landing folder carries the sample's marker)",
        ),
        Column(
            "data_note_fi",
            "VARCHAR",
            "`Synteettinen esimerkkiaineisto – ei todellisia henkilöitä` when `synthetic`, else NULL",
        ),
        # Added last (the earlier columns keep their places): with area_scope, the settings every
        # published month was computed under (pipelines/core/configuration.py).
        Column(
            "municipality_set",
            "VARCHAR",
            "the municipality reference every published month was computed with (`KAIRA_MUNICIPALITY_SET`: "
            "`real` or `synthetic`)",
        ),
        Column(
            "schema_version",
            "INTEGER",
            "the version of this contract the tables follow; raised whenever a table or column is added",
        ),
    ),
)

# The official statistics (docs/official-statistics.md; built in pipelines/publish/official.py).
OFFICIAL_STATISTICS = PublishedTable(
    "official_statistics",
    "one row per (`source_table`, `month`, `area_code`, `measure`)",
    (
        Column("source_table", "VARCHAR", "the StatFin table, e.g. `12r5` (from the file's metadata, else its name)"),
        Column("month", "DATE", "first day of the month"),
        Column("area_code", "VARCHAR", "as in the source: `SSS`, `MK18`, `SK182`, `KU205`, `KU199`, ..."),
        Column(
            "area_level",
            "VARCHAR",
            "`country`, `region`, `subregion`, `municipality` (a code of the current division) or `other`",
        ),
        Column("area_name", "VARCHAR", "the file's label (its default language), else Kaira's geography"),
        Column("parent_area_code", "VARCHAR", "a municipality's region in the current division, else NULL"),
        Column("measure", "VARCHAR", "the source's code, e.g. `TYOTTOMATLOPUSSA`"),
        Column("value", "DOUBLE", "the number; NULL without one (the symbol `-` is 0)"),
        Column(
            "status",
            "VARCHAR",
            "`ok` (a number, also `-`), `confidential` (`...`, `..`), `not_applicable` (`.`)",
        ),
        Column("source_symbol", "VARCHAR", "the symbol as written; NULL for a number"),
        Column("source_file", "VARCHAR", "base name of the file the cell comes from"),
        Column("source_updated", "TIMESTAMP", "the dataset's `updated` (NULL when the file does not say)"),
    ),
)

OFFICIAL_CONSISTENCY = PublishedTable(
    "official_consistency",
    "one row per (`source_table`, `month`, region `area_code`, `measure`) for every region of the current "
    "division present in a file",
    (
        Column("source_table", "VARCHAR", "as in `official_statistics`"),
        Column("month", "DATE", "first day of the month"),
        Column("area_code", "VARCHAR", "the region (`MK##`)"),
        Column("measure", "VARCHAR", "the source's code"),
        Column("official_value", "DOUBLE", "the region's figure; NULL without a number"),
        Column(
            "sum_of_municipalities",
            "DOUBLE",
            "over its municipalities (current division) that have a number; NULL when none has",
        ),
        Column("municipalities", "INTEGER", "its members in the current division"),
        Column("municipalities_without_number", "INTEGER", "members without a number, or missing from the file"),
        Column("status", "VARCHAR", "`consistent`, `inconsistent` or `not_checkable`"),
    ),
)

OFFICIAL_RECONCILIATION = PublishedTable(
    "official_reconciliation",
    "one row per (`month`, `area_code`, `sex`, `indicator`) where a published derived figure and its "
    "official counterpart (table `12r5`) both exist",
    (
        Column("month", "DATE", "as in `indicators_monthly`"),
        Column("area_code", "VARCHAR", "as in `indicators_monthly`"),
        Column("area_level", "VARCHAR", "as in `indicators_monthly`"),
        Column("sex", "VARCHAR", "as in `indicators_monthly`"),
        Column("indicator", "VARCHAR", "as in `indicators_monthly`"),
        Column("measure", "VARCHAR", "the official counterpart (docs/official-statistics.md)"),
        Column("derived_value", "DOUBLE", "the published derived figure; NULL when suppressed"),
        Column("official_value", "DOUBLE", "the official figure; NULL without a number"),
        Column("difference", "DOUBLE", "derived − official; NULL when either is missing"),
        Column("relative_difference", "DOUBLE", "difference / official; NULL when official is 0"),
        Column(
            "status",
            "VARCHAR",
            "the first that applies: `derived_suppressed`, `official_unavailable`, `not_comparable`, `agree`, "
            "`differs`",
        ),
    ),
)

# Every published table, in the order of the contract page.
PUBLISHED_TABLES: tuple[PublishedTable, ...] = (
    INDICATORS_MONTHLY,
    TARGET_FOLLOWUP,
    RUN_CHECKS,
    PUBLICATION,
    OFFICIAL_STATISTICS,
    OFFICIAL_CONSISTENCY,
    OFFICIAL_RECONCILIATION,
)

INDICATORS_COLUMNS = INDICATORS_MONTHLY.types
TARGET_COLUMNS = TARGET_FOLLOWUP.types
RUN_CHECKS_COLUMNS = RUN_CHECKS.types
PUBLICATION_COLUMNS = PUBLICATION.types
OFFICIAL_STATISTICS_COLUMNS = OFFICIAL_STATISTICS.types
OFFICIAL_CONSISTENCY_COLUMNS = OFFICIAL_CONSISTENCY.types
OFFICIAL_RECONCILIATION_COLUMNS = OFFICIAL_RECONCILIATION.types


def published_schema() -> dict[str, list[list[str]]]:
    """table -> [[column, type], ...] in the published order: what a schema version records."""
    return {table.name: [[column.name, column.type] for column in table.columns] for table in PUBLISHED_TABLES}


def schema_fingerprint(schema: dict[str, list[list[str]]] | None = None) -> str:
    """A short, stable hash of the tables' names, columns, order and types."""
    text = json.dumps(published_schema() if schema is None else schema, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


SYNTHETIC_NOTE_FI = "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä"

AREA_LEVEL_ORDER = {"country": 0, "region": 1, "municipality": 2}
SEX_ORDER = {"total": 0, "male": 1, "female": 2}
# An area's level from its code alone (`_level`), where the published rows carry no level.
COUNTRY_CODE = "SSS"
REGION_CODE_PREFIX = "MK"


def indicators_monthly(controlled: pd.DataFrame) -> pd.DataFrame:
    """The contract columns of the disclosure-controlled cells, in a stable order.

    `controlled` is the output of disclosure control over the indicator mart (it still has
    the mart's `indicator_order` column, used here only for sorting).
    """
    frame = controlled.assign(
        _level=controlled["area_level"].map(AREA_LEVEL_ORDER),
        _sex=controlled["sex"].map(SEX_ORDER),
    ).sort_values(["month", "_level", "area_code", "_sex", "indicator_order"], kind="stable")
    return frame[list(INDICATORS_COLUMNS)].reset_index(drop=True)


def _expand_targets(targets: pd.DataFrame, areas: list[str]) -> pd.DataFrame:
    rows = []
    for target in targets.itertuples(index=False):
        target_areas = areas if target.area_code == "*" else [target.area_code]
        target_sexes = SEXES if target.sex == "*" else (target.sex,)
        for area in target_areas:
            for sex in target_sexes:
                rows.append({**target._asdict(), "area_code": area, "sex": sex})
    return pd.DataFrame(rows, columns=list(targets.columns))


def target_followup(published: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """One row per target, published area (or the target's own), sex and month from the
    baseline month to the latest month the area is published.

    progress_pct = 100 * (baseline - value) / (baseline - target). Status, the first that
    applies: suppressed (value suppressed: progress NULL), no_baseline (baseline missing or
    suppressed: baseline, target and progress NULL), no_target (monitoring target), ok.
    """
    if targets.empty or published.empty:
        return pd.DataFrame({name: pd.Series(dtype="object") for name in TARGET_COLUMNS})
    # Every published area is followed; of its rows, only those of the followed indicators
    # take part (the merges below are on the indicator): a small part of a long history.
    areas = sorted(published["area_code"].unique(), key=lambda code: (AREA_LEVEL_ORDER.get(_level(code)), code))
    published = published[published["indicator"].isin(targets["indicator"].unique())]
    # Months as timestamps on both sides, whatever the reader gave (dates or datetime64).
    published = published.assign(month=pd.to_datetime(published["month"]))
    targets = targets.assign(
        baseline_month=pd.to_datetime(targets["baseline_month"]),
        target_month=pd.to_datetime(targets["target_month"]),
        target_ratio=pd.to_numeric(targets["target_ratio"]),
    )
    expanded = _expand_targets(targets, areas)

    cells = published[["month", "area_code", "sex", "indicator", "value", "status"]]
    series = expanded.merge(cells, on=["indicator", "area_code", "sex"], how="inner")
    series = series[series["month"] >= series["baseline_month"]]

    baseline = cells.rename(columns={"month": "baseline_month", "value": "baseline_value", "status": "baseline_status"})
    series = series.merge(baseline, on=["indicator", "area_code", "sex", "baseline_month"], how="left")

    has_baseline = series["baseline_value"].notna()
    has_target = series["target_ratio"].notna()
    value_suppressed = series["status"].eq("suppressed")

    baseline_value = series["baseline_value"].where(has_baseline)
    target_value = (series["target_ratio"] * baseline_value).where(has_baseline & has_target)
    denominator = baseline_value - target_value
    progress = 100.0 * (baseline_value - series["value"]) / denominator.where(denominator != 0)
    progress = progress.where(~value_suppressed & has_baseline & has_target)

    status = np.select(
        [value_suppressed, ~has_baseline, ~has_target],
        ["suppressed", "no_baseline", "no_target"],
        default="ok",
    )
    result = pd.DataFrame(
        {
            "target_id": series["target_id"],
            "indicator": series["indicator"],
            "month": series["month"],
            "area_code": series["area_code"],
            "sex": series["sex"],
            "baseline_month": series["baseline_month"],
            "baseline_value": baseline_value,
            "target_month": series["target_month"],
            "target_value": target_value,
            "value": series["value"],
            "progress_pct": progress,
            "status": status,
        }
    )
    result = result.assign(
        _level=result["area_code"].map(_level).map(AREA_LEVEL_ORDER), _sex=result["sex"].map(SEX_ORDER)
    )
    result = result.sort_values(["target_id", "_level", "area_code", "_sex", "month"], kind="stable")
    return result[list(TARGET_COLUMNS)].reset_index(drop=True)


# The follow-up's published order (`target_followup` sorts by it) as DuckDB's ORDER BY, for
# the writer merging carried rows with new ones. Its key is unique when the target ids are
# (followup_carried_targets requires it), so any sort gives the order of the stable one.
TARGET_FOLLOWUP_ORDER_SQL = ", ".join((
    "target_id",
    f"case when area_code = '{COUNTRY_CODE}' then {AREA_LEVEL_ORDER['country']}"
    f" when area_code like '{REGION_CODE_PREFIX}%' then {AREA_LEVEL_ORDER['region']}"
    f" else {AREA_LEVEL_ORDER['municipality']} end",
    "area_code",
    "case sex " + " ".join(f"when '{sex}' then {rank}" for sex, rank in SEX_ORDER.items()) + " end",
    "month",
))


def followup_carried_targets(
    targets: pd.DataFrame, carried: set[str], published_before: set[str], published_now: set[str]
) -> tuple[str, ...]:
    """The targets whose rows of a carried month (YYYY-MM) can be carried from the previous
    publication, when that publication's follow-up was made by this code from these targets.

    A row of `target_followup` for a month is made from two published cells only: the
    month's own and the baseline month's (same indicator, area and sex); the row exists
    when the month's cell does. So a carried month's row is unchanged as long as the
    baseline month is: carried, or published neither before nor now. A target whose
    baseline month was controlled again, or appeared or went, has every row recomputed.
    None when a target id repeats: the merge of carried and new rows sorts by
    TARGET_FOLLOWUP_ORDER_SQL, whose key is unique only with unique ids."""
    if targets.empty or targets["target_id"].duplicated().any():
        return ()
    chosen = []
    for target_id, baseline in zip(targets["target_id"], pd.to_datetime(targets["baseline_month"])):
        if pd.isna(baseline):  # no month is on or after it: the target has no rows
            chosen.append(target_id)
            continue
        month = baseline.strftime("%Y-%m")
        if month in carried or (month not in published_before and month not in published_now):
            chosen.append(target_id)
    return tuple(chosen)


def followup_baseline_months(targets: pd.DataFrame, target_ids) -> set[str]:
    """The baseline months (YYYY-MM) of `target_ids`: besides the months controlled now, the
    only published months their new rows are made from."""
    chosen = targets[targets["target_id"].isin(list(target_ids))]
    return {month.strftime("%Y-%m") for month in pd.to_datetime(chosen["baseline_month"]).dropna()}


def _level(area_code: str) -> str:
    if area_code == COUNTRY_CODE:
        return "country"
    return "region" if area_code.startswith(REGION_CODE_PREFIX) else "municipality"


def publication(
    run_id: str, published: pd.DataFrame, area_scope: str, threshold: int, synthetic: bool, *, municipality_set: str
) -> pd.DataFrame:
    months = pd.to_datetime(published["month"]) if len(published) else pd.Series(dtype="datetime64[ns]")
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                # To the microsecond, as the TIMESTAMP column stores it: the fingerprints file
                # names its publication by run id and this value (pipelines/publish/incremental.py).
                "published_at": pd.Timestamp.now(tz="UTC").tz_localize(None).floor("us"),
                "first_month": months.min() if len(months) else None,
                "last_month": months.max() if len(months) else None,
                "area_scope": area_scope,
                "suppression_threshold": threshold,
                "synthetic": synthetic,
                "data_note_fi": SYNTHETIC_NOTE_FI if synthetic else None,
                "municipality_set": municipality_set,
                "schema_version": SCHEMA_VERSION,
            }
        ],
        columns=list(PUBLICATION_COLUMNS),
    )
