"""``audit verify``: walk the chain, recompute every hash, compare every recorded row.

Above the records it checks: it reads verdicts, reviews and verifications through
app.records.audit_rows, which reads them through the modules that record them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.chain import ERASURE
from app.audit.checkpoints import Checkpoint
from app.audit.hashing import GENESIS, entry_hash, personal_digest
from app.db.models import AuditEntry, AuditPersonal
from app.records.audit_rows import RegistryCheck, RowCheck
from app.signing import canonical_json

_VERIFY_BATCH = 1000


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
    report = ChainReport()
    rows = RowCheck(session)
    registry = RegistryCheck()
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
        registry.see(entry, side.data if side is not None else None)
        rows.see_purge(entry, _payload(entry) or {})
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
    emptied = rows.emptied_unrecorded()
    if emptied is not None:
        return report.broken(*emptied)
    unrecorded = rows.unrecorded()
    if unrecorded is not None:
        return report.broken(None, unrecorded)
    registry_problem = registry.problem(session)
    if registry_problem is not None:
        return report.broken(*registry_problem)
    return report


def verify_against(
    session: Session, checkpoints: list[Checkpoint], report: ChainReport | None = None
) -> ChainReport:
    """``verify_chain``, then whether the chain still extends every checkpoint given.

    The walk proved every entry links to the one before; so the chain extends a
    checkpoint exactly when it still holds the checkpoint's last entry with the same
    hash. Fewer entries means the newest were removed; another hash, a rewrite.
    """
    report = report if report is not None else verify_chain(session)
    if not report.intact:
        return report
    for checkpoint in sorted(checkpoints, key=lambda c: c.size):
        if checkpoint.size == 0:
            continue
        at = f"the checkpoint of {checkpoint.size} entries signed at {checkpoint.signed_at}"
        if checkpoint.size > report.entries:
            return report.broken(
                report.entries + 1,
                f"the chain has {report.entries} entries, fewer than {at}: entries "
                f"{report.entries + 1} to {checkpoint.size} were removed",
            )
        held = session.scalar(
            select(AuditEntry.entry_hash).where(AuditEntry.seq == checkpoint.size)
        )
        if held != checkpoint.head_hash:
            return report.broken(
                checkpoint.size,
                f"the chain no longer extends {at}: entry {checkpoint.size} has another hash, "
                "so it or an entry before it was rewritten",
            )
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
