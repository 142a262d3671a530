"""Taking connections from a listening socket that sibling worker processes take from too.

Every worker of ``intakeguard serve --workers N`` serves the one SMTP socket (and milter
socket) the supervisor bound. When a client connects, the kernel wakes every worker waiting
on it, always in the same order, and asyncio's own server then accepts up to a hundred
connections in one go: an idle worker first in that order took nearly every session of a
sender's pool (the benchmark's sixteen clients, a relay's connection cache) and the others
stood idle, so the door ran at one process's speed.

A ``SharedAcceptor`` takes one connection per wakeup. The workers post how many sessions
each holds on a ``SessionBoard`` (memory the supervisor shares with them): a worker holding
more than another lets that one take the connection, and takes it itself after ``PAUSE``
if nobody has (a sibling busy, stuck or dead never leaves a client waiting longer).
"""

from __future__ import annotations

import asyncio
import logging
import mmap
import os
import socket
import tempfile
from collections.abc import Callable

log = logging.getLogger(__name__)

# Far longer than an idle sibling takes to wake and accept, even on a busy machine
# (with 5 ms, 6 of 8 sessions went to one worker in the test now and then on two cores
# running the test suite); short beside an SMTP session.
PAUSE = 0.02
_ERROR_PAUSE = 1.0
# The doors whose sessions the board counts, one row each.
DOORS = ("smtp", "milter")
_SLOT = 4  # bytes: one int32 a worker
# Posted for a worker that takes no connections (closed, or dead until its replacement
# posts): never fewer than anyone's, so no sibling waits for it.
ABSENT = 2**31 - 1


class SessionBoard:
    """How many sessions each worker holds at each door, in shared memory.

    Made by the supervisor (``create``) before it starts the workers, inherited by each
    as a file descriptor (``attach``). A slot is written by its worker alone; the others
    read it. The supervisor vacates a dead worker's slots until its replacement writes.
    """

    def __init__(self, memory: mmap.mmap, fd: int, workers: int) -> None:
        self._memory = memory
        self.fd = fd
        self.workers = workers
        self._counts = memoryview(memory).cast("i")

    @classmethod
    def create(cls, workers: int) -> SessionBoard:
        # Close-on-exec like every descriptor: the supervisor passes it on (pass_fds).
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("intakeguard-sessions")
        else:  # not Linux: an unlinked temporary file serves as well
            with tempfile.TemporaryFile() as file:
                fd = os.dup(file.fileno())
        os.ftruncate(fd, _SLOT * workers * len(DOORS))
        board = cls.attach(fd, workers)
        for worker in range(1, workers + 1):
            # Until each worker's doors listen and post what they hold.
            board.vacate(worker)
        return board

    @classmethod
    def attach(cls, fd: int, workers: int) -> SessionBoard:
        return cls(mmap.mmap(fd, _SLOT * workers * len(DOORS)), fd, workers)

    def vacate(self, worker: int) -> None:
        """Worker ``worker`` takes no connections at any door until it posts again."""
        for door in DOORS:
            self.seat(door, worker).post(ABSENT)

    def seat(self, door: str, worker: int) -> Seat:
        """Worker ``worker``'s (numbered from 1) place in ``door``'s row."""
        row = DOORS.index(door) * self.workers
        return Seat(self._counts[row : row + self.workers], worker - 1)


class Seat:
    """One worker's slot in a door's row of the board, beside its siblings'."""

    def __init__(self, row: memoryview, mine: int) -> None:
        self._row = row
        self._mine = mine

    def post(self, held: int) -> None:
        self._row[self._mine] = held

    def counts(self) -> list[int]:
        """What each worker of the row posted, by worker number from 1."""
        return list(self._row)

    def others_hold_fewer(self, held: int) -> bool:
        """Whether a sibling holds fewer sessions than ``held``."""
        return any(count < held for i, count in enumerate(self._row) if i != self._mine)


class SharedAcceptor:
    """Serves ``protocol_factory`` on ``sock``, a listening socket shared with siblings.

    ``held``: how many sessions this process holds now; ``seat``: its place on the
    board, None to take every connection it can at once. Stands in for the
    ``asyncio.Server`` a receiver keeps: ``close`` and ``wait_closed``.
    """

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        held: Callable[[], int],
        seat: Seat | None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = sock
        self._protocol_factory = protocol_factory
        self._held = held
        self._seat = seat
        self._connecting: set[asyncio.Task[None]] = set()
        self._closed = False
        host, port = sock.getsockname()[:2]
        self._name = f"{host}:{port}"
        sock.setblocking(False)
        self._post()
        self._loop.add_reader(sock.fileno(), self._readable)

    def close(self) -> None:
        """Stop taking connections and close the socket (this process's copy of it)."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        if self._seat is not None:
            self._seat.post(ABSENT)

    async def wait_closed(self) -> None:
        """Sessions already taken are the receiver's to end; nothing else is left."""

    def _holding(self) -> int:
        # Connections accepted whose session has not begun yet count as held.
        return self._held() + len(self._connecting)

    def _post(self) -> int:
        held = self._holding()
        if self._seat is not None:
            self._seat.post(held)
        return held

    def _readable(self) -> None:
        held = self._post()
        if self._seat is not None and self._seat.others_hold_fewer(held):
            self._loop.remove_reader(self._sock.fileno())
            self._loop.call_later(PAUSE, self._take_then_listen)
        else:
            self._take()

    def _take_then_listen(self) -> None:
        if self._closed:
            return
        if self._take():
            self._loop.add_reader(self._sock.fileno(), self._readable)

    def _take(self) -> bool:
        """Accept one connection if one waits; False when listening should pause."""
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return True  # a sibling took it, or the client gave up
        except OSError as exc:
            # Out of file descriptors or kernel memory (or worse): asyncio's own server
            # waits a second too, rather than spin on a socket that stays readable.
            log.error(
                "cannot accept connections on %s (%s); trying again in %.0f s",
                self._name,
                exc.strerror or exc,
                _ERROR_PAUSE,
            )
            self._loop.remove_reader(self._sock.fileno())
            self._loop.call_later(_ERROR_PAUSE, self._take_then_listen)
            return False
        conn.setblocking(False)
        task = self._loop.create_task(self._connect(conn))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)
        self._post()
        return True

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, conn)
        except OSError as exc:
            conn.close()
            log.info("a connection to %s was lost before its session began (%s)", self._name, exc)
