"""Large messages end to end: the server's CPU per MB from DATA to the recorded verdict."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tests.bench.corpus import Corpus, fresh, sized_message, sized_text_message
from tests.bench.servers import BenchError, RunningServer
from tests.bench.smtp_load import SmtpClient

MB = 1024 * 1024
# What each size's messages carry: a base64 attachment beside a short text, or one text.
KINDS: dict[str, Callable[[int], bytes]] = {
    "attachment": sized_message,
    "text": sized_text_message,
}


def cached(cache: Path, kind: str, size: int) -> bytes:
    """The ``kind`` message of ``size`` bytes, built once under ``cache``."""
    path = cache / f"{kind}-{size}.eml"
    if not fresh(path):
        cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(KINDS[kind](size))
    return path.read_bytes()


def measure_smtp_sizes(
    server: RunningServer, corpus: Corpus, sizes: Iterable[int], cache: Path
) -> dict[str, Any]:
    """Server CPU ms per MB (all its processes) to receive, verify and record messages of
    each kind and size over one SMTP session, each one acknowledged only once recorded."""
    envelope = (corpus.helo, corpus.mail_from, corpus.rcpt)
    figures: dict[str, Any] = {}
    for kind in KINDS:
        per_mb: dict[str, float] = {}
        for size in sizes:
            big = cached(cache, kind, size)
            # A few copies for a steadier figure; each its own bytes (no duplicate refused).
            rounds = max(2, min(8, (32 * MB) // size))
            copies = [
                f"Received: by relay.bench (sizes) id {kind}-{n};\r\n".encode() + big
                for n in range(rounds + 1)
            ]
            # The first copy warms the worker (DNS cache, imports); it is not counted.
            asyncio.run(_send_all(server.smtp_port, copies[:1], envelope))
            cpu0 = server.cpu_seconds()
            asyncio.run(_send_all(server.smtp_port, copies[1:], envelope))
            cpu = server.cpu_seconds() - cpu0
            per_mb[str(size)] = round(1000 * cpu / rounds / (len(big) / MB), 1)
        figures[f"{kind}_cpu_ms_per_mb"] = per_mb
    return figures


async def _send_all(port: int, messages: list[bytes], envelope: tuple[str, str, str]) -> None:
    helo, mail_from, rcpt = envelope
    client = await SmtpClient.connect(port, helo)
    try:
        for raw in messages:
            _, reply = await client.send(raw, mail_from, rcpt)
            if not reply.startswith("250"):
                raise BenchError(f"SMTP sizes: a {len(raw)}-byte message got {reply!r}")
    finally:
        await client.close()
