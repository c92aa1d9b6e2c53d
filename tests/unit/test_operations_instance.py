"""The instance settings of dagster.yaml, as Dagster 1.13 reads them, and the Dagster home
the CLI prepares.

Protects: runs wait in a queue, and every run with a warehouse-writing step holds the
`warehouse_writer` pool (limit 1) for the whole run; the daemon's runs are launched by
Kaira's launcher (to the resident worker when one runs); the CLI uses the repo's settings.
"""

import os
import shutil

import dagster as dg

from pipelines.cli.dagster_home import prepare_dagster_home
from pipelines.package_files import instance_settings_file
from pipelines.worker.run_launcher import WorkerRunLauncher


def test_dagster_yaml_gives_a_run_queue_and_a_one_writer_pool(tmp_path):
    shutil.copyfile(instance_settings_file(), tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        config = instance.get_concurrency_config()
        assert config.pool_config.pool_granularity.value == "run"
        assert config.pool_config.default_pool_limit == 1
        assert config.run_queue_config.should_block_op_concurrency_limited_runs
        assert instance.global_op_concurrency_default_limit == 1
        assert type(instance.run_launcher) is WorkerRunLauncher


def test_the_cli_prepares_dagster_home_with_the_repos_settings(tmp_path, monkeypatch):
    home = tmp_path / "home"
    assert prepare_dagster_home(home) == home
    config = home / "dagster.yaml"
    assert config.read_text() == (instance_settings_file()).read_text()
    config.write_text("# an older copy\n")
    past = instance_settings_file().stat().st_mtime - 3600  # older than the package's, however old the checkout
    os.utime(config, (past, past))
    prepare_dagster_home(home)
    assert config.read_text() == (instance_settings_file()).read_text()
    assert "DAGSTER_HOME" not in os.environ or os.environ["DAGSTER_HOME"] != str(home)  # the environment is left alone
