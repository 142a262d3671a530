"""Verdicts recorded together: one row of the ``verdict_records`` view per verdict.

The view's INSERT trigger (migration 0014) writes the verdict's raw message, its row,
its fingerprints, the outbox event announcing it and its audit chain entry, so a batch
of verdicts (app.decision.group_commit) is inserted in one statement, not one per table.
The statement is compiled once; its values pass through the same column types as a
plain insert into each table would, so what is stored, and every digest of it, is the
same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, LargeBinary, MetaData, String, Table, Text, insert
from sqlalchemy.orm import Session

from app.audit import chain
from app.db.types import UTCDateTime
from app.records.verdicts import VerdictRows

# Not in the models' metadata: a view, which migrations create and nothing else reads.
VERDICT_RECORDS = Table(
    "verdict_records",
    MetaData(),
    Column("sha256", String),
    Column("raw", LargeBinary),
    Column("received_at", UTCDateTime()),
    Column("id", String),
    Column("message_id", String),
    Column("recorded_at", UTCDateTime()),
    Column("channel", String),
    Column("decision", String),
    Column("assurance", String),
    Column("customer", String),
    Column("instruction", JSON),
    Column("checks", JSON),
    Column("reasons", JSON),
    Column("envelope", JSON),
    Column("rules_version", String),
    Column("signature", Text),
    Column("body_sha256", String),
    Column("prints", JSON),
    Column("event_id", String),
    Column("event", String),
    Column("event_data", JSON),
    Column("event_created_at", UTCDateTime()),
    Column("audit_seq", BigInteger),
    Column("audit_recorded_at", String),
    Column("audit_kind", String),
    Column("audit_subject", String),
    Column("audit_payload", Text),
    Column("audit_prev_hash", String),
    Column("audit_entry_hash", String),
)
_INSERT = insert(VERDICT_RECORDS)
# The view's names of the outbox event's columns (``event`` keeps its name); the audit
# entry's are prefixed "audit_".
_EVENT_COLUMNS = {"id": "event_id", "data": "event_data", "created_at": "event_created_at"}


@dataclass(frozen=True, slots=True)
class Recorded:
    """A verdict to insert: its rows, its message's fingerprints, the event announcing it."""

    rows: VerdictRows
    # The body's SHA-256 and the (kind, value) pairs of app.decision.checks.replay.
    body_sha256: str
    prints: list[tuple[str, str]]
    # Its ``outbox_events`` row (app.delivery.outbox.event_row).
    event: dict[str, Any]


def insert_verdicts(session: Session, verdicts: list[Recorded]) -> None:
    """Insert each verdict with its audit chain entry appended, in order, in one statement."""
    if not verdicts:
        return
    entries = chain.entry_rows(session, [recorded.rows.chain_draft for recorded in verdicts])
    values = [_values(recorded, entry) for recorded, entry in zip(verdicts, entries, strict=True)]
    session.execute(_INSERT, values)


def _values(recorded: Recorded, entry: dict[str, Any]) -> dict[str, Any]:
    rows, event = recorded.rows, recorded.event
    # The verdict row's columns under their own names, but its message's SHA-256, which
    # the view takes once for every table as ``sha256``.
    values = {name: value for name, value in rows.verdict_row.items() if name != "message_sha256"}
    # The raw message's row: sha256, raw, received_at.
    values.update(rows.stored)
    values["body_sha256"] = recorded.body_sha256
    values["prints"] = [list(pair) for pair in recorded.prints]
    values.update({_EVENT_COLUMNS.get(key, key): value for key, value in event.items()})
    values.update({f"audit_{key}": value for key, value in entry.items()})
    return values
