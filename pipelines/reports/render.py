"""`ReportContent` -> one self-contained HTML page (inline CSS, inline SVG, no script).

The jinja2 templates, stylesheet and logo live in `assets/`; the charts are drawn by
`charts.py`. Every headline figure carries `data-figure` (what it is) and `data-value` (the
published number), so tests and readers of the DOM can check it against the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import jinja2
from markupsafe import Markup

from pipelines.core.indicators import SEXES, STRUCTURAL_GROUPS

from . import charts
from .content import (
    DEFINED_INDICATORS,
    EURO_INDICATORS,
    KELA_COLUMNS,
    KEY_FIGURES,
    Cell,
    ReportContent,
    TargetRow,
    failed_checks,
    group_checks,
)
from .formatting import (
    format_count,
    format_date,
    format_eur,
    format_month,
    format_month_short,
    format_percent,
    format_signed_count,
    raw_number,
)
from .translations import ASSETS_DIR, Translator

TEMPLATES_DIR = ASSETS_DIR / "templates"
STYLESHEET = ASSETS_DIR / "report.css"
LOGO = ASSETS_DIR / "logo.svg"

# One symbol per withheld status, as in Finnish statistical tables; explained in every report.
SYMBOLS = {"suppressed": "..", "not_available": ":", "no_rule": ".", "missing": "–"}
INCOMPLETE_MARK = "*"


@dataclass(frozen=True)
class Shown:
    """A cell as printed: its text, status, the published number (or '') and a mark."""

    text: str
    status: str
    raw: str
    mark: str = ""
    title: str = ""


def show(cell: Cell, kind: str, lang: str, t: Translator | None = None, threshold: int = 5) -> Shown:
    """Format a published cell; a withheld one becomes its symbol (with its meaning as a tooltip)."""
    if cell.value is None:
        symbol = SYMBOLS.get(cell.status, SYMBOLS["missing"])
        title = t(f"symbols.{cell.status}", threshold=threshold) if t and cell.status in SYMBOLS else ""
        return Shown(symbol, cell.status, "", title=title)
    if kind == "eur":
        text = format_eur(cell.value, lang)
    elif kind == "pct":
        text = format_percent(cell.value, 1, lang)
    else:
        text = format_count(cell.value, lang)
    mark = INCOMPLETE_MARK if cell.status == "incomplete" else ""
    return Shown(text, cell.status, raw_number(cell.value) if kind != "eur" else f"{cell.value:.2f}", mark)


def month_in(month: date, lang: str) -> str:
    """'joulukuussa 2010' (the Finnish inessive: every month name ends in -kuu) / 'December 2010'."""
    text = format_month(month, lang)
    if lang == "fi":
        name, year = text.split(" ")
        return f"{name}ssa {year}"
    return text


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


def _goal1_state(row: TargetRow | None, month: date) -> str | None:
    """'reached', 'missed' or 'not_yet' for the headline; None where nothing can be said."""
    if row is None or row.reached is None:
        return None
    if row.reached:
        return "reached"
    if row.target_month is not None and month < row.target_month:
        return "not_yet"
    return "missed"


class ReportRenderer:
    """Renders the reports of one run; what is the same in each of them is made once.

    A month has 320 areas at national scale, and rendering each report whole re-read the
    stylesheet and the logo, looked up the same words and re-rendered the same check tables
    and definitions for every one of them. A renderer keeps the template, the stylesheet and
    logo, a translator a language and the parts shared by every area (report_*.html.j2, by
    language and the run's checks) for as long as it lives: one `write_all_reports` call, so
    a run sees the assets as they are when it starts.
    """

    def __init__(self) -> None:
        environment = _environment()
        self._template = environment.get_template("report.html.j2")
        self._parts = {
            name: environment.get_template(f"report_{name}.html.j2") for name in ("checks", "definitions", "appendix")
        }
        self._css = Markup(STYLESHEET.read_text(encoding="utf-8"))
        self._logo = Markup(LOGO.read_text(encoding="utf-8"))
        self._translators: dict[str, Translator] = {}
        self._shared: dict[tuple, dict[str, Markup]] = {}

    def translator(self, lang: str) -> Translator:
        if lang not in self._translators:
            self._translators[lang] = Translator(lang)
        return self._translators[lang]

    def _shared_parts(self, content: ReportContent, t: Translator) -> dict[str, Markup]:
        """The parts every area of the month shares, rendered from what the key holds only."""
        lang, checks, run_id = content.lang, content.checks, content.run_id
        checked_at = _timestamp(content)
        key = (lang, checks, run_id, checked_at)
        if key not in self._shared:
            groups = group_checks(checks)
            values = {
                "t": t,
                "count": lambda value: format_count(value, lang),
                "checks": checks,
                "check_groups": groups,
                "failed_checks": failed_checks(checks),
                "run_id": run_id,
                "checked_at": checked_at,
                # The totals of the groups: content.group_checks owns what passed and failed mean.
                "checks_passed": sum(group.passed for group in groups),
                "checks_failed_errors": sum(group.failed_errors for group in groups),
                "checks_failed_warnings": sum(group.failed_warnings for group in groups),
                "defined_indicators": DEFINED_INDICATORS,
            }
            self._shared[key] = {
                f"{name}_part": Markup(template.render(values)) for name, template in self._parts.items()
            }
        return self._shared[key]

    def render(self, content: ReportContent) -> str:
        lang = content.lang
        t = self.translator(lang)

        def count(value) -> str:
            return format_count(value, lang)

        def signed(value) -> str:
            return format_signed_count(value, lang)

        def pct(value, decimals: int = 1) -> str:
            return format_percent(value, decimals, lang)

        def month_short(value: date) -> str:
            return format_month_short(value, lang)

        def cell(value: Cell, indicator: str = "") -> Shown:
            kind = "eur" if indicator in EURO_INDICATORS else "count"
            return show(value, kind, lang, t, content.suppression_threshold)

        total = content.halve.get("total")
        state = _goal1_state(total, content.month)
        progress_bars = {
            sex: charts.progress_bar(
                row.progress_pct,
                t(
                    "progress_aria",
                    progress=pct(row.progress_pct) if row.progress_pct is not None else SYMBOLS["missing"],
                ),
                f"progress-{sex}",
            )
            for sex, row in content.halve.items()
        }
        symbols_present = _symbols_present(content)
        headline = {sex: _headline_row(row, content, t) for sex, row in content.halve.items()}
        key_rows = [
            {
                "indicator": indicator,
                "cells": {sex: cell(content.figure(indicator, sex), indicator) for sex in SEXES},
                "year_ago": cell(content.figures_year_ago.get(indicator, Cell(None, "missing")), indicator),
                "change": _year_change(content, indicator),
            }
            for indicator in KEY_FIGURES
        ]
        kela_rows = [
            {
                "area_code": row.area_code,
                "area_name": row.area_name,
                "is_total": row.is_total,
                "is_current": row.is_current,
                "cells": [(indicator, cell(row.cells[indicator], indicator)) for indicator in KELA_COLUMNS],
            }
            for row in (*content.kela_rows, *((content.kela_total,) if content.kela_total else ()))
        ]

        return self._template.render(
            c=content,
            t=t,
            lang=lang,
            css=self._css,
            logo=self._logo,
            sexes=SEXES,
            groups=STRUCTURAL_GROUPS,
            key_figures=KEY_FIGURES,
            euro_indicators=EURO_INDICATORS,
            total=total,
            state=state,
            progress_bars=progress_bars,
            charts=_charts(content, t),
            symbols=SYMBOLS,
            symbols_present=symbols_present,
            incomplete_mark=INCOMPLETE_MARK,
            count=count,
            signed=signed,
            pct=pct,
            eur=lambda value: format_eur(value, lang),
            month_long=lambda value: format_month(value, lang),
            month_in=lambda value: month_in(value, lang),
            month_short=month_short,
            day=lambda value: format_date(value, lang),
            cell=cell,
            month_ranges=_month_ranges_text(content, lang),
            headline=headline,
            key_rows=key_rows,
            kela_rows=kela_rows,
            css_string=css_string,
            **self._shared_parts(content, t),
        )


def render_html(content: ReportContent) -> str:
    """One report alone; a month's reports share one ReportRenderer (writer.write_all_reports)."""
    return ReportRenderer().render(content)


def css_string(text: str) -> Markup:
    """A CSS string literal for `content:` (the text is ours, but quote it properly anyway)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
    return Markup(f'"{escaped}"')


def _timestamp(content: ReportContent) -> str:
    if content.checked_at is None:
        return ""
    moment = content.checked_at
    if content.lang == "fi":
        return f"{format_date(moment.date(), 'fi')} klo {moment:%H.%M}"
    return f"{format_date(moment.date(), 'en')} {moment:%H:%M}"


def _headline_row(row: TargetRow, content: ReportContent, t: Translator) -> dict:
    """One sex's follow-up of goal 1, formatted; withheld parts become their symbols."""
    lang = content.lang
    threshold = content.suppression_threshold
    withheld = "suppressed" if row.status in ("suppressed", "no_baseline") else "missing"

    def number(value: float | None, status: str) -> Shown:
        if value is None:
            return show(Cell(None, status), "count", lang, t, threshold)
        return show(Cell(value, "ok"), "count", lang)

    value_status = "suppressed" if row.status == "suppressed" else "ok"
    progress = (
        show(Cell(row.progress_pct, "ok"), "pct", lang)
        if row.progress_pct is not None
        else show(Cell(None, withheld), "pct", lang, t, threshold)
    )
    reached = row.reached
    if reached is None:
        reached_key, reached_text, reached_raw = "unknown", SYMBOLS[withheld], ""
    else:
        reached_key = "yes" if reached else "no"
        reached_text, reached_raw = t(reached_key), "true" if reached else "false"
    change, change_pct = row.change, row.change_pct
    return {
        "value": number(row.value, value_status if row.value is None else "ok"),
        "baseline": number(row.baseline_value, withheld),
        "target": number(row.target_value, withheld if row.status != "no_target" else "missing"),
        "progress": progress,
        "change_text": format_signed_count(change, lang) if change is not None else SYMBOLS[withheld],
        "change_raw": raw_number(change) if change is not None else "",
        "change_pct_text": (("+" if change_pct > 0 else "") + format_percent(change_pct, 1, lang))
        if change_pct is not None
        else SYMBOLS[withheld],
        "change_pct_raw": f"{change_pct:.4f}" if change_pct is not None else "",
        "reached_key": reached_key,
        "reached_text": reached_text,
        "reached_raw": reached_raw,
    }


def _year_change(content: ReportContent, indicator: str) -> str:
    now, before = content.figure(indicator), content.figures_year_ago.get(indicator)
    if before is None or now.value is None or before.value is None:
        return ""
    difference = now.value - before.value
    if indicator in EURO_INDICATORS:
        text = format_eur(difference, content.lang)
        return f"+{text}" if difference > 0 else text
    return format_signed_count(difference, content.lang)


def _symbols_present(content: ReportContent) -> list[str]:
    """Symbols of the legend: the four statuses always, 'missing' only where it occurs."""
    statuses = ["suppressed", "not_available", "no_rule", "incomplete"]
    cells = list(content.figures.values()) + [cell for row in content.kela_rows for cell in row.cells.values()]
    if any(cell.status == "missing" for cell in cells):
        statuses.append("missing")
    return statuses


def _month_ranges_text(content: ReportContent, lang: str) -> str:
    parts = []
    for first, last in content.incomplete_months:
        if first == last:
            parts.append(format_month_short(first, lang))
        else:
            parts.append(f"{format_month_short(first, lang)}–{format_month_short(last, lang)}")
    return ", ".join(parts)


def _charts(content: ReportContent, t: Translator) -> dict[str, Markup]:
    lang = content.lang
    series = content.series
    months = series.months
    if not months:
        return {}

    def value_label(value: float) -> str:
        return format_count(value, lang)

    def month_label(month: date) -> str:
        return format_month_short(month, lang)

    def year_label(month: date) -> str:
        return str(month.year)

    def shown(cell: Cell) -> str:
        return show(cell, "count", lang).text

    legends = charts.Legends(
        suppressed=t("legend_suppressed"),
        groups_hidden=t("legend_groups_hidden"),
        incomplete=t("legend_incomplete"),
    )
    start, end = month_label(months[0]), month_label(months[-1])
    total = content.halve.get("total")
    references = []
    if total is not None and total.target_value is not None:
        references.append(
            charts.ReferenceLine(
                "target", t("legend_target", value=format_count(total.target_value, lang)), total.target_value
            )
        )
    if total is not None and total.baseline_value is not None:
        references.append(
            charts.ReferenceLine(
                "baseline",
                t("legend_baseline", value=format_count(total.baseline_value, lang)),
                total.baseline_value,
                dash="2 3",
                stroke="#555",
                width=1.5,
            )
        )
    structural = series.of("structural_unemployed")
    if total is not None and total.baseline_value is not None and total.target_value is not None:
        description = t(
            "chart_structural_desc",
            start=start,
            end=end,
            first=shown(structural[0]),
            last=shown(structural[-1]),
            baseline=format_count(total.baseline_value, lang),
            target=format_count(total.target_value, lang),
        )
    else:
        description = t(
            "chart_structural_desc_short", start=start, end=end, first=shown(structural[0]), last=shown(structural[-1])
        )
    marker = (content.target_month, t("legend_target_month")) if content.target_month else None
    result = {
        "structural": charts.stacked_bar_chart(
            chart_id="chart-structural",
            title=t("chart_structural_title", start=start, end=end),
            description=description,
            months=months,
            layers=[
                charts.Layer(group, t(f"indicators.{group}.name"), series.of(group)) for group in STRUCTURAL_GROUPS
            ],
            totals=structural,
            reference_lines=references,
            marker=marker,
            value_label=value_label,
            month_label=month_label,
            year_label=year_label,
            legends=legends,
        )
    }
    long_term, youth = series.of("long_term_unemployed"), series.of("youth_unemployed")
    result["trends"] = charts.line_chart(
        chart_id="chart-trends",
        title=t("chart_trends_title", start=start, end=end),
        description=t("chart_trends_desc", end=end, long_term=shown(long_term[-1]), youth=shown(youth[-1])),
        months=months,
        lines=[
            charts.Line("long_term_unemployed", t("indicators.long_term_unemployed.name"), long_term),
            charts.Line("youth_unemployed", t("indicators.youth_unemployed.name"), youth),
        ],
        value_label=value_label,
        month_label=month_label,
        year_label=year_label,
        legends=legends,
    )
    inflow = series.of("structural_inflow")
    inflow_total = content.inflow.get("total")
    inflow_references = []
    if inflow_total is not None and inflow_total.baseline_value is not None:
        inflow_references.append(
            charts.ReferenceLine(
                "baseline",
                t("legend_baseline", value=format_count(inflow_total.baseline_value, lang)),
                inflow_total.baseline_value,
                dash="2 3",
                stroke="#555",
                width=1.5,
            )
        )
    result["inflow"] = charts.stacked_bar_chart(
        chart_id="chart-inflow",
        title=t("chart_inflow_title", start=start, end=end),
        description=t("chart_inflow_desc", end=end, last=shown(inflow[-1])),
        months=months,
        layers=[charts.Layer("structural_inflow", t("indicators.structural_inflow.name"), inflow)],
        totals=inflow,
        reference_lines=inflow_references,
        value_label=value_label,
        month_label=month_label,
        year_label=year_label,
        legends=legends,
    )
    return result
