"""Verdicts: recording one, reading one, and the keyset-paginated list."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Row, bindparam, insert, select
from sqlalchemy.orm import Session

from app.audit import chain, hashing
from app.db.models import StoredMessage, Verdict, table_of
from app.db.types import iso_z, utcnow
from app.errors import InvalidInput, NotFound
from app.records.open_state import names_service, still_open
from app.signing import VerdictSigner
from app.verdict_types import Verdict as VerdictJson
from app.verdict_types import VerdictBody
from mailhook.message import InboundMessage

MAX_PAGE = 200
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Verdict.seq is a signed 64-bit integer on every backend; a larger number is no cursor.
_MAX_SEQ = 2**63 - 1


def record_verdict(
    session: Session, message: InboundMessage, body: VerdictBody, signer: VerdictSigner
) -> VerdictJson:
    """Store the raw message (once per SHA-256) and the signed verdict; return its JSON."""
    rows = verdict_rows(message, body, signer)
    # The raw message's primary key is its SHA-256: a second recording of the same bytes
    # (two deliveries racing) fails here, and the caller answers with the first verdict.
    # Rows only ever inserted, and nothing reads them back as objects in this transaction:
    # Core inserts skip the unit of work's bookkeeping (a third of the cost of recording).
    session.execute(insert(table_of(StoredMessage)), [rows.stored])
    session.execute(insert(table_of(Verdict)), [rows.verdict_row])
    chain.append_many(session, [rows.chain_draft])
    return rows.verdict


@dataclass(frozen=True, slots=True)
class VerdictRows:
    """A verdict ready to insert: its JSON as signed, its rows and its audit chain entry.

    Built without the database, so a writer of many verdicts (app.decision.group_commit)
    can insert each table's rows in one statement.
    """

    verdict: VerdictJson
    stored: dict[str, Any]
    verdict_row: dict[str, Any]
    chain_draft: chain.Draft


def verdict_rows(message: InboundMessage, body: VerdictBody, signer: VerdictSigner) -> VerdictRows:
    """The signed verdict of ``message`` with decision ``body``, and the rows that record it."""
    storable: VerdictBody = _storable(body)
    now = utcnow()
    stored = {"sha256": message.sha256, "raw": message.raw, "received_at": now}
    verdict: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "message_id": _storable(message.message_id),
        "recorded_at": iso_z(now),
        "channel": message.channel.value,
        **storable,
    }
    verdict["signature"] = signer.sign(verdict)
    row = dict(
        id=verdict["id"],
        message_id=verdict["message_id"],
        message_sha256=message.sha256,
        recorded_at=now,
        channel=verdict["channel"],
        decision=verdict["decision"],
        assurance=verdict["assurance"],
        customer=verdict["customer"],
        instruction=verdict["instruction"],
        checks=verdict["checks"],
        reasons=verdict["reasons"],
        envelope=_storable(
            {
                "client_ip": message.envelope.client_ip,
                "helo": message.envelope.helo,
                "mail_from": message.envelope.mail_from,
                "rcpt": list(message.envelope.rcpt),
                # Whether upstream Authentication-Results could be ours: kept so
                # that a later reader knows which door vouched for the hop.
                "trusted_hop": message.envelope.trusted_hop,
            }
        ),
        rules_version=verdict["rules_version"],
        signature=verdict["signature"],
    )
    entry = verdict_entry(verdict, message.sha256)
    entry["row_sha256"] = hashing.row_digest("verdicts", row)
    entry["envelope_sha256"] = hashing.record_digest(row["envelope"])
    draft = chain.Draft("verdict", verdict["id"], entry)
    return VerdictRows(cast(VerdictJson, verdict), stored, row, draft)


def verdict_entry(verdict: Mapping[str, Any], message_sha256: str) -> dict[str, Any]:
    """What the audit chain keeps of a verdict: the raw message by its SHA-256, the signed
    verdict by the digest of its JSON (as_json), and the fields a dispute starts from."""
    return {
        "verdict_id": verdict["id"],
        "message_sha256": message_sha256,
        "decision": verdict["decision"],
        "assurance": verdict["assurance"],
        "customer": verdict["customer"],
        "verdict_sha256": hashing.record_digest(verdict),
    }


def _storable(value: Any) -> Any:
    """``value`` with NUL and lone surrogates replaced by U+FFFD, in every string in it.

    They come from broken headers (NUL bytes, undecodable 8-bit bytes kept as surrogate
    escapes); PostgreSQL refuses NUL in text, and neither can be signed as UTF-8. The
    raw message keeps the original bytes.
    """
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_storable(item) for item in value)
    return value


# Whether any verdict is about these bytes: asked of every message, nearly always "no".
# Built once with a parameter, so its compiled form is reused.
_ANY_FOR_BYTES = select(Verdict.seq).where(Verdict.message_sha256 == bindparam("sha256")).limit(1)


def recorded_for_bytes(connection: Connection, sha256: str) -> bool:
    """Whether a verdict was recorded for these exact message bytes (one indexed lookup)."""
    return connection.execute(_ANY_FOR_BYTES, {"sha256": sha256}).first() is not None


def verdict_for_bytes(session: Session, sha256: str) -> VerdictJson | None:
    """The verdict first recorded for these exact message bytes, if any."""
    row = session.scalar(
        select(Verdict).where(Verdict.message_sha256 == sha256).order_by(Verdict.seq).limit(1)
    )
    return as_json(row) if row is not None else None


# The fields of a verdict as signed, in order: the names of their columns too. as_json
# and the Core reads below both build the verdict from this one list. Reads of verdicts
# select these columns (after seq, the order key of a page) instead of loading ORM
# objects: rows are only ever inserted, so nothing needs the identity map, and a page of
# ORM objects costs twice the CPU.
_SIGNED_FIELDS = (
    "id",
    "message_id",
    "recorded_at",
    "channel",
    "decision",
    "assurance",
    "customer",
    "instruction",
    "checks",
    "reasons",
    "rules_version",
    "signature",
)


def as_json(row: Verdict) -> VerdictJson:
    """The verdict exactly as signed (``recorded_at`` keeps its recorded form)."""
    verdict = {name: getattr(row, name) for name in _SIGNED_FIELDS}
    verdict["recorded_at"] = iso_z(row.recorded_at)
    return cast(VerdictJson, verdict)


def find_verdict(session: Session, verdict_id: str) -> Verdict:
    """The verdict row with public id ``verdict_id``; NotFound when there is none."""
    row = session.scalar(select(Verdict).where(Verdict.id == _canonical_id(verdict_id)))
    if row is None:
        raise NotFound(f"no verdict with id {verdict_id!r}")
    return row


def _canonical_id(verdict_id: str) -> str:
    try:
        # Ids are UUIDs we issued; anything else cannot name a verdict (and might hold
        # characters such as NUL that the database refuses even to compare).
        return str(uuid.UUID(verdict_id))
    except ValueError:
        raise NotFound(f"no verdict with id {verdict_id[:100]!r}") from None


_TABLE = Verdict.__table__
_SIGNED_COLUMNS = (_TABLE.c.seq, *(_TABLE.c[name] for name in _SIGNED_FIELDS))
_BY_ID = select(*_SIGNED_COLUMNS).where(_TABLE.c.id == bindparam("id"))


def get_verdict(session: Session | Connection, verdict_id: str) -> VerdictJson:
    """The verdict with public id ``verdict_id`` exactly as signed; NotFound when none."""
    row = session.execute(_BY_ID, {"id": _canonical_id(verdict_id)}).first()
    if row is None:
        raise NotFound(f"no verdict with id {verdict_id!r}")
    return _signed_json(row)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[VerdictJson]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class VerdictFilter:
    """What ``GET /v1/verdicts`` narrows the list to; every field None: all verdicts."""

    decision: str | None = None
    customer: str | None = None
    message_id: str | None = None
    # "open": only verdicts still waiting for the desk (app.records.open_state).
    state: Literal["open"] | None = None
    # A service as the registry writes it (U-label), among the instruction's services.
    service: str | None = None
    # recorded_at >= since and < until.
    since: datetime | None = None
    until: datetime | None = None


def list_verdicts(
    session: Session | Connection,
    *,
    wanted: VerdictFilter = VerdictFilter(),
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Newest first; ``cursor`` from a previous page continues after its last item."""
    limit = min(limit, MAX_PAGE)
    query = select(*_SIGNED_COLUMNS).order_by(_TABLE.c.seq.desc()).limit(limit + 1)
    if wanted.decision is not None:
        query = query.where(_TABLE.c.decision == wanted.decision)
    if wanted.customer is not None:
        query = query.where(_TABLE.c.customer == wanted.customer)
    if wanted.message_id is not None:
        query = query.where(_TABLE.c.message_id == wanted.message_id)
    if wanted.state == "open":
        query = query.where(still_open())
    if wanted.service is not None:
        query = query.where(names_service(wanted.service))
    if wanted.since is not None:
        query = query.where(_TABLE.c.recorded_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(_TABLE.c.recorded_at < wanted.until)
    if cursor is not None:
        query = query.where(_TABLE.c.seq < _decode_cursor(cursor))
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode_cursor(rows[-1].seq) if more and rows else None
    return Page(items=[_signed_json(row) for row in rows], next_cursor=next_cursor)


def _signed_json(row: Row[Any]) -> VerdictJson:
    """as_json of a row of _SIGNED_COLUMNS, read by position (cheaper than by name)."""
    verdict: dict[str, Any] = dict(zip(_SIGNED_FIELDS, row[1:], strict=True))
    verdict["recorded_at"] = iso_z(verdict["recorded_at"])
    return cast(VerdictJson, verdict)


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).rstrip(b"=").decode()


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, seq = text.partition(":")
        if version != "v1" or not (seq.isascii() and seq.isdigit()) or int(seq) > _MAX_SEQ:
            raise ValueError(text)
        return int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor: not a cursor returned by this API") from None
