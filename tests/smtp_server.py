"""The SMTP receiver run on a loopback port in a background event loop, for the tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from mailhook.handoff import Handoff
from mailhook.receiver import start_smtp_server
from mailhook.smtp_config import SmtpConfig


class SmtpThread:
    """``start_smtp_server`` on 127.0.0.1, free port, own loop in a daemon thread."""

    def __init__(self, handoff_factory: Callable[[], Handoff], config: SmtpConfig) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.factory = handoff_factory
        self.config = config
        self.server: asyncio.Server | None = None

    def __enter__(self) -> SmtpThread:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self.loop)
        self.server = future.result(timeout=10)
        return self

    async def _start(self) -> asyncio.Server:
        # The hand-off is made inside the loop: HTTP clients bind to the loop they start in.
        self.handoff = self.factory()
        return await start_smtp_server(self.handoff, self.config, "127.0.0.1", 0)

    @property
    def port(self) -> int:
        assert self.server is not None
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    def __exit__(self, *_: object) -> None:
        async def stop() -> None:
            assert self.server is not None
            self.server.close()
            await self.server.wait_closed()
            close = getattr(self.handoff, "aclose", None)
            if close is not None:
                await close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
