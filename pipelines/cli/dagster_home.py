"""The Dagster instance the CLI uses: `$DAGSTER_HOME`, prepared with the package's instance settings (pipelines/dagster.yaml)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.package_files import (
    instance_settings_file,
)


def prepare_dagster_home(home: Path) -> Path:
    """The Dagster home folder `home` (the settings' DAGSTER_HOME), with the package's
    dagster.yaml copied there when absent or older than the package's (as the Makefile
    does), so the run queue and the warehouse pool are the same for the CLI, `dagster dev`
    and the daemon."""
    home.mkdir(parents=True, exist_ok=True)
    config, source = home / "dagster.yaml", instance_settings_file()
    if not config.exists() or config.stat().st_mtime < source.stat().st_mtime:
        shutil.copyfile(source, config)
    return home
