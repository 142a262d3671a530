"""Running the doors: the API and the SMTP receiver in one loop, or apart; the pipe."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
import ssl
from collections.abc import Awaitable

import uvicorn

from app.errors import ConfigError
from app.handoff import HttpHandoff, InProcessHandoff
from app.intake import DecisionService
from app.settings import ENV_PREFIX, Settings, split_listen
from mailhook.handoff import Handoff, Receipt
from mailhook.message import InboundMessage
from mailhook.smtp import SmtpConfig, start_smtp_server

log = logging.getLogger(__name__)


def smtp_config(settings: Settings) -> SmtpConfig:
    if not settings.intake_recipients:
        raise ConfigError(
            f"{ENV_PREFIX}INTAKE_RECIPIENTS: missing; name the addresses or @domains the "
            "SMTP receiver accepts mail for (e.g. support@hosting.example,@desk.example)"
        )
    return SmtpConfig(
        recipients=tuple(settings.intake_recipients),
        max_message_bytes=settings.max_message_bytes,
        trusted_relays=tuple(
            ipaddress.ip_network(r, strict=False) for r in settings.trusted_relays
        ),
        max_sessions=settings.smtp_max_sessions,
        max_connections_per_minute=settings.smtp_max_connections_per_minute,
        hostname=socket.getfqdn(),
        tls_context=_tls_context(settings),
        proxy_protocol=settings.proxy_protocol,
    )


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"{ENV_PREFIX}TLS_CERT_FILE: cannot load {settings.tls_cert_file} "
            f"(with key {settings.tls_key_file or 'in the same file'}): {exc}"
        ) from None
    return context


def make_handoff(settings: Settings, service: DecisionService | None = None) -> Handoff:
    """Over HTTP when INTAKEGUARD_API_URL is set, else in process on the local store."""
    if settings.api_url:
        if settings.api_token is None:
            raise ConfigError(
                f"{ENV_PREFIX}API_TOKEN: missing; create one with "
                "`intakeguard token create --name smtp --scope intake` on the API side"
            )
        return HttpHandoff(settings.api_url, settings.api_token.get_secret_value())
    if service is None:
        service = DecisionService.from_settings(settings, settings.require_secret_key())
    return InProcessHandoff(service)


async def serve(settings: Settings, *, http: bool, smtp: bool) -> None:
    """Run the decision API and/or the SMTP receiver until SIGTERM or SIGINT."""
    service = None
    if http or not settings.api_url:
        service = DecisionService.from_settings(settings, settings.require_secret_key())
    smtp_server = None
    if smtp:
        host, port = split_listen(settings.smtp_listen)
        smtp_server = await _listen(
            start_smtp_server(make_handoff(settings, service), smtp_config(settings), host, port),
            "SMTP_LISTEN",
            settings.smtp_listen,
        )
    try:
        if http:
            from app.api import create_app

            assert service is not None
            host, port = split_listen(settings.http_listen)
            config = uvicorn.Config(
                create_app(settings, service),
                host=host,
                port=port,
                log_level=settings.log_level.lower(),
                access_log=False,
            )
            log.info("decision API listening on http://%s:%d", host, port)
            # uvicorn handles SIGTERM/SIGINT and returns from serve() when asked to stop.
            await uvicorn.Server(config).serve()
        else:
            await _until_signalled()
    finally:
        if smtp_server is not None:
            smtp_server.close()
            await smtp_server.wait_closed()


async def _listen(starting: Awaitable[asyncio.Server], setting: str, value: str) -> asyncio.Server:
    try:
        return await starting
    except OSError as exc:
        raise ConfigError(
            f"{ENV_PREFIX}{setting}: cannot listen on {value} ({exc.strerror})"
        ) from None


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("stopping")


def deliver(handoff: Handoff, message: InboundMessage) -> Receipt:
    """Hand one message over and wait for the receipt (the pipe's only step)."""

    async def run() -> Receipt:
        try:
            return await handoff.submit(message)
        finally:
            if isinstance(handoff, HttpHandoff):
                await handoff.aclose()

    return asyncio.run(run())
