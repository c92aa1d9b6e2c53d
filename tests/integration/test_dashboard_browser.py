"""`kaira dashboard` for real: Streamlit's server on the published tables of a real pipeline
run, headless Chromium (Debian's) on a linked view. Not skipped without a browser: it fails
and says what to install, as the report tests do (CI installs it).

Streamlit draws the page in the browser from websocket messages, so the page is read over
the DevTools protocol once it has rendered (tools/live_page.py), not with a one-shot
`--dump-dom`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from PIL import Image

from pipelines.core.settings import load_settings
from pipelines.publish.tables import PUBLISHED_TABLES, SCHEMA_VERSION
from pipelines.publish.writer import publish_atomically
from pipelines.reports import browser
from pipelines.reports.formatting import format_count
from tests.helpers import copied_pipeline_run, environment, query
from tools.live_page import LivePage, running_dashboard

pytestmark = pytest.mark.e2e

LINK = "/?area=MK18&indicator=structural_unemployed&sex=total"
# The page has rendered the view when the headline figure and the latest month's table are
# there, or it has rendered a message instead of figures.
RENDERED = (
    "document.querySelector('[data-testid=\"stMetricValue\"]') && document.querySelector('[data-testid=\"stTable\"]')"
    " || document.querySelector('[data-testid=\"stAlertContentError\"]')"
)
STARTUP_LIMIT_SECONDS = 30  # measured about 2.5 s alone; generous for a shared, busy CI machine


@pytest.fixture(scope="module")
def chromium():
    try:
        return browser.find_chromium(load_settings().chromium)
    except browser.ChromiumNotFoundError as error:
        pytest.fail(f"the dashboard tests need headless Chromium: {error}")


@pytest.fixture(scope="module")
def run(pipeline_template, tmp_path_factory):
    """A copy of the session's pipeline run: this module republishes and removes its file."""
    root = tmp_path_factory.mktemp("dashboard")
    with copied_pipeline_run(*pipeline_template, root) as (settings, _instance, _outcome):
        yield root, settings


@pytest.fixture(scope="module")
def server(run, tmp_path_factory):
    """`kaira dashboard --port <free port>` as a user starts it; (base URL, seconds to healthy)."""
    root, _settings = run
    env = {**environment(root), "HOME": str(tmp_path_factory.mktemp("dashboard-home"))}  # Streamlit's ~/.streamlit
    env.pop("KAIRA_PSEUDONYM_KEY")  # the dashboard needs no key
    with running_dashboard(env) as started:
        yield started


def latest_published(database: Path, area: str, indicator: str, sex: str = "total") -> tuple:
    (row,) = query(
        database,
        """select month, value, status from indicators_monthly where area_code = ? and indicator = ? and sex = ?
           order by month desc limit 1""",
        [area, indicator, sex],
    )
    return row


def metric_values(page: LivePage) -> list[str]:
    return page.evaluate(
        "Array.from(document.querySelectorAll('[data-testid=\"stMetricValue\"]')).map(e => e.innerText.trim())"
    )


def distinct_colours(image: Image.Image) -> int:
    return len(image.convert("RGB").getcolors(maxcolors=image.width * image.height))


def test_the_run_published_the_contracts_columns_and_its_schema_version(run):
    _root, settings = run
    for table in PUBLISHED_TABLES:
        columns = query(
            settings.published_path,
            "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position",
            [table.name],
        )
        assert dict(columns) == table.types and [name for name, _ in columns] == list(table.types), table.name
    assert query(settings.published_path, "select schema_version from publication") == [(SCHEMA_VERSION,)]


def test_a_linked_view_shows_the_published_figure_offline_in_seconds(server, run, chromium, tmp_path):
    base, startup_seconds = server
    root, settings = run
    assert startup_seconds < STARTUP_LIMIT_SECONDS
    month, value, status = latest_published(settings.published_path, "MK18", "structural_unemployed")
    assert status in ("ok", "incomplete") and value is not None

    with LivePage(chromium, width=1400, height=2000) as page:
        page.open(base + LINK, ready=RENDERED)
        text = page.text()
        # the headline: Kainuu's latest published structural-unemployment figure, read from the file itself
        assert metric_values(page)[0] == format_count(value) + ("*" if status == "incomplete" else "")
        assert "Rakennetyöttömät: Kainuu, yhteensä" in text
        # the run is the generated sample: the publication's banner
        assert "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä" in text
        # the follow-up target's baseline (2008-02 lies inside the run) and its progress
        (baseline,) = query(
            settings.published_path,
            """select baseline_value from target_followup where target_id = 'kaira_1_halve_structural'
               and area_code = 'MK18' and sex = 'total' and month = ?""",
            [month],
        )[0:1]
        assert format_count(baseline[0]) in metric_values(page)
        assert "Edistyminen tavoitteeseen" in text
        # the latest month's table, the legend of the symbols, the Kela table, the CSV button
        assert "Merkintöjen selitykset" in text and "salattu: alle 5 henkilön" in text
        assert "Työmarkkinatuki ja kuntien rahoitusosuus" in text
        assert "Lataa näkymä CSV-tiedostona" in text
        # the address bar keeps linking to this view
        assert page.evaluate("location.search").lstrip("?").split("&") == LINK.lstrip("/?").split("&")
        # nothing came from outside the local server: no CDN, no telemetry
        outside = [url for url in page.requested if not url.startswith((base, "data:", "blob:", "about:"))]
        assert outside == []
        png = page.screenshot(tmp_path / "dashboard.png")

    with Image.open(png) as image:
        assert (image.width, image.height) == (1400, 2000)
        assert distinct_colours(image) > 50  # text, a chart and a banner, not a blank page


def test_the_dashboard_follows_a_republished_file_and_explains_a_missing_one(server, run, chromium):
    base, _ = server
    root, settings = run
    database = settings.published_path
    month, value, _status = latest_published(database, "KU205", "unemployed")

    with LivePage(chromium) as page:
        page.open(base + "/?area=KU205&indicator=unemployed&sex=total", ready=RENDERED)
        assert metric_values(page)[0].rstrip("*") == format_count(value)

        # A run republishes (the publisher's own atomic swap) while the server is up and has
        # read the old version: the next request shows the new figure.
        con = duckdb.connect(str(database), read_only=True)
        try:
            tables = {}
            for (name,) in con.execute("select table_name from information_schema.tables order by 1").fetchall():
                columns = dict(
                    con.execute(
                        """select column_name, data_type from information_schema.columns
                           where table_name = ? order by ordinal_position""",
                        [name],
                    ).fetchall()
                )
                tables[name] = (con.execute(f"select * from {name}").df(), columns)
        finally:
            con.close()
        frame = tables["indicators_monthly"][0]
        cell = (frame["area_code"] == "KU205") & (frame["indicator"] == "unemployed") & (frame["sex"] == "total")
        cell &= frame["month"] == frame.loc[cell, "month"].max()
        frame.loc[cell, "value"] = value + 7
        publish_atomically(database, settings.published_parquet_dir, tables)
        page.open(base + "/?area=KU205&indicator=unemployed&sex=total", ready=RENDERED)
        assert metric_values(page)[0].rstrip("*") == format_count(value + 7)

        # The file is gone (a new warehouse folder before its first run): a clear message, no traceback.
        database.rename(database.with_name("published.duckdb.away"))
        page.open(base + LINK, ready=RENDERED)
        text = page.text()
        assert "Julkaistuja taulukoita ei löydy" in text
        assert "Traceback" not in text
