"""pipelines/warehouse/dbt_command.py: `kaira-dbt` is dbt's own command line, in a process
that leaves dbt's objects out of the garbage collector's way."""

import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

from pipelines.warehouse.project import DBT_COMMAND, dbt_executable


def test_the_executable_is_kairas_dbt_command_beside_this_python():
    executable = dbt_executable()
    assert executable.endswith(f"/{DBT_COMMAND}")
    assert Path(executable).parent == Path(sys.executable).parent


def test_it_is_dbts_command_line_with_dbts_exit_status():
    version = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0, version.stderr
    assert f"installed: {metadata.version('dbt-core')}" in version.stdout

    unknown = subprocess.run([dbt_executable(), "no-such-command"], capture_output=True, text=True, check=False)
    assert unknown.returncode == 2  # click's usage error, as the `dbt` script gives it
    assert "no-such-command" in unknown.stderr


def test_dbts_objects_are_frozen_before_its_command_runs_and_at_exit():
    # A fresh interpreter runs main() as the console script does. A hook registered first
    # runs last at exit, after the collector's own: it sees what was frozen.
    code = """
        import atexit, gc, sys
        atexit.register(lambda: print("frozen at exit", gc.get_freeze_count(), file=sys.stderr))
        sys.argv = ["kaira-dbt", "--version"]
        from pipelines.warehouse.dbt_command import main
        main()
        """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "installed:" in result.stdout
    frozen = int(result.stderr.strip().splitlines()[-1].rsplit(" ", 1)[1])
    assert frozen > 50_000  # dbt-core, its adapters' base and what they import
