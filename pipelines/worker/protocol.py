"""What `kaira worker` and its clients say to each other over the worker's Unix socket, and
where that socket is. Standard library only: a client (`kaira run`, `kaira-dbt`) reads this
before it imports anything heavy, so that a command the worker serves costs no imports.

A conversation, one connection per command:

1. The client connects. The worker refuses (`{"refused": reason}`, then closes) a peer of
   another user or a request while its code is older than the installed code; otherwise it
   forks, and from then on the client talks to the forked process alone, which first says
   `{"pid": n}`.
2. The client sends its request (`{"command", "argv", "env", "cwd", "umask"}`) with its
   standard input, output and error as file descriptors (SCM_RIGHTS), so the command
   prints on the client's terminal or pipe as if the client ran it.
3. While the command runs, the client forwards the signals it receives (`{"signal": n}`);
   if the client goes away without a word (killed outright), the forked process kills its
   process group (SIGKILL), as a `kaira run` killed with its group would have ended.
4. The forked process sends `{"exit": code}` and ends; the client returns that code once
   the connection closes, so the command's process has ended when its client does.

A request with `"detach": true` (the run launcher's, for a run of Dagster's daemon) is
answered with `{"started": pid}` and the connection closed: the command runs on without a
client, its standard input /dev/null, and no signal or exit status travels.

Messages are JSON lines. The request travels to the forked process only: the long-lived
worker never reads a request, and so never holds an environment that may carry the
pseudonymisation key. Where the socket is: `pipelines.core.settings.worker_socket`.
"""

from __future__ import annotations

import array
import json
import socket

STANDARD_STREAMS = 3  # stdin, stdout, stderr travel with the request
MAX_MESSAGE = 1 << 20  # a request is an environment and a command line: far below this


class ProtocolError(RuntimeError):
    """The other side said something that is not this protocol, or went away mid-message."""


def send_message(connection: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    data = (json.dumps(message) + "\n").encode()
    if fds:
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        sent = connection.sendmsg([data], ancillary)
        data = data[sent:]
    if data:  # not an empty send: it fails (EPIPE) once the peer has read the message and closed
        connection.sendall(data)


class MessageReader:
    """JSON lines from a connection, with the file descriptors that came with them."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._buffer = b""
        self.fds: list[int] = []

    def next(self) -> dict | None:
        """The next message, or None when the other side closed the connection between two."""
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_MESSAGE:
                raise ProtocolError("a message longer than the protocol allows")
            space = socket.CMSG_SPACE(STANDARD_STREAMS * array.array("i").itemsize)
            data, ancillary, _, _ = self._connection.recvmsg(65536, space)
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    received = array.array("i")
                    received.frombytes(payload[: len(payload) - len(payload) % received.itemsize])
                    self.fds.extend(received)
            if not data:
                if self._buffer:
                    raise ProtocolError("the connection closed in the middle of a message")
                return None
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError as error:
            raise ProtocolError(f"not a JSON message: {error}") from None
        if not isinstance(message, dict):
            raise ProtocolError("a message is a JSON object")
        return message
