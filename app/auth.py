"""Bearer tokens: creation, hashed storage, scopes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ApiToken
from app.db.types import utcnow
from app.errors import InvalidInput

SCOPES: tuple[str, ...] = (
    "intake",
    "verdicts:read",
    "review",
    "registry:read",
    "registry:write",
    "codes:issue",
    "audit",
    "webhooks",
)
TOKEN_PREFIX = "igt_"  # noqa: S105 - a public prefix, not a secret


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and what they may do."""

    name: str
    scopes: frozenset[str]


def hash_token(token: str) -> str:
    # Tokens are 256-bit random values, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str, scopes: list[str]) -> str:
    """Store a new token and return it in clear: the only time it is shown."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput(f"unknown scope {unknown[0]!r}; scopes are: " + ", ".join(SCOPES))
    if not scopes:
        raise InvalidInput("at least one scope is needed; scopes are: " + ", ".join(SCOPES))
    if not name.strip():
        raise InvalidInput("a token needs a name saying who uses it")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name.strip(),
            token_hash=hash_token(token),
            scopes=sorted(set(scopes)),
            created_at=utcnow(),
        )
    )
    session.flush()
    return token


def authenticate(session: Session, token: str, admin_token: str | None) -> Principal | None:
    """The principal ``token`` stands for, or None when it is unknown or revoked."""
    if admin_token is not None and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(name="admin", scopes=frozenset(SCOPES))
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(name=row.name, scopes=frozenset(row.scopes))
