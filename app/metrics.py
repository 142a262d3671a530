"""Prometheus metrics of the decision side, and the one registry ``/metrics`` exposes.

Everything is registered once, at first import, in prometheus_client's default registry
(beside the mail side's ``mailhook.metrics`` and the process collector). Numbers that
live in the database (audit chain length, outbox backlog) are read when scraped, from
the store last bound with ``bind_store``, so every replica reports the shared truth.

The worker processes of ``intakeguard serve --workers N`` (app.server.supervisor) run in
prometheus_client's multiprocess mode: PROMETHEUS_MULTIPROC_DIR, set by the supervisor
before they start, holds each process's counters in a file of its own, and a scrape,
whichever worker answers it, adds them all up (``exposition_registry``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from time import perf_counter

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from mailhook.metrics import PREFIX

log = logging.getLogger(__name__)

__all__ = [
    "CONTENT_TYPE_LATEST",
    "DNS_ANSWERING",
    "RECORDING_SECONDS",
    "VERDICTS",
    "VERIFICATION_SECONDS",
    "WEBHOOK_FAILURES",
    "bind_store",
    "count_verdict",
    "exposition",
    "exposition_registry",
    "register_outbox_backlog",
    "timed",
]

# Verification is DNS-bound (seconds when a server is slow); recording is one transaction.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

DNS_ANSWERING = Gauge(
    f"{PREFIX}_dns_answering",
    "1 when a configured DNS server answered the last readiness probe, 0 when none did.",
    # With `serve --workers N`, the probe last run by any worker.
    multiprocess_mode="mostrecent",
)
VERDICTS = Counter(
    f"{PREFIX}_verdicts",
    "Verdicts recorded, by decision and instruction kind (kind 'none' when none was found).",
    ["decision", "kind"],
)
VERIFICATION_SECONDS = Histogram(
    f"{PREFIX}_verification_seconds",
    "Time the mail checks took for one message (DNS included).",
    buckets=_LATENCY_BUCKETS,
)
RECORDING_SECONDS = Histogram(
    f"{PREFIX}_recording_seconds",
    "Time deciding and recording one verdict took (its batch's transaction, waiting included).",
    buckets=_LATENCY_BUCKETS,
)
COMMIT_BATCH_SIZE = Histogram(
    f"{PREFIX}_commit_batch_size",
    "Verdicts committed together in one transaction (app.decision.group_commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
WEBHOOK_FAILURES = Counter(
    f"{PREFIX}_webhook_failures",
    "Webhook and alert deliveries that failed (each failed attempt counts).",
)


def count_verdict(decision: str, kinds: Iterable[str]) -> None:
    """Count one recorded verdict once per instruction kind it carries."""
    for kind in list(kinds) or ["none"]:
        VERDICTS.labels(decision=decision, kind=kind).inc()


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    """Observe the time the block took, also when it raises."""
    started = perf_counter()
    try:
        yield
    finally:
        histogram.observe(perf_counter() - started)


class _StoreCollector(Collector):
    """Asks the database at scrape time; a table that is not there yet is left out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._backlog: Callable[[], float] | None = None

    def bind(self, engine: Engine) -> None:
        with self._lock:
            self._engine = engine

    def set_backlog(self, callback: Callable[[], float] | None) -> None:
        with self._lock:
            self._backlog = callback

    def describe(self) -> list[Metric]:
        # Nothing to ask at registration: the store may not be bound yet.
        return []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            engine, backlog = self._engine, self._backlog
        if backlog is not None:
            yield _gauge("outbox_backlog", "Deliveries waiting in the outbox.", backlog())
        elif engine is not None:
            pending = _scalar(
                engine, "SELECT count(*) FROM outbox_deliveries WHERE status = 'pending'"
            )
            if pending is not None:
                yield _gauge("outbox_backlog", "Deliveries waiting in the outbox.", pending)
        if engine is not None:
            # Entries are numbered from 1 without gaps (app.audit.chain), so the highest is
            # the length.
            length = _scalar(engine, "SELECT coalesce(max(seq), 0) FROM audit_entries")
            if length is not None:
                yield _gauge("audit_chain_length", "Entries in the audit hash chain.", length)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def _scalar(engine: Engine, query: str) -> float | None:
    """The query's one number, or None when the table is missing or the store is down."""
    try:
        with engine.connect() as connection:
            value = connection.execute(text(query)).scalar()
    except SQLAlchemyError as exc:
        # A scrape must not fail because a migration is pending or the database is away;
        # /readyz says which.
        log.debug("metrics: %s left out (%s)", query, exc.__class__.__name__)
        return None
    return float(value or 0)


_STORE = _StoreCollector()
REGISTRY.register(_STORE)


def bind_store(engine: Engine) -> None:
    """Read database-side numbers from ``engine`` from now on (the latest bound wins)."""
    _STORE.bind(engine)


def register_outbox_backlog(callback: Callable[[], float] | None) -> None:
    """Report ``callback()`` as the outbox backlog instead of counting pending rows.

    For an outbox worker that knows its queue better than the table does; None undoes it.
    """
    _STORE.set_backlog(callback)


_MULTIPROCESS_REGISTRY: CollectorRegistry | None = None


def exposition_registry() -> CollectorRegistry:
    """The registry a scrape reads: this process's, or with workers, every worker's."""
    global _MULTIPROCESS_REGISTRY
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    if _MULTIPROCESS_REGISTRY is None:
        # The workers' files summed, plus the numbers the database holds (asked once,
        # not once per worker). The process collector is left out: its figures would be
        # those of whichever worker answered.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
        registry.register(_STORE)
        _MULTIPROCESS_REGISTRY = registry
    return _MULTIPROCESS_REGISTRY


def exposition() -> bytes:
    """Every metric in the Prometheus text format (of every worker, with workers)."""
    return generate_latest(exposition_registry())
