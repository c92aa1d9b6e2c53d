"""The official-statistics checks, declared on `published_tables` and evaluated in its
step on the very tables about to be published. All three warn; none blocks publishing:

- `official_files_readable`: every file of `statfin/` could be read (a bad one was
  quarantined; the check names it and its problem);
- `official_consistency`: no region-month-measure is `inconsistent` (each is named: either
  the file or our geography is wrong);
- `official_reconciliation`: no comparable cell `differs` (each is named: a delivery was
  incomplete, or a rule differs from Statistics Finland's).
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

PUBLISHED_ASSET = dg.AssetKey("published_tables")
FILES_READABLE = "official_files_readable"
CONSISTENCY = "official_consistency"
RECONCILIATION = "official_reconciliation"
LISTED = 50  # rows named in a check's description; the table holds them all

_DESCRIPTIONS = {
    FILES_READABLE: "Every StatFin file in landing/statfin/ could be read (a bad file is quarantined, named here).",
    CONSISTENCY: "Each region of the official statistics equals the sum of its municipalities where all have a number.",
    RECONCILIATION: "Each derived figure agrees with its official counterpart within the tolerance (METRICS.md).",
}


def official_check_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(name=name, asset=PUBLISHED_ASSET, blocking=False, description=description)
        for name, description in _DESCRIPTIONS.items()
    ]


def _result(name: str, problems: list[str], passed_text: str, metadata: dict) -> dg.AssetCheckResult:
    shown = problems[:LISTED]
    more = len(problems) - len(shown)
    description = passed_text if not problems else "; ".join(shown) + (f"; … and {more} more" if more > 0 else "")
    return dg.AssetCheckResult(
        asset_key=PUBLISHED_ASSET,
        check_name=name,
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={"observed": f"{len(problems)} problem(s)", **metadata},
    )


def files_readable_result(deliveries: pd.DataFrame, extra: dict | None = None) -> dg.AssetCheckResult:
    bad = deliveries[deliveries["status"] == "quarantined"] if not deliveries.empty else deliveries
    problems = [str(problem) for problem in bad.get("problem", [])]
    return _result(FILES_READABLE, problems, f"{len(deliveries)} file(s) read", {"files": len(deliveries), **(extra or {})})


def _month(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def consistency_result(consistency: pd.DataFrame, extra: dict | None = None) -> dg.AssetCheckResult:
    bad = consistency[consistency["status"] == "inconsistent"] if not consistency.empty else consistency
    problems = [
        f"{row.area_code} {_month(row.month)} {row.measure}: region {row.official_value:g}, "
        f"sum of municipalities {row.sum_of_municipalities:g}"
        for row in bad.itertuples(index=False)
    ]
    counts = consistency["status"].value_counts().to_dict() if not consistency.empty else {}
    return _result(CONSISTENCY, problems, f"{counts.get('consistent', 0)} region-month(s) consistent",
                   {"by_status": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}), **(extra or {})})


def reconciliation_result(reconciliation: pd.DataFrame, extra: dict | None = None) -> dg.AssetCheckResult:
    bad = reconciliation[reconciliation["status"] == "differs"] if not reconciliation.empty else reconciliation
    problems = [
        f"{row.area_code} {_month(row.month)} {row.indicator}/{row.sex}: derived {row.derived_value:g}, "
        f"official {row.official_value:g}"
        for row in bad.itertuples(index=False)
    ]
    counts = reconciliation["status"].value_counts().to_dict() if not reconciliation.empty else {}
    return _result(RECONCILIATION, problems, f"{counts.get('agree', 0)} cell(s) agree",
                   {"by_status": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}), **(extra or {})})
