"""Faults of the input that pass the source contracts, through real ingest and dbt (no
Dagster): a month ten times larger than usual, and a month outside the calendar of the
models reaching dbt. Small handmade files, one warehouse for the module, tests in order.

Protects: a month ten times the usual size loads whole in one transaction and its figures
follow it, and a normal redelivery replaces it entirely (nothing of the big file stays);
a delivered month outside the calendar stops dbt with an error naming the month, instead
of its figures vanishing silently in the calendar join.
"""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.core.identity_codes import make_identity_code
from pipelines.core.settings import load_settings
from pipelines.sources.loader import ingest_month
from tests.helpers import environment, query, run_dbt

pytestmark = pytest.mark.e2e

USUAL = 800  # persons of a usual month here


def person(number: int) -> str:
    birth = date(1960 + (number // 336) % 40, 1 + (number // 28) % 12, 1 + number % 28)
    return make_identity_code(birth, 2 + number // 13440)


def land(settings, month: str, persons: int) -> None:
    """Every person unemployed in Kajaani since 2009-06 and paid by Kela in `month`."""
    spells = ["henkilotunnus;jakso_id;alkupvm;loppupvm;tila;palvelu;kuntanumero"]
    payments = ["henkilotunnus;maksukuukausi;kuntanumero;etuus;maksetut_paivat;kertyneet_paivat;maksettu_eur;"
                "kuntaosuus_eur"]
    for number in range(persons):
        code = person(number)
        spells.append(f"{code};S{number};2009-06-01;;TYOTON;;205")
        payments.append(f"{code};{month};205;TMT;20;{100 + number % 300};700.00;0.00")
    for path, lines in ((settings.landing_dir / "tyonhakijat" / f"tyonhakijat_{month}.csv", spells),
                        (settings.landing_dir / "kela" / f"tmt_{month}.csv", payments)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def ingest(settings, month: str) -> tuple[int, int]:
    spells = ingest_month("jobseeker_spells", month, settings)
    payments = ingest_month("kela_payments", month, settings)
    return spells.rows_loaded, payments.rows_loaded


def unemployed(settings, month: str) -> float:
    return query(settings.warehouse_path, "select value from marts.fct_indicators_monthly where month = ? "
                 "and area_code = 'KU205' and sex = 'total' and indicator = 'unemployed'",
                 [date.fromisoformat(f"{month}-01")])[0][0]


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return load_settings(environment(tmp_path_factory.mktemp("inputs")))


def test_a_month_ten_times_larger_than_usual_loads_whole_and_a_normal_redelivery_replaces_it(settings):
    land(settings, "2010-01", USUAL)
    land(settings, "2010-02", 10 * USUAL)
    assert ingest(settings, "2010-01") == (USUAL, USUAL)
    assert ingest(settings, "2010-02") == (10 * USUAL, 10 * USUAL)
    run_dbt(settings.warehouse_dir, {"area_scope": "MK18"})
    assert (unemployed(settings, "2010-01"), unemployed(settings, "2010-02")) == (USUAL, 10 * USUAL)

    land(settings, "2010-02", USUAL)  # the supplier's corrected extract
    assert ingest(settings, "2010-02") == (USUAL, USUAL)
    assert query(settings.warehouse_path, "select count(*) from raw.jobseeker_spells where delivery_month = ?",
                 [date(2010, 2, 1)]) == [(USUAL,)]
    run_dbt(settings.warehouse_dir, {"area_scope": "MK18"})
    assert unemployed(settings, "2010-02") == USUAL


def test_a_month_outside_the_calendar_reaching_dbt_is_an_error_naming_it(settings):
    # Ingest itself is not range-checked: the landing scan and the partitions refuse such a
    # month before it gets there. Here it is loaded by hand, as a script could.
    land(settings, "2041-01", 3)
    ingest(settings, "2041-01")
    with pytest.raises(AssertionError) as failed:
        run_dbt(settings.warehouse_dir, {"area_scope": "MK18"})
    assert "the delivered month 2041-01 is outside the calendar of the models (2000-01 .. 2040-12)" in str(failed.value)
