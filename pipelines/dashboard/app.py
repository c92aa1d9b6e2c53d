"""The Streamlit script of `kaira dashboard` (run by Streamlit's server, never imported).

    streamlit run app.py -- --published /path/to/published.duckdb

Thin on purpose: every figure comes from `published.read_dashboard`, every formatting and
choice from the tested helpers beside it. Each rerun (a request, a changed chooser) reads
the published file afresh, so a republished version shows on the next interaction. Charts
and tables are Streamlit's own, served by the local server: nothing is fetched from
elsewhere, so the dashboard works offline. Tables are `st.table` (HTML) rather than the
canvas-drawn `st.dataframe`, so their figures are text a browser test (and a screen reader)
can read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from pipelines.dashboard import texts
from pipelines.dashboard.export import csv_file_name, view_csv
from pipelines.dashboard.followup import (
    SERIES_BASELINE,
    SERIES_TARGET,
    SERIES_VALUE,
    chart_frame,
    latest_followups,
    progress_fraction,
)
from pipelines.dashboard.published import PublishedUnavailable, read_dashboard
from pipelines.dashboard.view import PARAMETERS
from pipelines.publish.tables import SYNTHETIC_NOTE_FI
from pipelines.reports.content import KELA_COLUMNS

KELA_HEADINGS = {
    "tmt_recipients_over_500": "Saajat, yli 500 päivää",
    "tmt_recipients_300_499": "Saajat, 300–499 päivää",
    "tmt_recipients_500_999": "Saajat, 500–999 päivää",
    "tmt_recipients_1000_plus": "Saajat, vähintään 1 000 päivää",
    "tmt_municipal_share_eur": "Kunnan osuus, laskutettu (Kela), €",
    "tmt_municipal_share_expected_eur": "Kunnan osuus, laskettu uudelleen, €",
    "tmt_municipal_share_diff_eur": "Erotus, €",
}
FINNISH_LOCALE = {
    "number": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0€"], "minus": "\u2212"},
    "time": {
        "dateTime": "%A, %-d. %Bta %Y klo %X",
        "date": "%-d.%-m.%Y",
        "time": "%H:%M:%S",
        "periods": ["a.m.", "p.m."],
        "days": ["sunnuntai", "maanantai", "tiistai", "keskiviikko", "torstai", "perjantai", "lauantai"],
        "shortDays": ["Su", "Ma", "Ti", "Ke", "To", "Pe", "La"],
        "months": ["tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu",
                   "heinäkuu", "elokuu", "syyskuu", "lokakuu", "marraskuu", "joulukuu"],
        "shortMonths": ["tammi", "helmi", "maalis", "huhti", "touko", "kesä", "heinä", "elo", "syys", "loka", "marras", "joulu"],
    },
}


def published_path() -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--published", type=Path, required=True)
    return parser.parse_args(sys.argv[1:]).published


def requested_view() -> dict[str, str]:
    """The URL's parameters, overridden by the choosers once the reader has used them."""
    params = {name: value for name, value in st.query_params.to_dict().items() if name in PARAMETERS}
    for name in PARAMETERS:
        if name in st.session_state:
            params[name] = st.session_state[name]
    return params


def line_chart(frame: pd.DataFrame) -> alt.Chart:
    """The series with its baseline and target lines, labelled the Finnish way (Vega's own
    locale setting: decimal comma, a space between thousands, Finnish month names)."""
    styles = {SERIES_VALUE: ("#1f4e79", [1, 0]), SERIES_BASELINE: ("#8c8c8c", [4, 3]), SERIES_TARGET: ("#c0392b", [8, 4])}
    present = [name for name in styles if name in set(frame["Sarja"])]  # a monitoring target has no target line
    colours = alt.Scale(domain=present, range=[styles[name][0] for name in present])
    dashes = alt.Scale(domain=present, range=[styles[name][1] for name in present])
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("Kuukausi:T", title=None, axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("Arvo:Q", title=None, axis=alt.Axis(format=",.0f")),
            color=alt.Color("Sarja:N", scale=colours, legend=alt.Legend(title=None, orient="bottom")),
            strokeDash=alt.StrokeDash("Sarja:N", scale=dashes, legend=None),
            tooltip=[alt.Tooltip("Kuukausi:T", format="%m/%Y"), "Sarja:N", alt.Tooltip("Arvo:Q", format=",.2~f")],
        )
        .properties(height=320)
        .configure(locale=FINNISH_LOCALE)
    )


def area_label(area) -> str:
    return f"{area.name} ({area.code}, {texts.level_name(area.level)})"


def main() -> None:
    st.set_page_config(page_title="Kaira – " + texts.TITLE, layout="wide")
    st.title(texts.TITLE)
    st.caption(texts.SUBTITLE)
    try:
        data = read_dashboard(published_path(), requested_view())
    except PublishedUnavailable as error:
        st.error(str(error))
        st.stop()

    publication = data.publication
    if publication and publication.synthetic:
        st.warning(publication.data_note_fi or SYNTHETIC_NOTE_FI, icon="⚠️")

    view = data.view
    # The resolved view goes to the choosers and to the URL, so the address bar always links here.
    for name, value in view.query_params().items():
        st.session_state[name] = value
    st.query_params.from_dict(view.query_params())
    for notice in data.choice.notices:
        st.info(notice)

    areas = {area.code: area for area in data.areas}
    with st.sidebar:
        st.header("Valitse näkymä")
        st.selectbox("Alue", list(areas), key="area", format_func=lambda code: area_label(areas[code]))
        st.selectbox("Sukupuoli", ["total", "male", "female"], key="sex", format_func=texts.sex_name)
        st.selectbox("Indikaattori", list(data.indicators), key="indicator", format_func=texts.indicator_name)
        st.caption("Näkymän voi linkittää: osoiterivin parametrit area, indicator ja sex valitsevat sen.")

    indicator = texts.indicator_name(view.indicator)
    st.header(f"{indicator}: {data.area.name}, {texts.sex_name(view.sex).lower()}")

    last = data.series.iloc[-1] if len(data.series) else None
    followups = latest_followups(data.followup)
    columns = st.columns(4)
    if last is not None:
        value = None if pd.isna(last["value"]) else float(last["value"])
        columns[0].metric(
            f"Viimeisin julkaistu luku, {texts.month_name(data.last_month)}",
            texts.shown_value(value, str(last["status"]), view.indicator),
        )
    followup = followups[0] if followups else None
    if followup is not None and followup.baseline_value is not None:
        columns[1].metric(
            f"Lähtötaso, {texts.month_name(followup.baseline_month)}",
            texts.shown_value(followup.baseline_value, "ok", view.indicator),
        )
        if followup.target_value is not None:
            columns[2].metric(
                f"Tavoite, {texts.month_name(followup.target_month)}",
                texts.shown_value(followup.target_value, "ok", view.indicator),
            )
        if followup.progress_pct is not None:
            columns[3].metric("Edistyminen tavoitteeseen", texts.percent(followup.progress_pct))
            st.progress(
                progress_fraction(followup.progress_pct),
                text="Edistyminen lähtötasosta tavoitteeseen: "
                + texts.percent(followup.progress_pct)
                + (" – tavoite saavutettu" if followup.reached else ""),
            )
    if followup is not None and followup.status == "no_target":
        st.caption("Seurantatavoite: tavoitetasoa ei ole, luku verrataan lähtötasoon (KAIRA:n tavoite 2).")
    elif followup is not None and followup.status == "no_baseline":
        columns[1].metric("Lähtötaso", "..")

    if len(data.series):
        st.altair_chart(line_chart(chart_frame(data.series, followup)), width="stretch")
        incomplete = int(data.series["status"].eq("incomplete").sum())
        if incomplete:
            st.caption(
                f"Sarjan {incomplete} kuukauden luvut on laskettu vajaasta tausta-ajasta (rekisterihistoriaa alle "
                "16 kuukautta); taulukoissa ne on merkitty tähdellä (*), CSV-tiedostossa tilalla ”vajaa tausta-aika”."
            )
    st.download_button(
        "Lataa näkymä CSV-tiedostona",
        data=view_csv(view, data.area.name, data.series, data.followup),
        file_name=csv_file_name(view, data.last_month),
        mime="text/csv",
    )

    st.subheader(f"{data.area.name}, {texts.sex_name(view.sex).lower()}: {texts.month_name(data.last_month)}")
    latest = pd.DataFrame(
        {
            "Indikaattori": [texts.indicator_name(code) for code in data.latest["indicator"]],
            "Luku": [
                texts.shown_value(None if pd.isna(value) else float(value), status, code)
                for code, value, status in data.latest[["indicator", "value", "status"]].itertuples(index=False)
            ],
            "Tila": [texts.STATUS_WORDS.get(status, status) for status in data.latest["status"]],
        }
    ).set_index("Indikaattori")
    st.table(latest)
    st.markdown(
        "**Merkintöjen selitykset:** "
        + " · ".join(f"`{symbol}` {meaning}" for symbol, meaning in texts.legend(data.threshold))
    )

    if not data.kela.empty:
        st.subheader(f"Työmarkkinatuki ja kuntien rahoitusosuus, {texts.month_name(data.last_month)}")
        st.caption(
            "KAIRA:n kuukausittain seuraama taulukko (kaikki sukupuolet). Alueen saajat ovat eri henkilöitä, "
            "eivät kuntien summa; eurot laskevat yhteen. Erotus = laskutettu − uudelleen laskettu."
        )
        kela = pd.DataFrame(
            {
                "Alue": [
                    f"{row.area_name} yhteensä" if row.is_total else row.area_name for row in data.kela.itertuples()
                ],
                **{
                    KELA_HEADINGS[code]: [texts.shown_value(*cell, code) for cell in data.kela[code]]
                    for code in KELA_COLUMNS
                },
            }
        ).set_index("Alue")
        st.table(kela)

    if data.reconciliation is not None and not data.reconciliation.empty:
        st.subheader("Viralliset luvut ja Kairan johdetut luvut")
        st.caption("Tilastokeskuksen virallinen luku rinnakkain rekisteristä johdetun luvun kanssa.")
        rows = data.reconciliation.sort_values("month").groupby("indicator").tail(12)
        shown = pd.DataFrame(
            {
                "Kuukausi": [texts.month_name(pd.Timestamp(month).date()) for month in rows["month"]],
                "Indikaattori": [texts.indicator_name(code) for code in rows["indicator"]],
                "Johdettu": [texts.shown_value(None if pd.isna(v) else v, "ok" if not pd.isna(v) else "suppressed", code)
                             for code, v in zip(rows["indicator"], rows["derived_value"])],
                "Virallinen": [texts.shown_value(None if pd.isna(v) else v, "ok" if not pd.isna(v) else "missing", code)
                               for code, v in zip(rows["indicator"], rows["official_value"])],
                "Tila": [texts.reconciliation_status_name(status) for status in rows["status"]],
            }
        ).set_index("Kuukausi")
        st.table(shown)

    if publication:
        st.caption(
            f"Julkaisuajo {publication.run_id}, julkaistu {publication.published_at:%d.%m.%Y %H.%M} UTC"
            + (f", taulujen skeeman versio {publication.schema_version}" if publication.schema_version else "")
            + ". Luvut julkaistaan vain, kun kaikki estävät tarkistukset ovat menneet läpi."
        )


# Streamlit runs the script as __main__; an import (the package checks, a wheel test) draws nothing.
if __name__ == "__main__":
    main()
