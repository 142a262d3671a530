"""The one canonical inbound message every door (SMTP, pipe, REST) produces."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from enum import StrEnum
from functools import cached_property

from mailhook.errors import UnusableMessage


class Channel(StrEnum):
    """Which door a message came through; recorded, never used to decide."""

    SMTP = "smtp"
    PIPE = "pipe"
    API = "api"


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the handing-over server told us, as opposed to what the headers claim."""

    client_ip: str | None = None
    helo: str | None = None
    mail_from: str | None = None
    rcpt: tuple[str, ...] = ()


@dataclass(frozen=True)
class InboundMessage:
    """Raw bytes, parsed headers and body, envelope and door of one message."""

    raw: bytes
    envelope: Envelope
    channel: Channel
    parsed: EmailMessage = field(repr=False)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @cached_property
    def message_id(self) -> str | None:
        """The first Message-ID header, stripped; None when absent or unreadable."""
        values = header_values(self.parsed, "Message-ID")
        if not values:
            return None
        value = values[0].strip()
        return value[:998] or None


# The first line of a message is a header field (or an mbox "From " line). Field names
# are letters, digits and hyphens in practice; the parser would also take the start of a
# JSON document ('{"panel_email": ...') for one, and that is no message.
_FIELD = re.compile(rb"[A-Za-z0-9][A-Za-z0-9_.-]*[ \t]*:|From ")
# What opens a nested part: a multipart's boundary parameter (RFC 2046 §5.1.1) or an
# encapsulated message (§5.2.1); counted before parsing, see parse_message.
_NESTING = re.compile(rb"boundary[ \t]*=|message/(?:rfc822|global)\b", re.IGNORECASE)
MAX_NESTED_PARTS = 100


def parse_message(raw: bytes, envelope: Envelope, channel: Channel) -> InboundMessage:
    """Parse ``raw`` with the standard library's modern policy.

    Raises UnusableMessage when there is nothing a verdict could be about: an empty
    input or one without any header section (RFC 5322 §2.1).
    """
    if not raw.strip():
        raise UnusableMessage("the message is empty")
    # The parser's work grows with lines times MIME nesting depth, and parts nested about
    # a thousand deep exhaust its stack. A message opening more nested parts than any real
    # one is read as its header section (what the checks read) and one unparsed body.
    headers_only = sum(1 for _ in _NESTING.finditer(raw)) > MAX_NESTED_PARTS
    try:
        parsed = BytesParser(policy=policy.default).parsebytes(raw, headersonly=headers_only)
    except RecursionError:
        parsed = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    if not isinstance(parsed, EmailMessage) or not parsed.keys() or not _FIELD.match(raw):
        raise UnusableMessage(
            "no RFC 5322 header section found; send the complete message, headers first"
        )
    return InboundMessage(raw=raw, envelope=envelope, channel=channel, parsed=parsed)


def header_values(msg: EmailMessage, name: str) -> list[str]:
    """All values of header ``name`` as text, tolerating broken encodings.

    The modern policy parses headers lazily and may raise on malformed input; we
    fall back to the raw folded value so a broken header becomes evidence, not a crash.
    """
    values: list[str] = []
    for key, raw_value in msg.raw_items():
        if key.lower() != name.lower():
            continue
        try:
            values.append(str(msg.policy.header_fetch_parse(key, raw_value)))
        except Exception:  # noqa: BLE001 - any parser defect means "read it raw"
            values.append(str(raw_value))
    return values
