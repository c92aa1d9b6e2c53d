"""The Dagster instance the CLI uses: `$DAGSTER_HOME`, prepared with the package's instance
settings (pipelines/dagster.yaml).

Dagster's storage holds the run history, its event logs and compute logs, which name the
person-level files and quote their errors: the folder is owner-only (0700), and so is
everything in it (`make_tree_private`: SQLite files and compute logs that Dagster creates
during a run get the process's umask, and are tightened when the CLI prepares the home
and when its runs end; until then the 0700 folder keeps other users out).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.core.private_files import make_private, make_tree_private, private_dir
from pipelines.package_files import instance_settings_file


def prepare_dagster_home(home: Path) -> Path:
    """The Dagster home folder `home` (the settings' DAGSTER_HOME), with the package's
    dagster.yaml copied there when absent or older than the package's (as the Makefile
    does), so the run queue and the warehouse pool are the same for the CLI, `dagster dev`
    and the daemon. Owner-only, with everything in it."""
    private_dir(home)
    config, source = home / "dagster.yaml", instance_settings_file()
    if not config.exists() or config.stat().st_mtime < source.stat().st_mtime:
        shutil.copyfile(source, config)
        make_private(config)
    make_tree_private(home)
    return home
