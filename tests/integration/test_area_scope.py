"""Areas on the count date, through real ingest and dbt: Vaala (785) is a Kainuu
municipality up to 2015-12 and in Pohjois-Pohjanmaa (MK17) from 2016; with the default
scope MK18 its records, and those of unknown municipalities, are left out of the figures
and counted in fct_records_outside_scope. With scope `all` the whole country appears."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.core.identity_codes import make_identity_code
from pipelines.core.settings import load_settings
from pipelines.sources.loader import ingest_month
from tests.helpers import environment, query, run_dbt

MONTHS = ["2015-12", "2016-01"]
# (municipality, persons): Kajaani, Vaala and 199, the unknown municipality: in no division.
PEOPLE = [("205", 3), ("785", 2), ("199", 1)]


def land(settings, month: str) -> None:
    spells = ["henkilotunnus;jakso_id;alkupvm;loppupvm;tila;palvelu;kuntanumero"]
    payments = ["henkilotunnus;maksukuukausi;kuntanumero;etuus;maksetut_paivat;kertyneet_paivat;maksettu_eur;kuntaosuus_eur"]
    number = 0
    for municipality, persons in PEOPLE:
        for _ in range(persons):
            code = make_identity_code(date(1980, 1, 1 + number), 900 + number)
            spells.append(f"{code};S{number};2015-06-01;;TYOTON;;{municipality}")
            payments.append(f"{code};{month};{municipality};TMT;20;{300 + number};700.00;0.00")
            number += 1
    for path, lines in (
        (settings.landing_dir / "tyonhakijat" / f"tyonhakijat_{month}.csv", spells),
        (settings.landing_dir / "kela" / f"tmt_{month}.csv", payments),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_month("jobseeker_spells", month, settings)
    ingest_month("kela_payments", month, settings)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    settings = load_settings(environment(tmp_path_factory.mktemp("scope")))
    for month in MONTHS:
        land(settings, month)
    return settings


def unemployed(settings) -> dict[tuple[str, str], float]:
    rows = query(settings.warehouse_path, "select strftime(month, '%Y-%m'), area_code, value "
                 "from marts.fct_indicators_monthly where sex = 'total' and indicator = 'unemployed'")
    return {(month, area): value for month, area, value in rows}


def test_vaala_belongs_to_kainuu_until_2015_and_is_left_out_after(settings):
    run_dbt(settings.warehouse_dir, {"area_scope": "MK18"}, select="+path:models/marts")
    figures = unemployed(settings)
    assert figures[("2015-12", "MK18")] == 5 and figures[("2015-12", "KU785")] == 2
    assert figures[("2016-01", "MK18")] == 3 and ("2016-01", "KU785") not in figures
    left_out = query(settings.warehouse_path, "select strftime(month, '%Y-%m'), source_name, municipality_code, "
                     "reason, persons from marts.fct_records_outside_scope order by 1, 2, 3")
    assert left_out == [
        ("2015-12", "jobseeker_spells", "199", "unknown_municipality", 1),
        ("2015-12", "kela_payments", "199", "unknown_municipality", 1),
        ("2016-01", "jobseeker_spells", "199", "unknown_municipality", 1),
        ("2016-01", "jobseeker_spells", "785", "outside_scope", 2),
        ("2016-01", "kela_payments", "199", "unknown_municipality", 1),
        ("2016-01", "kela_payments", "785", "outside_scope", 2),
    ]


def test_scope_all_adds_the_country_and_every_region(settings):
    run_dbt(settings.warehouse_dir, {"area_scope": "all"}, select="+path:models/marts")
    figures = unemployed(settings)
    assert figures[("2016-01", "SSS")] == 5 and figures[("2016-01", "MK17")] == 2 and figures[("2016-01", "MK18")] == 3
    assert figures[("2015-12", "SSS")] == 5 and figures[("2015-12", "MK17")] == 0
