"""Console sessions: server-side rows behind an opaque cookie, CSRF tokens, throttled logins.

The cookie holds 256 random bits; the store keeps only their SHA-256, so a copy of the
database logs no one in. A login always makes a new session (a cookie the browser brought
is never adopted: no fixation); every form carries the session's CSRF token. A session
ends after ``idle`` without a request, after ``absolute`` in any case, at logout, and
when its agent is disabled. Kept in the store, so every worker of ``serve --workers``
sees the same sessions and the same failed logins.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.console.agents import Agent, agent_of
from app.db.models import ConsoleAgent, ConsoleLoginFailure, ConsoleSession

SESSION_COOKIE: Final = "ig_console"
# Before login: a random value whose HMAC the login form carries (login CSRF).
LOGIN_COOKIE: Final = "ig_console_login"

# Failed logins counted over THROTTLE_WINDOW: more than these for one login, or from one
# client address, and further attempts are refused, right password or not, until the
# window has passed. Per login stops guessing one agent's password from many
# addresses; per address stops trying many logins from one.
THROTTLE_WINDOW: Final = timedelta(minutes=15)
MAX_FAILURES_PER_LOGIN: Final = 5
MAX_FAILURES_PER_ADDRESS: Final = 20
# last_seen_at is written at most this often: not one write per page.
_TOUCH_EVERY: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Lifetime:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class Current:
    """The logged-in agent of a request and the CSRF token of their session."""

    agent: Agent
    csrf: str


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def start(session: Session, agent: Agent, now: datetime) -> tuple[str, Current]:
    """A new session for ``agent``: the cookie value (shown once) and the session."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            id_hash=_digest(cookie), agent_id=agent.id, csrf=csrf, created_at=now, last_seen_at=now
        )
    )
    session.flush()
    return cookie, Current(agent, csrf)


def look_up(
    session: Session, cookie: str, now: datetime, lifetime: Lifetime
) -> tuple[Current | None, bool]:
    """The live session ``cookie`` names (None if none), and whether the store needs a
    write for it (an expired session to delete, a last_seen_at to move on); a read only."""
    found = _row(session, cookie)
    if found is None:
        return None, False
    row, agent = found
    if _expired(row, agent, now, lifetime):
        return None, True
    return Current(agent_of(agent), row.csrf), now - row.last_seen_at > _TOUCH_EVERY


def current(session: Session, cookie: str, now: datetime, lifetime: Lifetime) -> Current | None:
    """The live session ``cookie`` names, seen now; an expired one is deleted."""
    found = _row(session, cookie)
    if found is None:
        return None
    row, agent = found
    if _expired(row, agent, now, lifetime):
        session.delete(row)
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
    return Current(agent_of(agent), row.csrf)


def _row(session: Session, cookie: str) -> tuple[ConsoleSession, ConsoleAgent] | None:
    if not cookie or len(cookie) > 100:
        return None
    found = session.execute(
        select(ConsoleSession, ConsoleAgent)
        .join(ConsoleAgent, ConsoleAgent.id == ConsoleSession.agent_id)
        .where(ConsoleSession.id_hash == _digest(cookie))
    ).first()
    return None if found is None else (found[0], found[1])


def _expired(row: ConsoleSession, agent: ConsoleAgent, now: datetime, lifetime: Lifetime) -> bool:
    return (
        agent.disabled_at is not None
        or now - row.last_seen_at > lifetime.idle
        or now - row.created_at > lifetime.absolute
    )


def end(session: Session, cookie: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _digest(cookie)))


def csrf_matches(expected: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def login_token(key: bytes, login_cookie: str) -> str:
    """The login form's CSRF token: bound to the browser's pre-login cookie."""
    return hmac.new(key, b"console-login\0" + login_cookie.encode(), hashlib.sha256).hexdigest()


def throttled(session: Session, login: str, address: str, now: datetime) -> bool:
    since = now - THROTTLE_WINDOW
    recent = select(func.count()).select_from(ConsoleLoginFailure)
    recent = recent.where(ConsoleLoginFailure.failed_at > since)
    by_login = session.scalar(recent.where(ConsoleLoginFailure.login == login[:64])) or 0
    by_address = session.scalar(recent.where(ConsoleLoginFailure.address == address[:64])) or 0
    return by_login >= MAX_FAILURES_PER_LOGIN or by_address >= MAX_FAILURES_PER_ADDRESS


def record_failure(session: Session, login: str, address: str, now: datetime) -> None:
    # Failures past the window count for nothing: the table stays as small as the window.
    session.execute(
        delete(ConsoleLoginFailure).where(ConsoleLoginFailure.failed_at <= now - THROTTLE_WINDOW)
    )
    session.add(ConsoleLoginFailure(login=login[:64], address=address[:64], failed_at=now))


def forget_failures(session: Session, login: str) -> None:
    """After a successful login: the login's own failures (not the address's) are forgotten."""
    session.execute(delete(ConsoleLoginFailure).where(ConsoleLoginFailure.login == login))
