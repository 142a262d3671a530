"""The hashes of the audit chain: of a record, of an entry, of personal data beside one.

A leaf: appending entries (app.audit.chain), the records that commit to their rows
(verdicts, reviews, verifications) and verifying the chain (app.records.audit_verify)
all hash through here, so none of them needs another to compute a digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.signing import canonical_json

# The prev_hash of the first entry.
GENESIS = "0" * 64


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON: what an entry commits to about a row."""
    return sha256_hex(canonical_json(record))


def personal_digest(salt: str, data: str) -> str:
    # A JSON pair, not a concatenation: no character can move between salt and data.
    return sha256_hex(canonical_json([salt, data]))


def entry_hash(
    seq: int, recorded_at: str, kind: str, subject: str, payload: str, prev_hash: str
) -> str:
    """The hash of one entry: its fields, its payload's digest and its predecessor."""
    return sha256_hex(
        canonical_json(
            {
                "seq": seq,
                "recorded_at": recorded_at,
                "kind": kind,
                "subject": subject,
                "payload_sha256": sha256_hex(payload.encode()),
                "prev_hash": prev_hash,
            }
        )
    )


# Columns an entry does not commit to, and why: every other column of every table that
# holds records is in the digest of its row (``row_record``), so an edit of any of them
# breaks ``audit verify``. tests/app/records/test_audit_tamper.py changes every column of
# every table and reads this list, so a new column is committed to unless named here.
UNCOMMITTED: dict[str, dict[str, str]] = {
    "*": {"seq": "the database's insertion order for paging; the chain orders the record"},
    "verdicts": {
        "envelope": "erasure empties it; committed apart as envelope_sha256 in the entry",
    },
    "messages": {
        "purged_at": "when retention emptied raw; the retention or erasure entry records it",
        "received_at": "schedules retention only; the time of record is the verdict's "
        "recorded_at, which its entry commits to",
    },
    "failed_code_attempts": {
        "*": "a lockout counter, not a record: deleting it only resets a lockout",
    },
    "api_tokens": {"*": "credentials, managed by the operator, not a record"},
    "webhook_subscriptions": {"*": "delivery configuration, not a record"},
    "outbox_events": {"*": "a delivery queue: copies of recorded data, emptied by retention"},
    "outbox_deliveries": {"*": "a delivery queue: attempts and leases, not a record"},
    "alert_throttle": {"*": "alert rate-limiting state, not a record"},
    "console_agents": {
        "*": "console credentials, managed by the operator like api_tokens; the login a "
        "review or action was recorded under is committed to by that record's entry"
    },
    "console_sessions": {"*": "console login sessions, not a record"},
    "console_login_failures": {"*": "a lockout counter, not a record"},
    "confirmations": {
        "*": "delivery state of a confirmation link (its hash, sends, expiry); the owner's "
        "answer is the record, in confirmation_answers"
    },
    "idempotency_keys": {"*": "a retry cache: sealed copies of answers already recorded"},
    "registry_version": {
        "*": "a change counter for in-memory copies of the registry, not a record"
    },
    "message_fingerprints": {"*": "a replay index derived from the stored messages"},
    "audit_entries": {"*": "the chain itself: every column is in the entry hash"},
    "audit_personal": {"*": "committed to by its entry's personal_sha256"},
    "audit_checkpoints": {"*": "signed copies of chain heads, checked by their signature"},
    "alembic_version": {"*": "the schema version, not a record"},
}


def committed(table: str, column: str) -> bool:
    """Whether an entry commits to ``column`` of ``table`` (see UNCOMMITTED)."""
    skip = UNCOMMITTED.get(table, {})
    return "*" not in skip and column not in skip and column not in UNCOMMITTED["*"]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, bytes | memoryview):
        return sha256_hex(bytes(value))
    return value


def row_record(table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The committed columns of a row (column name → value), as plain JSON values."""
    return {column: _plain(value) for column, value in values.items() if committed(table, column)}


def row_digest(table: str, values: Mapping[str, Any]) -> str:
    """SHA-256 of ``row_record``: what an entry commits to about the whole row."""
    return record_digest(row_record(table, values))


def values_of(row: Any) -> dict[str, Any]:
    """Every column value of a mapped row (after flush), by column name."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def digest_of(row: Any) -> str:
    """``row_digest`` of a mapped row."""
    return row_digest(row.__tablename__, values_of(row))
