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
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from app.db.models import AuditEntry, AuditPersonal, Base, table_of
from app.db.types import utcnow
from app.signing import canonical_json

if TYPE_CHECKING:
    from app.records.audit_rows import RowCheck

GENESIS = "0" * 64
ERASURE = "erasure"
# Any constant: every appender in every replica asks for the same lock.
_CHAIN_LOCK = 0x1A7A6E0A
_VERIFY_BATCH = 1000
# The newest entry, which the next one chains to; built once (appended to per verdict).
_ENTRIES = table_of(AuditEntry)
_HEAD = select(_ENTRIES.c.seq, _ENTRIES.c.entry_hash).order_by(_ENTRIES.c.seq.desc()).limit(1)


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry to append: what happened (``payload``), to what, and any personal data."""

    kind: str
    subject: str
    payload: dict[str, Any]
    personal: dict[str, Any] | None = None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_digest(record: dict[str, Any]) -> str:
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


def append(
    session: Session,
    kind: str,
    subject: str,
    payload: dict[str, Any],
    personal: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (commits or rolls back with it)."""
    return append_many(session, [Draft(kind, subject, payload, personal)])[0]


def append_many(session: Session, drafts: list[Draft]) -> list[AuditEntry]:
    """Append entries in order under one lock; call it late in the transaction, since
    the lock is held until commit and every other appender waits for it."""
    if not drafts:
        return []
    _lock_chain(session)
    head = session.execute(_HEAD).first()
    seq, prev = (head.seq, head.entry_hash) if head is not None else (0, GENESIS)
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
    # Bulk inserts, not the unit of work: the rows are only ever inserted, and on the hot
    # path (one entry per verdict) the ORM's bookkeeping cost more than the insert.
    session.execute(insert(_ENTRIES), [_columns(entry, AuditEntry) for entry in entries])
    if sides:
        # After the entries: each side row's foreign key names one.
        rows = [_columns(side, AuditPersonal) for side in sides]
        session.execute(insert(table_of(AuditPersonal)), rows)
    return entries


def _columns(row: AuditEntry | AuditPersonal, model: type[Base]) -> dict[str, Any]:
    """The column values of a not yet added ``row``, as a bulk insert takes them."""
    return {column.key: getattr(row, column.key) for column in model.__table__.columns}


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    # SQLite: the transaction began IMMEDIATE and already holds the database's write lock.


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class ChainReport:
    """The outcome of walking the chain; ``broken_seq`` names the first bad entry."""

    intact: bool = True
    entries: int = 0
    head_hash: str = GENESIS
    broken_seq: int | None = None
    problem: str | None = None
    erased: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "broken_seq": self.broken_seq,
            "problem": self.problem,
            "erased_personal_records": self.erased,
        }

    def broken(self, seq: int | None, problem: str) -> ChainReport:
        """Record the first break; ``seq`` is None when it is a row no entry records."""
        self.intact, self.broken_seq, self.problem = False, seq, problem
        return self


def verify_chain(session: Session) -> ChainReport:
    """Walk every entry in order and recompute every hash, and compare each recorded row
    (verdict, review, action, …) with what its entry committed to; stop at the first break.

    The chain is unkeyed: an edit followed by recomputing every later hash verifies. Only
    the head hash compared with a copy kept outside the database catches that.
    """
    # Imported here: app.records.audit_rows reads rows through the modules that append entries.
    from app.records.audit_rows import RowCheck

    report = ChainReport()
    rows = RowCheck(session)
    # Entries whose personal side row is gone, until an erasure entry accounts for them.
    unaccounted: dict[int, str] = {}
    expected_seq, prev = 1, GENESIS
    for entry, side, row_problem in _entries_with_side_rows(session, rows):
        if entry.seq != expected_seq:
            return report.broken(
                expected_seq, f"entry {expected_seq} is missing (the next one is {entry.seq})"
            )
        problem = _entry_problem(entry, side, prev) or row_problem
        if problem is not None:
            return report.broken(entry.seq, problem)
        _account_for_erasures(entry, side, unaccounted, report)
        report.entries += 1
        expected_seq, prev = entry.seq + 1, entry.entry_hash
    report.head_hash = prev
    # The foreign key keeps side rows beside entries; this catches it being bypassed.
    orphan = session.scalar(
        select(AuditPersonal.entry_seq).where(AuditPersonal.entry_seq >= expected_seq).limit(1)
    )
    if orphan is not None:
        return report.broken(orphan, f"personal data is stored for entry {orphan}, which is absent")
    if unaccounted:
        seq = min(unaccounted)
        return report.broken(seq, unaccounted[seq])
    unrecorded = rows.unrecorded()
    if unrecorded is not None:
        return report.broken(None, unrecorded)
    return report


def _entries_with_side_rows(
    session: Session, rows: RowCheck
) -> Iterator[tuple[AuditEntry, AuditPersonal | None, str | None]]:
    """Every entry in seq order, a batch at a time, with its personal side row if any and
    why the row it records (if any) disagrees with it."""
    after = -(2**62)
    while True:
        batch = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(_VERIFY_BATCH)
            )
        )
        if not batch:
            return
        sides = {
            side.entry_seq: side
            for side in session.scalars(
                select(AuditPersonal).where(
                    AuditPersonal.entry_seq.between(batch[0].seq, batch[-1].seq)
                )
            )
        }
        problems = rows.problems([(entry, _payload(entry)) for entry in batch])
        for entry in batch:
            yield entry, sides.get(entry.seq), problems.get(entry.seq)
        after = batch[-1].seq
        # Read-only walk: drop the rows read so far, so memory stays flat on long chains.
        session.expunge_all()


def _entry_problem(entry: AuditEntry, side: AuditPersonal | None, prev: str) -> str | None:
    """Why ``entry`` (in its right place) breaks the chain, or None."""
    if entry.prev_hash != prev:
        return f"entry {entry.seq} does not follow entry {entry.seq - 1}: prev_hash differs"
    recomputed = entry_hash(
        entry.seq, entry.recorded_at, entry.kind, entry.subject, entry.payload, entry.prev_hash
    )
    if recomputed != entry.entry_hash:
        return f"entry {entry.seq} was altered: its hash does not match its content"
    payload = _payload(entry)
    if payload is None:
        return f"entry {entry.seq} has a payload that is not canonical JSON"
    committed = payload.get("personal_sha256")
    if side is not None and committed is None:
        return f"entry {entry.seq} has personal data it never committed to"
    if side is not None and personal_digest(side.salt, side.data) != committed:
        return f"entry {entry.seq}: its personal data was altered"
    return None


def _payload(entry: AuditEntry) -> dict[str, Any] | None:
    try:
        payload = json.loads(entry.payload)
    except ValueError:
        return None
    if not isinstance(payload, dict) or canonical_json(payload).decode() != entry.payload:
        return None
    return payload


def _account_for_erasures(
    entry: AuditEntry,
    side: AuditPersonal | None,
    unaccounted: dict[int, str],
    report: ChainReport,
) -> None:
    payload = _payload(entry) or {}
    if side is None and "personal_sha256" in payload:
        unaccounted[entry.seq] = (
            f"entry {entry.seq}: its personal data is gone without an erasure entry"
        )
    if entry.kind == ERASURE:
        for seq in payload.get("erased_entries", []):
            if unaccounted.pop(seq, None) is not None:
                report.erased += 1
