"""Helpers of the header checks: raw fields, address headers, quoting for reasons."""

from __future__ import annotations

import re
from email.headerregistry import Address, AddressHeader

from mailhook.message import InboundMessage

# How much of a header value a reason quotes: enough to recognise it, never a flood.
QUOTE_LIMIT = 80
_SPACES = re.compile(r"\s+")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# A dot-atom (RFC 5322 §3.2.3) of the characters nearly every address is written in.
_ATOMS = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
# A From value as nearly every message writes it: "Name Surname <local@domain>" (words
# of letters and digits, one space apart) or a bare local@domain. The standard
# library's address parser was a twentieth of verifying a message; for a value of this
# form it finds one mailbox with exactly these parts and no defect (property-tested),
# so the form is read here and every other value goes to the parser.
_PLAIN_MAILBOX = re.compile(
    rf"(?:([A-Za-z0-9]+(?: [A-Za-z0-9]+)*) <({_ATOMS}@{_ATOMS})>|({_ATOMS}@{_ATOMS}))"
)


def plain_mailbox(raw_value: str) -> tuple[str, str] | None:
    """(display name, addr-spec) of a From value in the plain form; None for any other."""
    match = _PLAIN_MAILBOX.fullmatch(raw_value)
    if match is None:
        return None
    display_name, bracketed, bare = match.groups()
    return display_name or "", bracketed or bare


# The header section ends at the first empty line (RFC 5322 §2.1).
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# A field's name at the start of a line: printable characters but the colon, then the
# colon, with white space allowed before it (RFC 5322 §4.5.3, obsolete syntax).
_FIELD_NAME = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:", re.MULTILINE)


def field_names(message: InboundMessage) -> list[str]:
    """The name of every field of the raw header section, lower case, top to bottom.

    Read from the raw bytes, not the parsed message: the standard library's parser ends
    the header section at a "Subject :" line (obsolete syntax, which mail clients still
    show as a Subject) and reads the rest as body.
    """
    end = _HEADER_END.search(message.raw)
    section = message.raw[: end.start()] if end else message.raw
    return [match.group(1).decode("ascii").lower() for match in _FIELD_NAME.finditer(section)]


def raw_fields(message: InboundMessage, name: str) -> list[str]:
    """The raw values of every header field called ``name`` (RFC 5322 §3.6 counts them)."""
    return list(message.fields.get(name.lower(), ()))


def parse_addresses(message: InboundMessage, name: str, raw_value: str) -> list[Address] | None:
    """The mailboxes of an address header (groups flattened); None when it cannot be read.

    A header the stdlib does not know as one of addresses (Mail-Followup-To,
    Disposition-Notification-To) is read with the syntax of To, which it has.
    """
    policy = message.parsed.policy
    try:
        header = policy.header_fetch_parse(name, as_utf8(raw_value))
        if not isinstance(header, AddressHeader):
            header = policy.header_fetch_parse("To", as_utf8(raw_value))
    except Exception:  # noqa: BLE001 - the stdlib parser raises assorted errors
        return None
    if not isinstance(header, AddressHeader):
        return None
    return list(header.addresses)


def as_utf8(raw_value: str) -> str:
    """``raw_value`` with its 8-bit bytes read as UTF-8 (RFC 6532 §3.2) where they are."""
    try:
        return raw_value.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return raw_value


def quoted(value: str) -> str:
    """``value`` unfolded, unprintables replaced and shortened, for quoting in a reason."""
    text = _UNPRINTABLE.sub("\ufffd", _SPACES.sub(" ", as_utf8(value)).strip())
    if len(text) > QUOTE_LIMIT:
        text = text[: QUOTE_LIMIT - 1] + "…"
    return text
