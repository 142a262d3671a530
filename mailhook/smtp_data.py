"""Reading one SMTP DATA section into one buffer, with aiosmtpd's semantics to the byte.

aiosmtpd 1.4 keeps DATA as a list of one bytearray per line (for the usual 76-byte lines
that is twice the message in memory) and joins it into a third copy at the end. Fifty
sessions of 10 MB in DATA at once held over a gigabyte that way. ``read_data`` keeps
the message in one growing buffer and hands it over as ``bytes`` without a final copy.
Everything else is aiosmtpd's ``SMTP.smtp_DATA``: which lines end the data, what is
unstuffed, what is counted against the size limit, and when which refusal is given.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from mailhook import replies


@dataclass(slots=True)
class DataProgress:
    """Bytes of the DATA section received so far, for the session's rate watch."""

    received: int = 0


async def read_data(
    reader: asyncio.StreamReader,
    size_limit: int | None,
    line_length_limit: int,
    progress: DataProgress | None = None,
) -> bytes | str:
    """The message of the DATA section being received, or the reply that refuses it.

    A refusal is given only once the end of data has been read (RFC 5321 §4.2.5 implies
    it, and aiosmtpd does so); what was received until then is dropped at once.
    """
    buffer = io.BytesIO()
    progress = progress if progress is not None else DataProgress()
    received = 0
    refusal: str | None = None
    # A line longer than the reader's limit comes in pieces; its pieces end no message.
    in_long_line = False
    while True:
        try:
            # RFC 5321 §2.3.8: only CRLF ends a line; a bare LF or CR is data.
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError as overrun:
            refusal = refusal or replies.LINE_TOO_LONG
            line = await reader.read(overrun.consumed)
        # RFC 5321 §4.1.1.4: a line of a single dot ends the data.
        if not in_long_line and line == b".\r\n":
            break
        received += len(line)
        progress.received = received
        if refusal is None and size_limit and received > size_limit:
            refusal = replies.TOO_MUCH_DATA
        in_long_line = not line.endswith(b"\r\n")
        if refusal is None and len(line) > line_length_limit:
            # The reader lets a line up to its limit plus CRLF through.
            refusal = replies.LINE_TOO_LONG
        if refusal is None:
            # RFC 5321 §4.5.2: the sender doubled a leading dot; take one away.
            buffer.write(memoryview(line)[1:] if line.startswith(b".") else line)
        elif buffer.tell():
            buffer = io.BytesIO()
    if refusal is not None:
        return refusal
    # BytesIO hands its own buffer over as the bytes (CPython shares it, no copy).
    return buffer.getvalue()
