"""Kaira's own dashboard (`kaira dashboard`): a Finnish Streamlit app over the published tables.

It reads `published.duckdb` only, opened read-only on every request (never the working
warehouse), so a run that republishes meanwhile is picked up on the next request and never
blocks it. The Streamlit script `app.py` is thin: what it shows comes from plain, tested
functions here:

- `published`: one consistent read of the published file per request (`read_catalog`,
  `read_view`), a clear error when it is missing, empty or unreadable;
- `view`: which area, sex and indicator to show, from the URL's query parameters;
- `followup`: the target's baseline, target line and progress for the chart;
- `export`: the current view as a CSV file the Finnish way;
- `texts`: the Finnish words and the status symbols with their legend.

Nothing here imports Streamlit except `app.py`, which only the dashboard's server runs.
"""
