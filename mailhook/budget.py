"""A budget of bytes that coroutines take a share of, first come first served."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ByteBudget:
    """At most ``limit`` bytes held at once; one share larger than all of it, alone.

    A weighted semaphore: the SMTP receiver takes a message's size from it while the
    message is parsed and checked, so many small messages go through side by side and
    big ones a few at a time. Waiters are served in order, so a big message is not
    passed over forever by a stream of small ones.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    @asynccontextmanager
    async def share(self, size: int) -> AsyncIterator[None]:
        """Hold ``size`` bytes of the budget for the ``async with`` block."""
        await self._acquire(size)
        try:
            yield
        finally:
            self._release(size)

    def _fits(self, size: int) -> bool:
        return self.held == 0 or self.held + size <= self.limit

    async def _acquire(self, size: int) -> None:
        if not self._waiters and self._fits(size):
            self.held += size
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((size, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if not waiter.cancelled():
                self._release(size)  # granted, but its session went away meanwhile
                raise
            with contextlib.suppress(ValueError):  # _grant may have dropped it already
                self._waiters.remove((size, waiter))
            self._grant()  # it may have been the head that held the others back
            raise

    def _release(self, size: int) -> None:
        self.held -= size
        self._grant()

    def _grant(self) -> None:
        while self._waiters:
            size, waiter = self._waiters[0]
            if not waiter.done() and not self._fits(size):
                return
            self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter's session is gone
                self.held += size
                waiter.set_result(None)
