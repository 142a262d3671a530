"""Bearer tokens: creation, hashed storage, scopes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from app.db.models import ApiToken
from app.db.types import utcnow
from app.errors import InvalidInput

SCOPES: tuple[str, ...] = (
    "intake",
    "verdicts:read",
    # GET /v1/verdicts/{id}/message: the headers and text of the message itself, which
    # verdicts:read does not show (the sender's words, addresses, a customer's mail).
    "messages:read",
    "review",
    "registry:read",
    "registry:write",
    "codes:issue",
    "audit",
    "webhooks",
    # POST /v1/messages?relay=true: the caller is a mail server of ours (a remote smtp or
    # pipe receiver), so the Authentication-Results our servers wrote may be believed.
    "relay",
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
    return admin_principal(token, admin_token) or token_principal(session, token)


def admin_principal(token: str, admin_token: str | None) -> Principal | None:
    """The administrator when ``token`` is the configured admin token (no database read)."""
    if admin_token is not None and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(name="admin", scopes=frozenset(SCOPES))
    return None


# Looked up on every API request: the three columns it needs, not an ORM object, and
# built once with a parameter so its compiled form is reused.
_TOKEN_BY_HASH = select(ApiToken.name, ApiToken.scopes, ApiToken.revoked_at).where(
    ApiToken.token_hash == bindparam("token_hash")
)


def token_principal(session: Session | Connection, token: str) -> Principal | None:
    """The principal of a stored token, or None when it is unknown or revoked.

    Read from the store on every request, never cached: a revoked token stops working
    at once.
    """
    row = session.execute(_TOKEN_BY_HASH, {"token_hash": hash_token(token)}).first()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(name=row.name, scopes=frozenset(row.scopes))
