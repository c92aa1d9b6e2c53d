"""The one dbt project of Kaira, shared by every dbt asset and resource.

Where the project is decides where its manifest comes from:

- a checkout (editable install): the manifest is prepared once (`dbt parse` into
  dbt_project/target, by the README's setup and by CI), not on every load of the
  definitions: `prepare_if_dev()` races with itself in parallel runs;
- an installed wheel: the project is package data in site-packages, which Kaira never
  writes (it may be read-only, and it is shared by everyone using the environment). The
  manifest is prepared at first use into the warehouse folder (`prepared_manifest_dir`).

Either way dbt's own output of a run (target and logs) goes into the warehouse folder
(`run_target_path`), never into the project, and so does dbt's saved parse of the project
(`saved_parse_state`), which lets each invocation parse only what changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from pipelines.core.private_files import copy_private, open_private, private_dir, private_umask
from pipelines.core.settings import child_environment, load_settings
from pipelines.package_files import dbt_project_dir, installed_as_package

DBT_PROJECT_DIR = dbt_project_dir()
# dbt's output in the warehouse folder: one folder per dbt invocation of a run, and the
# manifest prepared for an installed package.
DBT_TARGET_FOLDER = "dbt_target"
# dbt's saved parse of the project for one warehouse, in DBT_TARGET_FOLDER beside the runs'
# own target folders (dbt's file name: it looks for it in an invocation's target folder).
PARSE_STATE_NAME = "partial_parse.msgpack"
# What dbt writes into a project it runs in: never part of the project's fingerprint.
_DBT_OUTPUT_FOLDERS = frozenset({"target", "logs", "dbt_packages"})


@cache
def kaira_dbt_project() -> DbtProject:
    if not installed_as_package():
        return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    # An absolute target path: dagster-dbt reads the manifest from there, not from the project.
    target = prepared_manifest_dir(load_settings().warehouse_dir / DBT_TARGET_FOLDER)
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Names the manifest of this project as it is here: its files, its location (the
    manifest records absolute paths) and the dbt that parses it. Another version of the
    package, or another dbt, gets a manifest of its own instead of a stale one."""
    digest = hashlib.sha256()
    digest.update(str(project_dir.resolve()).encode())
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(f"\0{package}=={metadata.version(package)}".encode())
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if path.is_dir() or relative.parts[0] in _DBT_OUTPUT_FOLDERS or relative.name.startswith("."):
            continue
        digest.update(f"\0{relative.as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def prepared_manifest_dir(target_root: Path, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """The folder under `target_root` holding this project's manifest, parsed on first use.

    Why at first use and not shipped in the wheel: a manifest built when the wheel is built
    would need dbt in the build environment and a custom build step, and it records the
    absolute paths of the machine that built it (each node's root_path), which dbt and
    dagster-dbt take as the project's location. Parsing here costs a few seconds once per
    package version and warehouse folder.

    Two processes may load the definitions at once (`kaira run` while `dagster dev` runs,
    parallel test workers): a file lock lets one of them parse while the other waits, and
    the manifest is parsed into a temporary folder renamed into place when complete, so a
    reader that checks without the lock never sees half a manifest.
    """
    folder = target_root / f"manifest-{project_fingerprint(project_dir)}"
    if (folder / "manifest.json").exists():
        return folder
    private_dir(target_root)  # dbt's output of the runs goes here too: owner-only
    with open_private(target_root / ".manifest.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if (folder / "manifest.json").exists():  # prepared by the process we waited for
            return folder
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target_root))
        try:
            _parse(project_dir, scratch)
            shutil.rmtree(folder, ignore_errors=True)  # left by a parse that was killed midway
            os.replace(scratch, folder)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return folder


def _parse(project_dir: Path, target: Path) -> None:
    """`dbt parse` with every output (target, logs, the usage-statistics cookie that dbt
    would put beside profiles.yml) kept out of the project folder."""
    command = [
        dbt_executable(), "parse", "--quiet",
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target-path", str(target), "--log-path", str(target),
    ]  # fmt: skip
    env = {**child_environment(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}  # never the key
    with private_umask():
        result = subprocess.run(command, cwd=target, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (target / "manifest.json").exists():
        raise RuntimeError(f"dbt parse of {project_dir} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")


def run_target_path(warehouse_dir: Path, context) -> Path:
    """dbt's target and log folder for one invocation in a run (dagster-dbt points both
    DBT_TARGET_PATH and DBT_LOG_PATH at it): in the warehouse folder, named as dagster-dbt
    names its own (step, run, a unique suffix), so parallel invocations never share one."""
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    return warehouse_dir / DBT_TARGET_FOLDER / name


# The dbt command Kaira starts: dbt's command line (dbt_command.py), installed with Kaira.
DBT_COMMAND = "kaira-dbt"


def dbt_executable() -> str:
    """This environment's `kaira-dbt`, beside its Python: a console script started outside
    the venv would not find it on PATH."""
    beside_python = Path(sys.executable).with_name(DBT_COMMAND)
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(DBT_COMMAND)
    if found is None:
        raise RuntimeError(f"{DBT_COMMAND} is not installed in this environment: run the README's setup")
    return found


def saved_parse_state(warehouse_dir: Path) -> Path:
    return warehouse_dir / DBT_TARGET_FOLDER / PARSE_STATE_NAME


def restore_parse_state(warehouse_dir: Path, target: Path) -> None:
    """Put the warehouse's saved parse state into an invocation's target folder (created
    owner-only), where dbt looks for it: dbt then parses only the files that changed
    since. Left to dagster-dbt, the folder would get the project's own state, parsed with
    other vars and another profile, which dbt rejects: a full parse every time.

    The state is only ever a cache: dbt checks its version, vars, profile and every
    file's checksum before using it, and parses everything when it cannot read it."""
    private_dir(target)
    try:
        copy_private(saved_parse_state(warehouse_dir), target / PARSE_STATE_NAME)
    except FileNotFoundError:
        pass  # the warehouse's first invocation: a full parse


def save_parse_state(warehouse_dir: Path, target: Path) -> None:
    """After a successful invocation: its parse state (dbt rewrites the file when it parsed
    anything) becomes the warehouse's. Copied aside and renamed into place, so that the
    next invocation never reads half a file; owner-only, as all of dbt's output here."""
    written = target / PARSE_STATE_NAME
    if not written.exists():
        return
    saved = saved_parse_state(warehouse_dir)
    temporary = saved.with_name(f".{PARSE_STATE_NAME}-{uuid.uuid4().hex[:7]}")
    try:
        copy_private(written, temporary)
        os.replace(temporary, saved)
    finally:
        temporary.unlink(missing_ok=True)


class KairaDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource without two fixed costs of each invocation (about 2.4 s of
    a national month's dbt step); dbt still runs as a subprocess through `cli()`, and its
    events are still the step's materializations and checks.

    - dbt's version comes from the installed dbt-core package, not from a `dbt --version`
      subprocess (dagster-dbt caches that per resource object, and a run makes one per
      invocation: `dbt_for_run`). The executable (`dbt_executable()`) is Kaira's
      console script that runs this environment's dbt-core command line, so the two
      cannot differ; dagster-dbt uses the version only to tell dbt Core (1.x) from
      Fusion (2.x).
    - no dbt adapter in this process: dagster-dbt builds one (importing and configuring
      dbt here) for nothing but the column metadata and row counts that
      `fetch_column_metadata()` and `fetch_row_counts()` add to the events, which Kaira
      does not ask for. Asking for them here would now fetch nothing: bring the adapter
      back in this class first.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args) -> None:
        return None


def dbt_resource() -> KairaDbtCliResource:
    return KairaDbtCliResource(project_dir=kaira_dbt_project(), dbt_executable=dbt_executable())
