"""The listening sockets: HTTP, SMTP (with its TLS certificate), the milter and /metrics.

Bound by a single process before it serves (app.server.serving), or once by the
supervisor of ``serve --workers N`` (app.server.supervisor), whose workers inherit them.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import math
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import start_http_server
from prometheus_client.exposition import MetricsHandler

from app import metrics
from app.errors import ConfigError
from app.settings import ENV_PREFIX, Settings, split_listen
from mailhook.milter import MilterConfig, RejectedMail
from mailhook.smtp_config import SmtpConfig

log = logging.getLogger(__name__)


def smtp_config(settings: Settings, workers: int = 1) -> SmtpConfig:
    """The receiver's configuration; with ``workers`` processes sharing the port, each
    enforces its share of the session, per-client and connection-rate limits, so that the
    settings stay the limits of the whole service (the kernel spreads connections about
    evenly; a client may meet its per-client share in one worker a little early)."""
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
        max_sessions=math.ceil(settings.smtp_max_sessions / workers),
        max_sessions_per_client=math.ceil(settings.smtp_max_sessions_per_client / workers),
        max_connections_per_minute=math.ceil(settings.smtp_max_connections_per_minute / workers),
        idle_timeout=settings.smtp_idle_timeout,
        session_timeout=settings.smtp_session_timeout,
        data_timeout=settings.smtp_data_timeout,
        data_min_rate=settings.smtp_data_min_rate,
        hostname=socket.getfqdn(),
        tls_context=_tls_context(settings),
        proxy_protocol=settings.proxy_protocol,
    )


def milter_config(settings: Settings) -> MilterConfig:
    """The milter door's configuration: its stamp, rejected mail, and whom it trusts."""
    return MilterConfig(
        authserv_id=settings.authserv_id,
        rejected=RejectedMail(settings.milter_rejected),
        trusted_relays=tuple(
            ipaddress.ip_network(r, strict=False) for r in settings.trusted_relays
        ),
        max_message_bytes=settings.max_message_bytes,
        recipients=tuple(settings.milter_recipients),
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


def bind_listener(setting: str, value: str) -> socket.socket:
    """A listening TCP socket on ``value`` (host:port), or a ConfigError naming the setting."""
    host, port = split_listen(value)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        raise listen_error(setting, value, exc) from None
    # create_server leaves the protocol number 0, so asyncio does not turn Nagle off on
    # the connections it accepts (it checks for IPPROTO_TCP); uvicorn writes a response's
    # headers and body apart, and the body then waits ~40 ms for the client's delayed ACK.
    # Linux passes TCP_NODELAY on from the listener to every accepted connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def listen_error(setting: str, value: str, exc: OSError) -> ConfigError:
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(f"{ENV_PREFIX}{setting} {value} is already in use")
    return ConfigError(f"{ENV_PREFIX}{setting}: cannot listen on {value} ({exc.strerror})")


def start_metrics_server(value: str, sock: socket.socket | None = None) -> None:
    """/metrics on a port of its own, for `intakeguard smtp` running without the API.

    The API serves /metrics itself; this small server (prometheus_client's, in a daemon
    thread) is for a receiver that hands messages to a remote API, or for a scraper
    kept off the API's port. INTAKEGUARD_METRICS_LISTEN or --metrics-listen turn it on.
    ``sock``: the listening socket a worker of ``serve --workers`` inherited.
    """
    host, port = split_listen(value)
    registry = metrics.exposition_registry()
    if sock is not None:
        server = _InheritedHTTPServer(sock, MetricsHandler.factory(registry))
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
        return
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise listen_error("METRICS_LISTEN", value, exc) from None
    log.info("metrics on http://%s:%d/metrics", host, port)


class _InheritedHTTPServer(ThreadingHTTPServer):
    """An HTTP server on a socket that already listens (http.server binds its own)."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(sock.getsockname()[:2], handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
