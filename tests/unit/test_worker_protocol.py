"""The resident worker's pieces that need no pipeline: the socket's place, the messages and
file descriptors on a real socket pair, the listening socket's folder and leftovers, the
code fingerprint, and a client whose worker refuses (pipelines/worker/)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipelines.core.settings import worker_socket
from pipelines.worker import server as worker
from pipelines.worker.client import HandOverUnconfirmed, run_in_worker, start_in_worker
from pipelines.worker.protocol import MAX_MESSAGE, MessageReader, ProtocolError, send_message


def test_the_socket_is_per_installation_in_an_owner_named_folder_and_can_be_turned_off(tmp_path):
    default = worker_socket({"XDG_RUNTIME_DIR": str(tmp_path)})
    assert default.parent == tmp_path / f"kaira-{os.getuid()}"
    assert default.name.startswith("worker-") and default.suffix == ".sock"
    assert worker_socket({"XDG_RUNTIME_DIR": str(tmp_path)}) == default  # the same installation, the same socket
    assert worker_socket({"KAIRA_WORKER_SOCKET": str(tmp_path / "w.sock")}) == tmp_path / "w.sock"
    assert worker_socket({"KAIRA_WORKER": "off", "KAIRA_WORKER_SOCKET": str(tmp_path / "w.sock")}) is None
    assert worker_socket({"KAIRA_WORKER": "OFF"}) is None


def test_messages_and_the_standard_streams_travel_together(tmp_path):
    left, right = socket.socketpair()
    files = [open(tmp_path / f"stream{number}", "w+") for number in range(3)]  # noqa: SIM115
    try:
        send_message(left, {"command": "kaira", "argv": ["run"], "env": {"A": "ä"}},
                     fds=[handle.fileno() for handle in files])
        send_message(left, {"signal": 2})
        left.close()
        reader = MessageReader(right)
        assert reader.next() == {"command": "kaira", "argv": ["run"], "env": {"A": "ä"}}
        assert len(reader.fds) == 3
        os.write(reader.fds[1], b"through the passed descriptor")
        assert (tmp_path / "stream1").read_bytes() == b"through the passed descriptor"
        assert reader.next() == {"signal": 2}
        assert reader.next() is None  # closed between two messages
    finally:
        for handle in files:
            handle.close()
        right.close()


@pytest.mark.parametrize("sent, problem", [
    (b'{"pid": 1', "in the middle of a message"),
    (b"[1, 2]\n", "a JSON object"),
    (b"not json\n", "not a JSON message"),
])
def test_a_broken_message_is_a_protocol_error(sent, problem):
    left, right = socket.socketpair()
    left.sendall(sent)
    left.close()
    with pytest.raises(ProtocolError, match=problem):
        MessageReader(right).next()
    right.close()


def test_an_endless_message_is_refused_before_it_fills_memory():
    left, right = socket.socketpair()

    def flood() -> None:
        try:
            left.sendall(b"x" * (MAX_MESSAGE + 200_000))
        except OSError:
            pass

    sender = threading.Thread(target=flood)
    sender.start()
    with pytest.raises(ProtocolError, match="longer than"):
        MessageReader(right).next()
    right.close()
    sender.join()
    left.close()


def test_the_listening_socket_is_owner_only_and_a_dead_workers_socket_is_replaced(tmp_path):
    path = tmp_path / "run" / "w.sock"
    first = worker.bind(path)
    try:
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with pytest.raises(RuntimeError, match="already listens"):
            worker.bind(path)
    finally:
        first.close()
    assert path.exists()  # left behind, as by a killed worker
    second = worker.bind(path)
    second.close()


def test_the_peer_of_another_user_is_refused():
    left, right = socket.socketpair()
    try:
        assert worker.peer_refusal(left) is None  # this process, the worker's own user
        assert "owner only" in worker.uid_refusal(os.getuid() + 1)
        assert worker.uid_refusal(os.getuid()) is None
    finally:
        left.close()
        right.close()


def test_the_fingerprint_changes_when_a_code_file_changes_appears_or_goes(tmp_path):
    code = tmp_path / "code"
    (code / "target").mkdir(parents=True)  # written by dbt: not code
    module_file = code / "module.py"
    module_file.write_text("VALUE = 1\n")
    before = worker.code_fingerprint((code,))
    assert [Path(name).name for name, _ in before[0]] == ["module.py"]
    (code / "target" / "manifest.json").write_text("{}")
    assert worker.code_fingerprint((code,)) == before
    stamp = module_file.stat().st_mtime_ns
    os.utime(module_file, ns=(stamp + 10**9, stamp + 10**9))
    touched = worker.code_fingerprint((code,))
    assert touched != before
    (code / "new.sql").write_text("select 1")
    assert worker.code_fingerprint((code,)) != touched
    (code / "new.sql").unlink()
    assert worker.code_fingerprint((code,)) == touched


def test_the_fingerprint_covers_the_package_and_the_shipped_folders():
    names = {Path(name).relative_to(worker.code_folders()[0].parent).as_posix()
             for name, _ in worker.code_fingerprint()[0]}
    assert "pipelines/worker/server.py" in names
    assert any(name.startswith("dbt_project/models/") for name in names)
    assert any(name.startswith("expectations/") for name in names)
    assert not any("/__pycache__/" in name or "/target/" in name for name in names)


def test_a_refusing_worker_leaves_the_command_to_the_client(tmp_path, monkeypatch, capsys):
    path = tmp_path / "w.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def refuse() -> None:
        connection, _ = listener.accept()
        connection.sendall((json.dumps({"refused": "its code is older"}) + "\n").encode())
        connection.close()

    server = threading.Thread(target=refuse)
    server.start()
    monkeypatch.setenv("KAIRA_WORKER_SOCKET", str(path))
    monkeypatch.delenv("KAIRA_WORKER", raising=False)
    try:
        assert run_in_worker("kaira", ["run"]) is None
    finally:
        server.join()
        listener.close()
    assert "did not take the command (its code is older); running it here" in capsys.readouterr().err


def test_no_worker_means_the_command_runs_here(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KAIRA_WORKER_SOCKET", str(tmp_path / "nobody.sock"))
    monkeypatch.delenv("KAIRA_WORKER", raising=False)
    assert run_in_worker("kaira", ["run"]) is None
    (tmp_path / "nobody.sock").touch()  # a leftover file, nobody listening
    assert run_in_worker("kaira", ["run"]) is None
    assert capsys.readouterr().err == ""


def test_a_client_without_a_standard_input_still_sends_three_streams(tmp_path):
    """A command started with its standard input closed (a service, cron) hands /dev/null
    in its place; the worker's side gets three descriptors and the command's exit status
    comes back."""
    path = tmp_path / "w.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    received = {}

    def serve_one() -> None:
        connection, _ = listener.accept()
        send_message(connection, {"pid": 12345})
        reader = MessageReader(connection)
        received["request"] = reader.next()
        received["fds"] = len(reader.fds)
        for fd in reader.fds:
            os.close(fd)
        send_message(connection, {"exit": 7})
        connection.close()

    server = threading.Thread(target=serve_one)
    server.start()
    code = ("import sys; from pipelines.worker.client import run_in_worker; "
            "sys.exit(run_in_worker('kaira', ['run', '--from', '2010-01']))")
    env = {**os.environ, "KAIRA_WORKER_SOCKET": str(path)}
    env.pop("KAIRA_WORKER", None)
    client = subprocess.run([sys.executable, "-c", code], env=env, preexec_fn=lambda: os.close(0), timeout=60)
    server.join()
    listener.close()
    assert client.returncode == 7
    assert received["fds"] == 3
    assert received["request"]["argv"] == ["run", "--from", "2010-01"]


class PlayedFork:
    """A socket that plays the part of the worker's fork for one connection: greets with a
    pid, reads the request, then answers `answer` (or nothing) and closes."""

    def __init__(self, path: Path, answer: dict | None) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(1)
        self.answer, self.received = answer, {}
        self.thread = threading.Thread(target=self._serve_one)
        self.thread.start()

    def _serve_one(self) -> None:
        connection, _ = self.listener.accept()
        send_message(connection, {"pid": 4321})
        reader = MessageReader(connection)
        self.received["request"] = reader.next()
        self.received["stdin"] = os.fstat(reader.fds[0]).st_rdev if reader.fds else None
        for fd in reader.fds:
            os.close(fd)
        if self.answer is not None and self.received["request"] is not None:
            send_message(connection, self.answer)
        connection.close()

    def join(self) -> dict:
        self.thread.join(timeout=30)
        self.listener.close()
        return self.received


@pytest.fixture
def worker_environment(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("KAIRA_WORKER_SOCKET", str(tmp_path / "w.sock"))
    monkeypatch.delenv("KAIRA_WORKER", raising=False)
    return tmp_path / "w.sock"


def test_a_detached_command_is_recorded_before_it_is_sent_and_returns_once_started(worker_environment):
    """The run launcher's hand-over: `on_fork` learns the fork's pid before the request
    goes (so the run carries it before it starts); the request says detach, with /dev/null
    for input; the call returns the pid once the fork says it started."""
    fork = PlayedFork(worker_environment, {"started": 4321})
    seen = []
    assert start_in_worker("dagster-execute-run", ["{}"], on_fork=lambda pid: seen.append((pid, dict(fork.received))))
    received = fork.join()
    assert seen == [(4321, {})]  # called before the fork had received anything
    assert received["request"]["command"] == "dagster-execute-run" and received["request"]["detach"] is True
    assert received["stdin"] == os.stat(os.devnull).st_rdev


def test_a_detached_command_unconfirmed_is_an_error_and_one_not_recorded_is_not_sent(worker_environment):
    """A fork that took the whole request but never said it started may be running it: an
    error, never None (the caller would start the run a second time). A caller that cannot
    record the fork sends nothing."""
    fork = PlayedFork(worker_environment, None)  # took the request, never said it started
    with pytest.raises(HandOverUnconfirmed, match="fork 4321 took the command"):
        start_in_worker("dagster-execute-run", ["{}"])
    assert fork.join()["request"]["detach"] is True

    Path(worker_environment).unlink()
    fork = PlayedFork(worker_environment, {"started": 4321})

    def cannot_record(pid: int) -> None:
        raise RuntimeError("the run storage is locked")

    with pytest.raises(RuntimeError, match="locked"):
        start_in_worker("dagster-execute-run", ["{}"], on_fork=cannot_record)
    assert fork.join()["request"] is None  # nothing was sent: the fork ends without a command


class SlowSocket(socket.socket):
    """A real socket whose sender is held, after its first system call, until the peer has
    read the message and gone: the scheduling that lost one hand-over in a hundred."""

    peer_gone: threading.Event

    def sendmsg(self, *args):
        sent = super().sendmsg(*args)
        assert self.peer_gone.wait(timeout=30)
        return sent


def test_a_message_sent_whole_survives_a_peer_that_reads_it_and_closes_at_once():
    """The fork reads a detached request, says it started and closes; the client must not
    then write again (an empty write fails with EPIPE once the peer has gone, and the
    client took the run for not handed over, and the daemon started it a second time)."""
    left_fd, right = socket.socketpair()
    left = SlowSocket(fileno=left_fd.detach())
    left.peer_gone = threading.Event()

    def peer() -> None:
        MessageReader(right).next()
        right.close()
        left.peer_gone.set()

    reader = threading.Thread(target=peer)
    reader.start()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        send_message(left, {"command": "dagster-execute-run", "detach": True}, fds=[null, null, null])
    finally:
        reader.join(timeout=30)
        os.close(null)
        left.close()
