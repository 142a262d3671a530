"""Milter load on loopback: a small asyncio MTA side of the milter protocol, closed loop.

Each connection speaks as Postfix does (tests/app/server/test_postfix_milter.py has the
real one): negotiation once, then per message CONNECT, HELO, MAIL, RCPT, the headers, the
body and the end of message, whose answer (the stamp and CONTINUE) stops the clock.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import struct
import time
from collections.abc import Iterator

from mailhook import milter_protocol as wire
from tests.bench.servers import BenchError
from tests.bench.smtp_load import Outcome

# What Postfix 3 offers: every action, every step and "no reply" flag.
_OFFER = struct.pack(">III", 6, 0x1FF, 0x1FFFFF)
_HEADER = re.compile(rb"([^:\r\n]+):((?:[^\r\n]*\r\n[ \t])*[^\r\n]*)\r\n")
_VERDICT_ID = re.compile(rb"; id=([0-9a-f-]{36})")


def split_message(raw: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(name, value with its leading space) of each header, and the body, as Postfix sends."""
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = [(m.group(1), m.group(2)) for m in _HEADER.finditer(head + b"\r\n")]
    return headers, body


class MilterClient:
    """The MTA's end of one milter connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        # The headers the milter inserted into the last message: name -> value.
        self.inserted: dict[str, str] = {}

    @classmethod
    async def connect(cls, port: int) -> MilterClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        client.writer.write(wire.packet(wire.NEGOTIATE, _OFFER))
        command, _ = await client._read()
        if command != wire.NEGOTIATE:
            raise BenchError(f"milter: negotiation answered {command!r}")
        return client

    async def send(self, raw: bytes, envelope: tuple[str, str, str, str]) -> tuple[float, str]:
        """One message; (seconds from end of message to the last answer, a reply line)."""
        client_ip, helo, mail_from, rcpt = envelope
        headers, body = split_message(raw)
        connect = helo.encode() + b"\x004" + struct.pack(">H", 25000) + client_ip.encode() + b"\0"
        packets = [
            wire.packet(wire.CONNECT, connect),
            wire.packet(wire.HELO, helo.encode() + b"\0"),
            wire.packet(wire.MAIL, f"<{mail_from}>\0".encode()),
            wire.packet(wire.RCPT, f"<{rcpt}>\0".encode()),
        ]
        packets += [wire.packet(wire.HEADER, b"%s\0%s\0" % header) for header in headers]
        packets.append(wire.packet(wire.END_OF_HEADERS))
        packets += [
            wire.packet(wire.BODY, body[start : start + 65535])
            for start in range(0, len(body), 65535)
        ]
        self.writer.write(b"".join(packets) + wire.packet(wire.END_OF_MESSAGE))
        await self.writer.drain()
        sent = time.perf_counter()
        verdict_id = b""
        self.inserted = {}
        while True:
            command, data = await self._read()
            if command == wire.INSERT_HEADER:
                name, value = wire.strings(data[4:], 2)
                self.inserted[name] = value.strip()
                found = _VERDICT_ID.search(data)
                verdict_id = found.group(1) if found else verdict_id
            elif command == wire.CONTINUE:
                # In the shape of the SMTP door's reply, for Outcome.
                return time.perf_counter() - sent, f"250 stamped {verdict_id.decode()}"
            elif command == wire.REPLY_CODE:
                return time.perf_counter() - sent, data.rstrip(b"\0").decode()
            elif command not in (wire.CHANGE_HEADER, wire.QUARANTINE):
                raise BenchError(f"milter: unexpected answer {command!r}")

    async def _read(self) -> tuple[bytes, bytes]:
        prefix = await self.reader.readexactly(4)
        payload = await self.reader.readexactly(struct.unpack(">I", prefix)[0])
        return payload[:1], payload[1:]

    async def close(self) -> None:
        self.writer.write(wire.packet(wire.QUIT))
        self.writer.close()


async def milter_closed_loop(
    port: int,
    messages: Iterator[bytes],
    count: int,
    clients: int,
    envelope: tuple[str, str, str, str],
) -> Outcome:
    """``clients`` connections, each sending the next message as soon as the last is answered."""
    outcome = Outcome()
    remaining = itertools.islice(messages, count)
    connections = [await MilterClient.connect(port) for _ in range(clients)]

    async def work(client: MilterClient) -> None:
        for raw in remaining:
            outcome.record(*await client.send(raw, envelope))

    started = time.perf_counter()
    await asyncio.gather(*(work(client) for client in connections))
    outcome.wall = time.perf_counter() - started
    await asyncio.gather(*(client.close() for client in connections))
    return outcome
