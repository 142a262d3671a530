"""Recording alone, in process: ``DecisionService.submit`` with the mail checks' findings
computed beforehand, on SQLite and on PostgreSQL; CPU ms and statements per message.

What is measured is everything the server does for a message besides the mail checks:
the dedup lookup, instruction extraction (shown apart), customer matching, the replay
check, the decision, the signed verdict, the audit chain, the outbox event, the commit.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from app.api import build_service
from app.audit.hashing import record_digest
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.decision.service import DecisionService, sender_of
from app.registry.customers import CustomerData, put_customer, validate
from mailhook.dns import Resolver
from mailhook.findings import Finding
from mailhook.instructions import extract
from mailhook.message import Channel, InboundMessage, parse_message
from tests.bench.corpus import SEALER, Corpus
from tests.bench.servers import postgres_available, scratch_postgres
from tests.bench.verify import envelope_of
from tests.support import make_settings

# Messages submitted before the clock starts: compiled statements, pools and caches warm.
WARM_UP = 20
# Customers registered: the owner of each service named in the first messages is the
# sender of the first one naming it, so later messages both match and fail to match.
REGISTERED_FROM = 200
# Threads submitting at once in the concurrent measurement: the SMTP part's 16 clients.
CONCURRENT = 16
_WORDS = re.compile(r"\s+")
_DECIDED = ("decision", "assurance", "customer", "instruction", "checks", "reasons")


def measure_recording(corpus: Corpus, dns: str, scratch: Path) -> dict[str, Any]:
    """The recording figures on a scratch SQLite file and a scratch PostgreSQL database:
    one message at a time, then from CONCURRENT threads at once (group commit)."""
    figures: dict[str, Any] = {
        "sqlite": _measure(f"sqlite:///{scratch}/record.db", corpus, dns),
        "sqlite_concurrent": _measure_concurrent(
            f"sqlite:///{scratch}/record-concurrent.db", corpus, dns
        ),
    }
    if postgres_available():
        with scratch_postgres() as url:
            figures["postgres"] = _measure(url, corpus, dns)
        with scratch_postgres() as url:
            figures["postgres_concurrent"] = _measure_concurrent(url, corpus, dns)
    else:
        figures["postgres"] = {"skipped": "PostgreSQL is not reachable"}
    return figures


def _prepared(url: str, corpus: Corpus, dns: str) -> tuple[DecisionService, list[InboundMessage]]:
    """A service on a new store at ``url`` with the bench's customers registered, whose
    mail checks answer from findings computed beforehand; the messages, warm-up done."""
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    service = build_service(make_settings(url, trusted_arc_sealers=[SEALER]))
    service.resolver = Resolver([dns], timeout=5.0)
    envelope = envelope_of(corpus)
    messages = [parse_message(raw, envelope, Channel.SMTP) for raw in corpus.raw_messages()]
    findings = {message.sha256: service.verify(message) for message in messages}
    _register_customers(service, messages[:REGISTERED_FROM], findings)

    def precomputed(message: InboundMessage) -> list[Finding]:
        return findings[message.sha256]

    # The checks ran above; what submit spends besides them is what is measured here.
    service.verify = precomputed  # type: ignore[method-assign]
    for message in messages[:WARM_UP]:
        service.submit(message)
    return service, messages[WARM_UP:]


def _measure_concurrent(url: str, corpus: Corpus, dns: str) -> dict[str, Any]:
    """The same messages submitted by CONCURRENT threads: batches form as they would under
    load, and statements, commits (one WAL fsync each on SQLite) and batch sizes per
    message show what group commit saves. The digest must equal the serial one."""
    service, timed = _prepared(url, corpus, dns)
    sizes: Counter[int] = Counter()
    service.group_commit.on_batch = lambda size: sizes.update([size])
    verdicts: list[Any] = [None] * len(timed)

    def submit_share(first: int) -> None:
        for index in range(first, len(timed), CONCURRENT):
            verdicts[index] = service.submit(timed[index])

    threads = [threading.Thread(target=submit_share, args=(n,)) for n in range(CONCURRENT)]
    with _counting(service.sessions.kw["bind"]) as counted:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    service.sessions.kw["bind"].dispose()
    n = max(1, len(timed))
    batches = sum(sizes.values())
    return {
        "threads": CONCURRENT,
        "messages": len(timed),
        "msgs_per_s": round(n / wall, 1),
        "cpu_ms_per_msg": round(1000 * cpu / n, 3),
        "statements_per_msg": round(sum(counted["statements"].values()) / n, 2),
        "commits_per_msg": round(counted["events"]["commit"] / n, 3),
        "batches": batches,
        "mean_batch": round(n / max(1, batches), 2),
        "batch_sizes": dict(sorted(sizes.items())),
        "statements": {
            text: round(count / n, 3) for text, count in counted["statements"].most_common()
        },
        "verdicts_sha256": record_digest([{k: v[k] for k in _DECIDED} for v in verdicts]),
    }


def _measure(url: str, corpus: Corpus, dns: str) -> dict[str, Any]:
    service, timed = _prepared(url, corpus, dns)
    verdicts = []
    with _counting(service.sessions.kw["bind"]) as counted:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for message in timed:
            verdicts.append(service.submit(message))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    extract_cpu = _extraction_cpu(service, timed)
    service.sessions.kw["bind"].dispose()
    n = max(1, len(timed))
    return {
        "messages": len(timed),
        "msgs_per_s": round(n / wall, 1),
        "cpu_ms_per_msg": round(1000 * cpu / n, 3),
        # Instruction extraction runs inside submit but belongs with the mail checks.
        "cpu_ms_per_msg_extract": round(1000 * extract_cpu / n, 3),
        "cpu_ms_per_msg_without_extract": round(1000 * (cpu - extract_cpu) / n, 3),
        "statements_per_msg": round(sum(counted["statements"].values()) / n, 2),
        "commits_per_msg": round(counted["events"]["commit"] / n, 2),
        "checkouts_per_msg": round(counted["events"]["checkout"] / n, 2),
        # Each kind of statement by its first words, per message: where round trips go.
        "statements": {
            text: round(count / n, 2) for text, count in counted["statements"].most_common()
        },
        "decisions": dict(sorted(Counter(v["decision"] for v in verdicts).items())),
        # What was decided, ids and times aside: equal across runs unless a verdict changed.
        "verdicts_sha256": record_digest([{k: v[k] for k in _DECIDED} for v in verdicts]),
    }


def _register_customers(
    service: DecisionService, messages: list[InboundMessage], findings: dict[str, list[Finding]]
) -> None:
    owners: dict[str, str] = {}
    for message in messages:
        sender = sender_of(findings[message.sha256])
        if sender is None:
            continue
        for name in extract(message, service.rules.catalogue).services:
            owners.setdefault(name, sender)
    key = service.identifier_key or b""
    with service.sessions.begin() as session:
        # Each service to a customer of its own; a sender may so hold several accounts.
        for n, (name, sender) in enumerate(sorted(owners.items())):
            data = CustomerData(
                panel_email=sender, kind="person", name=f"Bench {n}", services=(name,)
            )
            put_customer(session, validate(f"bench{n}", data), key)


def _extraction_cpu(service: DecisionService, messages: list[InboundMessage]) -> float:
    cpu0 = time.process_time()
    for message in messages:
        extract(message, service.rules.catalogue)
    return time.process_time() - cpu0


@contextmanager
def _counting(engine: Engine) -> Iterator[dict[str, Counter[str]]]:
    """Statements sent (an executemany counts once) and commits, while the block runs."""
    counted: dict[str, Counter[str]] = {"statements": Counter(), "events": Counter()}

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        counted["statements"][" ".join(_WORDS.split(text.strip())[:4])[:60]] += 1

    def commit(_conn: Any) -> None:
        counted["events"]["commit"] += 1

    def checkout(*_args: Any) -> None:
        # A checkout pings PostgreSQL first only after the connection sat idle (app.db.engine).
        counted["events"]["checkout"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        event.remove(engine.pool, "checkout", checkout)
