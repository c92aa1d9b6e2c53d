"""pipelines/core/child_processes.py: an orphaned grandchild comes to the subreaper, which
reaps it (no zombie left behind)."""

import subprocess
import sys
import textwrap


def test_an_orphaned_grandchild_comes_to_the_subreaper_and_is_reaped():
    code = """
        import os, time
        from pipelines.core.child_processes import become_subreaper, reap_descendants
        become_subreaper()
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            if os.fork() == 0:  # the grandchild: outlives its parent, then says who adopted it
                time.sleep(0.3)
                os.write(write, f"{os.getpid()} {os.getppid()}".encode())
                os._exit(0)
            os._exit(0)
        os.close(write)
        grandchild, adopter = (int(value) for value in os.read(read, 100).split())
        reap_descendants(seconds=10)
        print(adopter == os.getpid(), os.path.exists(f"/proc/{grandchild}"))
        """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
