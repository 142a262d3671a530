"""SMTP load on loopback: a small asyncio client, closed-loop throughput, open-loop latency."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.bench.servers import BenchError


class SmtpClient:
    """One SMTP session: EHLO once, then one transaction per message.

    Written here rather than taken from smtplib so the clock stops exactly between the
    end-of-data dot and the server's reply (RFC 5321 §4.1.1.4), in one loop for many
    sessions.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, helo: str) -> SmtpClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        client = cls(reader, writer)
        await client._expect("220")
        await client._command(f"EHLO {helo}", "250")
        return client

    async def send(self, raw: bytes, mail_from: str, rcpt: str) -> tuple[float, str]:
        """Deliver ``raw``; (seconds from end of DATA to the reply, the reply)."""
        await self._command(f"MAIL FROM:<{mail_from}>", "250")
        await self._command(f"RCPT TO:<{rcpt}>", "250")
        await self._command("DATA", "354")
        self.writer.write(_dot_stuffed(raw) + b".\r\n")
        await self.writer.drain()
        sent = time.perf_counter()
        reply = await self._reply()
        return time.perf_counter() - sent, reply

    async def close(self) -> None:
        try:
            await self._command("QUIT", "221")
        finally:
            self.writer.close()

    async def _command(self, line: str, expected: str) -> str:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()
        return await self._expect(expected)

    async def _expect(self, expected: str) -> str:
        reply = await self._reply()
        if not reply.startswith(expected):
            raise BenchError(f"SMTP: expected {expected}, got {reply!r}")
        return reply

    async def _reply(self) -> str:
        lines: list[str] = []
        while True:
            line = (await self.reader.readline()).decode("utf-8", "replace")
            if not line:
                raise BenchError("SMTP: the server closed the connection")
            lines.append(line.rstrip("\r\n"))
            if line[3:4] != "-":
                return "\n".join(lines)


def _dot_stuffed(raw: bytes) -> bytes:
    # RFC 5321 §4.5.2: a line starting with a dot gets another one.
    body = raw if raw.endswith(b"\r\n") else raw + b"\r\n"
    return body.replace(b"\r\n.", b"\r\n..")


@dataclass
class Outcome:
    """Replies and latencies of a load phase."""

    latencies: list[float] = field(default_factory=list)
    replies: dict[str, int] = field(default_factory=dict)
    verdict_ids: list[str] = field(default_factory=list)
    wall: float = 0.0

    def record(self, latency: float, reply: str) -> None:
        code = reply[:3]
        self.replies[code] = self.replies.get(code, 0) + 1
        if code == "250":
            self.latencies.append(latency)
            self.verdict_ids.append(reply.rsplit(" ", 1)[-1])

    def summary(self) -> dict[str, Any]:
        done = len(self.latencies)
        return {
            "messages": sum(self.replies.values()),
            "recorded": done,
            "replies": self.replies,
            "msgs_per_s": round(done / self.wall, 1) if self.wall else 0.0,
            "latency_ms_median": _ms(statistics.median(self.latencies)) if done else None,
            "latency_ms_p99": _ms(percentile(self.latencies, 99)) if done else None,
        }


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _ms(seconds: float) -> float:
    return round(1000 * seconds, 2)


def unique_copies(messages: Sequence[bytes], run: str) -> Iterator[bytes]:
    """The messages, endlessly, each copy made unique by a Received line on top.

    intakeguard answers a retransmission of the same bytes with the first verdict, which
    costs a fraction of a real one; a relay's own Received line makes each copy new
    without touching what is signed.
    """
    for number, raw in enumerate(itertools.cycle(messages)):
        yield f"Received: by relay.bench (bench {run}) id {number};\r\n".encode() + raw


async def closed_loop(
    port: int,
    messages: Iterator[bytes],
    count: int,
    clients: int,
    envelope: tuple[str, str, str],
) -> Outcome:
    """``clients`` sessions, each sending the next message as soon as the last is answered."""
    helo, mail_from, rcpt = envelope
    outcome = Outcome()
    remaining = itertools.islice(messages, count)
    sessions = [await SmtpClient.connect(port, helo) for _ in range(clients)]

    async def work(client: SmtpClient) -> None:
        for raw in remaining:
            outcome.record(*await client.send(raw, mail_from, rcpt))

    started = time.perf_counter()
    await asyncio.gather(*(work(client) for client in sessions))
    outcome.wall = time.perf_counter() - started
    await asyncio.gather(*(client.close() for client in sessions))
    return outcome


async def open_loop(
    port: int,
    messages: Iterator[bytes],
    rate: float,
    seconds: float,
    clients: int,
    envelope: tuple[str, str, str],
) -> Outcome:
    """Messages offered at a fixed ``rate`` for ``seconds`` over a pool of ``clients``.

    Each message is due at its scheduled time whether or not earlier ones were answered;
    if no session is free it waits for one, and that wait shows as a lower achieved rate.
    """
    helo, mail_from, rcpt = envelope
    outcome = Outcome()
    idle: asyncio.Queue[SmtpClient] = asyncio.Queue()
    for _ in range(clients):
        idle.put_nowait(await SmtpClient.connect(port, helo))

    async def deliver(raw: bytes) -> None:
        client = await idle.get()
        try:
            outcome.record(*await client.send(raw, mail_from, rcpt))
        finally:
            idle.put_nowait(client)

    total = int(rate * seconds)
    started = time.perf_counter()
    tasks = []
    for number, raw in enumerate(itertools.islice(messages, total)):
        delay = started + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(deliver(raw)))
    await asyncio.gather(*tasks)
    outcome.wall = time.perf_counter() - started
    while not idle.empty():
        await idle.get_nowait().close()
    return outcome


async def concurrent_big(
    port: int, messages: Sequence[bytes], envelope: tuple[str, str, str]
) -> Outcome:
    """One session per message, all sending at once."""
    helo, mail_from, rcpt = envelope
    outcome = Outcome()
    sessions = [await SmtpClient.connect(port, helo) for _ in messages]
    started = time.perf_counter()
    replies = await asyncio.gather(
        *(client.send(raw, mail_from, rcpt) for client, raw in zip(sessions, messages, strict=True))
    )
    outcome.wall = time.perf_counter() - started
    for latency, reply in replies:
        outcome.record(latency, reply)
    await asyncio.gather(*(client.close() for client in sessions))
    return outcome
