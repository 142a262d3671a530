"""The targets of issues 8 and 16, each judged against the run's figures, and the printed table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    wanted: str
    value: Callable[[dict[str, Any]], float | None]
    met: Callable[[float, dict[str, Any]], bool]


def _get(figures: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(figures, dict) or key not in figures:
            return None
        figures = figures[key]
    return figures


def _ratio(figures: dict[str, Any]) -> float | None:
    ours, theirs = (
        _get(figures, "verify", "cpu_ms_per_msg"),
        _get(figures, "rspamd", "cpu_ms_per_msg"),
    )
    return round(ours / theirs, 2) if ours and theirs else None


def _pg_share(figures: dict[str, Any]) -> float | None:
    sqlite = _get(figures, "smtp", "throughput", "msgs_per_s")
    pg = _get(figures, "postgres", "throughput", "msgs_per_s")
    return round(pg / sqlite, 2) if sqlite and pg else None


TARGETS = (
    Target(
        "verify_vs_rspamd",
        "verification CPU/msg ÷ rspamd's",
        "≤ 2.0",
        _ratio,
        lambda v, f: v <= 2.0,
    ),
    Target(
        "smtp_sqlite_rate",
        "end to end SQLite, msg/s (16 clients)",
        "≥ 500",
        lambda f: _get(f, "smtp", "throughput", "msgs_per_s"),
        lambda v, f: v >= 500,
    ),
    Target(
        "smtp_sqlite_p99",
        "SQLite ack p99 at 100 msg/s, ms",
        "< 50",
        lambda f: _get(f, "smtp", "latency_at_100", "latency_ms_p99"),
        lambda v, f: v < 50,
    ),
    Target(
        "smtp_postgres_share",
        "PostgreSQL msg/s ÷ SQLite's",
        "≥ 0.80",
        _pg_share,
        lambda v, f: v >= 0.8,
    ),
    Target(
        "smtp_postgres_p99",
        "PostgreSQL ack p99 at 100 msg/s, ms",
        "< 50 × 1.3",
        lambda f: _get(f, "postgres", "latency_at_100", "latency_ms_p99"),
        lambda v, f: v < 65,
    ),
    Target(
        "api_single_rate",
        "GET /v1/verdicts/{id}, req/s",
        "≥ 1500",
        lambda f: _get(f, "api", "single", "req_per_s"),
        lambda v, f: v >= 1500,
    ),
    Target(
        "api_single_p99",
        "GET /v1/verdicts/{id} p99, ms",
        "< 20",
        lambda f: _get(f, "api", "single", "latency_ms_p99"),
        lambda v, f: v < 20,
    ),
    Target(
        "memory_peak",
        "peak RSS, 50 × 10 MB sessions, MB",
        "< 2 × in flight + 150",
        lambda f: _get(f, "memory", "peak_rss_mb"),
        lambda v, f: v < f["memory"]["limit_mb"],
    ),
    Target(
        "growth_size",
        "verify CPU per MB, largest ÷ 1 MB",
        "≤ 1.5",
        lambda f: _get(f, "sizes", "growth"),
        lambda v, f: v <= 1.5,
    ),
    Target(
        "cpu_per_mb",
        "server CPU ms per MB over SMTP, worst size and kind ≥ 1 MB",
        "≤ 15",
        lambda f: _worst_per_mb(f),
        lambda v, f: v <= 15,
    ),
    Target(
        "growth_registry",
        "registry lookup, large ÷ 1k customers",
        "≤ 1.5",
        lambda f: _get(f, "growth", "registry_growth"),
        lambda v, f: v <= 1.5,
    ),
    Target(
        "growth_verdicts",
        "verdict list page, large ÷ 10k verdicts",
        "≤ 1.5",
        lambda f: _get(f, "growth", "verdict_list_growth"),
        lambda v, f: v <= 1.5,
    ),
)


def _same_digest(figures: dict[str, Any]) -> str | None:
    """Whether recording from many threads at once gave the verdicts one at a time did."""
    serial = _get(figures, "record", "sqlite", "verdicts_sha256")
    concurrent = _get(figures, "record", "sqlite_concurrent", "verdicts_sha256")
    if serial is None or concurrent is None:
        return None
    return "same" if serial == concurrent else "differs"


def _end_to_end_vs_rspamd(figures: dict[str, Any]) -> float | None:
    """The server's CPU per message over SMTP, verdict recorded, ÷ rspamd's verification
    CPU per message, on the same corpus in the same run (issue 16)."""
    ours = _get(figures, "smtp", "throughput", "server_cpu_ms_per_msg")
    theirs = _get(figures, "rspamd", "cpu_ms_per_msg")
    return round(ours / theirs, 2) if ours and theirs else None


def _postfix_share(figures: dict[str, Any]) -> float | None:
    ours = _get(figures, "smtp", "throughput", "msgs_per_s")
    theirs = _get(figures, "postfix", "msgs_per_s")
    return round(ours / theirs, 2) if ours and theirs else None


TARGETS = (
    *TARGETS,
    Target(
        "e2e_vs_rspamd",
        "SMTP server CPU/msg, verdict recorded, ÷ rspamd's verification CPU/msg",
        "≤ 2.5",
        _end_to_end_vs_rspamd,
        lambda v, f: v <= 2.5,
    ),
    Target(
        "smtp_vs_postfix",
        "SMTP SQLite msg/s ÷ Postfix's (same run)",
        "≥ 0.8",
        _postfix_share,
        lambda v, f: v >= 0.8,
    ),
    Target(
        "record_statements",
        "statements per verdict, 16 threads (SQLite)",
        "≤ 5",
        lambda f: _get(f, "record", "sqlite_concurrent", "statements_per_msg"),
        lambda v, f: v <= 5,
    ),
    Target(
        "record_digest",
        "verdicts, 16 threads vs one at a time",
        "same",
        _same_digest,
        lambda v, f: v == "same",
    ),
)


def evaluate(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target's value and whether it is met (None: not measured in this run)."""
    judged: dict[str, dict[str, Any]] = {}
    for target in TARGETS:
        value = target.value(figures)
        met = None if value is None else target.met(value, figures)
        judged[target.key] = {"value": value, "target": target.wanted, "met": met}
    return judged


def _worst_per_mb(figures: dict[str, Any]) -> float | None:
    """The highest server CPU per MB among the SMTP sizes part's kinds and sizes."""
    smtp = _get(figures, "sizes", "smtp")
    if not isinstance(smtp, dict):
        return None
    values = [
        v for per_size in smtp.values() if isinstance(per_size, dict) for v in per_size.values()
    ]
    return max(values) if values else None


def table(figures: dict[str, Any], judged: dict[str, dict[str, Any]]) -> str:
    """The figures a reader looks for first, then every target with met / not met."""
    rows = [
        ("verification, msg/s (1 thread)", _get(figures, "verify", "msgs_per_s")),
        ("verification, CPU ms/msg", _get(figures, "verify", "cpu_ms_per_msg")),
        (
            "  of which parsing and mail checks",
            _get(figures, "verify", "cpu_ms_per_msg_without_extraction"),
        ),
        (
            "recording, CPU ms/msg (SQLite, 1 thread)",
            _get(figures, "record", "sqlite", "cpu_ms_per_msg"),
        ),
        (
            "  statements per message",
            _get(figures, "record", "sqlite", "statements_per_msg"),
        ),
        (
            "recording, 16 threads: CPU ms/msg",
            _get(figures, "record", "sqlite_concurrent", "cpu_ms_per_msg"),
        ),
        (
            "  statements / commits (fsyncs) per message",
            _pair(figures, "record", "sqlite_concurrent", "statements_per_msg", "commits_per_msg"),
        ),
        ("  mean batch", _get(figures, "record", "sqlite_concurrent", "mean_batch")),
        ("rspamd, msg/s", _get(figures, "rspamd", "msgs_per_s")),
        ("rspamd, CPU ms/msg", _get(figures, "rspamd", "cpu_ms_per_msg")),
        ("SMTP SQLite, msg/s", _get(figures, "smtp", "throughput", "msgs_per_s")),
        (
            "SMTP SQLite, server CPU ms/msg",
            _get(figures, "smtp", "throughput", "server_cpu_ms_per_msg"),
        ),
        (
            "SMTP SQLite, busiest process's CPU share",
            _get(figures, "smtp", "throughput", "busiest_process_cpu_share"),
        ),
        (
            "SMTP SQLite, mean commit batch",
            _get(figures, "smtp", "throughput", "commit_batches", "mean_size"),
        ),
        (
            "SMTP SQLite @100/s, median ms",
            _get(figures, "smtp", "latency_at_100", "latency_ms_median"),
        ),
        ("SMTP SQLite @100/s, p99 ms", _get(figures, "smtp", "latency_at_100", "latency_ms_p99")),
        (
            "SMTP SQLite @half capacity, p99 ms",
            _get(figures, "smtp", "latency_at_half_capacity", "latency_ms_p99"),
        ),
        ("milter SQLite, msg/s", _get(figures, "milter", "throughput", "msgs_per_s")),
        (
            "milter SQLite, server CPU ms/msg",
            _get(figures, "milter", "throughput", "server_cpu_ms_per_msg"),
        ),
        (
            "SMTP SQLite, server CPU ms/msg",
            _get(figures, "smtp", "throughput", "server_cpu_ms_per_msg"),
        ),
        ("Postfix peer, msg/s (16 clients)", _get(figures, "postfix", "msgs_per_s")),
        ("Postfix peer, CPU ms/msg", _get(figures, "postfix", "cpu_ms_per_msg")),
        ("SMTP PostgreSQL, msg/s", _get(figures, "postgres", "throughput", "msgs_per_s")),
        (
            "SMTP PostgreSQL, server CPU ms/msg",
            _get(figures, "postgres", "throughput", "server_cpu_ms_per_msg"),
        ),
        (
            "SMTP PostgreSQL, busiest process's CPU share",
            _get(figures, "postgres", "throughput", "busiest_process_cpu_share"),
        ),
        (
            "SMTP PostgreSQL @100/s, p99 ms",
            _get(figures, "postgres", "latency_at_100", "latency_ms_p99"),
        ),
        ("API single verdict, req/s", _get(figures, "api", "single", "req_per_s")),
        (
            "API single verdict, server CPU ms/req",
            _get(figures, "api", "single", "server_cpu_ms_per_req"),
        ),
        ("API list page, req/s", _get(figures, "api", "list", "req_per_s")),
        ("API list page, server CPU ms/req", _get(figures, "api", "list", "server_cpu_ms_per_req")),
        ("API list page, p99 ms", _get(figures, "api", "list", "latency_ms_p99")),
        ("peak RSS 50 × 10 MB, MB", _get(figures, "memory", "peak_rss_mb")),
    ]
    width = 44
    lines = ["", f"{'figure':<{width}} value", "-" * (width + 12)]
    lines += [f"{name:<{width}} {_shown(value)}" for name, value in rows]
    lines += ["", f"{'target':<{width}} {'value':>10}  {'wanted':<22} verdict", "-" * (width + 46)]
    for target in TARGETS:
        result = judged[target.key]
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[result["met"]]
        lines.append(
            f"{target.label:<{width}} {_shown(result['value']):>10}  {target.wanted:<22} {verdict}"
        )
    skipped = [
        f"{name}: {part.get('skipped') or part.get('error')}"
        for name, part in figures.items()
        if isinstance(part, dict) and ("skipped" in part or "error" in part)
    ]
    lines += [f"note: {line}" for line in skipped]
    return "\n".join(lines)


def _pair(figures: dict[str, Any], *path: str) -> str | None:
    """Two figures of one part as "a / b" (the last two names of ``path``)."""
    first, second = _get(figures, *path[:-1]), _get(figures, *path[:-2], path[-1])
    return None if first is None or second is None else f"{first} / {second}"


def _shown(value: object) -> str:
    return "—" if value is None else str(value)
