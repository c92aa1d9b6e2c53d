"""Whether the warehouse's reference data (the dbt seeds) is that of this version.

Building the seeds is a dbt invocation of its own (7-9 s, most of it dbt's start-up), and
`kaira run` used to pay it on every run, also for one new month. The seeds change only
with a release or a user's edit of a seed file, so a run builds them only when their
fingerprint (the seed files and dbt_project.yml, which holds their column types) differs
from the one recorded after the last successful build into this warehouse (by the
reference asset itself, however it was started), or when the warehouse lacks one of their
tables. The sensor and the schedule have their own rule (pipelines/automation/history.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from pipelines.core.private_files import write_private_text
from pipelines.package_files import dbt_project_dir

STATE_FILE = "reference_built.json"
REFERENCE_SCHEMA = "reference"


def seeds_fingerprint(project_dir: Path | None = None) -> str:
    project_dir = project_dir or dbt_project_dir()
    digest = hashlib.sha256()
    for path in [project_dir / "dbt_project.yml", *sorted((project_dir / "seeds").rglob("*.csv"))]:
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def seed_names(project_dir: Path | None = None) -> set[str]:
    project_dir = project_dir or dbt_project_dir()
    return {path.stem for path in (project_dir / "seeds").rglob("*.csv")}


def reference_is_current(warehouse_dir: Path, warehouse_path: Path) -> bool:
    """True when the seeds recorded as built are this version's and every seed table is
    in the warehouse (read-only look; a locked or missing file means: build)."""
    state = Path(warehouse_dir) / STATE_FILE
    try:
        recorded = json.loads(state.read_text()).get("seeds_fingerprint")
    except (OSError, ValueError):
        return False
    if recorded != seeds_fingerprint() or not Path(warehouse_path).is_file():
        return False
    try:
        con = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.Error:
        return False
    try:
        tables = {name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [REFERENCE_SCHEMA]
        ).fetchall()}
    finally:
        con.close()
    return seed_names() <= tables


def record_reference_built(warehouse_dir: Path, fingerprint: str) -> None:
    """After a successful build of the seeds whose fingerprint (taken before the build) is given."""
    write_private_text(Path(warehouse_dir) / STATE_FILE, json.dumps({"seeds_fingerprint": fingerprint}) + "\n")
