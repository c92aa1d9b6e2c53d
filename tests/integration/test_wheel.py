"""Kaira as a real package: the wheel carries everything a run needs, and runs from an
empty folder outside the checkout without writing into its own installation.

The wheel is built from a copy of the sources (a `build/` left in the checkout could slip
stale files into it, and the checkout stays untouched), with dbt's output of `make setup`
copied too, so the wheel's exclusions are exercised. It is installed with `--target` beside
the test's own venv, whose dependencies (the lock's) it uses: nothing is downloaded but
the build backend the build isolation needs. Then, from an empty working folder, `kaira
sample` and `kaira run` as a user types them, and the published tables and the reports are
where the settings' defaults put them.

Protects: every file of the dbt project, the suites, the report assets, the instance
settings and the sample's geography ships; dbt's target, logs and manifest of a checkout
do not; an installed package prepares its manifest and runs dbt without writing into
site-packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from pipelines.package_files import SHIPPED_FOLDERS
from pipelines.reports import browser

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
MONTHS = ("2010-01", "2010-02", "2010-03")
# Not sources: the checkout's environments, data and build output.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "data", "build", "dist", "*.egg-info", "__pycache__", "tmp")
DBT_OUTPUT = ("target", "logs", "dbt_packages")


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder below `folder`, with size and modification time."""
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
    }


def expected_package_data() -> set[str]:
    """The wheel's names of the files that must ship: every file of the mapped folders
    (dbt's output and dotfiles aside), the instance settings, the sample's geography and its
    fitted inflow, and the real official series the demo lands."""
    names = {
        "pipelines/dagster.yaml",
        "pipelines/sample/finland_municipalities.csv",
        "pipelines/sample/kainuu_short_term_inflow.csv",
    }
    names |= {f"pipelines/official_data/{path.name}" for path in (REPO / "pipelines" / "official_data").iterdir()}
    for folder in SHIPPED_FOLDERS:
        for path in (REPO / folder).rglob("*"):
            relative = path.relative_to(REPO / folder)
            if path.is_file() and relative.parts[0] not in DBT_OUTPUT and not relative.name.startswith("."):
                names.add(f"pipelines/{folder}/{relative.as_posix()}")
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--only-binary", ":all:",
         "--wheel-dir", str(root / "dist"), str(source)], cwd=root)  # fmt: skip
    (built,) = (root / "dist").glob("kaira-*.whl")
    return built


def test_the_wheel_carries_every_shipped_file_and_no_dbt_output(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = expected_package_data() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    code = {str(p.relative_to(REPO).as_posix()) for p in (REPO / "pipelines").rglob("*.py")}
    assert code <= names, f"code not in the wheel: {sorted(code - names)}"
    dbt_output = [n for n in names if n.startswith(tuple(f"pipelines/dbt_project/{d}/" for d in DBT_OUTPUT))]
    assert not dbt_output and "pipelines/dbt_project/.user.yml" not in names


def test_the_installed_wheel_runs_from_an_empty_folder_without_writing_into_its_installation(wheel, tmp_path):
    try:
        browser.find_chromium()
    except browser.ChromiumNotFoundError as error:
        pytest.fail(f"the run prints the reports' PDFs with headless Chromium: {error}")
    site, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)], cwd=tmp_path)
    before = listing(site)

    # The user's environment, not the test's: no Kaira variable points elsewhere, so every
    # folder is the settings' default under the working folder. Python's own bytecode cache
    # is not what this test is about (pip compiled the package when installing it).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAIRA_", "DAGSTER_", "DBT_"))}
    env.update(PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1", KAIRA_PSEUDONYM_KEY="kaira-wheel-test-key-not-secret-32-bytes")
    kaira = [sys.executable, "-m", "pipelines.cli.main"]

    probe = "import pipelines, pipelines.package_files as p; print(pipelines.__file__); print(p.installed_as_package())"
    where = run([sys.executable, "-c", probe], cwd=work, env=env)
    module, installed = where.split()
    assert Path(module).is_relative_to(site) and installed == "True", where
    # `kaira dashboard` hands Streamlit its script by path: the installed copy, which must be there.
    probe = "from pipelines.cli.dashboard_command import app_file as a; print(a()); print(a().is_file())"
    app, present = run([sys.executable, "-c", probe], cwd=work, env=env).split()
    assert Path(app).is_relative_to(site) and present == "True", app

    run([*kaira, "sample", "--from", MONTHS[0], "--to", MONTHS[-1]], cwd=work, env=env)  # into data/landing
    run([*kaira, "run"], cwd=work, env=env, timeout=600)

    published = work / "data" / "warehouse" / "published.duckdb"
    con = duckdb.connect(str(published), read_only=True)
    try:
        months = con.execute(
            "select distinct strftime(month, '%Y-%m') from indicators_monthly where value is not null order by 1"
        ).fetchall()
    finally:
        con.close()
    assert [m for (m,) in months] == list(MONTHS)
    reports = sorted((work / "data" / "reports" / MONTHS[-1]).glob("kaira_*_fi.html"))
    assert reports and all(report.stat().st_size > 0 for report in reports)
    # The manifest was prepared in the warehouse folder, and dbt ran there too.
    assert list((work / "data" / "warehouse" / "dbt_target").glob("manifest-*/manifest.json"))

    assert listing(site) == before, "the run wrote into the installed package"
