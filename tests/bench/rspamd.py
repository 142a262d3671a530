"""The same corpus through rspamd, by the peer's ``bench.sh``, against the same DNS server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.bench.corpus import Corpus
from tests.bench.servers import BenchError

# Installing Debian's rspamd on first use takes minutes; the check itself far less.
TIMEOUT = 1800


def run_rspamd(script: Path, corpus: Corpus, dns: str) -> dict[str, Any]:
    """rspamd's figures: the JSON object ``bench.sh`` prints last."""
    if not script.is_file():
        raise BenchError(f"--rspamd {script}: no such file")
    command = [
        "bash",
        str(script),
        "--dns",
        dns,
        "--dir",
        str(corpus.mail),
        "--ip",
        corpus.client_ip,
        "--helo",
        corpus.helo,
        "--from",
        corpus.mail_from,
        "--rcpt",
        corpus.rcpt,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise BenchError(f"bench.sh failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError:
        raise BenchError(f"bench.sh did not end with JSON: {lines[-1][:200]!r}") from None
    if result.get("results") != corpus.messages:
        raise BenchError(f"rspamd checked {result.get('results')} of {corpus.messages} messages")
    return result
