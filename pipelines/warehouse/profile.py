"""The dbt profile a run uses, written from the settings.

dbt reads its connection from a profiles.yml. The repository's `dbt_project/profiles.yml`
takes the warehouse folder from the environment, which suits a person running dbt by hand;
a run writes its own profile instead, with the absolute path of the settings' warehouse
and DuckDB's memory limit, so that no step has to change the process environment for dbt.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.core.private_files import make_private, private_dir, write_private_text
from pipelines.core.settings import Settings

PROFILE_NAME = "kaira"
PROFILE_FOLDER = "dbt_profile"


def profile_text(settings: Settings) -> str:
    """profiles.yml for the warehouse of `settings` (JSON is YAML: every value is quoted safely)."""
    output = {
        "type": "duckdb",
        "path": str(settings.warehouse_path),
        "threads": 2,
        # A national backfill's window grows DuckDB's memory with its months; above the
        # limit DuckDB spills to disk instead of taking the machine (default: 80 % of RAM).
        "settings": {"memory_limit": settings.duckdb_memory_limit},
    }
    return json.dumps({PROFILE_NAME: {"target": "warehouse", "outputs": {"warehouse": output}}}, indent=2) + "\n"


def write_run_profile(settings: Settings) -> Path:
    """Write the profile into the warehouse folder; returns the folder dbt is pointed at.
    Owner-only (0700, 0600): it names the working warehouse, and dbt writes beside it."""
    folder = private_dir(settings.warehouse_dir / PROFILE_FOLDER)
    path = folder / "profiles.yml"
    text = profile_text(settings)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        temporary = path.with_suffix(".tmp")
        write_private_text(temporary, text)
        temporary.replace(path)
    make_private(path)
    return folder
