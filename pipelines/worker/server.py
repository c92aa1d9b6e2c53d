"""`kaira worker`: a resident process that has imported Kaira, Dagster, dbt and Great
Expectations once, and forks a fresh process for each `kaira run` and each dbt invocation.

Why: a national month spends about 3 s of its 15 s importing the same modules (the run's
process, dbt's, Great Expectations') before any work (docs/decisions.md, "Scale"). A fork
of a process that has them starts at once, and every command still gets a process of its
own, which ends with the command:

- **the key never lives long.** The worker never reads a request: the forked process does,
  so an environment carrying `KAIRA_PSEUDONYM_KEY` reaches only the process of that one
  run, which ends with it. dbt's processes are forked from the worker, not from a run's
  process, so they never hold a copy of the run's memory (and the key is withheld from
  their environment, as from any child).
- **who may hand it work:** its owner. The socket lies in an owner-only folder, and the
  worker checks the peer's user id (SO_PEERCRED) before it forks.
- **stale code is refused.** A worker serves the code it imported: when a file of the
  package or of its shipped folders (the dbt project, the suites, the report assets)
  changes, or a package is installed or removed, it refuses, and the client runs the
  command itself (and says so).
- **nothing shared between runs:** each command's process starts from the same imported
  state; no run sees another's objects, connections or environment.

The clients are `kaira run` (pipelines/cli/main.py), `kaira-dbt`
(pipelines/warehouse/dbt_command.py) and the instance's run launcher, which hands over the
runs Dagster's daemon launches (pipelines/worker/run_launcher.py); the protocol is
worker_protocol.py. Without a worker they run as they always did.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import signal
import socket
import stat
import struct
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pipelines.core.child_processes import become_subreaper, reap_descendants
from pipelines.worker.protocol import STANDARD_STREAMS, MessageReader, ProtocolError, send_message

# Imported once by the worker, so that no command's process imports them again. The order
# is the order a run needs them in.
PRELOADED_MODULES = (
    "pipelines.cli.commands",
    "pipelines.cli.run_lock",
    "pipelines.cli.progress",
    "pipelines.cli.summary",
    "pipelines.cli.runner",
    "pipelines.definitions",
    "pipelines.sources.loader",
    "great_expectations",
    "pipelines.validation.gx_runner",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "dbt.task.build",  # what `dbt build` loads when it starts
    "pipelines.publish.writer",
    "pipelines.reports.render",
    "pipelines.reports.browser",
    "pipelines.worker.run_launcher",  # the runs Dagster's daemon hands over
    "dagster._cli.api",
)

# A command the worker runs: its name (what the client asks for) -> a function of the
# command's arguments that returns its exit status, given by `serve`'s caller.
Command = Callable[[list[str]], int]

ACCEPT_TIMEOUT_S = 0.5  # how often the accept loop reaps children and looks for a stop


# Folders that dbt, Dagster or a run write into, under the code's folders: not code.
NOT_CODE = frozenset({"__pycache__", "target", "logs", "dbt_packages"})


def code_folders() -> tuple[Path, ...]:
    """What a worker's runs execute besides the installed packages: this package and the
    shipped folders (the dbt project, whose manifest the definitions are built from; the
    suites; the report assets)."""
    from pipelines.package_files import dbt_project_dir, expectations_dir, report_assets_dir

    return (Path(__file__).resolve().parents[1], dbt_project_dir(), expectations_dir(), report_assets_dir())


def code_fingerprint(folders: tuple[Path, ...] | None = None) -> tuple:
    """Every file under the code folders (path, modification time, size) and the installed
    packages' folder, whose time changes when a package is installed or removed. A worker
    compares it with the one it started with: a stat per file, some 200, about 2 ms."""
    files = []
    for folder in code_folders() if folders is None else folders:
        for directory, subdirectories, names in os.walk(folder):
            subdirectories[:] = sorted(name for name in subdirectories if name not in NOT_CODE)
            for name in sorted(names):
                path = os.path.join(directory, name)
                try:
                    status = os.stat(path)
                except OSError:  # gone between the listing and the stat: changed
                    status = None
                files.append((path, status and (status.st_mtime_ns, status.st_size)))
    return (tuple(files), os.stat(sysconfig.get_paths()["purelib"]).st_mtime_ns)


def preload(modules=PRELOADED_MODULES) -> None:
    from pipelines.core.collector import freeze_loaded

    for name in modules:
        importlib.import_module(name)
    _warm_dagster_storage()
    freeze_loaded()  # the imported objects stay out of every process's collections


def _warm_dagster_storage() -> None:
    """Open and close a Dagster instance in a scratch folder: its SQLite storages, alembic
    and the migrations load their modules on first use (0.2 s of every run otherwise).
    Nothing of it stays open: a fork must not share a database connection."""
    import dagster as dg

    with tempfile.TemporaryDirectory(prefix="kaira-worker-warm-up-") as home:
        Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # Dagster warns without one
        with dg.DagsterInstance.from_config(home):
            pass


def peer_refusal(connection: socket.socket) -> str | None:
    """Why a connection may not hand this worker work, or None: another user's process."""
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", credentials)
    return uid_refusal(uid)


def uid_refusal(uid: int) -> str | None:
    if uid != os.getuid():
        return f"the worker serves its owner only (user id {os.getuid()}), not user id {uid}"
    return None


def bind(path: Path) -> socket.socket:
    """Listen on `path`, in an owner-only folder. A leftover socket of a worker that died is
    replaced; a live worker's is not."""
    from pipelines.core.private_files import private_dir

    folder = private_dir(path.parent)
    status = folder.stat()
    if status.st_uid != os.getuid() or stat.S_IMODE(status.st_mode) & 0o077:
        raise RuntimeError(f"{folder}: the worker's folder must be yours and owner-only")
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # nobody listens: a worker that was killed left it
        else:
            raise RuntimeError(f"a worker already listens on {path}")
        finally:
            probe.close()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # the socket itself owner-only too
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    listener.listen(16)
    listener.settimeout(ACCEPT_TIMEOUT_S)
    return listener


def serve(path: Path, commands: Mapping[str, Command], *, say: Callable[[str], None] = print) -> int:
    """Preload, listen on `path` and fork a process per connection, which runs one of
    `commands`, until SIGTERM or SIGINT. Commands running when the worker stops run to
    their end."""
    started = time.monotonic()
    preload()
    if threading.active_count() != 1:  # a fork copies only the forking thread
        raise RuntimeError(f"the preloaded modules started threads: {threading.enumerate()}")
    fingerprint = code_fingerprint()
    become_subreaper()  # what the commands leave behind (Chromium's helpers) comes back here
    listener = bind(path)
    stopping = threading.Event()

    def stop(signum, frame) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say(f"kaira worker (pid {os.getpid()}): ready in {time.monotonic() - started:.1f} s, on {path}")
    try:
        while not stopping.is_set():
            reap_descendants()
            try:
                connection, _ = listener.accept()
            except (TimeoutError, InterruptedError):
                continue
            refusal = peer_refusal(connection)
            if refusal is None and code_fingerprint() != fingerprint:
                refusal = "the worker's code is older than the installed code: restart `kaira worker`"
            if refusal is not None:
                say(f"kaira worker: refused a connection: {refusal}")
                _refuse(connection, refusal)
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                _serve_in_child(connection, commands)  # never returns
            connection.close()
            say(f"kaira worker: fork {pid} serves a connection")
    finally:
        listener.close()
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        say(f"kaira worker (pid {os.getpid()}): stopped")
    return 0


def _refuse(connection: socket.socket, reason: str) -> None:
    try:
        send_message(connection, {"refused": reason})
    except OSError:
        pass
    connection.close()


def _serve_in_child(connection: socket.socket, commands: Mapping[str, Command]) -> None:
    """The forked process: take the request, become the client's command, end with it."""
    code = 1
    try:
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as in any Python command
        os.setpgid(0, 0)  # a signal to the worker's terminal is not one to its commands
        connection.settimeout(None)
        try:
            send_message(connection, {"pid": os.getpid()})
        except OSError:
            os._exit(1)  # the client went away before it said anything (a probe): nothing to run
        reader = MessageReader(connection)
        request = reader.next()
        if request is None:
            os._exit(0)  # a probe (another worker checking that this one lives): nothing to run
        if request.get("command") not in commands or len(reader.fds) != STANDARD_STREAMS:
            raise ProtocolError("expected a command with its three standard streams")
        _become(request, reader.fds)
        if request.get("detach"):
            # A command that runs on without its client (a run Dagster's daemon launched):
            # the client learns it started and goes; nothing is relayed.
            send_message(connection, {"started": os.getpid()})
            connection.close()
            code = commands[request["command"]](request["argv"])
            return
        if request["command"] == "kaira":  # dbt's output is read by dagster-dbt: nothing added to it
            print(f"kaira: run by the resident worker, in its fork {os.getpid()} (kaira worker)", file=sys.stderr,
                  flush=True)
        finished = threading.Event()
        threading.Thread(target=_forward_signals, args=(reader, finished), daemon=True,
                         name="kaira-worker-signals").start()
        try:
            code = commands[request["command"]](request["argv"])
        finally:
            finished.set()
    except SystemExit as stop:
        code = _exit_code(stop)
    except BaseException as error:  # the client learns the command failed; the traceback goes to its stderr
        import traceback

        traceback.print_exc()
        # Ctrl-C ends a command as Python's own would (128 + SIGINT), anything else with 1.
        code = 128 + signal.SIGINT if isinstance(error, KeyboardInterrupt) else 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        if connection.fileno() != -1:  # not a detached command's, closed when it started
            try:
                send_message(connection, {"exit": code})
            except OSError:
                pass
        # The process ends here, without the exit handlers it inherited from the worker
        # (logging's is the one a command needs); the connection closes with it, which
        # tells the client the command's process is gone.
        logging.shutdown()
        os._exit(code)


def _become(request: dict, fds: list[int]) -> None:
    """The client's standard streams, environment, folder, umask and command line."""
    for target, fd in zip((0, 1, 2), fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))
    sys.argv = [request["command"], *request["argv"]]
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                  line_buffering=os.isatty(1), write_through=not os.isatty(1))
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True)


def _forward_signals(reader: MessageReader, finished: threading.Event) -> None:
    """Signals the client received, raised here. The client gone without a word, it was
    killed outright (SIGKILL, the one signal it cannot pass on): so is this process's
    group, the command and what it started (dbt's client, whose end ends dbt's fork in
    turn; Chromium), as when a command of its own is killed with its process group. Not
    SIGTERM: Dagster defers that while it stores an event."""
    while True:
        try:
            message = reader.next()
        except (OSError, ProtocolError):
            message = None
        if message is None:
            if not finished.is_set():
                os.killpg(os.getpgid(0), signal.SIGKILL)
            return
        number = message.get("signal")
        if number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(os.getpid(), number)


def _exit_code(stop: SystemExit) -> int:
    if stop.code is None:
        return 0
    if isinstance(stop.code, int):
        return stop.code
    print(stop.code, file=sys.stderr)
    return 1
