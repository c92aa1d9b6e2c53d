"""pipelines/core/collector.py: the long-lived objects of a run's process are frozen out of
the garbage collector's way once loaded, and at exit."""

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_loading_the_definitions_freezes_them():
    # A fresh interpreter: this test process may have frozen its objects already.
    out = _run(
        """
        import gc
        before = gc.get_freeze_count()
        import pipelines.definitions
        print(before, gc.get_freeze_count())
        """
    )
    before, after = map(int, out.split())
    assert before == 0
    # Dagster, dagster-dbt and the manifest: hundreds of thousands of objects.
    assert after > 100_000


def test_objects_made_after_loading_are_frozen_at_exit():
    # An exit hook registered first runs last: it sees what the collector's hook left.
    out = _run(
        """
        import atexit, gc
        atexit.register(lambda: print("frozen at exit", gc.get_freeze_count()))
        from pipelines.core.collector import freeze_loaded
        freeze_loaded()
        frozen = gc.get_freeze_count()
        made_later = [[index] for index in range(50_000)]
        print("frozen when loaded", frozen)
        """
    )
    lines = dict(line.rsplit(" ", 1) for line in out.splitlines())
    assert int(lines["frozen at exit"]) >= int(lines["frozen when loaded"]) + 50_000
