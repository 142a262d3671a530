"""The one canonical inbound message every door (SMTP, pipe, REST) produces."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from email.feedparser import FeedParser
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from enum import StrEnum
from functools import cached_property
from typing import Any

from mailhook import _bodies
from mailhook.errors import UnusableMessage


class Channel(StrEnum):
    """Which door a message came through; recorded, never used to decide."""

    SMTP = "smtp"
    PIPE = "pipe"
    API = "api"
    MILTER = "milter"


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the handing-over server told us, as opposed to what the headers claim."""

    client_ip: str | None = None
    helo: str | None = None
    mail_from: str | None = None
    rcpt: tuple[str, ...] = ()
    trusted_hop: bool = False
    """Whether the message reached us through a hop declared ours: an SMTP peer in
    TRUSTED_RELAYS, the pipe (the local MTA hands it over), or a REST caller with the
    ``relay`` scope saying so. Only then can a header claiming one of our authserv-ids
    have been written by our servers; otherwise the sending client wrote it."""


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
    def crlf_only(self) -> bool:
        """Whether every CR and every LF of the message is in a CRLF, as in all mail
        received by SMTP: then its body needs no line ends made alike before hashing."""
        return crlf_only(self.raw)

    @cached_property
    def fields(self) -> dict[str, tuple[str, ...]]:
        """The raw values of the header fields, by lower-case name, top to bottom: the
        checks ask for some forty fields a message, each a pass over all of them else."""
        found: dict[str, list[str]] = {}
        for key, value in self.parsed.raw_items():
            found.setdefault(key.lower(), []).append(value)
        return {name: tuple(values) for name, values in found.items()}

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
_PARSE_PIECE = 8192  # what email.parser.Parser.parse reads at a time


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, making each header class once.

    HeaderRegistry builds a new class (``type(...)``) for every header it parses: a
    few per cent of verifying a message, and the only cyclic garbage each message left
    for the garbage collector. The class depends on the header name alone, so one
    made per name is the same class, used again.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def map_to_type(self, name: str, cls: type) -> None:
        super().map_to_type(name, cls)
        self._classes.clear()

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made


# One for the process: header classes hold no state of their own.
_HEADER_CLASSES = _HeaderClasses()


class _MessagePolicy(EmailPolicy):
    """The standard library's modern policy, keeping each header it has parsed.

    The modern policy parses a header anew on every access, and the checks read From,
    Content-Type and others several times each: that parsing was a fifth of the CPU of
    verifying a 5 KB message. Header objects are immutable, so a message's policy (one
    per message, so the cache goes with it) hands out the one it made the first time.
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(header_factory=_HEADER_CLASSES, **kw)
        # Policies refuse attribute assignment after creation; this one is internal.
        object.__setattr__(self, "_headers", {})

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value  # already a header object (one set in code), as the base does
        key = (name, value)
        headers: dict[tuple[str, str], Any] = self._headers  # type: ignore[attr-defined]
        if key not in headers:
            headers[key] = super().header_fetch_parse(name, value)
        return headers[key]


def crlf_only(raw: bytes) -> bool:
    """Whether every CR and every LF of ``raw`` is in a CRLF."""
    # As many CRs and LFs together as two per CRLF: each CR and LF is in one.
    return len(raw) - len(raw.translate(None, b"\r\n")) == 2 * raw.count(b"\r\n")


def parse_message(
    raw: bytes, envelope: Envelope, channel: Channel, sha256: str | None = None
) -> InboundMessage:
    """Parse ``raw`` with the standard library's modern policy.

    ``sha256``: the hex SHA-256 of ``raw`` when the door hashed it as it arrived (the
    SMTP door does), so that it is not hashed again.

    Raises UnusableMessage when there is nothing a verdict could be about: an empty
    input or one without any header section (RFC 5322 §2.1).
    """
    # What ``not raw.strip()`` says, without copying the whole message to say it.
    if not raw or raw.isspace():
        raise UnusableMessage("the message is empty")
    # The parser's work grows with lines times MIME nesting depth, and parts nested about
    # a thousand deep exhaust its stack. A message opening more nested parts than any real
    # one is read as its header section (what the checks read) and one unparsed body.
    headers_only = _nested_parts_exceed(raw, MAX_NESTED_PARTS)
    only_crlf = crlf_only(raw)
    try:
        parsed = _parse_bytes(raw, headers_only, crlf_only=only_crlf)
    except RecursionError:
        parsed = _parse_bytes(raw, headers_only=True, crlf_only=only_crlf)
    if not isinstance(parsed, EmailMessage) or not parsed.keys() or not _FIELD.match(raw):
        raise UnusableMessage(
            "no RFC 5322 header section found; send the complete message, headers first"
        )
    message = InboundMessage(raw=raw, envelope=envelope, channel=channel, parsed=parsed)
    message.__dict__["crlf_only"] = only_crlf  # InboundMessage.crlf_only, known already
    if sha256 is not None:
        # Where functools.cached_property keeps the value it computed.
        message.__dict__["sha256"] = sha256
    return message


def _parse_bytes(
    raw: bytes,
    headers_only: bool,
    min_run_bytes: int = _bodies.MIN_RUN_BYTES,
    crlf_only: bool = False,
) -> Message:
    """What ``BytesParser().parsebytes(raw, headers_only)`` returns, in less memory.

    parsebytes decodes the whole message into one str and wraps that in a StringIO,
    which stores it at four bytes a character: a 10 MB message peaked at 79 MB more
    while parsed. Parser.parse feeds its FeedParser 8192 characters at a time; this
    feeds it the same pieces, each decoded from 8192 bytes (ASCII decodes byte for
    character), so the parser sees exactly the same input, except that long runs of
    body text go in as one placeholder line each and are put back after parsing
    (mailhook._bodies: the same message in a fraction of the parser's time).
    """
    runs = _bodies.collapsed_runs(raw, min_run_bytes, crlf_only)
    if runs:
        # Long runs of body text fed as one placeholder line each (mailhook._bodies).
        parsed = _feed(_bodies.pieces(raw, runs, _PARSE_PIECE), headers_only)
        if _bodies.restore(parsed, raw, runs):
            return parsed
    return _feed(_bodies.pieces(raw, [], _PARSE_PIECE), headers_only)


def _feed(pieces: Iterable[str], headers_only: bool) -> Message:
    feeder = FeedParser(policy=_MessagePolicy())
    if headers_only:
        feeder._set_headersonly()  # type: ignore[attr-defined]  # as Parser.parse does
    for piece in pieces:
        feeder.feed(piece)
    return feeder.close()


def _nested_parts_exceed(raw: bytes, limit: int) -> bool:
    """Whether ``raw`` opens more than ``limit`` nested parts (what _NESTING counts).

    A case-insensitive regex cannot use the fast literal search, and over a 25 MB
    message it took longer than all the checks together. Every match of _NESTING holds
    "boundary" or "message/", so counting those in a lower-cased copy bounds the count
    from above in a fraction of the time; only above the limit is the exact count needed.
    """
    lowered = raw.lower()
    if lowered.count(b"boundary") + lowered.count(b"message/") <= limit:
        return False
    return sum(1 for _ in _NESTING.finditer(raw)) > limit


def header_values(msg: EmailMessage, name: str) -> list[str]:
    """All values of header ``name`` as text, tolerating broken encodings."""
    return [value for _, value in header_items(msg, {name.lower()})]


def header_items(msg: EmailMessage, names: Collection[str]) -> list[tuple[str, str]]:
    """(name as written, value as text) of every field whose lower-case name is in
    ``names``, top to bottom, tolerating broken encodings.

    The modern policy parses headers lazily and may raise on malformed input; we
    fall back to the raw folded value so a broken header becomes evidence, not a crash.
    """
    items: list[tuple[str, str]] = []
    for key, raw_value in msg.raw_items():
        if key.lower() not in names:
            continue
        try:
            items.append((key, str(msg.policy.header_fetch_parse(key, raw_value))))
        except Exception:  # noqa: BLE001 - any parser defect means "read it raw"
            items.append((key, str(raw_value)))
    return items
