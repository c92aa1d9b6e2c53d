"""`kaira run` builds the seeds only when they changed or the warehouse lacks them."""

from __future__ import annotations

import shutil

import duckdb

from pipelines.package_files import dbt_project_dir
from pipelines.warehouse.reference_state import (
    record_reference_built,
    reference_is_current,
    seed_names,
    seeds_fingerprint,
)


def _warehouse_with_seed_tables(path, names):
    con = duckdb.connect(str(path))
    con.execute("create schema reference")
    for name in names:
        con.execute(f"create table reference.{name} (x integer)")
    con.close()


def test_current_only_with_this_versions_fingerprint_and_every_seed_table(tmp_path):
    warehouse = tmp_path / "kaira.duckdb"
    assert not reference_is_current(tmp_path, warehouse), "never built"
    _warehouse_with_seed_tables(warehouse, sorted(seed_names()))
    assert not reference_is_current(tmp_path, warehouse), "tables, but no record of which seeds built them"
    record_reference_built(tmp_path, "another version's fingerprint")
    assert not reference_is_current(tmp_path, warehouse)
    record_reference_built(tmp_path, seeds_fingerprint())
    assert reference_is_current(tmp_path, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(f"drop table reference.{sorted(seed_names())[0]}")
    con.close()
    assert not reference_is_current(tmp_path, warehouse), "a seed table is missing"


def test_fingerprint_changes_with_a_seed_row_and_with_the_column_types(tmp_path):
    project = tmp_path / "dbt_project"
    (project / "seeds").mkdir(parents=True)
    shutil.copy(dbt_project_dir() / "dbt_project.yml", project)
    for seed in (dbt_project_dir() / "seeds").glob("*.csv"):
        shutil.copy(seed, project / "seeds")
    before = seeds_fingerprint(project)
    assert before == seeds_fingerprint(dbt_project_dir())
    targets = project / "seeds" / "followup_targets.csv"
    targets.write_text(targets.read_text() + "my_target,oma,unemployed,*,total,2010-01-01,,\n")
    edited_seed = seeds_fingerprint(project)
    assert edited_seed != before
    yml = project / "dbt_project.yml"
    yml.write_text(yml.read_text().replace("target_ratio: double", "target_ratio: decimal(5, 2)"))
    assert seeds_fingerprint(project) != edited_seed
