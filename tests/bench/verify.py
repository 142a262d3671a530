"""Verification alone, in process: the mail checks and instruction extraction per message."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.api import build_service
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.decision.service import DecisionService
from mailhook.dns import Resolver
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from tests.bench.corpus import SEALER, Corpus, fresh, sized_message, sized_text_message
from tests.support import make_settings


def verification_service(dns: str, database: Path) -> DecisionService:
    """The decision service on a scratch SQLite store, asking the bench DNS server."""
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    service = build_service(make_settings(url, trusted_arc_sealers=[SEALER]))
    # Set here, not through settings: INTAKEGUARD_DNS_NAMESERVERS in the environment (the
    # test suite sets it) would win over a value passed in.
    service.resolver = Resolver([dns], timeout=5.0)
    return service


def verify_once(
    service: DecisionService, raw: bytes, envelope: Envelope, stages: dict[str, float] | None = None
) -> dict[str, str]:
    """What ``intakeguard`` does to a message before deciding: parse, check, extract.

    ``stages`` adds up the CPU seconds of each of the three steps.
    """
    clock = time.process_time
    started = clock()
    message = parse_message(raw, envelope, Channel.SMTP)
    parsed = clock()
    findings = service.verify(message)
    checked = clock()
    extract(message, service.rules.catalogue)
    if stages is not None:
        for stage, seconds in (
            ("parse", parsed - started),
            ("checks", checked - parsed),
            ("extract", clock() - checked),
        ):
            stages[stage] = stages.get(stage, 0.0) + seconds
    return {finding.name: finding.result for finding in findings}


def envelope_of(corpus: Corpus) -> Envelope:
    return Envelope(
        client_ip=corpus.client_ip,
        helo=corpus.helo,
        mail_from=corpus.mail_from,
        rcpt=(corpus.rcpt,),
    )


def measure_verification(service: DecisionService, corpus: Corpus) -> dict[str, Any]:
    """Messages per second and CPU ms per message over the corpus, DNS cache warm."""
    envelope = envelope_of(corpus)
    messages = list(corpus.raw_messages())
    # Warm the DNS cache: every sender domain, the sealer and their keys come early.
    for raw in messages[:100]:
        verify_once(service, raw, envelope)
    queries_before = service.resolver.stats.queries - service.resolver.stats.cache_hits  # type: ignore[union-attr]
    results: Counter[str] = Counter()
    stages: dict[str, float] = {}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for raw in messages:
        for name, result in verify_once(service, raw, envelope, stages).items():
            results[f"{name}={result}"] += 1
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    stats = service.resolver.stats  # type: ignore[union-attr]
    return {
        "messages": len(messages),
        "msgs_per_s": round(len(messages) / wall, 1),
        "cpu_ms_per_msg": round(1000 * cpu / len(messages), 3),
        # Where the CPU went: parsing, the mail checks (SPF, DKIM, ARC, DMARC, headers;
        # what rspamd does too) and instruction extraction (which rspamd does not do).
        "cpu_ms_per_msg_by_stage": {
            stage: round(1000 * stages[stage] / len(messages), 3)
            for stage in ("parse", "checks", "extract")
        },
        "cpu_ms_per_msg_without_extraction": round(
            1000 * (stages["parse"] + stages["checks"]) / len(messages), 3
        ),
        "dns_queries_sent": stats.queries - stats.cache_hits - queries_before,
        "results": dict(sorted(results.items())),
    }


def measure_sizes(
    service: DecisionService, corpus: Corpus, sizes: Iterable[int], cache: Path
) -> dict[str, Any]:
    """CPU ms to verify one message of each size, and per MB; growth against 1 MB."""
    envelope = envelope_of(corpus)
    cache.mkdir(parents=True, exist_ok=True)
    per_size: dict[str, float] = {}
    for size in sizes:
        path = cache / f"size-{size}.eml"
        if not fresh(path):
            path.write_bytes(sized_message(size))
        raw = path.read_bytes()
        # Enough rounds for a stable figure on small messages, one on the largest.
        rounds = max(1, min(50, (4 * 1024 * 1024) // size))
        verify_once(service, raw, envelope)
        cpu0 = time.process_time()
        for _ in range(rounds):
            verify_once(service, raw, envelope)
        per_size[str(size)] = round(1000 * (time.process_time() - cpu0) / rounds, 2)
    # The same sizes from 1 MB up as one long text body (what the reader reads whole).
    text_per_mb: dict[str, float] = {}
    for size in (size for size in sizes if size >= 1024 * 1024):
        path = cache / f"text-{size}.eml"
        if not fresh(path):
            path.write_bytes(sized_text_message(size))
        raw = path.read_bytes()
        verify_once(service, raw, envelope)
        cpu0 = time.process_time()
        verify_once(service, raw, envelope)
        text_per_mb[str(size)] = round(
            1000 * (time.process_time() - cpu0) / (size / 1024 / 1024), 1
        )
    largest = max(per_size, key=int)
    reference = str(1024 * 1024) if str(1024 * 1024) in per_size else min(per_size, key=int)
    per_byte = {k: v / int(k) for k, v in per_size.items()}
    return {
        "cpu_ms_by_size": per_size,
        "cpu_ms_per_mb": {k: round(v * 1024 * 1024, 1) for k, v in per_byte.items()},
        "text_cpu_ms_per_mb": text_per_mb,
        "growth_vs": reference,
        "growth": round(per_byte[largest] / per_byte[reference], 2),
    }
