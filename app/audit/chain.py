"""The tamper-evident record: one hash chain of entries, appended, never changed.

Each entry commits to the entry before it (``prev_hash``) and to the SHA-256 of its
payload, the canonical JSON (app.signing.canonical_json) of what happened. Personal
data (a customer's panel address, name, masked identifiers) never enters a payload:
it sits in ``audit_personal`` beside the entry, and the payload commits only to a
salted SHA-256 of it. Erasure deletes that side row and appends an ``erasure`` entry
naming it, so every hash in the chain still verifies; the salt keeps a guessed
address from being confirmed against the hash left behind.

Appends are serialised so several writers (threads, replicas) make one linear chain:
PostgreSQL takes a transaction-scoped advisory lock; SQLite transactions begin
IMMEDIATE (app.db.engine), so the head cannot move under a writer. The unique
``prev_hash`` refuses a fork even if that ever failed.

The hashes are computed in app.audit.hashing; ``audit verify`` walks the chain in
app.records.audit_verify.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.audit.hashing import GENESIS, entry_hash, personal_digest
from app.db.models import AuditEntry, AuditPersonal, Base, table_of
from app.db.types import utcnow
from app.signing import canonical_json

ERASURE = "erasure"
# Any constant: every appender in every replica asks for the same lock.
_CHAIN_LOCK = 0x1A7A6E0A
# The newest entry, which the next one chains to; built once (appended to per verdict).
_ENTRIES = table_of(AuditEntry)
_HEAD = select(_ENTRIES.c.seq, _ENTRIES.c.entry_hash).order_by(_ENTRIES.c.seq.desc()).limit(1)
# The head's two columns as scalar subqueries, for a statement that reads other things too.
HEAD_SEQ = _HEAD.with_only_columns(_ENTRIES.c.seq).scalar_subquery().label("chain_seq")
HEAD_HASH = _HEAD.with_only_columns(_ENTRIES.c.entry_hash).scalar_subquery().label("chain_hash")
# PostgreSQL's lock and head read, sent together (see _locked_head).
_LOCK_THEN_HEAD = (
    "SELECT pg_advisory_xact_lock(444231178); "
    "SELECT seq, entry_hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
)
assert str(_CHAIN_LOCK) in _LOCK_THEN_HEAD and _ENTRIES.name in _LOCK_THEN_HEAD
# Where a transaction that holds the chain's lock to its end keeps the head (see hold_head).
_HELD_HEAD = "intakeguard_chain_head"


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry to append: what happened (``payload``), to what, and any personal data."""

    kind: str
    subject: str
    payload: dict[str, Any]
    personal: dict[str, Any] | None = None


def append(
    session: Session,
    kind: str,
    subject: str,
    payload: dict[str, Any],
    personal: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (commits or rolls back with it)."""
    return append_many(session, [Draft(kind, subject, payload, personal)])[0]


def hold_head(session: Session, head: tuple[int | None, str | None] | None = None) -> None:
    """Let ``session``'s transaction follow the chain's head in memory: from ``head`` (its
    seq and hash, None when the chain is empty), or from what its first append reads.

    Only for a transaction that nothing rolls back in part (no savepoint around an
    append) and, given ``head``, that read it under the chain's lock: a SQLite write
    transaction (BEGIN IMMEDIATE). Either way, once the lock is taken it is held to the
    commit (PostgreSQL's advisory lock is transaction-scoped), so no other appender can
    move the head meanwhile, and later appends need neither the lock nor a read.
    """
    if head is None:
        session.info[_HELD_HEAD] = None
        return
    seq, entry_hash = head
    session.info[_HELD_HEAD] = (seq, entry_hash) if seq is not None else (0, GENESIS)


def append_many(session: Session, drafts: list[Draft]) -> list[AuditEntry]:
    """Append entries in order under one lock; call it late in the transaction, since
    the lock is held until commit and every other appender waits for it."""
    if not drafts:
        return []
    entries, sides = _chained(session, drafts)
    # Bulk inserts, not the unit of work: the rows are only ever inserted, and on the hot
    # path (one entry per verdict) the ORM's bookkeeping cost more than the insert.
    session.execute(insert(_ENTRIES), [_columns(entry, AuditEntry) for entry in entries])
    if sides:
        # After the entries: each side row's foreign key names one.
        rows = [_columns(side, AuditPersonal) for side in sides]
        session.execute(insert(table_of(AuditPersonal)), rows)
    return entries


def entry_rows(session: Session, drafts: list[Draft]) -> list[dict[str, Any]]:
    """The ``audit_entries`` rows appending ``drafts`` (none with personal data), for the
    caller to insert in this transaction with other rows, in one statement, before any
    other append: the chain's lock is taken (or held) and the head followed as by
    append_many."""
    if any(draft.personal is not None for draft in drafts):
        raise ValueError("entries with personal data are appended by append_many")
    entries, _ = _chained(session, drafts) if drafts else ([], [])
    return [_columns(entry, AuditEntry) for entry in entries]


def _chained(session: Session, drafts: list[Draft]) -> tuple[list[AuditEntry], list[AuditPersonal]]:
    """The entries of ``drafts`` chained to the head (under the lock), and their side rows."""
    held: tuple[int, str] | None = session.info.get(_HELD_HEAD)
    seq, prev = held if held is not None else _locked_head(session)
    recorded_at = _timestamp(utcnow())
    entries: list[AuditEntry] = []
    sides: list[AuditPersonal] = []
    for draft in drafts:
        seq += 1
        payload = dict(draft.payload)
        if draft.personal is not None:
            side = AuditPersonal(
                entry_seq=seq,
                salt=secrets.token_hex(16),
                data=canonical_json(draft.personal).decode(),
            )
            payload["personal_sha256"] = personal_digest(side.salt, side.data)
            sides.append(side)
        body = canonical_json(payload).decode()
        entry = AuditEntry(
            seq=seq,
            recorded_at=recorded_at,
            kind=draft.kind,
            subject=draft.subject,
            payload=body,
            prev_hash=prev,
            entry_hash=entry_hash(seq, recorded_at, draft.kind, draft.subject, body, prev),
        )
        entries.append(entry)
        prev = entry.entry_hash
    if _HELD_HEAD in session.info:
        # The rows are inserted in this transaction or it fails as a whole.
        session.info[_HELD_HEAD] = (seq, prev)
    return entries, sides


def _columns(row: AuditEntry | AuditPersonal, model: type[Base]) -> dict[str, Any]:
    """The column values of a not yet added ``row``, as a bulk insert takes them."""
    return {column.key: getattr(row, column.key) for column in model.__table__.columns}


def _locked_head(session: Session) -> tuple[int, str]:
    """The chain's lock taken (held to the commit), then its head read: seq and hash."""
    if session.get_bind().dialect.name != "postgresql":
        # SQLite: the transaction began IMMEDIATE and already holds the database's write lock.
        return head(session)
    # One round trip for both (a batch's serial section pays every one): two statements in
    # one query string, which the driver sends by the simple protocol as the statement has
    # no parameters. Under read committed each statement of it takes its own snapshot, so
    # the head is read after the lock is granted and sees the last appender's commit; one
    # statement doing both would read the head as of before its wait.
    result = session.connection().exec_driver_sql(_LOCK_THEN_HEAD)
    try:
        cursor = result.cursor
        cursor.nextset()
        row = cursor.fetchone()
    finally:
        result.close()
    return (row[0], row[1]) if row is not None else (0, GENESIS)


def head(session: Session) -> tuple[int, str]:
    """The chain's size (its last seq) and head hash; (0, GENESIS) when it is empty."""
    row = session.execute(_HEAD).first()
    return (row.seq, row.entry_hash) if row is not None else (0, GENESIS)


def timestamp(moment: datetime) -> str:
    """How entries and checkpoints write a time: ISO 8601, UTC, microseconds, a "Z"."""
    return _timestamp(moment)


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
