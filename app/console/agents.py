"""The console's agents: who may log in, with which role, and their passwords (argon2id).

An agent is never deleted, only disabled: reviews keep naming the login that made them,
and a disabled login can never be given to someone else.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.models import ConsoleAgent, ConsoleSession
from app.errors import Conflict, InvalidInput, NotFound

Role = Literal["agent", "lead"]
ROLES: Final = get_args(Role)
# Like customers' logins: lower case, what a person types.
LOGIN: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
# argon2 hashes whatever it is given; a megabyte of "password" is a denial of service.
MAX_PASSWORD = 1024

# argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB, t=3, p=4).
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so an unknown login takes as long as a
    wrong password and the timing tells nothing. Made at the first login, not at import:
    every command and worker that imports this module paid for a hash it never used."""
    return _HASHER.hash("not the password of anyone")


# Each verification holds 64 MiB for a tenth of a second or more: a flood of logins must
# not hold one per thread of the pool (40 by default) at once. The rest wait their turn.
_HASHING = threading.BoundedSemaphore(2)


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    login: str
    name: str
    role: Role
    disabled: bool


def add_agent(
    session: Session, login: str, name: str, role: str, password: str, now: datetime
) -> Agent:
    """Store a new agent; InvalidInput for a bad field, Conflict when the login exists."""
    if not LOGIN.fullmatch(login):
        raise InvalidInput(
            f"login {login[:64]!r}: 2 to 64 of a-z, 0-9, '.', '_', '-', starting with a "
            "letter or digit"
        )
    if role not in ROLES:
        raise InvalidInput(f"role {role!r}: one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > 200:
        raise InvalidInput("--name: the agent's full name, 1 to 200 characters")
    check_password(password)
    if session.scalar(select(ConsoleAgent.id).where(ConsoleAgent.login == login)) is not None:
        raise Conflict(f"agent {login!r} exists (a disabled login is never reused)")
    row = ConsoleAgent(
        login=login,
        name=name.strip(),
        role=role,
        password_hash=_HASHER.hash(password),
        created_at=now,
        disabled_at=None,
    )
    session.add(row)
    session.flush()
    return agent_of(row)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"the password may have at most {MAX_PASSWORD} characters")


def list_agents(session: Session) -> list[Agent]:
    return [
        agent_of(row) for row in session.scalars(select(ConsoleAgent).order_by(ConsoleAgent.id))
    ]


def disable_agent(session: Session, login: str, now: datetime) -> Agent:
    """Disable ``login`` and end every session it has; NotFound when there is no such agent."""
    row = session.scalar(select(ConsoleAgent).where(ConsoleAgent.login == login))
    if row is None:
        raise NotFound(f"no agent {login[:64]!r}")
    if row.disabled_at is None:
        row.disabled_at = now
    session.execute(delete(ConsoleSession).where(ConsoleSession.agent_id == row.id))
    session.flush()
    return agent_of(row)


def authenticate(session: Session, login: str, password: str) -> Agent | None:
    """The enabled agent whose password this is; None otherwise, in the same time."""
    dummy = _dummy_hash()  # first, so that the first login of all costs the same either way
    row = None
    if LOGIN.fullmatch(login) and len(password) <= MAX_PASSWORD:
        row = session.scalar(select(ConsoleAgent).where(ConsoleAgent.login == login))
    try:
        with _HASHING:
            _HASHER.verify(row.password_hash if row is not None else dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    return agent_of(row)


def agent_of(row: ConsoleAgent) -> Agent:
    role: Role = "lead" if row.role == "lead" else "agent"
    return Agent(row.id, row.login, row.name, role, row.disabled_at is not None)
