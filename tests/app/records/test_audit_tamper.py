"""One value changed in every column of every table: ``audit verify`` names the entry.

Built from the table metadata, so a column added later is tampered with too unless
app.audit.hashing.UNCOMMITTED says why it carries no record data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Column, Connection, Table, select, text, update
from sqlalchemy.orm import Session

from app.audit.hashing import GENESIS, UNCOMMITTED, committed, entry_hash, personal_digest
from app.db.models import AuditEntry, AuditPersonal, Base
from app.decision.service import DecisionService
from app.records.audit_verify import ChainReport, verify_chain
from app.signing import canonical_json
from tests.app.api.common import KOWALSKI
from tests.app.records.confirming import answered
from tests.app.records.test_audit import FROM_ACME, build_decisions, submit, tamper, verify
from tests.support import make_message


def build_store(api: httpx.Client, service: DecisionService) -> None:
    """Verdicts, reviews, an action, a verification, a receipt, registry changes, codes,
    an owner's answer to a confirmation."""
    build_decisions(api)
    answered(api, service)
    assert api.put("/v1/customers/kowalska", json=KOWALSKI).status_code == 201
    assert api.post("/v1/customers/acme/codes").status_code == 201
    code = api.post("/v1/customers/acme/codes").json()["code"]
    used = submit(
        api, make_message(subject="Kod authinfo dla acme.pl", body=f"Kod: {code}"), **FROM_ACME
    )
    assert used.status_code < 300, used.text
    assert verify(api)["intact"] is True


def columns() -> Iterator[tuple[Table, Column[Any]]]:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if committed(table.name, column.name):
                yield table, column


def test_every_table_is_committed_to_or_named_with_a_reason() -> None:
    names = {table.name for table in Base.metadata.sorted_tables}
    for table, reasons in UNCOMMITTED.items():
        assert table in names | {"*", "alembic_version", "audit_checkpoints"}, table
        assert all(reason.strip() for reason in reasons.values())


def _changed(value: Any, column: Column[Any], other: Any) -> Any:
    """``value`` with one byte or value changed; ``other`` is another row's value."""
    if column.foreign_keys and other is not None:
        return other
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1_000_000
    if isinstance(value, bytes):
        return value[:-1] + bytes([value[-1] ^ 1]) if value else b"x"
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, str):
        middle = len(value) // 2
        if not value:
            return "x"
        return value[:middle] + ("x" if value[middle] != "x" else "y") + value[middle + 1 :]
    if isinstance(value, dict):
        return {**value, "tampered": True}
    if isinstance(value, list):
        return [*value, "tampered"]
    # NULL: give it a value of its type.
    python = column.type.python_type
    defaults: dict[type, Any] = {
        str: "x",
        bool: True,
        int: 1,
        datetime: datetime(2020, 1, 1, tzinfo=datetime.now().astimezone().tzinfo),
        bytes: b"x",
        dict: {"tampered": True},
        list: ["tampered"],
    }
    return defaults[python]


def _tamper_and_verify(connection: Connection, table: Table, column: Column[Any]) -> ChainReport:
    rows = list(connection.execute(select(table).order_by(*table.primary_key.columns)).mappings())
    assert rows, f"the store has no {table.name} row to tamper with"
    row = next((r for r in rows if r[column.name] not in (None, b"", "")), rows[0])
    others = [r[column.name] for r in rows if r[column.name] != row[column.name]]
    if column.foreign_keys:
        (key,) = column.foreign_keys
        referenced = key.column
        others = [
            value for value in connection.scalars(select(referenced)) if value != row[column.name]
        ]
    new = _changed(row[column.name], column, others[0] if others else None)
    where = [pk == row[pk.name] for pk in table.primary_key.columns]
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        connection.execute(text("PRAGMA defer_foreign_keys = ON"))
    result = connection.execute(update(table).where(*where).values({column.name: new}))
    assert result.rowcount == 1, (table.name, column.name)
    with Session(bind=connection) as session:
        return verify_chain(session)


def test_a_change_in_any_column_of_any_table_is_found_at_its_entry(
    api: httpx.Client, service: DecisionService
) -> None:
    build_store(api, service)
    missed: list[str] = []
    unnamed: list[str] = []
    with service.sessions.kw["bind"].connect() as connection:
        for table, column in columns():
            transaction = connection.begin()
            try:
                report = _tamper_and_verify(connection, table, column)
            finally:
                transaction.rollback()
            where = f"{table.name}.{column.name}"
            if report.intact:
                missed.append(where)
            elif report.broken_seq is None:
                unnamed.append(f"{where}: {report.problem}")
    assert missed == [], "changes not detected"
    assert unnamed == [], "changes detected but no entry named"


def test_erasing_a_customer_of_that_store_still_verifies(
    api: httpx.Client, service: DecisionService
) -> None:
    build_store(api, service)
    erased = api.post("/v1/customers/acme/erasure", json={"agent": "dpo.ewa", "reason": "Art. 17"})
    assert erased.status_code == 201, erased.text
    report = verify(api)
    assert report["intact"] is True, report
    assert report["erased_personal_records"] > 0


def test_entries_written_before_every_column_was_committed_to_still_verify(
    api: httpx.Client, service: DecisionService
) -> None:
    """A store upgraded from before row_sha256: its entries commit to less, and verify."""
    build_store(api, service)
    new_keys = ("row_sha256", "envelope_sha256")
    with service.sessions.begin() as session:
        prev = GENESIS
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
            payload = json.loads(entry.payload)
            side = session.get(AuditPersonal, entry.seq)
            if side is not None:
                data = {k: v for k, v in json.loads(side.data).items() if k != "registry_sha256"}
                side.data = canonical_json(data).decode()
                payload["personal_sha256"] = personal_digest(side.salt, side.data)
            for key in new_keys:
                payload.pop(key, None)
            entry.payload = canonical_json(payload).decode()
            entry.prev_hash = prev
            entry.entry_hash = entry_hash(
                entry.seq, entry.recorded_at, entry.kind, entry.subject, entry.payload, prev
            )
            prev = entry.entry_hash
    assert verify(api)["intact"] is True


def test_a_raw_message_emptied_without_a_retention_entry_is_found(
    api: httpx.Client, service: DecisionService
) -> None:
    build_store(api, service)
    with service.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.kind == "verdict")).first()
        assert entry is not None
    sha256 = json.loads(entry.payload)["message_sha256"]
    tamper(
        service,
        "UPDATE messages SET raw = :empty, purged_at = received_at WHERE sha256 = :sha",
        empty=b"",
        sha=sha256,
    )
    report = verify(api)
    assert (report["intact"], report["broken_seq"]) == (False, entry.seq), report
    assert "without a retention or erasure entry" in report["problem"]
