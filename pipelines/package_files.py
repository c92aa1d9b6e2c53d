"""Where the files that ship with Kaira are: the dbt project, the Great Expectations suites,
the report assets and the Dagster instance settings.

They live in the repository as top-level folders (the layout a reader expects) and are
mapped into the package when it is built (pyproject.toml: `pipelines.dbt_project` is built
from `dbt_project/`, and so on), so an installed wheel carries them as package data under
`pipelines/`. The editable install of a checkout has no such copies: there the
repository's folders are used as they are.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]

# The repository's top-level folders that a wheel carries inside the package, under the
# same names (pyproject.toml's package-dir maps `pipelines.<name>` to `<name>/`).
SHIPPED_FOLDERS = ("dbt_project", "expectations", "assets")


def _packaged(name: str) -> Path:
    return Path(str(files("pipelines") / name))


def _shipped(name: str) -> Path:
    packaged = _packaged(name)
    return packaged if packaged.exists() else _CHECKOUT / name


def installed_as_package() -> bool:
    """True when the shipped files are the package's own copies (an installed wheel),
    False in a checkout's editable install. An installed package's folder may be read-only
    and is never written: whatever dbt produces goes to a writable folder instead."""
    return _packaged("dbt_project").exists()


def dbt_project_dir() -> Path:
    return _shipped("dbt_project")


def expectations_dir() -> Path:
    return _shipped("expectations")


def report_assets_dir() -> Path:
    return _shipped("assets")


def instance_settings_file() -> Path:
    """The Dagster instance settings (run queue, the warehouse writer pool) copied into
    $DAGSTER_HOME; package data of `pipelines` itself."""
    return Path(str(files("pipelines") / "dagster.yaml"))


def real_statfin_kainuu_file() -> Path:
    """The real StatFin 12r5 series of Kainuu 2006-01 … 2023-10 as a PX file (credit line
    in the file and in official_data/README.md); package data of `pipelines` itself."""
    return Path(str(files("pipelines") / "official_data" / "statfin_12r5_kainuu_2006-01_2023-10.px"))
