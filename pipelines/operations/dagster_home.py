"""The Dagster instance the CLI uses: `$DAGSTER_HOME`, prepared with the repo's dagster.yaml."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DAGSTER_HOME = Path("data/dagster_home")


def prepare_dagster_home() -> Path:
    """Use $DAGSTER_HOME (default data/dagster_home), copying dagster.yaml there if absent."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(REPO_ROOT / "dagster.yaml", config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
