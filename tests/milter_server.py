"""The milter door on a loopback port in a background loop, and a mail sink, for the tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from mailhook.handoff import Handoff
from mailhook.milter import MilterConfig, MilterServer, start_milter
from tests.postfix import free_port


class MilterThread:
    """``start_milter`` on 127.0.0.1 (a free port, or ``port``), own loop in a thread.

    ``stop`` and ``start`` again on the same port: Postfix keeps its smtpd_milters.
    """

    def __init__(
        self, handoff_factory: Callable[[], Handoff], config: MilterConfig, port: int = 0
    ) -> None:
        self.factory = handoff_factory
        self.config = config
        self.port = port or free_port()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.server: MilterServer | None = None

    def start(self) -> MilterThread:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self.loop)
        self.server = future.result(timeout=10)
        return self

    async def _start(self) -> MilterServer:
        # The hand-off is made inside the loop: HTTP clients bind to the loop they start in.
        self.handoff = self.factory()
        return await start_milter(self.handoff, self.config, "127.0.0.1", self.port)

    def stop(self) -> None:
        if self.loop is None or self.thread is None:
            return

        async def stop() -> None:
            assert self.server is not None
            await self.server.shutdown(5)
            close = getattr(self.handoff, "aclose", None)
            if close is not None:
                await close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        self.loop = self.thread = self.server = None

    def __enter__(self) -> MilterThread:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class MailSink:
    """An SMTP server on a loopback port that keeps every message delivered to it."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(bytes(envelope.original_content))
        return "250 2.0.0 Ok: kept"

    def received(self) -> list[Message]:
        with self.lock:
            return [message_from_bytes(raw) for raw in self.messages]

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()
