"""The SMTP part's peer: a private Postfix (tests/postfix.py) queueing the same messages
durably (its cleanup daemon fsyncs each queue file before the 250) and relaying them to
a sink, under the same 16-client load, so the two rates come from one run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.bench.corpus import Corpus
from tests.bench.servers import BenchError, free_port
from tests.bench.smtp_load import closed_loop, unique_copies
from tests.postfix import PostfixInstance, listening, postfix_unavailable, wait_for
from tests.support import REPO

CLIENTS = 16


def measure_postfix(corpus: Corpus, count: int) -> dict[str, Any]:
    """Postfix's rate and CPU per message for ``count`` messages of ``corpus``."""
    unavailable = postfix_unavailable()
    if unavailable is not None:
        return {"skipped": unavailable}
    envelope = (corpus.helo, corpus.mail_from, corpus.rcpt)
    messages = list(corpus.raw_messages())
    root = Path(tempfile.mkdtemp(prefix="bench-postfix-"))
    # Postfix's daemons drop root and must reach their queue directory.
    root.chmod(0o755)
    with _sink() as sink_port:
        main = {
            "relay_domains": corpus.rcpt.rsplit("@", 1)[1],
            "relay_transport": "smtp",
            "relayhost": f"[127.0.0.1]:{sink_port}",
            "message_size_limit": str(64 * 1024 * 1024),
        }
        with PostfixInstance(root, main=main) as postfix:
            before = _cpu_by_process(postfix)
            outcome = asyncio.run(
                closed_loop(
                    postfix.smtp_port,
                    unique_copies(messages, "postfix"),
                    count,
                    CLIENTS,
                    envelope,
                )
            )
            cpu = _cpu_since(postfix, before)
            summary = outcome.summary()
            if summary["recorded"] != count:
                raise BenchError(f"Postfix queued {summary['recorded']} of {count}: {summary}")
    return {
        **summary,
        "clients": CLIENTS,
        "cpu_ms_per_msg": round(1000 * cpu / max(1, summary["recorded"]), 2),
    }


@contextlib.contextmanager
def _sink() -> Iterator[int]:
    """aiosmtpd's Sink handler in a process of its own: where Postfix relays to."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: listening(port), 15, f"the sink on port {port}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _cpu_by_process(postfix: PostfixInstance) -> dict[int, float]:
    """CPU seconds of each of the instance's processes, reaped children included."""
    cpu = {}
    for pid in postfix._processes():
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = sum(int(fields[index]) for index in (11, 12, 13, 14))
            cpu[pid] = ticks / os.sysconf("SC_CLK_TCK")
    return cpu


def _cpu_since(postfix: PostfixInstance, before: dict[int, float]) -> float:
    after = _cpu_by_process(postfix)
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
