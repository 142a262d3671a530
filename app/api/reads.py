"""Short reads of the hot routes (a token, a verdict, a page), without a worker thread
where that is safe.

FastAPI runs a sync route and each sync dependency in a worker thread: several hand-offs
per request, which on a busy server cost more CPU than the indexed read they carry. The
routes that only read therefore await ``LoopReads.run``, which runs the read:

- on SQLite, in the event loop itself. An indexed read of a WAL database takes a tenth of
  a millisecond and never waits for a writer (a reader keeps its own snapshot), so it
  holds the loop for less time than a hand-off to a thread would. It uses an engine of
  its own, which only the loop thread touches: one connection at a time, so checking one
  out never waits. (The shared pool may be exhausted by threads that hold connections
  while they wait for the loop, which would block the loop on them.)
- on PostgreSQL, in one worker thread: a network round trip, a pool that may be
  exhausted and a server that may be slow to answer must never stall the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from app.db.engine import READ_ONLY, make_engine, store_errors
from app.decision.service import DecisionService

T = TypeVar("T")


class LoopReads:
    """Runs short read-only functions of a connection for the API's async routes.

    A connection, not an ORM session: the reads are Core statements, and a session's
    bookkeeping around one statement costs about a tenth of a verdict read.
    """

    def __init__(self, service: DecisionService) -> None:
        self._threaded: Engine = service.read_engine
        self._own: Engine | None = None
        self._in_loop: Engine | None = None
        url = service.read_engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self._own = make_engine(url.render_as_string(hide_password=False))
            self._in_loop = self._own.execution_options(**{READ_ONLY: True})

    async def run(self, read: Callable[[Connection], T]) -> T:
        """``read(connection)`` in a read-only transaction; store errors as
        StoreUnavailable."""
        if self._in_loop is not None:
            return _read(self._in_loop, read)
        return await run_in_threadpool(_read, self._threaded, read)

    def close(self) -> None:
        """Close the loop's own connections (at shutdown)."""
        if self._own is not None:
            self._own.dispose()


def _read(engine: Engine, read: Callable[[Connection], T]) -> T:
    with store_errors(), engine.connect() as connection:
        return read(connection)
