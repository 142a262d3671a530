"""DATA as the receiver reads it, byte for byte against stock aiosmtpd on the same input.

mailhook.smtp reads DATA itself (one buffer instead of a bytearray per line); every case
here goes to the receiver and to aiosmtpd's own SMTP, and both must give the same reply
and hand over the same bytes (the dedup of retransmissions relies on identical bytes).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.mailhook.test_smtp import RecordingHandoff, receiver
from tests.mailhook.test_smtp_hostile import RawClient, open_transaction
from tests.smtp_server import SmtpThread

LIMIT = 100_000  # receiver()'s max_message_bytes
HEAD = b"From: jan@acme.pl\r\nSubject: data\r\n\r\n"


class StockHandler:
    """What stock aiosmtpd hands its DATA hook."""

    def __init__(self) -> None:
        self.contents: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.original_content, bytes)
        self.contents.append(envelope.original_content)
        return "250 OK"


class StockThread:
    """aiosmtpd's SMTP configured as start_receiver configures ours, on loopback."""

    def __init__(self) -> None:
        self.handler = StockHandler()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> StockThread:
        self.thread.start()

        async def start() -> asyncio.Server:
            return await self.loop.create_server(
                lambda: SMTP(
                    self.handler,
                    data_size_limit=LIMIT,
                    enable_SMTPUTF8=True,
                    decode_data=False,
                    loop=self.loop,
                ),
                "127.0.0.1",
                0,
            )

        self.server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.port: int = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_: object) -> None:
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def stock() -> Iterator[StockThread]:
    with StockThread() as server:
        yield server


@pytest.fixture
def handoff() -> RecordingHandoff:
    return RecordingHandoff()


@pytest.fixture
def smtp(handoff: RecordingHandoff) -> Iterator[SmtpThread]:
    with receiver(handoff) as server:
        yield server


def deliver(port: int, data: bytes, chunk: int = 0) -> tuple[bytes, bytes]:
    """(the reply to ``data`` after DATA, the reply to a NOOP after it)."""
    client = RawClient(port)
    open_transaction(client)
    # In pieces of ``chunk`` bytes (more for big inputs, to keep the test quick): lines,
    # CRLFs and dots split across reads.
    chunk = chunk if len(data) < 10_000 else chunk * 141
    pieces = (
        [data[start : start + chunk] for start in range(0, len(data), chunk)] if chunk else [data]
    )
    for piece in pieces[:-1]:
        client.socket.sendall(piece)
        time.sleep(0.0005)
    reply = client.send(pieces[-1])
    noop = client.send(b"NOOP\r\n")
    client.close()
    return reply, noop


def line(length: int) -> bytes:
    """A body line of ``length`` octets, CRLF included."""
    return b"y" * (length - 2) + b"\r\n"


CASES = {
    "plain": HEAD + b"hello\r\n.\r\n",
    "dot-stuffed": HEAD + b"..leading dot\r\n..\r\n...\r\nend\r\n.\r\n",
    "an unstuffed leading dot": HEAD + b".not stuffed\r\n.\r\n",
    "bare LF and CR": HEAD + b"a\nb\rc\n.\nd\r.\r\r\n.\r\n",
    "dot after bare LF": HEAD + b"one\n.\r\n.\r\n",
    "8-bit, NUL and UTF-8": HEAD + b"\xff\xfe\x00 za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87\r\n.\r\n",
    "no final CRLF in content": HEAD + b"last".rstrip() + b"\r\n.\r\n",
    "empty body": HEAD + b".\r\n",
    **{f"line of {n}": HEAD + line(n) + b"after\r\n.\r\n" for n in (1000, 1001, 1002, 1003, 1004)},
    "line of 5000": HEAD + line(5000) + b".\r\n",
    "dot in a long line": HEAD + b"x" * 1500 + b".\r\n" + b".\r\n",
    "long line, then too much": HEAD + line(3000) + line(1000) * 120 + b".\r\n",
    "too much, then a long line": HEAD + line(1000) * 120 + line(3000) + b".\r\n",
    # The end of data found without its line's CR (mailhook.smtp_data._END).
    "a dot after a bare LF, the end after a CR": HEAD + b"a\rb\n.\r\nc\r\r\n.\r\n",
    "an empty line, then the end": HEAD + b"\r\n.\r\n",
    "dot lines of every kind": HEAD + b"x.\r\n..\r\n.x\r\n\n.\r\n\r.\r\n.\r\r\n.\r\n",
    "a dot-stuffed long line": HEAD + b"." + line(1500) + b"after\r\n.\r\n",
    "a long line ending in CR": HEAD + b"y" * 1002 + b"\r" + b"\r\n.\r\n",
    "a line of 1003 over the limit": HEAD + line(1000) * 99 + line(1003) + line(3000) + b".\r\n",
    "a line of 1004 over the limit": HEAD + line(1000) * 99 + line(1004) + b".\r\n",
    "a large message": HEAD + (line(70) + b"." + line(75)) * 600 + b".\r\n",
    # Pieces without a dot skip the unstuffing; the dots come after several of them.
    "dotless lines, then stuffed dots": HEAD + line(78) * 1000 + b"..a\r\n...\r\n" + b".\r\n",
    "dots within lines only": HEAD + b"a.b\r\n" * 2000 + line(78) * 100 + b".\r\n",
    "exactly the limit": HEAD + line(1000) * 99 + line(LIMIT - 99_000 - len(HEAD)) + b".\r\n",
    "one over the limit": HEAD + line(1000) * 99 + line(LIMIT - 98_999 - len(HEAD)) + b".\r\n",
}


@pytest.mark.parametrize("chunk", [0, 1, 2, 3, 7], ids=["whole", "1", "2", "3", "7"])
@pytest.mark.parametrize("data", CASES.values(), ids=CASES.keys())
def test_data_is_read_as_stock_aiosmtpd_reads_it(
    smtp: SmtpThread, handoff: RecordingHandoff, stock: StockThread, data: bytes, chunk: int
) -> None:
    stock.handler.contents.clear()
    stock_reply, stock_noop = deliver(stock.port, data, chunk)
    reply, noop = deliver(smtp.port, data, chunk)
    assert noop == stock_noop == b"250 OK"  # the session goes on after either
    if stock_reply == b"250 OK":
        assert reply.startswith(b"250 2.0.0 Ok: recorded")
        [message] = handoff.messages
        [content] = stock.handler.contents
        assert message.raw == content
        assert message.sha256 == hashlib.sha256(content).hexdigest()
    else:
        assert reply == stock_reply
        assert reply[:3] in (b"500", b"552")
        assert handoff.messages == []


def test_the_cases_cover_what_they_are_named_for(stock: StockThread) -> None:
    # The boundary cases must sit on the boundaries, or the comparison proves little.
    stock.handler.contents.clear()
    replies = {name: deliver(stock.port, data)[0][:3] for name, data in CASES.items()}
    assert replies["line of 1001"] == b"250"
    assert replies["line of 1002"] == replies["line of 1003"] == b"500"
    assert replies["exactly the limit"] == b"250"
    assert replies["one over the limit"] == b"552"
    assert replies["long line, then too much"] == b"500"
    assert replies["too much, then a long line"] == b"552"
    assert stock.handler.contents[1] == HEAD + b".leading dot\r\n.\r\n..\r\nend\r\n"


def test_a_message_split_over_many_writes_arrives_whole(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    body = b"".join(b".%d line\r\n" % n for n in range(2000))
    reply, _ = deliver(smtp.port, HEAD + body.replace(b"\r\n.", b"\r\n..") + b".\r\n", 1 << 12)
    assert reply.startswith(b"250")
    assert handoff.messages[0].raw == HEAD + body[1:]
