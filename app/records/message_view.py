"""A recorded message as the decision read it: the headers that matter, every part, and
the text of each, whose it was (the sender's own, quoted, forwarded, attached, unread).

Read again from the raw message the store keeps beside each verdict (until retention or
an erasure empties it: then only the verdict's own record remains, and this says so).
Every value here is the sender's text: whoever shows it escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import StoredMessage
from mailhook.checks import sender_headers
from mailhook.errors import UnusableMessage
from mailhook.message import Channel, Envelope, header_items, parse_message
from mailhook.parts import Part
from mailhook.reading import Piece, Role, read_message

# What the checks read (README "The checks"), in the spelling shown. Who wrote it and to
# whom, what about; who answers or is told of it; which servers it passed and what they
# found; who signed it; whether a program wrote it.
HEADERS: Final = (
    "From",
    *sender_headers.HEADERS,
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Return-Path",
    "Received",
    "Authentication-Results",
    "ARC-Authentication-Results",
    "ARC-Message-Signature",
    "ARC-Seal",
    "DKIM-Signature",
    "Auto-Submitted",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "Precedence",
    "MIME-Version",
    "Content-Type",
)
_SPELLING: Final = {name.lower(): name for name in HEADERS}


@dataclass(frozen=True, slots=True)
class MessageView:
    """What is left of a recorded message to show, and why anything is missing."""

    raw_kept: bool
    # When retention or an erasure emptied the raw message; None while it is kept.
    emptied_at: datetime | None
    # Why nothing could be read although the bytes are kept; "" when all was read.
    problem: str = ""
    # (name, value) of the HEADERS present, top to bottom, values decoded (RFC 2047).
    headers: list[tuple[str, str]] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    # The sender's text was longer than what is read (mailhook.reading's caps).
    truncated: bool = False

    def own_text(self) -> str:
        """The sender's own text: subjects not of replies, and own text of body parts."""
        return "\n".join(p.text for p in self.pieces if p.role in (Role.SUBJECT, Role.OWN))


def stored_message(session: Session, sha256: str) -> MessageView:
    """The message of that SHA-256 as the decision read it (mailhook.reading)."""
    row = session.execute(
        select(StoredMessage.raw, StoredMessage.purged_at).where(StoredMessage.sha256 == sha256)
    ).first()
    if row is None or not row.raw:
        return MessageView(raw_kept=False, emptied_at=row.purged_at if row else None)
    try:
        message = parse_message(row.raw, Envelope(), Channel.API)
    except UnusableMessage as exc:
        return MessageView(raw_kept=True, emptied_at=None, problem=str(exc))
    headers = [
        (_SPELLING[name.lower()], value) for name, value in header_items(message.parsed, _SPELLING)
    ]
    reading = read_message(message)
    parts: dict[str, Part] = {}
    for piece in reading.pieces:
        if piece.part is not None:
            parts.setdefault(piece.part.label, piece.part)
    return MessageView(
        raw_kept=True,
        emptied_at=None,
        headers=headers,
        parts=list(parts.values()),
        pieces=list(reading.pieces),
        truncated=reading.truncated,
    )
