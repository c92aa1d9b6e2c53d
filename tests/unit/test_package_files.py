"""Where the shipped files are, and the manifest an installed package prepares for itself.

Protects: pyproject.toml lists every code package (a mapped folder forces the list to be
written by hand) and maps exactly the folders pipelines/package_files.py looks for; a
checkout uses its own folders; an installed package's copies win; the manifest of an
installed package is parsed once, under a lock, and replaced when the project changes.
"""

from __future__ import annotations

import threading
import time
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

from pipelines import package_files
from pipelines.warehouse import project

REPO = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_pyproject_lists_every_code_package_and_maps_the_shipped_folders():
    mapped = {f"pipelines.{name}": name for name in package_files.SHIPPED_FOLDERS}
    code = set(find_packages(where=str(REPO), include=["pipelines", "pipelines.*"]))
    assert set(SETUPTOOLS["packages"]) == code | set(mapped)
    assert SETUPTOOLS["package-dir"] == mapped
    for package in mapped:
        assert SETUPTOOLS["package-data"][package] == ["**/*"]


def test_a_checkout_uses_the_repository_folders():
    assert not package_files.installed_as_package()
    assert package_files.dbt_project_dir() == REPO / "dbt_project"
    assert package_files.expectations_dir() == REPO / "expectations"
    assert package_files.report_assets_dir() == REPO / "assets"
    assert package_files.instance_settings_file() == REPO / "pipelines" / "dagster.yaml"


def test_the_package_copies_win_when_the_package_carries_them(tmp_path, monkeypatch):
    for name in package_files.SHIPPED_FOLDERS:
        (tmp_path / name).mkdir()
    monkeypatch.setattr(package_files, "files", lambda package: tmp_path)
    assert package_files.installed_as_package()
    assert package_files.dbt_project_dir() == tmp_path / "dbt_project"
    assert package_files.report_assets_dir() == tmp_path / "assets"


def small_project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: kaira\n")
    (root / "models" / "a.sql").write_text("select 1\n")
    return root


def test_the_fingerprint_follows_the_project_files_and_not_dbt_output(tmp_path):
    root = small_project(tmp_path / "project")
    first = project.project_fingerprint(root)
    (root / "target").mkdir()
    (root / "target" / "manifest.json").write_text("{}")
    (root / "logs").mkdir()
    (root / "logs" / "dbt.log").write_text("log")
    (root / ".user.yml").write_text("id: x")
    assert project.project_fingerprint(root) == first
    (root / "models" / "a.sql").write_text("select 2\n")
    assert project.project_fingerprint(root) != first


@pytest.fixture
def counted_parse(monkeypatch):
    """dbt parse stood in for: slow enough for two callers to meet, counting its calls."""
    calls = []

    def parse(project_dir: Path, target: Path) -> None:
        calls.append(target)
        time.sleep(0.3)
        (target / "manifest.json").write_text("{}")

    monkeypatch.setattr(project, "_parse", parse)
    return calls


def test_two_processes_preparing_at_once_parse_once(tmp_path, counted_parse):
    # flock locks belong to an open file, so two threads exclude each other as two processes do.
    root = small_project(tmp_path / "project")
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(project.prepared_manifest_dir(tmp_path / "t", root)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counted_parse) == 1 and len(set(results)) == 1
    assert (results[0] / "manifest.json").exists()
    assert [p.name for p in (tmp_path / "t").iterdir() if p.name.startswith(".parse-")] == []


def test_a_changed_project_gets_a_manifest_of_its_own(tmp_path, counted_parse):
    root = small_project(tmp_path / "project")
    first = project.prepared_manifest_dir(tmp_path / "t", root)
    assert project.prepared_manifest_dir(tmp_path / "t", root) == first and len(counted_parse) == 1
    (root / "models" / "a.sql").write_text("select 2\n")
    assert project.prepared_manifest_dir(tmp_path / "t", root) != first and len(counted_parse) == 2


def test_a_failed_parse_leaves_no_manifest(tmp_path, monkeypatch):
    root = small_project(tmp_path / "project")

    def fail(project_dir: Path, target: Path) -> None:
        (target / "manifest.json").write_text("{half")
        raise RuntimeError("dbt parse failed")

    monkeypatch.setattr(project, "_parse", fail)
    with pytest.raises(RuntimeError):
        project.prepared_manifest_dir(tmp_path / "t", root)
    assert not list((tmp_path / "t").glob("*/manifest.json"))
