"""``verdict_records``: a view whose INSERT trigger records a whole verdict at once.

A verdict is five rows in five tables (the raw message, the verdict, its fingerprints,
the outbox event announcing it, its audit chain entry). Inserted table by table they
cost five statements per batch of verdicts, each a round trip and a pass through the
driver; one row of this view carries all of them, and its trigger inserts them in the
database (app.records.verdict_records). The tables stay what every reader reads.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The view's columns and their PostgreSQL types (SQLite's view is untyped).
_COLUMNS = (
    ("sha256", "varchar"),
    ("raw", "bytea"),
    ("received_at", "timestamptz"),
    ("id", "varchar"),
    ("message_id", "varchar"),
    ("recorded_at", "timestamptz"),
    ("channel", "varchar"),
    ("decision", "varchar"),
    ("assurance", "varchar"),
    ("customer", "varchar"),
    ("instruction", "json"),
    ("checks", "json"),
    ("reasons", "json"),
    ("envelope", "json"),
    ("rules_version", "varchar"),
    ("signature", "text"),
    ("body_sha256", "varchar"),
    # The fingerprints as a JSON array of [kind, value] pairs, in the order looked up.
    ("prints", "json"),
    ("event_id", "varchar"),
    ("event", "varchar"),
    ("event_data", "json"),
    ("event_created_at", "timestamptz"),
    ("audit_seq", "bigint"),
    ("audit_recorded_at", "varchar"),
    ("audit_kind", "varchar"),
    ("audit_subject", "varchar"),
    ("audit_payload", "text"),
    ("audit_prev_hash", "varchar"),
    ("audit_entry_hash", "varchar"),
)
_VERDICT = (
    "id, message_id, message_sha256, recorded_at, channel, decision, assurance, customer, "
    "instruction, checks, reasons, envelope, rules_version, signature"
)
_NEW_VERDICT = (
    "NEW.id, NEW.message_id, NEW.sha256, NEW.recorded_at, NEW.channel, NEW.decision, "
    "NEW.assurance, NEW.customer, NEW.instruction, NEW.checks, NEW.reasons, NEW.envelope, "
    "NEW.rules_version, NEW.signature"
)
_FINGERPRINT = "kind, value, body_sha256, message_sha256, verdict_id, seen_at"


def _inserts(kind: str, value: str, pairs: str) -> str:
    """The trigger's statements; ``pairs``: the fingerprint pairs (FROM … ORDER BY, in
    the order looked up) and ``kind``, ``value``: each pair's two parts."""
    # Fixed names of this module, no input: S608 does not apply.
    return (
        "INSERT INTO messages (sha256, raw, received_at) "  # noqa: S608
        "VALUES (NEW.sha256, NEW.raw, NEW.received_at); "
        f"INSERT INTO verdicts ({_VERDICT}) VALUES ({_NEW_VERDICT}); "
        f"INSERT INTO message_fingerprints ({_FINGERPRINT}) "
        f"SELECT {kind}, {value}, NEW.body_sha256, NEW.sha256, NEW.id, NEW.recorded_at "
        f"FROM {pairs}; "
        "INSERT INTO outbox_events (id, event, data, created_at) "
        "VALUES (NEW.event_id, NEW.event, NEW.event_data, NEW.event_created_at); "
        "INSERT INTO audit_entries "
        "(seq, recorded_at, kind, subject, payload, prev_hash, entry_hash) "
        "VALUES (NEW.audit_seq, NEW.audit_recorded_at, NEW.audit_kind, NEW.audit_subject, "
        "NEW.audit_payload, NEW.audit_prev_hash, NEW.audit_entry_hash);"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        columns = ", ".join(f"NULL::{kind} AS {name}" for name, kind in _COLUMNS)
        op.execute(f"CREATE VIEW verdict_records AS SELECT {columns} WHERE false")
        pairs = "json_array_elements(NEW.prints) WITH ORDINALITY AS e(pair, n) ORDER BY e.n"
        inserts = _inserts("e.pair->>0", "e.pair->>1", pairs)
        op.execute(
            "CREATE FUNCTION intakeguard_record_verdict() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {inserts} RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER verdict_records_insert INSTEAD OF INSERT ON verdict_records "
            "FOR EACH ROW EXECUTE FUNCTION intakeguard_record_verdict()"
        )
        return
    columns = ", ".join(f"NULL AS {name}" for name, _ in _COLUMNS)
    op.execute(f"CREATE VIEW verdict_records AS SELECT {columns} WHERE 0")
    inserts = _inserts(
        "json_extract(e.value, '$[0]')",
        "json_extract(e.value, '$[1]')",
        "json_each(NEW.prints) AS e ORDER BY e.key",
    )
    op.execute(
        "CREATE TRIGGER verdict_records_insert INSTEAD OF INSERT ON verdict_records "
        f"BEGIN {inserts} END"
    )


def downgrade() -> None:
    op.execute("DROP VIEW verdict_records")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION intakeguard_record_verdict()")
