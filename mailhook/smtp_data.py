"""Reading one SMTP DATA section into one buffer, with aiosmtpd's semantics to the byte.

aiosmtpd 1.4 keeps DATA as a list of one bytearray per line (for the usual 76-byte lines
that is twice the message in memory) and joins it into a third copy at the end. Fifty
sessions of 10 MB in DATA at once held over a gigabyte that way. ``read_data`` keeps
the message in one growing buffer and hands it over as ``bytes`` without a final copy.

Nor does it read line by line: an await per line was most of the CPU a large message
cost on its way in. It reads whatever has arrived up to the next possible end of data
and takes those pieces whole (``_Taken``): dots unstuffed and limits checked by bytes
operations over every complete line of a piece at once, the line-by-line rules applied
only to a piece holding a line that breaks one. Everything else is aiosmtpd's
``SMTP.smtp_DATA``: which lines end the data, what is unstuffed, what is counted
against the size limit, and when which refusal is given.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass
from typing import Final

from mailhook import replies

# RFC 5321 §4.1.1.4: the data ends with a line of a single dot, "\r\n.\r\n" with the line
# end before it. Searched for without its CR: a piece may end between the two.
_END: Final = b"\n.\r\n"


@dataclass(slots=True)
class DataProgress:
    """Bytes of the DATA section received so far, for the session's rate watch."""

    received: int = 0


@dataclass(frozen=True, slots=True)
class ReceivedData:
    """The message of a DATA section, and the SHA-256 of it, hashed as it arrived."""

    raw: bytes
    sha256: str


async def read_data(
    reader: asyncio.StreamReader,
    size_limit: int | None,
    line_length_limit: int,
    progress: DataProgress | None = None,
) -> ReceivedData | str:
    """The message of the DATA section being received, or the reply that refuses it.

    A refusal is given only once the end of data has been read (RFC 5321 §4.2.5 implies
    it, and aiosmtpd does so); what was received until then is dropped at once.
    ``reader`` is aiosmtpd's, whose limit is ``line_length_limit``.
    """
    taken = _Taken(size_limit, line_length_limit, progress or DataProgress())
    # Only where a line starts can a dot end the data; DATA's own line has just ended.
    at_line_start = True
    while True:
        if at_line_start:
            # One byte tells whether this line may be the end of data.
            first = await reader.readexactly(1)
            if first != b".":
                taken.take(first)
                at_line_start = False
                continue
            rest, at_line_start = await _read_until(reader, b"\r\n")
            if at_line_start and rest == b"\r\n":
                break
            taken.take(first + rest)
            continue
        piece, found = await _read_until(reader, _END)
        if found and taken.cr_before(piece, len(piece) - len(_END)):
            taken.take(piece[: -len(b".\r\n")])
            break
        taken.take(piece)
        # A line break then ".\r\n" after a bare LF: the dot line was data, a line ended.
        at_line_start = found
    return taken.result()


async def _read_until(reader: asyncio.StreamReader, separator: bytes) -> tuple[bytes, bool]:
    """(what has arrived up to and with ``separator``, True), or (a piece of what has
    arrived without it, False) when it is not within the reader's limit."""
    try:
        return await reader.readuntil(separator), True
    except asyncio.LimitOverrunError as overrun:
        # ``consumed`` leaves in the buffer whatever may begin the separator.
        return await reader.read(overrun.consumed), False


class _Taken:
    """The DATA bytes as sent (dot-stuffed), taken in pieces: the message and its refusal.

    Lines (ending in CRLF, RFC 5321 §2.3.8: a bare LF or CR is data) are judged whole:
    the last, incomplete line of a piece waits for the next piece.
    """

    def __init__(self, size_limit: int | None, line_length_limit: int, progress: DataProgress):
        self.size_limit = size_limit
        self.line_length_limit = line_length_limit
        # aiosmtpd's reader has this limit: a longer line comes in pieces, and is refused
        # before its length is counted against the size limit.
        self.reader_limit = line_length_limit
        self.progress = progress
        self.buffer = io.BytesIO()
        self.digest = hashlib.sha256()
        self.refusal: str | None = None
        self.partial = b""  # the incomplete line at the end of what was taken
        self.lines_bytes = 0  # the bytes of the complete lines taken
        self.last = b"\n"

    def cr_before(self, piece: bytes, index: int) -> bool:
        """Whether the byte before ``piece[index]`` (maybe the last one taken) is a CR."""
        before = piece[index - 1 : index] if index else self.last
        return before == b"\r"

    def take(self, piece: bytes) -> None:
        self.progress.received += len(piece)
        self.last = piece[-1:]
        if self.refusal is not None:
            return
        data = self.partial + piece if self.partial else piece
        end = data.rfind(b"\r\n") + 2
        if end == 1:  # no line ends in it
            self.partial = data
        else:
            self.partial = data[end:]
            self._lines(data[:end] if end < len(data) else data)
        if self.refusal is None and len(self.partial) >= self.reader_limit + 2:
            # However it ends, this line is longer than the reader's limit.
            self.refusal = replies.LINE_TOO_LONG
        if self.refusal is not None:
            self.buffer = io.BytesIO()
            self.partial = b""

    def _lines(self, lines: bytes) -> None:
        """Complete lines, starting at a line start."""
        over_size = self.size_limit and self.lines_bytes + len(lines) > self.size_limit
        if over_size or self._longest(lines) > self.line_length_limit:
            self.refusal = self._first_refusal(lines)
            return
        self.lines_bytes += len(lines)
        # RFC 5321 §4.5.2: the sender doubled a leading dot; take one away. Lines without
        # a dot (a base64 body's) are told by one memchr, not the replace's search.
        unstuffed = lines.replace(b"\r\n.", b"\r\n") if b"." in lines else lines
        view = memoryview(unstuffed)[1:] if unstuffed[:1] == b"." else unstuffed
        self.buffer.write(view)
        self.digest.update(view)

    def _longest(self, lines: bytes) -> int:
        """The length of the longest of ``lines`` (its CRLF included), or a length below
        the line length limit when every line is below it."""
        limit = self.line_length_limit
        if len(lines) <= limit:
            return len(lines)
        # A line of 2w + 3 octets or more holds a whole window of w + 1 octets at a
        # multiple of w without a CRLF in it. Windows a few hundred octets apart look
        # at far fewer places than there are lines; only a window without a CRLF has
        # every line measured.
        window = (limit - 3) // 2
        if window > 0 and all(
            lines.find(b"\r\n", start, start + window + 1) >= 0
            for start in range(0, len(lines) - window, window)
        ):
            return 2 * window + 2
        return max(map(len, lines.split(b"\r\n"))) + 2

    def _first_refusal(self, lines: bytes) -> str:
        """aiosmtpd's refusal at the first line of ``lines`` that breaks a limit."""
        received = self.lines_bytes
        for content in lines.split(b"\r\n")[:-1]:
            length = len(content) + 2
            received += length
            if length > self.reader_limit + 2:
                return replies.LINE_TOO_LONG
            if self.size_limit and received > self.size_limit:
                return replies.TOO_MUCH_DATA
            if length > self.line_length_limit:
                return replies.LINE_TOO_LONG
        raise AssertionError("called for lines of which none breaks a limit")

    def result(self) -> ReceivedData | str:
        if self.refusal is not None:
            return self.refusal
        # BytesIO hands its own buffer over as the bytes (CPython shares it, no copy).
        return ReceivedData(self.buffer.getvalue(), self.digest.hexdigest())
