"""replay: a DKIM-signed message, or a Message-ID, seen before with other content."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Label,
    Row,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    cast,
    insert,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from app.db.models import MessageFingerprint, Verdict, table_of
from mailhook.checks import declare
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "replay"
RESULTS: tuple[str, ...] = ("pass", "fail", "duplicate", "retransmission", "none")
declare(
    NAME,
    "no earlier message has this DKIM signature or Message-ID with other content",
    results=RESULTS,
)
DKIM = "dkim-b"
MESSAGE_ID = "message-id"
# Signatures fingerprinted per message. Real mail carries one to three; the bottom-most
# are kept, as every hop adds its signature on top of the author's (RFC 6376 §5.6).
MAX_SIGNATURES = 50
# Earlier sightings read per message: the first ones are the ones a reason names.
_MAX_ROWS = 200
_WHITESPACE = re.compile(r"\s+")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# What an earlier sighting is read for.
_SIGHTING = ("kind", "body_sha256", "message_sha256", "verdict_id", "seen_at")
FINGERPRINTS = table_of(MessageFingerprint)
# The kind of the row sightings() reads for a verdict of the same bytes.
_RECORDED = "recorded"


class Sighting(NamedTuple):
    """An earlier message with one of the same fingerprints (a row of _SIGHTING)."""

    kind: str
    body_sha256: str
    message_sha256: str
    verdict_id: str
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class Fingerprints:
    """What recognises a message again: its signatures, Message-ID, body and bytes."""

    signatures: tuple[str, ...]  # SHA-256 of each DKIM b= value, whitespace removed
    message_id: str | None  # SHA-256 of the From address and the Message-ID
    body_sha256: str
    message_sha256: str

    def lookup_keys(self) -> list[tuple[str, str]]:
        keys = [(DKIM, value) for value in self.signatures]
        if self.message_id is not None:
            keys.append((MESSAGE_ID, self.message_id))
        return keys


def fingerprints(message: InboundMessage, sender: str | None) -> Fingerprints:
    """What recognises ``message`` again; ``sender`` is its normalised From address.

    A Message-ID counts per sender: a careless mail program that gives every message the
    same one must not make another sender's message look like a replay, while a replay
    keeps the From of the message it copies.
    """
    message_id = message.message_id
    return Fingerprints(
        signatures=tuple(_sha256(b) for b in dkim_signature_values(message)),
        message_id=_sha256(f"{sender or ''}\0{message_id}") if message_id else None,
        body_sha256=body_sha256(message.raw, message.crlf_only),
        message_sha256=message.sha256,
    )


def dkim_signature_values(message: InboundMessage) -> list[str]:
    """The b= value of every DKIM-Signature header, bottom-most first, without whitespace.

    Read from the headers directly (RFC 6376 §3.2 tag list), whether or not the
    signature verifies: a copy of a signed message carries the same value either way.
    """
    values: list[str] = []
    for key, raw_value in reversed(list(message.parsed.raw_items())):
        if key.lower() != "dkim-signature":
            continue
        for tag in str(raw_value).split(";"):
            name, equals, value = tag.partition("=")
            if equals and name.strip() == "b":
                # RFC 6376 §3.5: whitespace in b= is ignored.
                signature = _WHITESPACE.sub("", value)
                if signature and signature not in values:
                    values.append(signature)
                break
        if len(values) == MAX_SIGNATURES:
            break
    return values


def body_sha256(raw: bytes, crlf_only: bool = False) -> str:
    """SHA-256 of the body, line ends and trailing empty lines aside (RFC 6376 §3.4.3).

    The same message handed over by SMTP (CRLF) and by a pipe (LF) has the same body.
    ``crlf_only``: every CR and LF of ``raw`` is in a CRLF (InboundMessage.crlf_only).
    """
    end = _HEADER_END.search(raw)
    if end is None:
        return hashlib.sha256(b"").hexdigest()
    if crlf_only:
        # Where every CR is in a CRLF, deleting the CRs is the same as replacing the
        # CRLFs, in a fraction of the time; the header section's CRs go too, and the
        # body is where its LF-only copy begins. No slice of the body is copied.
        lf_only = raw.translate(None, b"\r")
        start = end.end() - raw.count(b"\r", 0, end.end())
    else:
        lf_only, start = raw[end.end() :].replace(b"\r\n", b"\n"), 0
    return hashlib.sha256(memoryview(lf_only)[start : _without_last_lines(lf_only)]).hexdigest()


def _without_last_lines(text: bytes, tail: int = 4096) -> int:
    """The length of ``text.rstrip(b"\\n")``, without the copy rstrip makes."""
    kept = len(text[-tail:].rstrip(b"\n"))
    if kept or len(text) <= tail:
        return len(text) - min(tail, len(text)) + kept
    return len(text.rstrip(b"\n"))


def check_replay(prints: Fingerprints, seen: Sightings) -> Finding:
    """Compare a message, by its ``prints``, with the fingerprints of every recorded message
    (``seen``: what sightings() found of them)."""
    if not prints.lookup_keys():
        return Finding(
            NAME,
            "none",
            "The message has neither a DKIM signature nor a Message-ID, so a copy sent again "
            "could not be recognised.",
        )
    rows = seen.rows
    signature = next(
        (r for r in rows if r.kind == DKIM and r.message_sha256 != prints.message_sha256), None
    )
    if signature is not None:
        return Finding(
            NAME,
            "fail",
            f"A message with the same DKIM signature was first seen {_when(signature)} "
            "with other bytes: a signed message sent again is a replay; act only on the "
            "original.",
        )
    rewritten = next(
        (r for r in rows if r.kind == MESSAGE_ID and r.body_sha256 != prints.body_sha256), None
    )
    if rewritten is not None:
        return Finding(
            NAME,
            "fail",
            f"A message with the same Message-ID was first seen {_when(rewritten)} with a "
            "different body: the same message sent again with its text changed.",
        )
    copy = next((r for r in rows if r.message_sha256 != prints.message_sha256), None)
    if copy is not None:
        return Finding(
            NAME,
            "duplicate",
            f"The same message (Message-ID and body) was first seen {_when(copy)} with other "
            "headers: a copy delivered again; check that the first copy was dealt with.",
        )
    if rows:
        return Finding(
            NAME,
            "retransmission",
            f"These exact bytes were first recorded {_when(rows[0])}: the sending server "
            "delivered the message again (a retry), which is not a replay.",
        )
    return Finding(
        NAME, "pass", "No earlier message has this message's DKIM signature or Message-ID."
    )


def remember(
    session: Session, prints: Fingerprints, verdict_id: str, recorded_at: datetime
) -> None:
    """Record a message's fingerprints with its verdict, in the caller's transaction."""
    rows = fingerprint_rows(prints, verdict_id, recorded_at)
    if rows:
        # One bulk insert, not ORM objects: the rows are never read back in this transaction.
        session.execute(insert(FINGERPRINTS), rows)


def fingerprint_rows(
    prints: Fingerprints, verdict_id: str, recorded_at: datetime
) -> list[dict[str, Any]]:
    """The rows of ``message_fingerprints`` that remember a message with its verdict."""
    return [
        {
            "kind": kind,
            "value": value,
            "body_sha256": prints.body_sha256,
            "message_sha256": prints.message_sha256,
            "verdict_id": verdict_id,
            "seen_at": recorded_at,
        }
        for kind, value in prints.lookup_keys()
    ]


@dataclass(frozen=True, slots=True)
class Sightings:
    """Earlier messages sharing a fingerprint with this one, oldest first, and the verdict
    recorded for these very bytes, if any (the message is then a retransmission)."""

    rows: list[Any]
    recorded_verdict: str | None = None
    # The values of the ``also`` columns sightings() was asked to read with them.
    also: tuple[Any, ...] = ()


def sightings(
    session: Session | Connection,
    prints: Fingerprints,
    unflushed: Sequence[dict[str, Any]] = (),
    also: tuple[Label[Any], ...] = (),
) -> Sightings:
    """What the store knows of a message like this one: one statement for both questions
    asked of every message (recorded before? seen with other content?).

    ``unflushed``: fingerprint rows (fingerprint_rows) written in this transaction but not
    inserted yet; they count as seen after every stored one, as they were. ``also``:
    scalar subqueries the same statement reads (what a batch's transaction needs first:
    the registry version, the audit chain's head), so they cost no statement of their own.
    """
    query = _sightings_query(len(prints.signatures), prints.message_id is not None, also)
    values = {f"signature_{i}": value for i, value in enumerate(prints.signatures)}
    if prints.message_id is not None:
        values["message_id"] = prints.message_id
    values["message_sha256"] = prints.message_sha256
    rows: list[Any] = []
    recorded: str | None = None
    extra: tuple[Any, ...] = ()
    for row in session.execute(query, values):
        if also:
            extra = tuple(row[-len(also) :])
        if row.kind == _RECORDED:
            recorded = row.verdict_id
        elif row.kind is not None:
            rows.append(row)
    if unflushed:
        keys = set(prints.lookup_keys())
        rows += [
            Sighting(*(row[name] for name in _SIGHTING))
            for row in unflushed
            if (row["kind"], row["value"]) in keys
        ]
    return Sightings(rows, recorded, extra)


@functools.lru_cache(maxsize=4 * (MAX_SIGNATURES + 1))
def _sightings_query(
    signatures: int, message_id: bool, also: tuple[Label[Any], ...] = ()
) -> Select[Any]:
    """The lookup of earlier sightings and of a verdict for the same bytes, by its shape;
    built and compiled once per shape (a query built anew for every message cost more
    than running it). With ``also``, those columns follow on every row, and one row with
    the sightings' columns NULL stands for none found."""
    found = _found(signatures, message_id)
    if not also:
        return select(found).order_by(found.c.position)
    # A one-row anchor joined to what was found: the ``also`` columns come back even when
    # nothing was.
    anchor = select(literal_column("1").label("anchor")).subquery()
    joined = anchor.outerjoin(found, true())
    columns = [found.c[name] for name in (*_SIGHTING, "position")]
    return select(*columns, *also).select_from(joined).order_by(found.c.position)


def _found(signatures: int, message_id: bool) -> Subquery:
    # Plain columns of the table, as plain rows: loading ORM objects cost more than the
    # query, and nothing here changes them (app.db.models.table_of).
    table = FINGERPRINTS
    verdicts = table_of(Verdict)
    # The first verdict of these bytes, as a row of the same shape, kind _RECORDED.
    recorded = (
        select(
            literal_column(f"'{_RECORDED}'").label("kind"),
            cast(null(), table.c.body_sha256.type).label("body_sha256"),
            verdicts.c.message_sha256,
            verdicts.c.id.label("verdict_id"),
            # Typed, or PostgreSQL takes the NULL of a subquery for text.
            cast(null(), table.c.seen_at.type).label("seen_at"),
            literal_column("0").label("position"),
        )
        .where(verdicts.c.message_sha256 == bindparam("message_sha256"))
        .order_by(verdicts.c.seq)
        .limit(1)
    )
    conditions = []
    if signatures:
        wanted = [bindparam(f"signature_{i}", type_=String) for i in range(signatures)]
        conditions.append(and_(table.c.kind == DKIM, table.c.value.in_(wanted)))
    if message_id:
        conditions.append(
            and_(table.c.kind == MESSAGE_ID, table.c.value == bindparam("message_id"))
        )
    if not conditions:
        return recorded.subquery()
    seen = (
        select(*(table.c[name] for name in _SIGHTING), table.c.id.label("position"))
        .where(or_(*conditions))
        .order_by(table.c.id)
        .limit(_MAX_ROWS)
    )
    # Each part in a subquery of its own (its ORDER BY and LIMIT kept); the sightings
    # first, so their column types read the rows.
    return union_all(seen.subquery().select(), recorded.subquery().select()).subquery()


def _when(row: Row[Any]) -> str:
    return f"{row.seen_at:%Y-%m-%d %H:%M:%S} UTC (verdict {row.verdict_id})"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
