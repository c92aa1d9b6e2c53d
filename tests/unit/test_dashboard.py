"""The dashboard's pure parts: the view chosen by the URL, the Finnish CSV, the target's
progress and chart lines, and one read of a (small, hand-made) published file."""

import csv
import io
import sys
from datetime import date

import duckdb
import pandas as pd
import pytest

from pipelines.cli.dashboard_command import app_file, streamlit_command
from pipelines.cli.main import build_parser
from pipelines.dashboard import texts
from pipelines.dashboard.export import BOM, HEADER, csv_number, finnish_csv, view_csv
from pipelines.dashboard.followup import (
    SERIES_BASELINE,
    SERIES_TARGET,
    SERIES_VALUE,
    chart_frame,
    latest_followups,
    progress_fraction,
)
from pipelines.dashboard.published import PublishedUnavailable, kela_areas, read_dashboard
from pipelines.dashboard.view import Area, View, choose_view
from tests.report_fixtures import write_published

AREAS = (
    Area("MK18", "region", "Kainuu"),
    Area("KU205", "municipality", "Kajaani"),
    Area("KU697", "municipality", "Ristijärvi"),
)
INDICATORS = ("unemployed", "structural_unemployed", "tmt_paid_eur")


# --- the view from the URL --------------------------------------------------------------------


def test_a_linked_view_is_shown_as_linked():
    choice = choose_view({"area": "KU205", "indicator": "unemployed", "sex": "female"}, AREAS, INDICATORS)
    assert choice.view == View("KU205", "unemployed", "female")
    assert choice.notices == ()
    assert choice.view.query_params() == {"area": "KU205", "indicator": "unemployed", "sex": "female"}


def test_without_parameters_the_region_structural_unemployment_and_both_sexes_are_shown():
    areas = (Area("KU205", "municipality", "Kajaani"), Area("MK18", "region", "Kainuu"))
    assert choose_view({}, areas, INDICATORS).view == View("MK18", "structural_unemployed", "total")


def test_area_codes_match_whatever_their_case_and_a_repeated_parameter_counts_by_its_last_value():
    assert choose_view({"area": "ku205"}, AREAS, INDICATORS).view.area == "KU205"
    assert choose_view({"area": ["MK18", "KU697"]}, AREAS, INDICATORS).view.area == "KU697"


def test_a_parameter_naming_nothing_published_falls_back_and_says_so_in_finnish():
    choice = choose_view({"area": "KU999", "indicator": "nonsense", "sex": "both"}, AREAS, INDICATORS)
    assert choice.view == View("MK18", "structural_unemployed", "total")
    assert len(choice.notices) == 3
    assert "”KU999” ei ole julkaistu" in choice.notices[0]
    assert "”nonsense”" in choice.notices[1]
    assert "”both”" in choice.notices[2]


def test_without_the_default_indicator_the_first_published_one_is_shown():
    assert choose_view({}, AREAS, ("tmt_recipients", "tmt_paid_eur")).view.indicator == "tmt_recipients"


# --- the CSV file -------------------------------------------------------------------------------


def test_csv_numbers_take_a_decimal_comma_and_no_thousands_separator():
    assert csv_number(1234.0) == "1234"
    assert csv_number(2244.5) == "2244,5"
    assert csv_number(896637.371, 2) == "896637,37"
    assert csv_number(12.805, 2) == "12,81"  # half away from zero, as the published euros
    assert csv_number(-12.805, 2) == "-12,81"
    assert csv_number(-0.001, 2) == "0,00"
    assert csv_number(45.25, 1) == "45,3"
    assert csv_number(None) == ""
    assert csv_number(float("nan")) == ""


def test_the_csv_file_is_utf8_with_a_bom_semicolons_and_crlf_so_finnish_excel_opens_it():
    data = finnish_csv(("Alue", "Arvo"), [("Ristijärvi; kunta", "1,5")])
    assert data.startswith(BOM.encode("utf-8"))
    text = data.decode("utf-8")
    assert text == BOM + 'Alue;Arvo\r\n"Ristijärvi; kunta";1,5\r\n'


def _series():
    return pd.DataFrame(
        {
            "month": pd.to_datetime(["2008-01-01", "2008-02-01", "2010-12-01"]),
            "value": [4100.0, 4000.0, None],
            "status": ["incomplete", "ok", "suppressed"],
            "lookback_complete": [False, True, True],
        }
    )


def _followup():
    return pd.DataFrame(
        {
            "target_id": ["kaira_1_halve_structural"] * 2,
            "month": pd.to_datetime(["2008-02-01", "2010-12-01"]),
            "baseline_month": pd.to_datetime(["2008-02-01"] * 2),
            "baseline_value": [4000.0, 4000.0],
            "target_month": pd.to_datetime(["2010-12-01"] * 2),
            "target_value": [2000.0, 2000.0],
            "value": [4000.0, None],
            "progress_pct": [0.0, None],
            "status": ["ok", "suppressed"],
        }
    )


def test_the_view_csv_has_a_row_per_month_with_symbols_for_withheld_figures_and_the_target_beside():
    view = View("MK18", "structural_unemployed", "total")
    text = view_csv(view, "Kainuu", _series(), _followup()).decode("utf-8").removeprefix(BOM)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert tuple(rows[0]) == HEADER
    assert rows[1] == ["2008-01", "MK18", "Kainuu", "Yhteensä", "Rakennetyöttömät", "4100", "vajaa tausta-aika", "", "", ""]
    assert rows[2] == ["2008-02", "MK18", "Kainuu", "Yhteensä", "Rakennetyöttömät", "4000", "julkaistu", "4000", "2000", "0,0"]
    assert rows[3][5:7] == ["..", "salattu"]
    assert rows[3][7:] == ["4000", "2000", ""]


def test_euros_in_the_csv_keep_two_decimals():
    series = pd.DataFrame({"month": pd.to_datetime(["2010-12-01"]), "value": [936849.0], "status": ["ok"]})
    text = view_csv(View("KU205", "tmt_paid_eur", "total"), "Kajaani", series, pd.DataFrame()).decode("utf-8")
    assert text.splitlines()[1].split(";")[5] == "936849,00"


# --- the target ------------------------------------------------------------------------------------


def test_the_headline_follow_up_is_the_latest_month_of_each_target():
    (followup,) = latest_followups(_followup())
    assert followup.month == date(2010, 12, 1)
    assert followup.baseline_value == 4000.0 and followup.target_value == 2000.0
    assert followup.value is None and followup.progress_pct is None and followup.status == "suppressed"
    assert followup.reached is None
    assert latest_followups(pd.DataFrame()) == []


def test_the_target_is_reached_at_or_below_the_target_value():
    rows = _followup().assign(value=[4000.0, 2000.0], progress_pct=[0.0, 100.0], status=["ok", "ok"])
    (followup,) = latest_followups(rows)
    assert followup.reached is True and followup.progress_pct == 100.0


@pytest.mark.parametrize(
    ("progress", "fill"), [(None, 0.0), (float("nan"), 0.0), (-12.0, 0.0), (0.0, 0.0), (45.3, 0.453), (100.0, 1.0), (130.0, 1.0)]
)
def test_the_progress_bar_fills_from_the_baseline_to_the_target_and_no_further(progress, fill):
    assert progress_fraction(progress) == pytest.approx(fill)


def test_the_chart_draws_the_published_values_with_gaps_and_the_baseline_and_target_from_the_baseline_month():
    (followup,) = latest_followups(_followup())
    frame = chart_frame(_series(), followup)
    lines = {name: group for name, group in frame.groupby("Sarja")}
    assert list(lines[SERIES_VALUE]["Arvo"]) == [4100.0, 4000.0]  # the suppressed month is a gap, not a zero
    assert list(lines[SERIES_BASELINE]["Kuukausi"].dt.strftime("%Y-%m")) == ["2008-02", "2010-12"]
    assert set(lines[SERIES_BASELINE]["Arvo"]) == {4000.0}
    assert set(lines[SERIES_TARGET]["Arvo"]) == {2000.0}


def test_a_monitoring_target_draws_no_target_line_and_no_target_draws_no_lines():
    rows = _followup().assign(target_value=[None, None], target_month=[pd.NaT, pd.NaT], status=["no_target"] * 2)
    (followup,) = latest_followups(rows)
    assert set(chart_frame(_series(), followup)["Sarja"]) == {SERIES_VALUE, SERIES_BASELINE}
    assert set(chart_frame(_series(), None)["Sarja"]) == {SERIES_VALUE}


# --- words and symbols -------------------------------------------------------------------------------


def test_withheld_figures_show_the_reports_symbols_and_incomplete_ones_an_asterisk():
    assert texts.shown_value(None, "suppressed", "unemployed") == ".."
    assert texts.shown_value(None, "not_available", "structural_inflow") == ":"
    assert texts.shown_value(None, "no_rule", "tmt_municipal_share_expected_eur") == "."
    assert texts.shown_value(4489.0, "incomplete", "unemployed") == "4\u00a0489*"
    assert texts.shown_value(896637.37, "ok", "tmt_paid_eur") == "896\u00a0637,37\u00a0€"
    symbols = dict(texts.legend(5))
    assert set(symbols) == {"..", ":", ".", "*"}
    assert "alle 5 henkilön" in symbols[".."]


# --- the Kela table's rows ------------------------------------------------------------------------


def test_with_one_region_published_the_kela_table_lists_its_municipalities_and_the_region_total():
    members, total = kela_areas(AREAS, AREAS[1])
    assert [area.code for area in members] == ["KU205", "KU697"] and total == AREAS[0]
    assert kela_areas(AREAS, AREAS[0]) == (members, AREAS[0])


def test_with_several_regions_published_membership_is_unknown_and_an_area_shows_its_own_row():
    areas = (*AREAS, Area("MK17", "region", "Pohjois-Pohjanmaa"), Area("SSS", "country", "Koko maa"))
    assert kela_areas(areas, AREAS[0]) == ([], AREAS[0])
    assert kela_areas(areas, AREAS[1]) == ([AREAS[1]], None)
    members, total = kela_areas(areas, areas[-1])
    assert [area.code for area in members] == ["MK18", "MK17"] and total.code == "SSS"


# --- one read of a published file ------------------------------------------------------------------


def test_a_read_returns_the_linked_views_published_cells(tmp_path):
    published = write_published(
        tmp_path / "published.duckdb", overrides={("2011-01", "KU697", "female", "laid_off"): (None, "suppressed")}
    )
    data = read_dashboard(published, {"area": "KU697", "indicator": "laid_off", "sex": "female"})
    assert data.view == View("KU697", "laid_off", "female")
    assert data.area.name == "Ristijärvi"
    assert data.last_month == date(2011, 1, 1)
    assert data.publication is None  # the hand-made file has no publication table: no banner, no error
    assert data.reconciliation is None  # nor the official statistics' table
    con = duckdb.connect(str(published), read_only=True)
    expected = con.execute(
        """select month, value, status from indicators_monthly
           where area_code = 'KU697' and sex = 'female' and indicator = 'laid_off' order by month"""
    ).df()
    con.close()
    pd.testing.assert_frame_equal(data.series[["month", "value", "status"]], expected)
    last = data.latest.set_index("indicator")
    assert pd.isna(last.at["laid_off", "value"]) and last.at["laid_off", "status"] == "suppressed"
    assert list(data.kela["area_code"]) == ["KU205", "KU697", "MK18"]


def test_the_optional_tables_are_read_where_they_exist(tmp_path):
    published = write_published(tmp_path / "published.duckdb")
    con = duckdb.connect(str(published))
    con.execute(
        """create table publication as select 'run-1' as run_id, timestamp '2026-01-01 12:00' as published_at,
           5 as suppression_threshold, true as synthetic, 'Synteettinen' as data_note_fi, 'ignored' as added_later"""
    )
    con.execute(
        """create table official_reconciliation as select date '2011-01-01' as month, 'MK18' as area_code,
           'region' as area_level, 'total' as sex, 'unemployed' as indicator, 'TYOTTOMATLOPUSSA' as measure,
           100.0 as derived_value, 98.0 as official_value, 2.0 as difference, 2.0 / 98 as relative_difference,
           'agree' as status"""
    )
    con.close()
    data = read_dashboard(published, {})
    assert data.publication.synthetic and data.publication.data_note_fi == "Synteettinen"
    assert data.publication.schema_version is None
    assert list(data.reconciliation["official_value"]) == [98.0]


def test_a_missing_empty_or_broken_published_file_gives_a_finnish_message(tmp_path):
    with pytest.raises(PublishedUnavailable, match="Julkaistuja taulukoita ei löydy"):
        read_dashboard(tmp_path / "nowhere.duckdb", {})
    empty = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(empty))
    con.execute("create table indicators_monthly (month date, area_code varchar)")
    con.close()
    with pytest.raises(PublishedUnavailable, match="ei ole vielä yhtään kuukautta"):
        read_dashboard(empty, {})
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database at all" * 100)
    with pytest.raises(PublishedUnavailable, match="ei voi lukea"):
        read_dashboard(broken, {})


# --- the command -----------------------------------------------------------------------------------


def test_the_server_is_started_headless_without_usage_statistics_on_the_published_file(tmp_path):
    command = streamlit_command("/venv/python", tmp_path / "published.duckdb", 8611, "127.0.0.1")
    options = dict(zip(command[5::2], command[6::2]))
    assert command[:5] == ["/venv/python", "-m", "streamlit", "run", str(app_file())]
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.headless"] == "true"
    assert options["--server.port"] == "8611"
    assert command[-3:] == ["--", "--published", str(tmp_path / "published.duckdb")]
    assert app_file().is_file()


def test_kaira_dashboard_takes_a_port_and_an_address():
    args = build_parser().parse_args(["dashboard", "--port", "8611"])
    assert (args.port, args.address) == (8611, "127.0.0.1")
    assert args.handler.__module__ == "pipelines.cli.dashboard_command"


def test_the_command_line_imports_no_streamlit_until_the_server_runs():
    import subprocess

    probe = "import sys, pipelines.cli.main as m; m.build_parser(); print('streamlit' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_every_reconciliation_status_has_the_reports_finnish_name():
    from pipelines.dashboard import texts
    from pipelines.reports.translations import Translator

    statuses = ("agree", "differs", "derived_suppressed", "official_unavailable", "not_comparable")
    names = [texts.reconciliation_status_name(status) for status in statuses]
    assert names == [Translator("fi")(f"reconciliation_statuses.{status}") for status in statuses]
    assert len(set(names)) == len(statuses) and not set(names) & set(statuses)  # Finnish, one word per status
