"""Taking connections from a listening socket that sibling worker processes take from too.

Every worker of ``intakeguard serve --workers N`` serves the one SMTP socket (and milter
socket) the supervisor bound. When a client connects, the kernel wakes every worker waiting
on it, always in the same order, and asyncio's own server then accepts up to a hundred
connections in one go: an idle worker first in that order took nearly every session of a
sender's pool (the benchmark's sixteen clients, a relay's connection cache) and the others
stood idle, so the door ran at one process's speed.

A ``SharedAcceptor`` takes one connection per wakeup, after a pause that grows with the
sessions its process already holds: the least busy worker takes the connection first;
a busy one still takes it after its pause if nobody else has, so a stuck or dead sibling
never leaves a client waiting longer than ``MAX_PAUSE``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)

# Five milliseconds of pause for each session held: between two workers a session apart,
# far longer than an accept takes, and than a process woken on a busy machine takes to
# run (with one millisecond, 6 of 8 sessions still went to one worker in the test).
PAUSE_PER_SESSION = 0.005
MAX_PAUSE = 0.05
_ERROR_PAUSE = 1.0


class SharedAcceptor:
    """Serves ``protocol_factory`` on ``sock``, a listening socket shared with siblings.

    ``held``: how many sessions this process holds now. Stands in for the
    ``asyncio.Server`` a receiver keeps: ``close`` and ``wait_closed``.
    """

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        held: Callable[[], int],
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = sock
        self._protocol_factory = protocol_factory
        self._held = held
        self._connecting: set[asyncio.Task[object]] = set()
        self._closed = False
        host, port = sock.getsockname()[:2]
        self._name = f"{host}:{port}"
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._readable)

    def close(self) -> None:
        """Stop taking connections and close the socket (this process's copy of it)."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()

    async def wait_closed(self) -> None:
        """Sessions already taken are the receiver's to end; nothing else is left."""

    def _readable(self) -> None:
        self._loop.remove_reader(self._sock.fileno())
        pause = min(self._held() * PAUSE_PER_SESSION, MAX_PAUSE)
        if pause:
            self._loop.call_later(pause, self._take)
        else:
            self._take()

    def _take(self) -> None:
        if self._closed:
            return
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            pass  # a sibling took it, or the client gave up
        except OSError as exc:
            # Out of file descriptors or kernel memory (or worse): asyncio's own server
            # waits a second too, rather than spin on a socket that stays readable.
            log.error(
                "cannot accept connections on %s (%s); trying again in %.0f s",
                self._name,
                exc.strerror or exc,
                _ERROR_PAUSE,
            )
            self._loop.call_later(_ERROR_PAUSE, self._resume)
            return
        else:
            conn.setblocking(False)
            task = self._loop.create_task(self._connect(conn))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)
        self._resume()

    def _resume(self) -> None:
        if not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._readable)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, conn)
        except OSError as exc:
            conn.close()
            log.info("a connection to %s was lost before its session began (%s)", self._name, exc)
