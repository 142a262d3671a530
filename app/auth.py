"""Bearer tokens: creation, hashed storage, scopes, expiry, listing and revocation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from app.db.models import ApiToken
from app.db.types import utcnow
from app.errors import InvalidInput, NotFound

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
    # GET /v1/tokens, DELETE /v1/tokens/{id}: see and revoke the stored tokens (never their
    # secrets). Tokens are created only on the command line, so this grants no scope.
    "tokens:admin",
    # POST /v1/messages?relay=true: the caller is a mail server of ours (a remote smtp or
    # pipe receiver), so the Authentication-Results our servers wrote may be believed.
    "relay",
)
TOKEN_PREFIX = "igt_"  # noqa: S105 - a public prefix, not a secret
# --expires-in DAYS: at least one day, at most ten years.
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and what they may do."""

    name: str
    scopes: frozenset[str]


def hash_token(token: str) -> str:
    # Tokens are 256-bit random values, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, name: str, scopes: list[str], expires_in_days: int | None = None
) -> str:
    """Store a new token and return it in clear: the only time it is shown."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput(f"unknown scope {unknown[0]!r}; scopes are: " + ", ".join(SCOPES))
    if not scopes:
        raise InvalidInput("at least one scope is needed; scopes are: " + ", ".join(SCOPES))
    if not name.strip():
        raise InvalidInput("a token needs a name saying who uses it")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput(f"--expires-in: from 1 to {MAX_EXPIRY_DAYS} days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        ApiToken(
            name=name.strip(),
            token_hash=hash_token(token),
            scopes=sorted(set(scopes)),
            created_at=now,
            expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
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
_TOKEN_BY_HASH = select(
    ApiToken.name, ApiToken.scopes, ApiToken.revoked_at, ApiToken.expires_at
).where(ApiToken.token_hash == bindparam("token_hash"))


def token_principal(session: Session | Connection, token: str) -> Principal | None:
    """The principal of a stored token, or None when it is unknown, revoked or expired.

    Read from the store on every request, never cached: a revoked token stops working
    at once.
    """
    row = session.execute(_TOKEN_BY_HASH, {"token_hash": hash_token(token)}).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return Principal(name=row.name, scopes=frozenset(row.scopes))


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown of a stored token: everything but its secret."""

    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> Literal["active", "expired", "revoked"]:
        """active, expired or revoked (revoked wins: it was a decision)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        row.id, row.name, list(row.scopes), row.created_at, row.expires_at, row.revoked_at
    )


def list_tokens(session: Session) -> list[TokenInfo]:
    """Every stored token, oldest first (the configured ADMIN_TOKEN is not stored)."""
    return [_info(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_tokens(session: Session, id_or_name: str, now: datetime) -> list[TokenInfo]:
    """Revoke the token with that id, or every unrevoked one with that name (digits are
    an id); the tokens named, revoked already or now. NotFound when none is named."""
    wanted = id_or_name.strip()
    if wanted.isascii() and wanted.isdigit():
        # An id is a signed 64-bit integer; a longer number names nothing.
        number = int(wanted) if len(wanted) <= 18 else -1
        query = select(ApiToken).where(ApiToken.id == number)
    else:
        query = select(ApiToken).where(ApiToken.name == wanted, ApiToken.revoked_at.is_(None))
    rows = list(session.scalars(query.order_by(ApiToken.id).with_for_update()))
    if not rows:
        raise NotFound(f"no token with id or name {wanted[:100]!r} (or all of them are revoked)")
    for row in rows:
        if row.revoked_at is None:
            row.revoked_at = now
    session.flush()
    return [_info(row) for row in rows]
