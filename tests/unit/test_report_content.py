"""Gathering a report from a small hand-made published.duckdb (the contract's columns)."""

from datetime import date

import duckdb
import pytest

from pipelines.reports import (
    ReportDataError,
    build_report,
    latest_month,
    published_areas,
    write_all_reports,
)
from tests.report_fixtures import write_published


@pytest.fixture()
def published(tmp_path):
    return write_published(tmp_path / "published.duckdb")


def test_the_default_month_is_the_latest_published(published):
    assert latest_month(published) == date(2011, 1, 1)
    assert build_report(published, "MK18", None).month == date(2011, 1, 1)


def test_headline_comes_from_target_followup_for_each_sex(published):
    content = build_report(published, "MK18", "2010-12")
    con = duckdb.connect(str(published), read_only=True)
    rows = con.execute(
        """select sex, baseline_value, target_value, value, progress_pct from target_followup
           where target_id = 'kaira_1_halve_structural' and area_code = 'MK18' and month = '2010-12-01'"""
    ).fetchall()
    con.close()
    assert {sex for sex, *_ in rows} == {"total", "male", "female"}
    for sex, baseline, target, value, progress in rows:
        row = content.halve[sex]
        assert (row.baseline_value, row.target_value, row.value, row.progress_pct) == (
            baseline,
            target,
            value,
            progress,
        )
        assert row.reached is (value <= target)
        assert row.change == value - baseline
    assert content.halve["total"].reached is False


def test_series_runs_from_the_baseline_month_to_the_report_month(published):
    content = build_report(published, "KU205", "2010-12")
    months = content.series.months
    assert months[0] == date(2008, 2, 1) and months[-1] == date(2010, 12, 1)
    assert len(months) == 35
    structural = content.series.of("structural_unemployed")
    groups = [
        content.series.of(group)
        for group in (
            "long_term_unemployed",
            "equivalent_long_term_unemployed",
            "returned_from_services",
            "service_to_service",
        )
    ]
    assert all(cell.status == "ok" for cell in structural)
    assert structural[-1].value == sum(group[-1].value for group in groups)


def test_a_month_before_the_baseline_shows_the_history_and_no_target(published):
    content = build_report(published, "MK18", "2008-01")
    assert content.halve == {}
    assert content.series.months == (date(2008, 1, 1),)


def test_kela_table_lists_the_municipalities_and_the_region_total(published):
    content = build_report(published, "MK18", "2010-12")
    assert [row.area_code for row in content.kela_rows] == ["KU205", "KU697"]  # by name
    assert content.kela_total.area_code == "MK18" and content.kela_total.is_total
    assert not any(row.is_current for row in content.kela_rows)
    kajaani = content.kela_rows[0].cells
    assert kajaani["tmt_municipal_share_diff_eur"].value == pytest.approx(6.23)


def test_a_municipality_report_marks_its_row_and_names_its_region(published):
    content = build_report(published, "KU697", "2010-12")
    assert (content.parent_code, content.parent_name) == ("MK18", "Kainuu")
    assert [row.area_code for row in content.kela_rows if row.is_current] == ["KU697"]
    assert content.kela_total.area_code == "MK18"
    # small cells of Ristijärvi are suppressed in the published table, and stay so here
    assert content.figure("returned_from_services").status == "suppressed"
    assert content.figure("returned_from_services").value is None


def test_checks_lookback_and_status_counts(tmp_path):
    path = write_published(tmp_path / "p.duckdb", incomplete_months=("2008-01", "2008-02", "2008-04"))
    content = build_report(path, "KU697", "2010-12")
    assert [check.check_name for check in content.failed_checks] == ["invoiced_share_matches_recomputed"]
    assert content.check_groups[0].checks == 1
    assert content.incomplete_months == (
        (date(2008, 1, 1), date(2008, 2, 1)),
        (date(2008, 4, 1), date(2008, 4, 1)),
    )
    assert content.lookback_complete
    assert content.status_counts["suppressed"] > 0
    assert not build_report(path, "KU697", "2008-04").lookback_complete


def test_the_report_reads_the_published_file_without_changing_it(published):
    before = published.read_bytes()
    build_report(published, "MK18", "2010-12")
    assert published.read_bytes() == before
    assert not (published.parent / "kaira.duckdb").exists()


def test_clear_errors_for_a_missing_file_area_or_month(tmp_path, published):
    with pytest.raises(FileNotFoundError, match="no published tables"):
        build_report(tmp_path / "nothing.duckdb", "MK18", None)
    with pytest.raises(ReportDataError, match="KU999 is not published for 2010-12; published: MK18, KU205, KU697"):
        build_report(published, "KU999", "2010-12")
    with pytest.raises(ReportDataError, match="nothing is published for 1999-01"):
        build_report(published, "MK18", "1999-01")
    with pytest.raises(ValueError, match="YYYY-MM"):
        build_report(published, "MK18", "12/2010")
    with pytest.raises(ValueError, match="unsupported language"):
        build_report(published, "MK18", "2010-12", lang="sv")


def test_areas_of_a_month_come_larger_first(published):
    assert [code for code, _, _ in published_areas(published, date(2010, 12, 1))] == ["MK18", "KU205", "KU697"]


def test_without_municipality_pdfs_only_the_regions_are_printed_and_every_area_has_its_html(
    tmp_path, published, monkeypatch
):
    from pipelines.reports import browser

    printed = []

    class RecordingPrinter:
        """Stands in for the browser: which reports would be printed (one browser prints them all)."""

        def __init__(self, chromium=None):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *_exc):
            pass

        def submit(self, html, pdf):
            printed.append(html.name)

        def poll(self):
            pass

        def finish(self):
            return []

    monkeypatch.setattr(browser, "find_chromium", lambda configured=None: "/usr/bin/true")
    monkeypatch.setattr(browser, "PdfPrinter", RecordingPrinter)
    files = write_all_reports(published, tmp_path / "reports", municipality_pdfs=False)
    assert printed == ["kaira_MK18_2011-01_fi.html"]
    assert [(f.area_code, f.pdf is not None) for f in files] == [("MK18", True), ("KU205", False), ("KU697", False)]
    assert all(f.html.is_file() for f in files)


def test_municipality_pdfs_follow_the_scope_unless_set():
    from pipelines.core.settings import load_settings

    def pdfs(**env):
        return load_settings({"KAIRA_AREA_SCOPE": "MK18", **env}).municipality_pdfs

    assert pdfs() and pdfs(KAIRA_AREA_SCOPE="MK18,MK17")
    assert not pdfs(KAIRA_AREA_SCOPE="all")
    assert pdfs(KAIRA_AREA_SCOPE="all", KAIRA_REPORT_PDFS="all")
    assert not pdfs(KAIRA_REPORT_PDFS="regions")
    with pytest.raises(ValueError, match="KAIRA_REPORT_PDFS"):
        pdfs(KAIRA_REPORT_PDFS="some")


def test_write_all_reports_writes_one_file_per_area_in_the_month_folder(tmp_path, published):
    files = write_all_reports(published, tmp_path / "reports", pdf=False)
    assert [f.html.name for f in files] == [
        "kaira_MK18_2011-01_fi.html",
        "kaira_KU205_2011-01_fi.html",
        "kaira_KU697_2011-01_fi.html",
    ]
    assert all(f.html.parent == tmp_path / "reports" / "2011-01" and f.pdf is None for f in files)
    assert not list((tmp_path / "reports" / "2011-01").glob(".*partial"))
    only = write_all_reports(published, tmp_path / "reports", month="2010-12", lang="en", pdf=False, areas=["ku205"])
    assert [f.html.name for f in only] == ["kaira_KU205_2010-12_en.html"]
    with pytest.raises(LookupError, match="KU999"):
        write_all_reports(published, tmp_path / "reports", pdf=False, areas=["KU999"])


def test_the_month_read_at_once_gives_each_area_its_own_rows(tmp_path):
    """Every report of a month is gathered from one read of the published tables
    (PublishedMonth): each area must get exactly the rows a query of its own returns."""
    from pipelines.reports.content import Cell, PublishedMonth
    from pipelines.reports.render import render_html

    published = write_published(
        tmp_path / "published.duckdb",
        overrides={("2010-12", "KU205", "total", "youth_unemployed"): (None, "suppressed")},
        incomplete_months=("2010-11", "2010-12"),
    )
    month = date(2010, 12, 1)
    tables = PublishedMonth.read(published, month)
    con = duckdb.connect(str(published), read_only=True)
    try:
        for code, _, _ in tables.areas:
            content = tables.report(code, synthetic=True)
            own = con.execute(
                "select indicator, sex, value, status from indicators_monthly where month = ? and area_code = ?",
                [month, code],
            ).fetchall()
            assert content.figures == {(indicator, sex): Cell(value, status) for indicator, sex, value, status in own}
            assert content.status_counts == dict(
                con.execute(
                    "select status, count(*) from indicators_monthly where month = ? and area_code = ? group by 1",
                    [month, code],
                ).fetchall()
            )
            series = dict(
                con.execute(
                    """select month, value from indicators_monthly where area_code = ? and sex = 'total'
                       and indicator = 'structural_unemployed' and month between ? and ?""",
                    [code, content.series.months[0], month],
                ).fetchall()
            )
            assert [cell.value for cell in content.series.of("structural_unemployed")] == [
                series.get(series_month) for series_month in content.series.months
            ]
            assert content.incomplete_months == ((date(2010, 11, 1), date(2010, 12, 1)),)
            assert content.halve["total"].value == content.figure("structural_unemployed").value
    finally:
        con.close()
    assert tables.report("KU205").figure("youth_unemployed") == Cell(None, "suppressed")

    # and the files of a month are those of each area's own report
    files = write_all_reports(published, tmp_path / "reports", month="2010-12", pdf=False, synthetic=True)
    assert [written.area_code for written in files] == ["MK18", "KU205", "KU697"]
    for written in files:
        own = render_html(build_report(published, written.area_code, "2010-12", synthetic=True))
        assert written.html.read_text(encoding="utf-8") == own
