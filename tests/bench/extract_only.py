"""``python -m tests.bench.extract_only N``: instruction extraction of the first N corpus
messages, and nothing else, for counting instructions under callgrind.

CPU time on a shared machine moves with whatever else runs; the number of instructions
executed does not. Run it twice under ``valgrind --tool=callgrind`` and subtract: the
difference over N is the extraction's instructions per message, start-up aside::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python -m tests.bench.extract_only 100     # "Collected : …"
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python -m tests.bench.extract_only 0
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.decision.rules import load_rules
from mailhook.instructions import extract
from mailhook.message import Channel, parse_message
from tests.bench.corpus import BENCH_DIR, build_corpus
from tests.bench.verify import envelope_of
from tests.support import RULES

CORPUS_MESSAGES = 2000


def main(argv: list[str] | None = None, root: Path = BENCH_DIR) -> int:
    """Read the first N messages; return how many were read."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench.extract_only")
    parser.add_argument("messages", type=int, help="how many corpus messages to read")
    parser.add_argument(
        "--corpus", type=int, default=CORPUS_MESSAGES, help="corpus size (default 2000)"
    )
    arguments = parser.parse_args(argv)
    count = min(arguments.messages, arguments.corpus)
    catalogue = load_rules(RULES).catalogue
    corpus = build_corpus(arguments.corpus, root=root)
    envelope = envelope_of(corpus)
    raws = list(corpus.raw_messages())[: max(count, 1)]
    messages = [parse_message(raw, envelope, Channel.SMTP) for raw in raws]
    # Both runs read one message first: patterns compiled, memos filled alike.
    extract(parse_message(raws[0], envelope, Channel.SMTP), catalogue)
    read = 0
    for message in messages[:count]:
        read += bool(extract(message, catalogue).kinds)
    return read


if __name__ == "__main__":
    main()
