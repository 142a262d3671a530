"""``python -m tests.bench.large_stages``: a large message's CPU per MB, stage by stage, in
process: reading DATA from a stream, parsing, and deciding with the verdict recorded.

The ``sizes`` part measures the server over SMTP, where the load generator, the other
worker and whatever else runs on the machine move the figure between runs. This takes
the same path in one process, each stage timed in CPU time (``time.process_time``) and
reported as the median of several repeats, so that a change to one stage can be told
apart on a shared machine::

    .venv/bin/python -m tests.bench.large_stages               # 1, 5, 10, 25 MB, 5 repeats
    .venv/bin/python -m tests.bench.large_stages --sizes 5 --repeats 7 --kinds attachment
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.decision.service import DecisionService
from app.server.heap import set_start_up_heap_aside
from mailhook.message import Channel, Envelope, parse_message
from mailhook.smtp_data import ReceivedData, read_data
from tests.bench.corpus import BENCH_DIR, build_corpus
from tests.bench.servers import dns_server
from tests.bench.smtp_sizes import KINDS, MB, cached
from tests.bench.verify import envelope_of, verification_service

LINE_LENGTH_LIMIT = 1001  # aiosmtpd's default, which the receiver keeps
PIECE = 256 * 1024  # what asyncio's socket transport reads at most at a time
STAGES = ("read_data", "parse", "submit")


def dot_stuffed(raw: bytes) -> bytes:
    """``raw`` as a client sends it in DATA (RFC 5321 §4.5.2), with the end of data."""
    stuffed = raw.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    return stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n") + b".\r\n"


async def _read(wire: bytes) -> ReceivedData:
    """``wire`` read as the receiver reads it: arriving a transport's read at a time."""
    reader = asyncio.StreamReader(limit=LINE_LENGTH_LIMIT)

    async def arrive() -> None:
        for start in range(0, len(wire), PIECE):
            reader.feed_data(wire[start : start + PIECE])
            await asyncio.sleep(0)  # the reader takes what has arrived

    arriving = asyncio.create_task(arrive())
    received = await read_data(reader, 64 * MB, LINE_LENGTH_LIMIT)
    await arriving
    assert isinstance(received, ReceivedData), received
    return received


def _one_message(
    loop: asyncio.AbstractEventLoop, service: DecisionService, envelope: Envelope, raw: bytes
) -> tuple[float, float, float]:
    """CPU seconds of each stage for ``raw``: DATA read, parsed, decided and recorded."""
    clock = time.process_time
    wire = dot_stuffed(raw)
    started = clock()
    received = loop.run_until_complete(_read(wire))
    read = clock()
    message = parse_message(received.raw, envelope, Channel.SMTP, received.sha256)
    parsed = clock()
    verdict = service.submit(message)
    submitted = clock()
    assert received.raw == raw and verdict["decision"], verdict
    return read - started, parsed - read, submitted - parsed


def measure(sizes: list[int], kinds: list[str], repeats: int) -> dict[str, Any]:
    """The median CPU ms per MB of each stage (and of the three together), by kind and size."""
    corpus = build_corpus(500)
    envelope = envelope_of(corpus)
    figures: dict[str, Any] = {}
    with dns_server(corpus.zones) as dns, tempfile.TemporaryDirectory() as scratch:
        service = verification_service(dns, Path(scratch) / "stages.db")
        # As a serving process does once start-up is over (app.server.heap).
        set_start_up_heap_aside()
        # One loop for every read (asyncio.run's SIGINT handling formats the task, with
        # its result, the whole message, in the repr).
        loop = asyncio.new_event_loop()
        counter = 0
        for kind in kinds:
            for size in sizes:
                big = cached(BENCH_DIR / "sizes", kind, size)
                spent: list[tuple[float, float, float]] = []
                # The first round warms up (DNS cache, patterns); it is not counted.
                for _ in range(repeats + 1):
                    counter += 1
                    raw = f"Received: by relay.bench (stages) id {counter};\r\n".encode() + big
                    spent.append(_one_message(loop, service, envelope, raw))
                per_mb = 1000 / (len(big) / MB)
                medians = {
                    stage: round(per_mb * statistics.median(seconds), 2)
                    for stage, seconds in zip(STAGES, zip(*spent[1:], strict=True), strict=True)
                }
                medians["total"] = round(per_mb * statistics.median(map(sum, spent[1:])), 2)
                figures[f"{kind}-{size // MB}MB"] = medians
                print(f"{kind:>10} {size // MB:>3} MB  ms/MB {medians}", file=sys.stderr)
        loop.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.large_stages")
    parser.add_argument("--sizes", default="1,5,10,25", help="MB, comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS), help="attachment, text")
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args(argv)
    sizes = [int(float(size) * MB) for size in arguments.sizes.split(",")]
    measure(sizes, arguments.kinds.split(","), arguments.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
