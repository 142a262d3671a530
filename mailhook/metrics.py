"""Prometheus metrics of the mail side: doors, checks, DNS and SMTP sessions.

The metrics live in prometheus_client's default registry, registered once when this
module is first imported; ``app.metrics`` adds the decision side to the same registry,
which ``/metrics`` (or ``--metrics-listen`` for ``intakeguard smtp``) exposes.
"""

from __future__ import annotations

from typing import Any, Final

from prometheus_client import Counter, Gauge, disable_created_metrics

PREFIX: Final = "intakeguard"

# The *_created series double every counter's output and say only when the process started.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client

MESSAGES_RECEIVED = Counter(
    f"{PREFIX}_messages_received",
    "Messages handed to the decision service, by the door they came through.",
    ["door"],
)
CHECK_RESULTS = Counter(
    f"{PREFIX}_check_results",
    "Findings of the mail checks, by check name and result.",
    ["check", "result"],
)
DNS_QUERIES = Counter(
    f"{PREFIX}_dns_queries",
    "DNS lookups the checks asked for, answered from the cache or not.",
)
DNS_CACHE_HITS = Counter(
    f"{PREFIX}_dns_cache_hits",
    "DNS lookups answered from the resolver's cache.",
)
DNS_TEMPERRORS = Counter(
    f"{PREFIX}_dns_temperrors",
    "DNS lookups that timed out or failed (SERVFAIL, REFUSED): the message is retried.",
)
SMTP_SESSIONS_OPEN = Gauge(
    f"{PREFIX}_smtp_sessions_open",
    "SMTP sessions open now.",
    # With `serve --workers N` (prometheus_client's multiprocess mode), the sum over the
    # workers alive; ignored in a single process.
    multiprocess_mode="livesum",
)
SMTP_LIMIT_HITS = Counter(
    f"{PREFIX}_smtp_limit_hits",
    "SMTP connections refused or closed by a limit: sessions, sessions_per_client, "
    "connection_rate, idle, session_time, data_rate.",
    ["limit"],
)
SMTP_REPLIES = Counter(
    f"{PREFIX}_smtp_replies",
    "SMTP replies sent, by reply code.",
    ["code"],
)


def count_reply(reply: str) -> None:
    """Count one SMTP reply by its three-digit code, once for a multi-line reply."""
    if reply[3:4] == "-":
        # RFC 5321 §4.2.1: "250-" lines continue a reply that its "250 " line ends.
        return
    code = reply[:3]
    # Several replies per message: the labelled child is looked up once per code.
    counter = _REPLY_COUNTERS.get(code)
    if counter is None:
        counter = SMTP_REPLIES.labels(code=code if code.isdigit() else "other")
        _REPLY_COUNTERS[code] = counter
    counter.inc()


_REPLY_COUNTERS: dict[str, Any] = {}
