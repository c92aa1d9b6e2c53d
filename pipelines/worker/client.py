"""Hand a command to this installation's `kaira worker` (pipelines/worker/server.py), if one
runs. Standard library only, and imported before anything heavy: when a worker takes the
command, this process imports nothing more and only relays signals and the exit status.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable

from pipelines.core.settings import worker_socket
from pipelines.worker.protocol import MessageReader, ProtocolError, send_message

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_in_worker(command: str, argv: list[str], *, say_refusal: bool = True) -> int | None:
    """Run `command argv` in the worker and return its exit status, or None when no worker
    took it (none runs, or it refused: then the caller runs the command itself; a
    refusal is said on stderr unless `say_refusal` is false)."""
    connected = _connect(say_refusal=say_refusal)
    if connected is None:
        return None
    connection, reader, _ = connected
    return _relay(connection, reader, command, argv)


class HandOverUnconfirmed(RuntimeError):
    """A detached command reached the worker's fork, which did not say it started: it may be
    running, so the caller must not start it elsewhere too."""


def start_in_worker(command: str, argv: list[str], *, on_fork: Callable[[int], None] | None = None) -> int | None:
    """Start `command argv` in a fork of the worker that runs on without this process, and
    return the fork's pid once it has taken the request; None when no worker took it (the
    caller may then run the command elsewhere). `on_fork(pid)` is called before the request
    is sent, so the caller can record the process before the command starts (if it raises,
    nothing starts). The command's standard input is /dev/null; its output goes where this
    process's goes. Raises HandOverUnconfirmed when the whole request went but no word that
    it started came back.

    For Dagster's run launcher (pipelines/worker/run_launcher.py): the daemon that
    launches a run must not hold a connection for the run's whole length."""
    connected = _connect(say_refusal=False)
    if connected is None:
        return None
    connection, reader, pid = connected
    with connection:
        if on_fork is not None:
            on_fork(pid)  # an error leaves the request unsent: the fork ends without a command
        stdin = os.open(os.devnull, os.O_RDONLY)
        try:
            send_message(connection, _request(command, argv, detach=True),
                         fds=[stdin, *(_open_or_null(fd) for fd in (1, 2))])
        except OSError:
            return None  # the fork has not the whole request: it ends without running anything
        finally:
            os.close(stdin)
        try:
            answer = reader.next()
        except (OSError, ProtocolError):
            answer = None
    if answer is None or answer.get("started") != pid:
        raise HandOverUnconfirmed(f"the resident worker's fork {pid} took the command but did not say it started")
    return pid


def _connect(*, say_refusal: bool) -> tuple[socket.socket, MessageReader, int] | None:
    """A connection to a fork of the worker, its reader and the fork's pid; None when no
    worker took the connection."""
    path = worker_socket()
    if path is None or not path.exists():
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
        reader = MessageReader(connection)
        greeting = reader.next()
    except (OSError, ProtocolError):
        connection.close()
        return None  # a socket left by a worker that is gone
    if greeting is None or "pid" not in greeting:
        connection.close()
        if say_refusal:
            reason = greeting.get("refused") if greeting else "it closed the connection"
            print(f"kaira: the worker on {path} did not take the command ({reason}); running it here",
                  file=sys.stderr, flush=True)
        return None
    return connection, reader, int(greeting["pid"])


def _request(command: str, argv: list[str], *, detach: bool = False) -> dict:
    request = {"command": command, "argv": list(argv), "env": dict(os.environ), "cwd": os.getcwd(),
               "umask": _current_umask()}
    if detach:
        request["detach"] = True
    return request


def _relay(connection: socket.socket, reader: MessageReader, command: str, argv: list[str]) -> int | None:
    request = _request(command, argv)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        send_message(connection, request, fds=[_open_or_null(fd) for fd in (0, 1, 2)])
    except OSError:
        connection.close()  # the fork sees the connection close before a request and ends
        return None

    def forward(number, frame) -> None:
        try:
            send_message(connection, {"signal": number})
        except OSError:
            pass

    previous = {number: signal.signal(number, forward) for number in FORWARDED_SIGNALS}
    try:
        code = None
        while True:
            message = reader.next()
            if message is None:
                break  # the command's process has ended
            if "exit" in message:
                code = int(message["exit"])
        if code is None:
            print("kaira: the worker's process for this command ended without an exit status", file=sys.stderr)
            return 1
        return code
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        connection.close()


def _open_or_null(fd: int) -> int:
    """`fd`, or /dev/null in its place when it is closed (a service started without a
    standard input): the command gets three streams either way."""
    try:
        os.fstat(fd)
    except OSError:
        return os.open(os.devnull, os.O_RDWR)
    return fd


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
