"""The Sendmail milter protocol, version 6: packets, commands and replies as data.

What the MTA and a filter say to each other over one connection (libmilter's
``mfdef.h`` has the constants; Postfix's MILTER_README what Postfix sends): every packet
is a 32-bit big-endian length, one command byte and its data; strings in the data end
with a NUL. Nothing here does input or output: ``mailhook.milter`` reads packets off a
socket and answers what ``decode`` makes of them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

VERSION: Final = 6
# A packet longer than this is not from an MTA: Postfix sends body chunks of at most
# 65535 bytes (MILTER_CHUNK_SIZE) and a header is limited by header_size_limit
# (102400 by default); libmilter itself refuses packets over 1 MiB with its default.
MAX_PACKET: Final = 1024 * 1024

# -- commands, MTA to filter (SMFIC_*) -------------------------------------------
ABORT: Final = b"A"
BODY: Final = b"B"
CONNECT: Final = b"C"
MACRO: Final = b"D"
END_OF_MESSAGE: Final = b"E"
HELO: Final = b"H"
QUIT_NEW_CONNECTION: Final = b"K"
HEADER: Final = b"L"
MAIL: Final = b"M"
END_OF_HEADERS: Final = b"N"
NEGOTIATE: Final = b"O"
QUIT: Final = b"Q"
RCPT: Final = b"R"
DATA: Final = b"T"
UNKNOWN: Final = b"U"

# -- replies and actions, filter to MTA (SMFIR_*) --------------------------------
ACCEPT: Final = b"a"
CONTINUE: Final = b"c"
DISCARD: Final = b"d"
ADD_HEADER: Final = b"h"
INSERT_HEADER: Final = b"i"
CHANGE_HEADER: Final = b"m"
PROGRESS: Final = b"p"
QUARANTINE: Final = b"q"
REJECT: Final = b"r"
TEMPFAIL: Final = b"t"
REPLY_CODE: Final = b"y"

# -- actions the filter may take (SMFIF_*), negotiated ---------------------------
ACTION_ADD_HEADERS: Final = 0x01
ACTION_CHANGE_HEADERS: Final = 0x10
ACTION_QUARANTINE: Final = 0x20

# -- protocol steps (SMFIP_*), negotiated ----------------------------------------
NO_UNKNOWN: Final = 0x100
NO_DATA: Final = 0x200
# "No reply" for a step: the MTA does not wait for an answer to it (version 6).
NO_REPLY_HEADER: Final = 0x80
NO_REPLY_CONNECT: Final = 0x1000
NO_REPLY_HELO: Final = 0x2000
NO_REPLY_MAIL: Final = 0x4000
NO_REPLY_RCPT: Final = 0x8000
NO_REPLY_DATA: Final = 0x10000
NO_REPLY_UNKNOWN: Final = 0x20000
NO_REPLY_END_OF_HEADERS: Final = 0x40000
NO_REPLY_BODY: Final = 0x80000
# Header values keep the white space after the colon, both ways.
HEADER_LEADING_SPACE: Final = 0x100000

ACTIONS_WANTED: Final = ACTION_ADD_HEADERS | ACTION_CHANGE_HEADERS | ACTION_QUARANTINE
NO_REPLY_STEPS: Final = {
    CONNECT: NO_REPLY_CONNECT,
    HELO: NO_REPLY_HELO,
    MAIL: NO_REPLY_MAIL,
    RCPT: NO_REPLY_RCPT,
    DATA: NO_REPLY_DATA,
    UNKNOWN: NO_REPLY_UNKNOWN,
    HEADER: NO_REPLY_HEADER,
    END_OF_HEADERS: NO_REPLY_END_OF_HEADERS,
    BODY: NO_REPLY_BODY,
}
# Every step we do not need left out, every answer we do not need spared.
STEPS_WANTED: Final = NO_UNKNOWN | NO_DATA | HEADER_LEADING_SPACE | sum(NO_REPLY_STEPS.values())

_LENGTH = struct.Struct(">I")
_NEGOTIATION = struct.Struct(">III")


class ProtocolError(ValueError):
    """The MTA sent something that is not the milter protocol; the connection is closed."""


@dataclass(frozen=True, slots=True)
class Negotiation:
    """What the MTA offered in SMFIC_OPTNEG: its version, actions and protocol steps."""

    version: int
    actions: int
    steps: int


@dataclass(frozen=True, slots=True)
class Connect:
    hostname: str
    address: str | None
    """The client's IP address; None when the MTA does not know it (family ``U``)."""


@dataclass(frozen=True, slots=True)
class Macros:
    stage: bytes
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    value: str


def packet(command: bytes, data: bytes = b"") -> bytes:
    """One packet on the wire: length of command and data, the command, the data."""
    return _LENGTH.pack(len(command) + len(data)) + command + data


def packet_length(prefix: bytes) -> int:
    """The length a packet's 4-byte prefix announces; ProtocolError when impossible."""
    length: int = _LENGTH.unpack(prefix)[0]
    if length < 1 or length > MAX_PACKET:
        raise ProtocolError(f"a packet of {length} bytes (at most {MAX_PACKET})")
    return length


def strings(data: bytes, count: int | None = None) -> list[str]:
    """The NUL-terminated strings of ``data`` (``count`` of them when given).

    Surrogate escapes keep bytes that are not UTF-8 (an 8-bit header) as they came, so
    that the message rebuilt from them has its bytes back.
    """
    if not data.endswith(b"\0"):
        raise ProtocolError("a string without its terminating NUL")
    parts = data[:-1].split(b"\0")
    if count is not None and len(parts) != count:
        raise ProtocolError(f"{len(parts)} strings where {count} belong")
    return [part.decode("utf-8", "surrogateescape") for part in parts]


def decode_negotiation(data: bytes) -> Negotiation:
    if len(data) != _NEGOTIATION.size:
        raise ProtocolError(f"a negotiation of {len(data)} bytes")
    return Negotiation(*_NEGOTIATION.unpack(data))


def encode_negotiation(offer: Negotiation) -> bytes:
    """Our answer: the version we speak, and of what the MTA offers, what we want."""
    steps = offer.steps & STEPS_WANTED
    return packet(NEGOTIATE, _NEGOTIATION.pack(VERSION, offer.actions & ACTIONS_WANTED, steps))


def decode_connect(data: bytes) -> Connect:
    """SMFIC_CONNECT: hostname NUL, family byte, then port and address for a socket."""
    name_end = data.find(b"\0")
    if name_end < 0 or name_end + 1 >= len(data):
        raise ProtocolError("a CONNECT without hostname and family")
    hostname = data[:name_end].decode("utf-8", "surrogateescape")
    family, rest = data[name_end + 1 : name_end + 2], data[name_end + 2 :]
    if family == b"U":
        # Unknown: no socket (mail submitted on the command line, for example).
        return Connect(hostname, None)
    if family not in (b"4", b"6", b"L") or len(rest) < 3:
        raise ProtocolError(f"a CONNECT with family {family!r}")
    (address,) = strings(rest[2:], 1)
    if family == b"L":
        return Connect(hostname, None)  # a Unix socket: no IP address
    return Connect(hostname, address.removeprefix("IPv6:"))


def decode_macros(data: bytes) -> Macros:
    """SMFIC_MACRO: the stage it is for, then name NUL value NUL pairs."""
    if not data:
        raise ProtocolError("a MACRO without its stage")
    stage, rest = data[:1], data[1:]
    if not rest:
        return Macros(stage)
    items = strings(rest)
    if len(items) % 2:
        raise ProtocolError("a MACRO with a name and no value")
    return Macros(stage, dict(zip(items[::2], items[1::2], strict=True)))


def decode_header(data: bytes) -> Header:
    name, value = strings(data, 2)
    if not name:
        raise ProtocolError("a HEADER without a name")
    return Header(name, value)


def first_argument(data: bytes) -> str:
    """SMFIC_MAIL and SMFIC_RCPT: the address (in angle brackets), then ESMTP arguments."""
    arguments = strings(data)
    return arguments[0]


def header_action(command: bytes, index: int | None, name: str, value: str) -> bytes:
    """ADDHEADER (no index), INSHEADER or CHGHEADER (an index; an empty value deletes)."""
    # A name read from the MTA goes back as the bytes it came as (see strings()).
    text = b"%s\0%s\0" % (
        name.encode("utf-8", "surrogateescape"),
        value.encode("utf-8", "surrogateescape"),
    )
    if index is None:
        return packet(command, text)
    return packet(command, _LENGTH.pack(index) + text)


def reply_code(reply: str) -> bytes:
    """SMFIR_REPLYCODE: the SMTP reply the MTA gives its client instead of its own."""
    return packet(REPLY_CODE, reply.encode("ascii") + b"\0")
