"""Kaira's Dagster resources: the settings, and access to the working warehouse.

Assets, asset checks, the schedule and the sensors take these as parameters instead of
reading the environment themselves. A field left unset comes from the environment
(pipelines/core/settings.py), read once when a run, a check step or a sensor evaluation
starts; a field set here overrides it (tests and other deployments can bind their own).
The pseudonymisation key is never a field: resource configuration is stored and shown
by Dagster, so the key is only ever read from the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from pipelines.core.settings import Settings, load_settings

# Field name -> the environment variable it overrides.
_OVERRIDES = {
    "landing_dir": "KAIRA_LANDING_DIR",
    "warehouse_dir": "KAIRA_WAREHOUSE_DIR",
    "reports_dir": "KAIRA_REPORTS_DIR",
    "quarantine_dir": "KAIRA_QUARANTINE_DIR",
    "area_scope": "KAIRA_AREA_SCOPE",
    "suppression_threshold": "KAIRA_SUPPRESSION_THRESHOLD",
    "reject_limit": "KAIRA_REJECT_LIMIT",
    "municipality_set": "KAIRA_MUNICIPALITY_SET",
}


class SettingsResource(dg.ConfigurableResource):
    """The configuration of the running code (docs: README, Configuration)."""

    landing_dir: str | None = None
    warehouse_dir: str | None = None
    reports_dir: str | None = None
    quarantine_dir: str | None = None
    area_scope: str | None = None
    suppression_threshold: int | None = None
    reject_limit: float | None = None
    municipality_set: str | None = None

    _settings: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = self._load()

    def _load(self) -> Settings:
        overrides = {
            variable: str(getattr(self, name)) for name, variable in _OVERRIDES.items() if getattr(self, name) is not None
        }
        return load_settings(overrides=overrides)

    @property
    def settings(self) -> Settings:
        """The settings of this run or evaluation (read once, when it started)."""
        # Outside a run (a direct call in a test or a script): read them now, keep nothing.
        return self._settings if self._settings is not None else self._load()


class WarehouseResource(dg.ConfigurableResource):
    """The working warehouse `kaira.duckdb`. One process writes it at a time (the writer
    pool); checks and publishing read it read-only, which never blocks that writer's lock
    for longer than the read."""

    settings: SettingsResource

    @property
    def path(self) -> Path:
        return self.settings.settings.warehouse_path

    @contextmanager
    def connect(self, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        connection = duckdb.connect(str(self.path), read_only=read_only)
        try:
            yield connection
        finally:
            connection.close()
