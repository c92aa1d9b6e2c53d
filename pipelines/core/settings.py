"""Configuration, read from the environment into one typed object: the only module that
reads an environment variable of Kaira's (or DAGSTER_HOME).

Twelve-factor: every variable has a working default for the embedded demo, except the
pseudonymisation key, which person-level ingest refuses to run without. Dagster code gets
the settings through the `SettingsResource` (pipelines/resources.py); the CLI calls
`load_settings()` once per command.

The key comes from KAIRA_PSEUDONYM_KEY or, better on a server, KAIRA_PSEUDONYM_KEY_FILE:
the path of an owner-only file holding it, so that no process environment ever contains
the key. Its rules (length, the demo key, the fingerprint) are in pseudonym_key.py; a key
that breaks them is not loaded into the settings (`pseudonym_key` is None and
`pseudonym_key_problem` says why, without the key).

Kaira changes its own environment in two places only, both below, both for third-party
code that starts a child process with a copy of the whole environment (dagster-dbt's
DbtCliResource passes `os.environ.copy()` to dbt and has no other way to give it a
variable): `secrets_withheld_from_children()`, so the child never receives
KAIRA_PSEUDONYM_KEY, and `variables_for_children()`, which gives dbt the month window.
Children that Kaira starts itself get `child_environment()` (dbt parse) or a minimal
environment of their own (Chromium). Why not remove the key from the environment once at
process start: Dagster's code server starts each run's worker process with its own
environment, and the worker needs the key.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.pseudonym_key import (
    DEMO_PSEUDONYM_KEY,  # noqa: F401  (re-exported: the settings' public demo key)
    KEY_FILE_VARIABLE,
    KEY_VARIABLE,
    resolve_key,
)

# Variables whose value is a secret: never passed to a child process.
SECRET_VARIABLES = (KEY_VARIABLE,)


# Test-only fault injection (docs/faults.md): KAIRA_FAULT_PAUSE='<point>:<seconds>' holds a
# run that long at one named point, so that a test can kill it there. Unset in normal use.
FAULT_POINTS = (
    "ingest",  # one register of the run loaded, the other not yet
    "dbt",  # dbt running: the first model of the run built, the others not yet
    "checks",  # dbt done, the checks of the marts not yet run
    "publish",  # the checks passed, publishing not begun
    "swap",  # the new published version written aside, not yet moved into place
    "reports",  # published, the follow-up reports not yet written
)


@dataclass(frozen=True)
class FaultPause:
    point: str
    seconds: float


def parse_fault_pause(text: str | None) -> FaultPause | None:
    if not text or not text.strip():
        return None
    point, _, seconds = text.strip().partition(":")
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if point not in FAULT_POINTS or value < 0:
        raise ValueError(
            f"KAIRA_FAULT_PAUSE (test-only) is '<point>:<seconds>', the point one of {', '.join(FAULT_POINTS)}"
        )
    return FaultPause(point, value)


# DuckDB's memory limit inside dbt. The machine Kaira is sized for has 24 GB shared with other
# work, and issue 12's goal is a run within 4 GB: with 3 GB for DuckDB (it spills the rest to
# disk beside the warehouse) and the Dagster process beside it, a 30-month backfill of
# 200,000 persons stays near that bound instead of taking 12 GB.
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"
# The most delivered jobseeker rows whose months one dbt invocation classifies. A longer
# backfill runs dbt window by window (each the models and tests of its months, in order),
# so DuckDB's memory does not grow with the months of a backfill: the classification's
# working set is about a gigabyte per million rows. 8 million keeps the 200,000-person,
# 30-month benchmark in one invocation (each more costs dbt's start-up, about 2 s) and cuts
# a national backfill into windows of about 16 months.
DEFAULT_DBT_WINDOW_ROWS = 8_000_000


@dataclass(frozen=True)
class Settings:
    # The key is left out of the repr, so a settings object in a log or an error never shows it.
    landing_dir: Path
    warehouse_dir: Path
    reports_dir: Path
    quarantine_dir: Path
    pseudonym_key: str | None = field(repr=False)  # a key that keeps the length rule, or None
    area_scope: tuple[str, ...] | None  # None means every region ("all")
    suppression_threshold: int
    reject_limit: float
    municipality_set: str  # 'real' (Kainuu and Vaala) or 'synthetic' (national sample)
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT  # inside dbt; above it, DuckDB spills to disk
    dbt_window_rows: int = DEFAULT_DBT_WINDOW_ROWS  # delivered rows per dbt invocation of a backfill
    chromium: str | None = None  # the browser that prints PDF reports; None: look for it on PATH
    report_pdfs: str = "auto"  # which areas get a PDF beside the HTML: 'all', 'regions' or 'auto'
    dagster_home: Path = Path("data/dagster_home").resolve()  # Dagster's run history, schedules, sensors
    # Why a key that was set is not usable (too short, its file readable by others, ...);
    # None when the key is usable or none was set. Never contains the key.
    pseudonym_key_problem: str | None = None
    # Reconciliation with the official statistics: a derived figure agrees with its official
    # counterpart when |derived - official| <= max(absolute, relative × official) (METRICS.md).
    reconciliation_absolute_tolerance: float = 5.0
    reconciliation_relative_tolerance: float = 0.02
    fault_pause: FaultPause | None = None  # test-only: KAIRA_FAULT_PAUSE (docs/faults.md)

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "kaira.duckdb"

    @property
    def published_path(self) -> Path:
        return self.warehouse_dir / "published.duckdb"

    @property
    def published_parquet_dir(self) -> Path:
        return self.warehouse_dir / "published"

    @property
    def municipality_pdfs(self) -> bool:
        """Whether the data run prints a PDF for each municipality too. 'auto': yes for a list
        of regions (Kainuu's nine), no with scope 'all', where printing some 300 PDFs took
        most of a national month's run (each is a Chromium start): the HTML is written for
        every area, and `kaira report --area KU...` prints a municipality's PDF on request."""
        return self.report_pdfs == "all" or (self.report_pdfs == "auto" and self.area_scope is not None)

    @property
    def area_scope_var(self) -> str:
        """The scope as the dbt var `area_scope` takes it."""
        return "all" if self.area_scope is None else ",".join(self.area_scope)


def parse_area_scope(text: str) -> tuple[str, ...] | None:
    text = text.strip()
    if text.lower() == "all":
        return None
    codes = tuple(code.strip().upper() for code in text.split(",") if code.strip())
    if not codes:
        raise ValueError("KAIRA_AREA_SCOPE is empty: give region codes such as MK18, or 'all'")
    for code in codes:
        if not (code.startswith("MK") and code[2:].isdigit() and len(code) == 4):
            raise ValueError(f"KAIRA_AREA_SCOPE: {code!r} is not a region code like MK18")
    known = region_codes()
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValueError(
            f"KAIRA_AREA_SCOPE: no region {', '.join(unknown)} in Finland's regional division; "
            f"the regions are {', '.join(sorted(known))}, or 'all'"
        )
    return codes


def region_codes() -> frozenset[str]:
    """The region codes of the real division (the dbt seed regions.csv, shipped with the package)."""
    import csv

    from pipelines.package_files import dbt_project_dir

    with open(dbt_project_dir() / "seeds" / "regions.csv", encoding="utf-8", newline="") as handle:
        return frozenset(row["region_code"] for row in csv.DictReader(handle))


def load_settings(environ: Mapping[str, str] | None = None, *, overrides: Mapping[str, str] | None = None) -> Settings:
    """The settings from `environ` (default: the process environment), with `overrides`
    (variable -> value) taking precedence."""
    # While secrets are withheld from children (below), this process still reads them.
    process_env = {**os.environ, **_withheld} if environ is None else environ
    env = {**process_env, **(overrides or {})}
    threshold = int(env.get("KAIRA_SUPPRESSION_THRESHOLD", "5"))
    if threshold < 1:
        raise ValueError("KAIRA_SUPPRESSION_THRESHOLD must be at least 1")
    reject_limit = float(env.get("KAIRA_REJECT_LIMIT", "0.01"))
    if not 0 <= reject_limit <= 1:
        raise ValueError("KAIRA_REJECT_LIMIT is a share between 0 and 1")
    municipality_set = env.get("KAIRA_MUNICIPALITY_SET", "real")
    if municipality_set not in ("real", "synthetic"):
        raise ValueError("KAIRA_MUNICIPALITY_SET is 'real' or 'synthetic'")
    dbt_window_rows = int(env.get("KAIRA_DBT_WINDOW_ROWS") or DEFAULT_DBT_WINDOW_ROWS)
    if dbt_window_rows < 1:
        raise ValueError("KAIRA_DBT_WINDOW_ROWS is a number of rows, at least 1")
    report_pdfs = env.get("KAIRA_REPORT_PDFS") or "auto"
    if report_pdfs not in ("all", "regions", "auto"):
        raise ValueError("KAIRA_REPORT_PDFS is 'all', 'regions' or 'auto'")
    absolute_tolerance = float(env.get("KAIRA_RECONCILIATION_ABSOLUTE_TOLERANCE", "5"))
    relative_tolerance = float(env.get("KAIRA_RECONCILIATION_RELATIVE_TOLERANCE", "0.02"))
    if absolute_tolerance < 0 or not 0 <= relative_tolerance <= 1:
        raise ValueError(
            "KAIRA_RECONCILIATION_ABSOLUTE_TOLERANCE is a count of at least 0 and "
            "KAIRA_RECONCILIATION_RELATIVE_TOLERANCE a share between 0 and 1"
        )
    pseudonym_key, key_problem = resolve_key(env.get(KEY_VARIABLE) or None, env.get(KEY_FILE_VARIABLE) or None)
    # Absolute paths: dbt and Dagster's subprocesses run in other working directories.
    return Settings(
        landing_dir=Path(env.get("KAIRA_LANDING_DIR", "data/landing")).resolve(),
        warehouse_dir=Path(env.get("KAIRA_WAREHOUSE_DIR", "data/warehouse")).resolve(),
        reports_dir=Path(env.get("KAIRA_REPORTS_DIR", "data/reports")).resolve(),
        quarantine_dir=Path(env.get("KAIRA_QUARANTINE_DIR", "data/quarantine")).resolve(),
        pseudonym_key=pseudonym_key,
        area_scope=parse_area_scope(env.get("KAIRA_AREA_SCOPE", "MK18")),
        suppression_threshold=threshold,
        reject_limit=reject_limit,
        municipality_set=municipality_set,
        duckdb_memory_limit=env.get("KAIRA_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT,
        dbt_window_rows=dbt_window_rows,
        chromium=env.get("KAIRA_CHROMIUM") or None,
        report_pdfs=report_pdfs,
        dagster_home=Path(env.get("DAGSTER_HOME") or "data/dagster_home").resolve(),
        pseudonym_key_problem=key_problem,
        reconciliation_absolute_tolerance=absolute_tolerance,
        reconciliation_relative_tolerance=relative_tolerance,
        fault_pause=parse_fault_pause(env.get("KAIRA_FAULT_PAUSE")),
    )


# --- the resident worker (pipelines/worker/server.py) -------------------------------------------

WORKER_SOCKET_VARIABLE = "KAIRA_WORKER_SOCKET"  # the worker's socket, when not the default
WORKER_OFF_VARIABLE = "KAIRA_WORKER"  # "off": commands never go to a worker


def worker_socket(environ: Mapping[str, str] | None = None) -> Path | None:
    """The socket of this installation's `kaira worker`: `KAIRA_WORKER_SOCKET`, else a name
    derived from this environment's Python in an owner-only folder of the runtime (or
    temporary) directory. None when `KAIRA_WORKER=off`.

    The default is per installation because a worker serves the code it imported: one
    clone's command must never reach another clone's worker."""
    env = os.environ if environ is None else environ
    if env.get(WORKER_OFF_VARIABLE, "").lower() == "off":
        return None
    if env.get(WORKER_SOCKET_VARIABLE):
        return Path(env[WORKER_SOCKET_VARIABLE])
    runtime = env.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    installation = hashlib.sha256(sys.prefix.encode()).hexdigest()[:12]
    return Path(runtime) / f"kaira-{os.getuid()}" / f"worker-{installation}.sock"


# --- keeping secrets out of child processes -----------------------------------------------

_withheld_lock = threading.Lock()
_withheld_depth = 0
_withheld: dict[str, str] = {}


def secrets_in_environment() -> bool:
    """Whether a secret variable is in this process's environment (withheld ones too)."""
    return any(name in os.environ or name in _withheld for name in SECRET_VARIABLES)


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process that Kaira starts: this process's (or
    `environ`), without the secret variables."""
    source = os.environ if environ is None else environ
    return {name: value for name, value in source.items() if name not in SECRET_VARIABLES}


@contextmanager
def secrets_withheld_from_children() -> Iterator[None]:
    """Within the block, the secret variables are not in os.environ, so a child process
    started by third-party code that copies the whole environment does not receive them;
    they are put back when the block ends. `load_settings()` still sees them meanwhile.

    os.environ is shared by the threads of the process: a child started by another thread
    during the block lacks the secrets too (the safe side). Blocks may overlap; the last
    one to end restores the variables, unless something set them again meanwhile.
    """
    global _withheld_depth
    with _withheld_lock:
        if _withheld_depth == 0:
            for name in SECRET_VARIABLES:
                if name in os.environ:
                    _withheld[name] = os.environ.pop(name)
        _withheld_depth += 1
    try:
        yield
    finally:
        with _withheld_lock:
            _withheld_depth -= 1
            if _withheld_depth == 0:
                for name, value in _withheld.items():
                    os.environ.setdefault(name, value)
                _withheld.clear()


_given_lock = threading.Lock()


@contextmanager
def variables_for_children(variables: Mapping[str, str]) -> Iterator[None]:
    """Within the block, `variables` are set in os.environ, for a child process started by
    third-party code that copies the whole environment; the earlier values (or their
    absence) are put back when the block ends. Keep the block to starting the child.

    One block at a time in the process: a second one (another thread's) waits, so a child
    never gets a mixture of two blocks' variables. Blocks do not nest. Never a secret."""
    secret = sorted(set(variables) & set(SECRET_VARIABLES))
    if secret:
        raise ValueError(f"{', '.join(secret)} is a secret: never given to a child process")
    with _given_lock:
        earlier = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, value in earlier.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
