"""The official statistics through the real pipeline (Dagster, dbt seeds on DuckDB,
publishing, reports), in a Dagster instance and folders of the test's own.

Protects: in public-data mode (only StatFin files landed, no key) a run publishes every
value and every symbol of every file exactly, the person-level tables empty with their
columns, the consistency of the real Kainuu series, the later `updated` winning, a bad file
quarantined and named by a warning check, and reports from the official series; with
register data, an official file made of the published derived figures agrees everywhere
it is comparable (difference 0), a changed official cell `differs` (a warning check), a
suppressed derived cell is never compared, and Kainuu before 2016 (with Vaala) is not
comparable.
"""

from __future__ import annotations

import re
import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest

from pipelines.cli.runner import run_public_data
from pipelines.core.settings import load_settings
from pipelines.package_files import real_statfin_kainuu_file
from pipelines.publish.official import (
    OFFICIAL_CONSISTENCY_COLUMNS,
    OFFICIAL_COUNTERPARTS,
    OFFICIAL_RECONCILIATION_COLUMNS,
    OFFICIAL_STATISTICS_COLUMNS,
)
from pipelines.publish.tables import INDICATORS_COLUMNS, TARGET_COLUMNS
from pipelines.sources.statfin import read_statfin
from tests.helpers import generated_pipeline_run, isolated_environment
from tests.statfin_files import json_stat2, pxweb_json, write_json
from tests.unit.test_statfin_reader import ECKERO, every_area_cells

pytestmark = pytest.mark.e2e


def published(settings, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def check_results(instance, run_id: str) -> dict[str, dg.AssetCheckEvaluation]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    return {
        record.event_log_entry.dagster_event.event_specific_data.check_name: record.event_log_entry.dagster_event.event_specific_data
        for record in records
    }


@pytest.fixture(scope="module")
def public_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("public-data")
    statfin = root / "landing" / "statfin"
    statfin.mkdir(parents=True)
    shutil.copy(ECKERO, statfin)
    shutil.copy(real_statfin_kainuu_file(), statfin)
    # Months after the real series and the PX sample: no cell of theirs is replaced.
    cells = every_area_cells(("2025-09", "2025-10"))
    write_json(statfin / "12r5_all_areas.json", json_stat2(cells, time_name="timeperiod_m"))
    write_json(statfin / "answer_pxweb.json", pxweb_json(cells[cells.month == "2025-09"]))
    # A later release of one cell: the later `updated` wins whatever the file names.
    newer = cells[(cells.area_code == "KU205") & (cells.month == "2025-10")].copy()
    newer.loc[newer.measure == "TYOTTOMATLOPUSSA", "value"] = 9999.0
    write_json(statfin / "0_newer.json", json_stat2(newer, updated="2025-01-31T06:00:00Z"))
    (statfin / "broken.px").write_bytes(b'CODEPAGE="utf-8";\r\nSTUB="Kuukausi";\r\nDATA=\r\n1 2;\r\n')
    with isolated_environment(root), pytest.MonkeyPatch.context() as patch:
        patch.delenv("KAIRA_PSEUDONYM_KEY")  # public data needs no key
        patch.setenv("KAIRA_AREA_SCOPE", "MK18")
        settings = load_settings()
        settings.dagster_home.mkdir(parents=True, exist_ok=True)
        with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
            outcome = run_public_data(instance=instance)
            assert outcome.success, outcome.failure
            yield settings, instance, outcome, cells


def test_public_data_publishes_every_value_and_symbol_of_the_real_px_sample(public_run):
    settings, *_ = public_run
    rows = published(settings, "select * from official_statistics where source_file = 'statfin_tyonv_eckero.px'")
    expected = read_statfin(ECKERO).to_pandas()
    assert len(rows) == len(expected) == 253
    merged = expected.assign(month=pd.to_datetime(expected.month)).merge(
        rows, on=["month", "area_code", "measure"], suffixes=("_file", "")
    )
    assert len(merged) == 253
    assert ((merged.value_file == merged.value) | (merged.value_file.isna() & merged.value.isna())).all()
    assert (merged.symbol.fillna("") == merged.source_symbol.fillna("")).all()
    assert set(rows[rows.source_symbol == "..."].status) == {"confidential"}
    assert set(rows[rows.source_symbol.isna()].status) == {"ok"}
    assert set(rows.area_level) == {"municipality"} and set(rows.parent_area_code) == {"MK21"}
    assert (rows.source_updated == pd.Timestamp("2024-12-23 08:00")).all()


def test_public_data_publishes_every_area_of_the_json_answers_whatever_the_scope(public_run):
    settings, _, _, cells = public_run
    rows = published(settings, "select * from official_statistics where source_file <> 'statfin_tyonv_eckero.px' "
                               "and source_file <> 'statfin_12r5_kainuu_2006-01_2023-10.px'")
    got = rows.assign(month=rows.month.dt.strftime("%Y-%m"))
    merged = cells.merge(got, on=["month", "area_code", "measure"], how="left", suffixes=("_file", ""))
    # every cell of the all-areas answer is published (scope MK18 limits the reports, not these)
    assert merged.status.notna().all()
    assert merged.area_code.nunique() == 1 + 19 + 69 + 309 + 1
    changed = (merged.area_code == "KU205") & (merged.month == "2025-10") & (merged.measure == "TYOTTOMATLOPUSSA")
    assert merged[changed].value.tolist() == [9999.0]
    assert merged[changed].source_file.tolist() == ["0_newer.json"]
    rest = merged[~changed]
    assert ((rest.value_file == rest.value) | (rest.value_file.isna() & rest.value.isna())).all()
    assert (rest.symbol.fillna("") == rest.source_symbol.fillna("")).all()
    statuses = rest.groupby("symbol", dropna=False).status.unique().to_dict()
    assert list(statuses["..."]) == ["confidential"] and list(statuses[".."]) == ["confidential"]
    assert list(statuses["."]) == ["not_applicable"] and list(statuses["-"]) == ["ok"]
    assert (rest[rest.symbol == "-"].value == 0).all()
    levels = rows.drop_duplicates("area_code").set_index("area_code").area_level
    assert levels["SSS"] == "country" and levels["MK18"] == "region" and levels["SK182"] == "subregion"
    assert levels["KU205"] == "municipality" and levels["KU199"] == "other"


def test_consistency_of_the_real_kainuu_series(public_run):
    settings, *_ = public_run
    kainuu = published(settings, "select * from official_consistency where area_code = 'MK18' "
                                 "and measure = 'TYOTTOMATLOPUSSA' and month <= '2023-10-01' order by month")
    # every month 2006-01 .. 2023-10 of the real series: all eight municipalities have a number
    assert len(kainuu) == 214
    assert set(kainuu.status) == {"consistent"}
    assert (kainuu.municipalities == 8).all()
    dec_2010 = kainuu[kainuu.month == "2010-12-01"].iloc[0]
    assert dec_2010.official_value == dec_2010.sum_of_municipalities == 5104


def test_inconsistent_regions_are_a_warning_check_naming_region_month_and_measure(public_run):
    settings, instance, outcome, _ = public_run
    rows = published(settings, "select * from official_consistency where status = 'inconsistent'")
    # The made-up all-areas answer does not add up; the real series does.
    assert len(rows) > 0 and "12r5" in set(rows.source_table)
    results = check_results(instance, outcome.run_ids[-1])
    consistency = results["official_consistency"]
    assert not consistency.passed and consistency.severity == dg.AssetCheckSeverity.WARN
    first = rows.iloc[0]
    assert f"{first.area_code} {first.month:%Y-%m} {first.measure}" in consistency.description


def test_a_bad_file_is_quarantined_and_named_by_a_warning_check(public_run):
    settings, instance, outcome, _ = public_run
    reasons = list((settings.quarantine_dir / "statfin").glob("*_broken.px.reason.txt"))
    assert len(reasons) == 1
    assert "broken.px" in reasons[0].read_text() and "PX file without VALUES(\"Kuukausi\")" in reasons[0].read_text()
    check = check_results(instance, outcome.run_ids[-1])["official_files_readable"]
    assert not check.passed and "broken.px" in check.description
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        log = con.execute("select source_file, status, sha256 from raw.official_deliveries order by 1").fetchall()
    finally:
        con.close()
    assert [(name, status) for name, status, _ in log] == [
        ("0_newer.json", "loaded"),
        ("12r5_all_areas.json", "loaded"),
        ("answer_pxweb.json", "loaded"),
        ("broken.px", "quarantined"),
        ("statfin_12r5_kainuu_2006-01_2023-10.px", "loaded"),
        ("statfin_tyonv_eckero.px", "loaded"),
    ]
    assert all(len(sha) == 64 for _, _, sha in log)


def test_public_data_person_level_tables_are_empty_with_their_columns(public_run):
    settings, *_ = public_run
    for table, columns in (
        ("indicators_monthly", INDICATORS_COLUMNS),
        ("target_followup", TARGET_COLUMNS),
        ("official_reconciliation", OFFICIAL_RECONCILIATION_COLUMNS),
    ):
        frame = published(settings, f"select * from {table}")
        assert frame.empty and list(frame.columns) == list(columns), table
    assert list(published(settings, "select * from official_statistics limit 0").columns) == list(OFFICIAL_STATISTICS_COLUMNS)
    assert list(published(settings, "select * from official_consistency limit 0").columns) == list(
        OFFICIAL_CONSISTENCY_COLUMNS
    )
    assert (settings.published_parquet_dir / "official_statistics.parquet").is_file()


def test_public_data_reports_show_the_official_series_and_say_what_needs_registers(public_run):
    settings, _, _, cells = public_run
    reports = sorted((settings.reports_dir / "2025-10").glob("*.html"))
    assert {path.name.split("_")[1] for path in reports} == {"MK18", "KU105", "KU205", "KU290", "KU578", "KU620",
                                                             "KU697", "KU765", "KU777"}
    text = (settings.reports_dir / "2025-10" / "kaira_MK18_2025-10_fi.html").read_text(encoding="utf-8")
    assert "Kainuu – lokakuu 2025" in text
    latest = cells[(cells.area_code == "MK18") & (cells.month == "2025-10") & (cells.measure == "TYOTTOMATLOPUSSA")]
    assert f"<td class='num'>{int(latest.value.iloc[0])}</td>" in text
    # the chart goes back five years, into the real series (Kainuu, 2023-10: 2 649)
    (months, values) = re.search(r'<path class="points"[^>]* data-months="([^"]*)" data-values="([^"]*)"', text).groups()
    assert dict(zip(months.split(), values.split(), strict=True))["2023-10"] == "2649"
    assert "tarvitsevat rekisteriaineiston" in text
    assert "Lähde: Tilastokeskus / KEHA-keskus, työnvälitystilasto, CC BY 4.0" in text


# --- with register data ------------------------------------------------------------------


@pytest.fixture(scope="module")
def register_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("register-and-official")
    with generated_pipeline_run(root, "2016-10", "2016-12") as (settings, instance, outcome):
        yield settings, instance, outcome


def official_file_of(indicators: pd.DataFrame) -> pd.DataFrame:
    """An official 12r5 answer made of the published derived figures: where the register is
    complete, Statistics Finland counts the same persons."""
    rows = []
    for (indicator, sex), measure in OFFICIAL_COUNTERPARTS.items():
        part = indicators[(indicators.indicator == indicator) & (indicators.sex == sex)]
        for row in part.itertuples(index=False):
            symbol = None if pd.notna(row.value) else "..."
            rows.append((row.month.strftime("%Y-%m"), row.area_code, row.area_name, measure,
                         None if symbol else float(row.value), symbol))
    return pd.DataFrame(rows, columns=["month", "area_code", "area_name", "measure", "value", "symbol"])


def test_register_and_official_figures_agree_and_an_altered_cell_differs(register_run):
    settings, instance, _ = register_run
    indicators = published(settings, "select * from indicators_monthly")
    assert indicators.parent_area_code[indicators.area_code == "KU205"].unique().tolist() == ["MK18"]
    official = official_file_of(indicators)
    altered = (official.area_code == "KU205") & (official.month == "2016-12") & (official.measure == "TYOTTOMATLOPUSSA")
    assert altered.sum() == 1 and official[altered].value.notna().all()
    # beyond the tolerance, max(5, 2 % of the official figure)
    delta = float(round(official[altered].value.iloc[0] * 0.1)) + 10
    official.loc[altered, "value"] += delta
    write_json(settings.landing_dir / "statfin" / "12r5_answer.json", json_stat2(official))

    from pipelines.definitions import defs

    run = defs.resolve_job_def("official_job").execute_in_process(instance=instance, raise_on_error=False)
    assert run.success
    rec = published(settings, "select * from official_reconciliation")
    assert list(rec.columns) == list(OFFICIAL_RECONCILIATION_COLUMNS)
    is_altered = (rec.area_code == "KU205") & (rec.month == "2016-12-01") & (rec.indicator == "unemployed") & (
        rec.sex == "total"
    )
    assert rec[is_altered].status.tolist() == ["differs"]
    assert rec[is_altered].difference.tolist() == [-delta]
    comparable = rec[~is_altered & rec.status.isin(["agree", "differs"])]
    assert len(comparable) > 20
    assert set(comparable.status) == {"agree"} and (comparable.difference == 0).all()
    suppressed = rec[rec.status == "derived_suppressed"]
    assert suppressed.derived_value.isna().all() and suppressed.difference.isna().all()
    check = check_results(instance, run.run_id)["official_reconciliation"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "KU205 2016-12 unemployed/total" in check.description
    report = (settings.reports_dir / "2016-12" / "kaira_KU205_2016-12_fi.html").read_text(encoding="utf-8")
    assert "Johdetut luvut ja viralliset tilastot" in report and "Lähde: Tilastokeskus" in report
    # The altered cell is a row of the differing cells, in Finnish words, and the statuses too.
    row = "<td>joulukuu 2016</td><td>Työttömät</td><td>Yhteensä</td>"
    assert row in report and "poikkeaa 1" in report and "täsmää" in report
    section = report.split("official-heading", 1)[1].split("</section>", 1)[0]
    assert "differs 1" not in section and "agree " not in section  # the statuses' English names


def test_kainuu_with_vaala_is_not_comparable_before_2016(register_run):
    from pipelines.publish.official import Geography, region_membership_matches

    settings, *_ = register_run
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        geography = Geography(
            con.execute("select * from reference.municipalities").df(),
            con.execute("select * from reference.regions").df(),
            con.execute("select * from reference.subregions").df(),
        )
    finally:
        con.close()
    areas = pd.DataFrame({"month": pd.to_datetime(["2010-12-01", "2016-01-01", "2010-12-01"]),
                          "area_code": ["MK18", "MK18", "KU785"]})
    assert region_membership_matches(areas, geography).comparable.tolist() == [False, True, True]
