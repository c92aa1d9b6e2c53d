"""The hand-worked golden cases (tests/fixtures/golden, copied from the spec) through the
real ingest and the real dbt models on DuckDB: every person and indicator of every month,
and every Kela municipal-share case.

Each month's `spells.csv` is the register as it stood at that delivery. It is split into
monthly delivery files the way the register delivers them: a spell is in the file of each
month it overlaps, and its end date appears only from the delivery of the month it ended.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines.core.identity_codes import pseudonymise
from pipelines.core.settings import load_settings
from pipelines.sources.loader import ingest_month
from tests.helpers import TEST_KEY, environment, query, run_dbt

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden"
MONTHS = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
INDICATORS = [
    "unemployed", "long_term_unemployed", "equivalent_long_term_unemployed", "returned_from_services",
    "service_to_service", "structural_unemployed", "youth_unemployed", "laid_off", "in_services",
]
SPELL_HEADER = ["henkilotunnus", "jakso_id", "alkupvm", "loppupvm", "tila", "palvelu", "kuntanumero"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def split_into_deliveries(spells: list[dict[str, str]], last_month: date) -> dict[date, list[dict[str, str]]]:
    first_month = min(date.fromisoformat(s["alkupvm"]) for s in spells).replace(day=1)
    deliveries: dict[date, list[dict[str, str]]] = {}
    month = first_month
    while month <= last_month:
        month_end = month_after(month) - timedelta(days=1)
        rows = []
        for spell in spells:
            start = date.fromisoformat(spell["alkupvm"])
            end = date.fromisoformat(spell["loppupvm"]) if spell["loppupvm"] else None
            if start <= month_end and (end is None or end >= month):
                shown_end = spell["loppupvm"] if end is not None and end <= month_end else ""
                rows.append({**spell, "loppupvm": shown_end})
        deliveries[month] = rows
        month = month_after(month)
    return deliveries


def write_spells(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SPELL_HEADER, delimiter=";", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def golden_warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("golden")
    settings = load_settings(environment(root))
    deliveries: dict[date, list[dict[str, str]]] = {}
    for name in MONTHS:
        month = date.fromisoformat(name + "-01")
        for delivery, rows in split_into_deliveries(read_csv(GOLDEN / name / "spells.csv"), month).items():
            deliveries.setdefault(delivery, []).extend(rows)
    for delivery, rows in sorted(deliveries.items()):
        write_spells(settings.landing_dir / "tyonhakijat" / f"tyonhakijat_{delivery:%Y-%m}.csv", rows)
        report = ingest_month("jobseeker_spells", f"{delivery:%Y-%m}", settings)
        assert report.rows_rejected == 0
    land_kela_cases(settings)
    run_dbt(settings.warehouse_dir, {"area_scope": "MK18"}, select="+path:models/marts")
    return settings


def land_kela_cases(settings) -> None:
    cases = read_csv(GOLDEN / "kela_share.csv")
    by_month: dict[str, list[dict[str, str]]] = {}
    for number, case in enumerate(cases):
        by_month.setdefault(case["maksukuukausi"], []).append({**case, "person": number})
    from pipelines.core.identity_codes import make_identity_code

    for month, rows in by_month.items():
        path = settings.landing_dir / "kela" / f"tmt_{month}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["henkilotunnus;maksukuukausi;kuntanumero;etuus;maksetut_paivat;kertyneet_paivat;maksettu_eur;kuntaosuus_eur"]
        for row in rows:
            code = make_identity_code(date(1970, 1, 1 + row["person"]), 900 + row["person"])
            lines.append(f"{code};{month};205;TMT;{row['maksetut_paivat']};{row['kertyneet_paivat']};"
                         f"{row['maksettu_eur']};0.00")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ingest_month("kela_payments", month, settings)


def expected_cases():
    for name in MONTHS:
        for row in read_csv(GOLDEN / name / "expected.csv"):
            yield pytest.param(name, row, id=f"{name}-{row['person']}")


@pytest.mark.parametrize("month, expected", list(expected_cases()))
def test_person_classification_matches_the_golden_case(golden_warehouse, month, expected):
    columns = ", ".join(f"is_{name}" for name in INDICATORS)
    rows = query(
        golden_warehouse.warehouse_path,
        f"select municipality_code, sex, {columns} from marts.fct_person_month_status "
        "where month = ? and person_id = ?",
        [date.fromisoformat(month + "-01"), pseudonymise(expected["henkilotunnus"], TEST_KEY)],
    )
    got = {name: int(value) for name, value in zip(INDICATORS, rows[0][2:])} if rows else dict.fromkeys(INDICATORS, 0)
    want = {name: int(expected[name]) for name in INDICATORS}
    assert got == want, expected["why"]
    if expected["kuntanumero_on_count_date"]:
        assert rows[0][0] == expected["kuntanumero_on_count_date"]
        assert rows[0][1] == expected["sex"]
    else:
        assert rows == [], "not a jobseeker on the count date"


@pytest.mark.parametrize("case", read_csv(GOLDEN / "kela_share.csv"), ids=lambda case: case["case"])
def test_municipal_share_matches_the_golden_case(golden_warehouse, case):
    rows = query(
        golden_warehouse.warehouse_path,
        "select expected_share_eur, has_rule from marts.fct_kela_payment_shares "
        "where payment_month = ? and paid_days = ? and cumulative_days = ? and paid_eur = ?",
        [date.fromisoformat(case["maksukuukausi"] + "-01"), int(case["maksetut_paivat"]),
         int(case["kertyneet_paivat"]), float(case["maksettu_eur"])],
    )
    assert len(rows) == 1
    share, has_rule = rows[0]
    if case["expected_share_eur"]:
        assert has_rule and f"{share:.2f}" == case["expected_share_eur"], case["why"]
    else:
        assert not has_rule and share is None, case["why"]

