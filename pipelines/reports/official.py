"""The official statistics in the follow-up reports (Finnish), from published.duckdb only.

- `reconciliation_sections`: a section of each register report: the derived unemployed beside
  Statistics Finland's, as a chart over the published months, and the cells that differ.
  The derived figures are labelled synthetic when the registers are the generated sample;
  the official figures are real and carry the credit line.
- `write_official_reports`: public-data mode, when no register has been published: one
  report per area in scope (the regions and their municipalities; with scope `all` the
  country and the regions) from the official series, saying which sections need register data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
from markupsafe import Markup, escape

from pipelines.core.duckdb_tables import table_exists
from pipelines.core.months import month_text, shift_month
from pipelines.core.settings import Settings
from pipelines.publish.official import OFFICIAL_COUNTERPARTS

from . import charts
from .content import Cell
from .formatting import format_count, format_month, format_month_short
from .translations import Translator

CREDIT_FI = "Lähde: Tilastokeskus / KEHA-keskus, työnvälitystilasto, CC BY 4.0"
SYNTHETIC_FI = "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä"
UNEMPLOYED = "TYOTTOMATLOPUSSA"
# The measures a public-data report shows, where the files have them, in this order.
OFFICIAL_MEASURES_FI = {
    "TYOTTOMATLOPUSSA": "Työttömät työnhakijat",
    "TYOTTOMATMIEHET": "Työttömät, miehet",
    "TYOTTOMATNAISET": "Työttömät, naiset",
    "PITKAAIKAISTYOTTOMAT": "Pitkäaikaistyöttömät",
    "TYOTTOMAT25": "Alle 25-vuotiaat työttömät",
    "LOMAUTETTU": "Kokoaikaisesti lomautetut",
    "TYOLLISTETTYLOP": "Työllistettyinä (palveluissa)",
    "TVKOULUTUSLOP": "Työvoimakoulutuksessa (palveluissa)",
    "MTPPALVELUTLOP": "Muissa palveluissa",
    "TYOVOIMATK": "Työvoima",
    "AVPAIKATLOPUSSA": "Avoimet työpaikat",
}
STATUS_FI = {"confidential": "luottamuksellinen", "not_applicable": "ei sovellu"}
DIFFERING_SHOWN = 24


def _fmt(value) -> str:
    return "–" if value is None else format_count(value, "fi")


def _chart(chart_id: str, title: str, months: list[date], lines: list[charts.Line]) -> Markup:
    return charts.line_chart(
        chart_id=chart_id,
        title=title,
        description=title,
        months=months,
        lines=lines,
        value_label=lambda value: format_count(value, "fi"),
        month_label=lambda month: format_month_short(month, "fi"),
        year_label=lambda month: str(month.year),
        legends=charts.Legends(suppressed="salattu (pieni luku)", groups_hidden="", incomplete="vajaa"),
    )


def reconciliation_sections(
    published_path: Path, month: date, *, synthetic: bool, areas: list[str] | None = None
) -> dict[str, Markup]:
    """The derived-versus-official section of every area's report for `month` (or of `areas`),
    by area code; an area without an official counterpart in the published tables has none.
    One read of the table for all areas: a read per report cost more than the section."""
    con = duckdb.connect(str(published_path), read_only=True)
    try:
        if not table_exists(con, "main", "official_reconciliation"):
            return {}
        wanted, parameters = "", [month]
        if areas is not None:
            wanted = f" and area_code in ({', '.join('?' for _ in areas)})" if areas else " and false"
            parameters += list(areas)
        series: dict[str, list[tuple]] = {}
        for code, *row in con.execute(
            "select area_code, month, derived_value, official_value, status from official_reconciliation "
            f"where indicator = 'unemployed' and sex = 'total' and month <= ?{wanted} order by area_code, month",
            parameters,
        ).fetchall():
            series.setdefault(code, []).append(tuple(row))
        differing: dict[str, list[tuple]] = {}
        for code, *row in con.execute(
            "select area_code, month, indicator, sex, derived_value, official_value, difference "
            f"from official_reconciliation where status = 'differs' and month <= ?{wanted} "
            "order by area_code, month desc, indicator, sex",
            parameters,
        ).fetchall():
            differing.setdefault(code, []).append(tuple(row))
        counts: dict[str, dict[str, int]] = {}
        for code, status, count in con.execute(
            f"select area_code, status, count(*) from official_reconciliation where month <= ?{wanted} group by all",
            parameters,
        ).fetchall():
            counts.setdefault(code, {})[status] = count
    finally:
        con.close()
    return {
        code: _reconciliation_section(
            code, rows, differing.get(code, []), counts.get(code, {}), synthetic=synthetic
        )
        for code, rows in series.items()
    }


def _reconciliation_section(
    area_code: str, rows: list[tuple], differing: list[tuple], counts: dict[str, int], *, synthetic: bool
) -> Markup:
    """One area's section: `rows` its (month, derived, official, status) of the unemployed,
    `differing` every cell that differs, newest first, `counts` its cells by status."""
    differs_total = len(differing)
    differing = differing[:DIFFERING_SHOWN]
    months = [row[0] for row in rows]
    derived_label = "Rekisteristä johdettu (synteettinen)" if synthetic else "Rekisteristä johdettu"
    lines = [
        charts.Line("derived", derived_label, [Cell(row[1], "ok" if row[1] is not None else "suppressed") for row in rows]),
        charts.Line("official", "Tilastokeskus, 12r5 (todellinen)", [Cell(row[2], "ok") for row in rows]),
    ]
    chart = _chart(f"reconciliation-{area_code}", "Työttömät työnhakijat: johdettu ja virallinen", months, lines)
    words = Translator("fi")
    table_rows = "".join(
        f"<tr><td>{escape(format_month(m, 'fi'))}</td><td>{escape(words(f'indicators.{indicator}.name'))}</td>"
        f"<td>{escape(words(f'sexes.{sex}'))}</td>"
        f"<td class='num'>{_fmt(derived)}</td><td class='num'>{_fmt(official)}</td><td class='num'>{_fmt(diff)}</td></tr>"
        for m, indicator, sex, derived, official, diff in differing
    )
    summary = ", ".join(f"{words(f'reconciliation_statuses.{status}')} {count}"
                        for status, count in sorted(counts.items()))
    note = (
        f"<p class='note'>Johdetut luvut ovat synteettisiä ({escape(SYNTHETIC_FI)}); viralliset luvut ovat todellisia. "
        "Erot kertovat otoksen kalibroinnista, eivät rekisterin puutteista.</p>"
        if synthetic
        else "<p class='note'>Johdetut ja viralliset luvut tulevat samasta rekisteristä: ero tarkoittaa vajaata "
        "toimitusta tai poikkeavaa sääntöä.</p>"
    )
    differing_html = (
        f"<p>Poikkeavat solut ({differs_total}, uusimmat {min(differs_total, DIFFERING_SHOWN)}):</p>"
        "<table class='official-differs'><thead><tr><th>Kuukausi</th><th>Indikaattori</th><th>Sukupuoli</th>"
        f"<th>Johdettu</th><th>Virallinen</th><th>Ero</th></tr></thead><tbody>{table_rows}</tbody></table>"
        if differing
        else "<p>Ei poikkeavia soluja.</p>"
    )
    return Markup(
        "<section class='official' id='official' aria-labelledby='official-heading'>"
        "<h2 id='official-heading'>Johdetut luvut ja viralliset tilastot</h2>"
        f"{chart}{note}<p>Vertailun tila: {escape(summary)}.</p>{differing_html}"
        f"<p class='credit'>{escape(CREDIT_FI)}</p></section>"
    )


# --- public-data mode ----------------------------------------------------------------------


@dataclass(frozen=True)
class OfficialReport:
    area_code: str
    html: Path


def official_areas(con, scope: tuple[str, ...] | None) -> list[tuple[str, str, str]]:
    """(area_code, area_level, area_name) in scope that the official statistics have."""
    rows = con.execute(
        "select distinct area_code, area_level, area_name, parent_area_code from official_statistics"
    ).fetchall()
    if scope is None:
        wanted = [row for row in rows if row[1] in ("country", "region")]
    else:
        wanted = [row for row in rows if row[0] in scope or (row[1] == "municipality" and row[3] in scope)]
    order = {"country": 0, "region": 1, "municipality": 2}
    return sorted(((code, level, name) for code, level, name, _ in wanted), key=lambda r: (order.get(r[1], 9), r[0]))


def _official_page(con, area: tuple[str, str, str], month: date) -> str:
    code, level, name = area
    values = {
        (measure, m): (value, status)
        for measure, m, value, status in con.execute(
            "select measure, month, value, status from official_statistics where area_code = ? and month in (?, ?)",
            [code, month, shift_month(month, -12)],
        ).fetchall()
    }
    rows = []
    for measure, label in OFFICIAL_MEASURES_FI.items():
        if (measure, month) not in values:
            continue
        now, status = values[(measure, month)]
        before = values.get((measure, shift_month(month, -12)), (None, None))[0]
        shown = _fmt(now) if now is not None else STATUS_FI.get(status, "–")
        rows.append(f"<tr><td>{escape(label)}</td><td class='num'>{shown}</td><td class='num'>{_fmt(before)}</td></tr>")
    series = con.execute(
        "select month, value from official_statistics where area_code = ? and measure = ? and month <= ? "
        "and month > ? order by month",
        [code, UNEMPLOYED, month, shift_month(month, -60)],
    ).fetchall()
    chart = (
        _chart(
            f"official-{code}",
            "Työttömät työnhakijat (Tilastokeskus, 12r5)",
            [m for m, _ in series],
            [charts.Line("official", "Työttömät työnhakijat", [Cell(v, "ok" if v is not None else "suppressed") for _, v in series])],
        )
        if series
        else Markup("")
    )
    return (
        "<!DOCTYPE html><html lang='fi'><head><meta charset='utf-8'>"
        f"<title>Kaira: {escape(name or code)} {month_text(month)} (viralliset tilastot)</title></head><body><main>"
        f"<h1>{escape(name or code)} – {escape(format_month(month, 'fi'))}</h1>"
        "<p>Julkisten tietojen raportti: vain Tilastokeskuksen viralliset tilastot (todelliset luvut).</p>"
        "<section id='official-figures'><h2>Viralliset luvut</h2><table><thead><tr><th>Tieto</th>"
        f"<th>{escape(format_month(month, 'fi'))}</th><th>Vuotta aiemmin</th></tr></thead><tbody>{''.join(rows)}"
        f"</tbody></table>{chart}</section>"
        "<section id='register-sections'><h2>Rakennetyöttömyys ja Kelan työmarkkinatuki</h2>"
        "<p>Nämä osiot tarvitsevat rekisteriaineiston (työnhakijarekisteri ja Kelan maksutiedot): "
        "julkisista tiedoista niitä ei voi laskea.</p></section>"
        f"<p class='credit'>{escape(CREDIT_FI)}</p></main></body></html>"
    )


def write_official_reports(settings: Settings, out_dir: Path | None = None) -> tuple[str, Path, list[OfficialReport]]:
    """Public-data reports for the latest official month: (month YYYY-MM, folder, reports)."""
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        areas = official_areas(con, settings.area_scope)
        codes = [code for code, _, _ in areas] or [""]
        marks = ", ".join("?" for _ in codes)
        # The latest month the areas in scope have an official figure for.
        (month,) = con.execute(
            f"select max(month) from official_statistics where area_code in ({marks}) and value is not null", codes
        ).fetchone()
        if month is None:
            from .content import ReportDataError

            raise ReportDataError(
                f"{settings.published_path} has neither register figures nor official statistics for the areas in scope"
            )
        key = month_text(month)
        folder = Path(out_dir or settings.reports_dir) / key
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for area in areas:
            path = folder / f"kaira_{area[0]}_{key}_fi.html"
            path.write_text(_official_page(con, area, month), encoding="utf-8")
            written.append(OfficialReport(area[0], path))
    finally:
        con.close()
    return key, folder, written


def official_counterpart_measures() -> tuple[str, ...]:
    return tuple(OFFICIAL_COUNTERPARTS.values())
