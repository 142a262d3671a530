"""What keeps clients from tying the SMTP receiver up: session caps and session clocks.

``Admission`` counts who holds the receiver's sessions (in all, per client address, per
minute); ``SessionClocks`` ends one session that lasts too long or sends DATA too slowly.
The third clock, idle time between commands, is aiosmtpd's own timer (mailhook.smtp).
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from mailhook import metrics, replies
from mailhook.smtp_config import SmtpConfig
from mailhook.smtp_data import DataProgress

# RFC 4291 §2.5.4: a /64 is one link, which one customer (or one attacker) gets whole;
# counting IPv6 clients by address would give each of them 2^64 caps.
IPV6_CLIENT_PREFIX: Final = 64


def client_key(ip: str) -> str:
    """Who a client IP counts as: the IPv4 address, or its IPv6 /64 network."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


class OpenSession(Protocol):
    """What the receiver's shutdown needs of a session (mailhook.smtp.IntakeSMTP)."""

    @property
    def in_transaction(self) -> bool: ...

    def close_for_shutdown(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Refusal:
    """A connection refused: the 421 to give, and the limit it hit (a metrics label)."""

    reply: str
    limit: str


# One sweep of the per-minute windows every this many connections counted: its cost
# (one look at each client remembered) spread over the connections that grew them.
SWEEP_EVERY = 1024


@dataclass
class Admission:
    """Session and per-client counting for the 421 limits of one receiver (one process)."""

    open_sessions: int = 0
    recent: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    per_client: Counter[str] = field(default_factory=Counter)
    sessions: set[OpenSession] = field(default_factory=set)
    # Set on shutdown: sessions end after their transaction instead of taking another.
    draining: bool = False
    # Connections counted since the per-minute windows were last swept of clients that
    # have not connected within the minute (else every address ever seen stays in memory).
    charged_since_sweep: int = 0

    def admit(self, config: SmtpConfig, client: str | None) -> Refusal | None:
        """None to admit (the session is counted until ``release``), else the refusal."""
        if self.open_sessions >= config.max_sessions:
            return Refusal(replies.TOO_MANY_SESSIONS, "sessions")
        refusal = self.charge(config, client)
        if refusal is None:
            self.open_sessions += 1
            metrics.SMTP_SESSIONS_OPEN.inc()
        return refusal

    def charge(self, config: SmtpConfig, client: str | None) -> Refusal | None:
        """Count a session against ``client`` (the peer, or the client a trusted proxy
        names), or the refusal when the client has too many; trusted relays are free."""
        if client is None or config.trusts(client):
            return None
        key = client_key(client)
        if self.per_client[key] >= config.max_sessions_per_client:
            return Refusal(replies.TOO_MANY_FROM_CLIENT, "sessions_per_client")
        now = time.monotonic()
        self.charged_since_sweep += 1
        if self.charged_since_sweep >= SWEEP_EVERY:
            self.sweep(now)
        window = self.recent[client]
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) >= config.max_connections_per_minute:
            return Refusal(replies.RATE_LIMITED.format(client=client), "connection_rate")
        window.append(now)
        self.per_client[key] += 1
        return None

    def sweep(self, now: float) -> None:
        """Forget the clients that have not connected within the last minute."""
        self.charged_since_sweep = 0
        stale = [c for c, window in self.recent.items() if not window or window[-1] < now - 60]
        for client in stale:
            del self.recent[client]

    def release(self, config: SmtpConfig, client: str | None) -> None:
        """A session admitted for ``client`` has ended."""
        self.open_sessions -= 1
        metrics.SMTP_SESSIONS_OPEN.dec()
        if client is not None and not config.trusts(client):
            key = client_key(client)
            self.per_client[key] -= 1
            if self.per_client[key] <= 0:
                del self.per_client[key]


class SessionClocks:
    """The whole-session clock of one session and, during DATA, the watch of its rate.

    Each ends the session through ``close(reply, limit)`` with a 421. Checking a message
    is our time, not the client's: a session whose time is up while one is checked
    (``checking``) is ``expired`` and closed once the message has its answer.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        config: SmtpConfig,
        close: Callable[[str, str], None],
    ) -> None:
        self._loop = loop
        self._config = config
        self._close = close
        self.checking = False
        self.expired = False
        self._session = loop.call_later(config.session_timeout, self._session_time_up)
        self._data: asyncio.TimerHandle | None = None

    def _session_time_up(self) -> None:
        if self.checking:
            self.expired = True
            return
        self._close(replies.SESSION_TIMEOUT, "session_time")

    def watch_data(self) -> DataProgress:
        """Start watching a DATA section; the reader counts what it receives in the result."""
        progress = DataProgress()
        now = self._loop.time()
        self._watch(progress, now, 0, now)
        return progress

    def _watch(self, progress: DataProgress, started: float, seen: int, since: float) -> None:
        """Cut DATA slower than data_min_rate, or silent for idle_timeout.

        It runs now and then, not on every line: ``seen`` bytes had arrived by ``since``.
        """
        config = self._config
        now = self._loop.time()
        if progress.received != seen:
            seen, since = progress.received, now
        if now - since >= config.idle_timeout:
            self._close(replies.IDLE_TIMEOUT, "idle")
            return
        # Postfix's smtpd_min_data_rate: every byte received buys 1/rate s more.
        allowed = started + config.data_timeout + progress.received / config.data_min_rate
        if now >= allowed:
            self._close(replies.DATA_TOO_SLOW, "data_rate")
            return
        wake = max(min(allowed, since + config.idle_timeout), now + 0.01)
        self._data = self._loop.call_later(wake - now, self._watch, progress, started, seen, since)

    def stop_data(self) -> None:
        if self._data is not None:
            self._data.cancel()
            self._data = None

    def stop(self) -> None:
        self.stop_data()
        self._session.cancel()
