"""Single sign-on behind a reverse proxy: the agent's login from a header the proxy sets.

With CONSOLE_TRUSTED_USER_HEADER set, a request whose TCP peer is one of
CONSOLE_TRUSTED_PROXIES and that carries the header is the agent it names (who must exist
and be enabled, else the page is refused); the header from any other peer is ignored and
the console's own login applies. The peer is the connection's address as accepted, not
the client uvicorn reads from X-Forwarded-For (``RecordPeer`` keeps it before that
rewrite): a forwarded address could be anything a proxy was told.

There is no session row for such a request: the proxy vouches for every one. The CSRF
token its forms carry is an HMAC of the login under the secret key (stateless, the
"HMAC-based token" of OWASP's CSRF cheat sheet): another site can neither read nor make it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.console.agents import LOGIN, Agent, agent_of
from app.db.models import ConsoleAgent
from app.settings import Settings

# The ASGI scope key RecordPeer keeps the connection's own address under.
PEER: Final = "intakeguard.peer"


class RecordPeer:
    """ASGI middleware, outermost: keeps ``scope["client"]`` as the connection gave it
    under PEER, before uvicorn's proxy-headers middleware (inside it) rewrites it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope[PEER] = scope.get("client")
        await self.app(scope, receive, send)


class NotAnAgent(Exception):
    """A trusted proxy named a login that is no enabled agent: the page is refused (403)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The login a trusted proxy named for this request."""

    login: str


def claim(settings: Settings, scope: Mapping[str, Any], headers: Any) -> Claim | None:
    """The login in the trusted header when the request came from a trusted proxy; None
    when single sign-on is off, the peer is not trusted, or the header is absent."""
    name = settings.console_trusted_user_header
    if name is None or not _trusted(settings, scope):
        return None
    value = headers.get(name)
    if value is None:
        return None
    return Claim(value.strip().lower())


def _trusted(settings: Settings, scope: Mapping[str, Any]) -> bool:
    # Without RecordPeer (an app served another way) the client is the connection's own
    # address only when nothing rewrote it: no proxy-headers middleware ran.
    peer = scope.get(PEER, scope.get("client"))
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(str(peer[0]))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.console_trusted_proxies
    )


def agent_named(session: Session, login: str) -> Agent | None:
    """The enabled agent ``login`` names; None for an unknown or disabled one."""
    if not LOGIN.fullmatch(login):
        return None
    row = session.scalar(select(ConsoleAgent).where(ConsoleAgent.login == login))
    if row is None or row.disabled_at is not None:
        return None
    return agent_of(row)


def csrf_token(key: bytes, agent: Agent) -> str:
    """The CSRF token of ``agent``'s forms under single sign-on."""
    return hmac.new(key, b"console-sso\0" + agent.login.encode(), hashlib.sha256).hexdigest()
