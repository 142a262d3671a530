"""The listening SMTP receiver: one IntakeSMTP session per connection, and its shutdown."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass

from mailhook.accepting import Seat, SharedAcceptor
from mailhook.handoff import Handoff
from mailhook.smtp import PROXY_TIMEOUT, IntakeHandler, IntakeSMTP
from mailhook.smtp_config import SmtpConfig
from mailhook.smtp_limits import Admission

log = logging.getLogger(__name__)


@dataclass
class SmtpReceiver:
    """A listening receiver and its open sessions, for an orderly shutdown."""

    server: asyncio.Server | SharedAcceptor
    admission: Admission

    async def shutdown(self, grace: float) -> None:
        """Stop listening, let transactions in flight finish within ``grace`` s, 421 the rest.

        A message whose DATA is being checked when the time is up is not acknowledged:
        if its verdict was recorded regardless, the sender's retry gets that verdict.
        """
        self.server.close()
        self.admission.draining = True
        for session in list(self.admission.sessions):
            if not session.in_transaction:
                session.close_for_shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        if self.admission.sessions:
            log.info(
                "waiting up to %.0f s for %d SMTP session(s) in a transaction",
                grace,
                len(self.admission.sessions),
            )
        while self.admission.sessions and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if self.admission.sessions:
            log.warning(
                "closing %d SMTP session(s) still open after %.0f s; their senders retry",
                len(self.admission.sessions),
                grace,
            )
            for session in list(self.admission.sessions):
                session.close_for_shutdown()
        await self.server.wait_closed()


async def start_smtp_server(
    handoff: Handoff,
    config: SmtpConfig,
    host: str,
    port: int,
) -> asyncio.Server:
    """Listen on ``host:port``; every connection gets its own IntakeSMTP protocol."""
    server = (await start_receiver(handoff, config, host, port)).server
    assert isinstance(server, asyncio.Server)  # a socket of its own, not a shared one
    return server


async def start_receiver(
    handoff: Handoff,
    config: SmtpConfig,
    host: str,
    port: int,
    sock: socket.socket | None = None,
    seat: Seat | None = None,
) -> SmtpReceiver:
    """Listen on ``host:port`` and return the receiver, which can shut down in order.

    ``sock``, when given, is a socket already listening there (a worker of
    ``intakeguard serve --workers`` inherits it from the supervisor): it is served
    instead of binding a new one, and closed at shutdown. Its sibling workers serve it
    too, so its connections are taken the way mailhook.accepting describes (``seat``:
    this worker's place on the supervisor's board of sessions held).
    """
    handler = IntakeHandler(handoff, config)
    admission = Admission()
    loop = asyncio.get_running_loop()

    def protocol() -> IntakeSMTP:
        return IntakeSMTP(
            handler,
            admission,
            data_size_limit=config.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=config.hostname,
            ident="intakeguard",
            tls_context=config.tls_context,
            proxy_protocol_timeout=PROXY_TIMEOUT if config.proxy_protocol else None,
            timeout=config.idle_timeout,
            loop=loop,
        )

    server: asyncio.Server | SharedAcceptor
    if sock is not None:
        server = SharedAcceptor(sock, protocol, lambda: admission.open_sessions, seat)
    else:
        server = await loop.create_server(protocol, host=host, port=port)
    log.info("SMTP receiver listening on %s:%d", host, port)
    return SmtpReceiver(server, admission)
