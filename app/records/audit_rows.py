"""What ``audit verify`` checks beyond the chain: the rows its entries record, both ways.

An entry about a verdict, review, action, verification or document receipt commits to
that row (``verdict_sha256``, ``record_sha256`` or its deciding fields). These rows
decide what agents may do, so a row edited after it was recorded, a recorded row that
is gone, and a row that no entry records are each a break of the record.

The chain is unkeyed: whoever can write to the database can rebuild every hash after
an edit. Only a head hash kept outside the database (README "Audit and records") shows
that; this check makes every other edit of these tables show.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.hashing import digest_of, record_digest, sha256_hex
from app.db.models import (
    AgentAction,
    AuditEntry,
    ConfirmationAnswer,
    Customer,
    DocumentReceipt,
    Review,
    StoredMessage,
    Verdict,
    Verification,
)
from app.records.confirmations import answer_json
from app.records.reviews import action_json, review_json
from app.records.verdicts import as_json
from app.records.verifications import verification_json
from app.registry.name_keys import keys_of_customers
from app.registry.state import REGISTRY_KINDS, registry_digests
from mailhook.names import customer_name_keys

_BATCH = 1000


@dataclass(frozen=True, slots=True)
class RecordedTable:
    """A table whose rows are recorded by entries of ``kind``, and how to check one."""

    kind: str
    noun: str
    model: Any
    id_key: str
    # Why the row differs from what the entry committed to, or None.
    differs: Callable[[Any, dict[str, Any]], str | None]
    # The entry subject of a row (to find the entries that may record it).
    subject: Callable[[Any], str]


def _digest_differs(
    key: str, record: Callable[[Any], Mapping[str, Any]]
) -> Callable[..., str | None]:
    def differs(row: Any, payload: dict[str, Any]) -> str | None:
        return None if record_digest(record(row)) == payload.get(key) else "was changed"

    return differs


def _whole_row_differs(row: Any, payload: dict[str, Any]) -> str | None:
    # Entries written before every column was committed to (row_sha256) have only the
    # digests and fields of their time, compared by the table's own ``differs``.
    committed = payload.get("row_sha256")
    if committed is not None and digest_of(row) != committed:
        return "was changed"
    if isinstance(row, Verdict):
        return _verdict_extras_differ(row, payload)
    return None


def _verdict_extras_differ(row: Verdict, payload: dict[str, Any]) -> str | None:
    if row.message_sha256 != payload.get("message_sha256"):
        return "names another message than it committed to"
    envelope = payload.get("envelope_sha256")
    # Erasure empties the envelope to {"erased": true}; the erasure entry records that.
    erased = row.envelope == {"erased": True}
    if envelope is not None and not erased and record_digest(row.envelope) != envelope:
        return "has a changed envelope"
    return None


def _receipt_differs(row: DocumentReceipt, payload: dict[str, Any]) -> str | None:
    # The entry's digest covers the receipt's generated explanation, so the fields that
    # decide are compared instead: whose documents, by whom, and whether they complete.
    completes = row.verdict_id if row.complete else None
    recorded = (payload.get("verdict_id"), payload.get("agent"), payload.get("complete"))
    if (row.verdict_id, row.agent, row.complete) != recorded or row.completes_verdict != completes:
        return "was changed"
    return None


RECORDED: tuple[RecordedTable, ...] = (
    RecordedTable(
        "verdict", "verdict", Verdict, "verdict_id",
        _digest_differs("verdict_sha256", as_json), lambda row: row.id,
    ),
    RecordedTable(
        "review", "review", Review, "review_id",
        _digest_differs("record_sha256", review_json), lambda row: row.verdict_id,
    ),
    RecordedTable(
        "action", "agent action", AgentAction, "action_id",
        _digest_differs("record_sha256", action_json), lambda row: row.verdict_id,
    ),
    RecordedTable(
        "verification", "verification", Verification, "verification_id",
        _digest_differs("record_sha256", verification_json), lambda row: row.id,
    ),
    RecordedTable(
        "document_receipt", "document receipt", DocumentReceipt, "receipt_id",
        _receipt_differs, lambda row: row.verdict_id,
    ),
    RecordedTable(
        "confirmation", "confirmation answer", ConfirmationAnswer, "answer_id",
        _digest_differs("record_sha256", answer_json), lambda row: row.verdict_id or row.customer,
    ),
)  # fmt: skip
_BY_KIND = {table.kind: table for table in RECORDED}


class RowCheck:
    """Checks the recorded rows a batch of entries at a time, then the rows no entry names.

    Rows are counted first, then the chain is walked: every row counted then had its
    entry committed with it, so fewer recorded rows found than counted means a row
    without an entry, even while writers keep appending (no false alarm). Rows recorded
    before the chain's first entry predate the chain (it starts at migration 0004) and
    are not expected to have one.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        first = session.scalar(select(AuditEntry.recorded_at).order_by(AuditEntry.seq).limit(1))
        # No chain at all: nothing can be expected to be recorded (nor checked).
        self.since = _parse_timestamp(first) if first is not None else None
        self.counted = dict.fromkeys(_BY_KIND, (0, 0))
        for table in RECORDED if self.since is not None else ():
            count, last = session.execute(
                select(func.count(), func.coalesce(func.max(table.model.seq), 0)).where(
                    table.model.recorded_at >= self.since
                )
            ).one()
            self.counted[table.kind] = (int(count), int(last))
        self.found = dict.fromkeys(_BY_KIND, 0)
        # Raw messages found emptied (hash -> the verdict entry naming them), and those a
        # retention or erasure entry says it emptied: every one of the first must be one
        # of the second.
        self.emptied: dict[str, int] = {}
        self.purged: set[str] = set()

    def problems(
        self, entries: Iterable[tuple[AuditEntry, dict[str, Any] | None]]
    ) -> dict[int, str]:
        """Why each entry of a batch (with its parsed payload) disagrees with its row."""
        wanted: dict[str, dict[int, str]] = {}
        for entry, payload in entries:
            table = _BY_KIND.get(entry.kind)
            if table is not None and payload is not None:
                wanted.setdefault(table.kind, {})[entry.seq] = str(payload.get(table.id_key))
        problems: dict[int, str] = {}
        payloads = {entry.seq: payload for entry, payload in entries}
        for kind, ids in wanted.items():
            table = _BY_KIND[kind]
            rows = {
                row.id: row
                for row in self.session.scalars(
                    select(table.model).where(table.model.id.in_(set(ids.values())))
                )
            }
            for seq, row_id in ids.items():
                row = rows.get(row_id)
                if row is None:
                    problems[seq] = f"entry {seq}: the {table.noun} {row_id} it records is gone"
                    continue
                if row.seq <= self.counted[kind][1] and self._in_chain(row):
                    self.found[kind] += 1
                why = _whole_row_differs(row, payloads[seq] or {}) or table.differs(
                    row, payloads[seq] or {}
                )
                if why is not None:
                    problems[seq] = f"entry {seq}: the {table.noun} {row_id} it records {why}"
        for seq, problem in self._message_problems(wanted.get("verdict", {}), payloads).items():
            problems.setdefault(seq, problem)
        return problems

    def _message_problems(
        self, verdicts: dict[int, str], payloads: dict[int, dict[str, Any] | None]
    ) -> dict[int, str]:
        """Why the raw message a verdict entry names disagrees with it: the stored bytes
        re-hashed while they are kept, the SHA-256 alone once retention emptied them."""
        named = {seq: str((payloads[seq] or {}).get("message_sha256")) for seq in verdicts}
        stored = {
            row.sha256: row
            for row in self.session.scalars(
                select(StoredMessage).where(StoredMessage.sha256.in_(set(named.values())))
            )
        }
        problems: dict[int, str] = {}
        for seq, sha256 in named.items():
            message = stored.get(sha256)
            if message is None:
                problems[seq] = f"entry {seq}: the raw message {sha256} it names is gone"
            elif message.raw and sha256_hex(message.raw) != sha256:
                problems[seq] = f"entry {seq}: the raw message {sha256} was changed"
            elif not message.raw and message.purged_at is None:
                problems[seq] = f"entry {seq}: the raw message {sha256} was emptied unrecorded"
            elif not message.raw:
                self.emptied.setdefault(sha256, seq)
        return problems

    def see_purge(self, entry: AuditEntry, payload: dict[str, Any]) -> None:
        """Note the raw messages a retention or erasure entry emptied."""
        if entry.kind == "retention_purge":
            self.purged.update(payload.get("message_sha256", []))
        elif entry.kind == "erasure":
            self.purged.update(payload.get("raw_message_sha256", []))

    def emptied_unrecorded(self) -> tuple[int, str] | None:
        """A raw message emptied without the entry of a retention or erasure that did it."""
        for sha256, seq in sorted(self.emptied.items(), key=lambda item: item[1]):
            if sha256 not in self.purged:
                return seq, (
                    f"entry {seq}: the raw message {sha256} was emptied without a retention "
                    "or erasure entry"
                )
        return None

    def unrecorded(self) -> str | None:
        """A row that no entry records, or None."""
        for table in RECORDED:
            count, last = self.counted[table.kind]
            if self.found[table.kind] < count:
                row_id = self._first_unrecorded(table, last)
                if row_id is not None:
                    return f"the {table.noun} {row_id} is stored without an audit entry"
        return None

    def _in_chain(self, row: Any) -> bool:
        return self.since is not None and row.recorded_at >= self.since

    def _first_unrecorded(self, table: RecordedTable, last: int) -> str | None:
        after = 0
        while True:
            rows = list(
                self.session.scalars(
                    select(table.model)
                    .where(table.model.seq > after, table.model.seq <= last)
                    .order_by(table.model.seq)
                    .limit(_BATCH)
                )
            )
            if not rows:
                return None
            recorded = set()
            for payload in self.session.scalars(
                select(AuditEntry.payload).where(
                    AuditEntry.kind == table.kind,
                    AuditEntry.subject.in_({table.subject(row) for row in rows}),
                )
            ):
                recorded.add(str(_loads(payload).get(table.id_key)))
            for row in rows:
                if row.id not in recorded and self._in_chain(row):
                    return str(row.id)
            after = rows[-1].seq


def _parse_timestamp(recorded_at: str) -> datetime:
    # Entries keep their time as written (app.audit.chain): ISO 8601 in UTC with a "Z".
    return datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))


def _loads(payload: str) -> dict[str, Any]:
    try:
        loaded = json.loads(payload)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


class RegistryCheck:
    """The registry's current state against the newest registry entry of each customer.

    The walk hands every entry to ``see``; the newest entry about a login that changed
    its state (a put, a code issued or used) holds the digest of that state in its side
    row (app.registry.state). A deletion or erasure after it means no row may be stored.
    Entries written before the digest existed commit to nothing to compare.
    """

    def __init__(self) -> None:
        # login -> (seq, committed digest or None, still stored?)
        self.latest: dict[str, tuple[int, str | None, bool]] = {}
        self.first_registry_seq: int | None = None

    def see(self, entry: AuditEntry, side_data: str | None) -> None:
        if entry.kind in REGISTRY_KINDS:
            digest = _loads(side_data).get("registry_sha256") if side_data else None
            self.latest[entry.subject] = (entry.seq, digest, True)
            if digest is not None and self.first_registry_seq is None:
                self.first_registry_seq = entry.seq
        elif entry.kind in ("customer_delete", "erasure"):
            self.latest[entry.subject] = (entry.seq, None, False)

    def problem(self, session: Session) -> tuple[int | None, str] | None:
        """The first customer whose stored state its newest entry does not account for."""
        after = -1
        seen: set[str] = set()
        unrecorded: str | None = None
        while True:
            rows = list(
                session.execute(
                    select(Customer.id, Customer.login, Customer.kind, Customer.name)
                    .where(Customer.id > after)
                    .order_by(Customer.id)
                    .limit(_BATCH)
                )
            )
            if not rows:
                break
            digests = registry_digests(session, [row.id for row in rows])
            keys = keys_of_customers(session, [row.id for row in rows])
            for customer_id, login, kind, name in rows:
                seen.add(login)
                latest = self.latest.get(login)
                if latest is None:
                    if self.first_registry_seq is not None and unrecorded is None:
                        unrecorded = f"the customer {login} is stored without an audit entry"
                    continue
                seq, digest, stored = latest
                if not stored:
                    return seq, f"entry {seq} removed the customer {login}, who is stored"
                if digest is not None and digests.get(customer_id) != digest:
                    return seq, f"entry {seq}: the customer {login} it records was changed"
                if keys.get(customer_id, frozenset()) != frozenset(customer_name_keys(kind, name)):
                    # Derived from the name the entry commits to: kept as the name gives.
                    return seq, f"entry {seq}: the name keys of customer {login} were changed"
            after = rows[-1].id
        for login, (seq, digest, stored) in sorted(self.latest.items(), key=lambda i: i[1][0]):
            if stored and digest is not None and login not in seen:
                return seq, f"entry {seq}: the customer {login} it records is gone"
        return None if unrecorded is None else (None, unrecorded)
