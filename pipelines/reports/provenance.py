"""Whether the published data are synthetic: the publication's own record first, then the
landing folder's marker (for a publication written before the record existed)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.sources.landing_marker import is_synthetic


def published_is_synthetic(published_path: Path, landing_dir: Path | None = None) -> bool:
    try:
        con = duckdb.connect(str(published_path), read_only=True)
    except duckdb.Error:
        return is_synthetic(landing_dir)
    try:
        row = con.execute("select bool_or(synthetic) from publication").fetchone()
        return bool(row[0]) if row and row[0] is not None else is_synthetic(landing_dir)
    except duckdb.CatalogException:
        return is_synthetic(landing_dir)
    finally:
        con.close()
