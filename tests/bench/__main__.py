"""``python -m tests.bench``: build the corpus, run the chosen parts, print a table and JSON.

The last line of output is one JSON object with every figure, so runs can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.decision.service import DecisionService
from app.settings import cpu_count
from tests.bench import growth
from tests.bench.api_load import run_load
from tests.bench.corpus import BENCH_DIR, Corpus, build_corpus, fresh, sized_message
from tests.bench.milter_load import milter_closed_loop
from tests.bench.postfix_peer import measure_postfix
from tests.bench.record import measure_recording
from tests.bench.rspamd import run_rspamd
from tests.bench.servers import (
    BenchError,
    RunningServer,
    dns_server,
    free_port,
    intakeguard_serve,
    postgres_available,
    scratch_postgres,
)
from tests.bench.smtp_load import closed_loop, concurrent_big, open_loop, unique_copies
from tests.bench.smtp_sizes import measure_smtp_sizes
from tests.bench.targets import evaluate, table
from tests.bench.verify import measure_sizes, measure_verification, verification_service
from tests.support import ADMIN_TOKEN

PARTS = (
    "verify",
    "record",
    "rspamd",
    "smtp",
    "milter",
    "postfix",
    "postgres",
    "api",
    "memory",
    "sizes",
    "growth",
)
KB, MB = 1024, 1024 * 1024


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--messages", type=int, default=5000, help="corpus size (default 5000)")
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma list of parts: {','.join(PARTS)}"
    )
    parser.add_argument(
        "--rspamd",
        type=Path,
        default=os.environ.get("INTAKEGUARD_BENCH_RSPAMD") or None,
        help="the rspamd peer's bench.sh (or INTAKEGUARD_BENCH_RSPAMD); skipped without it",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="full sizes: 60 s latency run, 1M customers, 5M verdicts (takes much longer)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=cpu_count(),
        help="`intakeguard serve --workers` for the smtp, postgres and api parts "
        "(default: the CPU cores, here %(default)s); the memory part runs one process",
    )
    args = parser.parse_args(argv)
    args.parts = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    return args


class Run:
    """The figures of one run, and the scratch directory its stores live in."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.figures: dict[str, Any] = {
            "messages": args.messages,
            "full": args.full,
            "serve_workers": args.workers,
        }
        self.scratch = BENCH_DIR / "run"
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)

    def part(self, name: str, action: Callable[[], Any], also_for: tuple[str, ...] = ()) -> None:
        """Run ``action`` when part ``name`` (or one of ``also_for``) was asked for."""
        if not {name, *also_for} & set(self.args.parts):
            return
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            figures = action()
            if figures is not None:
                self.figures[name] = figures
        except BenchError as exc:
            self.figures[name] = {"error": str(exc)}
        print(f"[bench] {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    run = Run(args)
    print(f"[bench] corpus of {args.messages} messages …", file=sys.stderr, flush=True)
    corpus = build_corpus(args.messages)
    run.figures["corpus"] = {
        "directory": str(corpus.directory.relative_to(BENCH_DIR.parent.parent)),
        "arc_sealed": corpus.arc_sealed,
    }
    with dns_server(corpus.zones) as dns:
        service = verification_service(dns, run.scratch / "verify.db")
        run.part("verify", lambda: measure_verification(service, corpus))
        run.part("record", lambda: measure_recording(corpus, dns, run.scratch))
        sizes = [KB, 10 * KB, 100 * KB, MB, 5 * MB, 25 * MB]
        run.part("sizes", lambda: _sizes(run, service, corpus, dns, sizes))
        if args.rspamd is None:
            if "rspamd" in args.parts:
                run.figures["rspamd"] = {
                    "skipped": "give --rspamd PATH (or INTAKEGUARD_BENCH_RSPAMD) to compare"
                }
        else:
            run.part("rspamd", lambda: run_rspamd(args.rspamd, corpus, dns))
        sqlite_url = f"sqlite:///{run.scratch}/e2e.db"
        run.part("smtp", lambda: _smtp_and_api(run, corpus, dns, sqlite_url), also_for=("api",))
        # Right after the smtp part, the same count of the same messages.
        run.part("postfix", lambda: measure_postfix(corpus, _smtp_count(run, corpus)))
        milter_url = f"sqlite:///{run.scratch}/milter.db"
        run.part("milter", lambda: _milter(run, corpus, dns, milter_url))
        if "postgres" in args.parts:
            if postgres_available():
                run.part("postgres", lambda: _postgres(run, corpus, dns))
            else:
                run.figures["postgres"] = {"skipped": "PostgreSQL is not reachable"}
        run.part("memory", lambda: _memory(run, corpus, dns))
    customers = (1000, 1_000_000 if args.full else 100_000)
    verdicts = (10_000, 5_000_000 if args.full else 200_000)
    run.part(
        "growth",
        lambda: growth.measure_growth(
            lambda name: f"sqlite:///{run.scratch}/{name}.db", customers, verdicts
        ),
    )
    # The stores may hold gigabytes (5M verdicts); the servers' logs stay for reading.
    for store in run.scratch.glob("*.db*"):
        store.unlink()
    judged = evaluate(run.figures)
    print(table(run.figures, judged))
    print(f"(smtp, postgres and api parts: intakeguard serve --workers {args.workers})")
    print(json.dumps({**run.figures, "targets": judged}, separators=(",", ":")))
    return 0


def _smtp_count(run: Run, corpus: Corpus) -> int:
    """Messages sent in the SMTP parts' throughput phase (and to the Postfix peer)."""
    return min(corpus.messages, 5000 if run.args.full else 2000)


def _smtp_phases(
    server: RunningServer, corpus: Corpus, run: Run, label: str, latency: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """16 clients as fast as answered; then (``latency``) a fixed 100 messages a second."""
    envelope = (corpus.helo, corpus.mail_from, corpus.rcpt)
    messages = list(corpus.raw_messages())
    count = _smtp_count(run, corpus)
    cpu0, batches0 = server.cpu_by_process(), server.metrics(BATCHES)
    throughput = asyncio.run(
        closed_loop(server.smtp_port, unique_copies(messages, f"{label}-t"), count, 16, envelope)
    )
    cpu = {pid: seconds - cpu0.get(pid, 0.0) for pid, seconds in server.cpu_by_process().items()}
    server_cpu = sum(cpu.values())
    figures: dict[str, Any] = {
        "throughput": {
            **throughput.summary(),
            "clients": 16,
            "server_cpu_ms_per_msg": round(
                1000 * server_cpu / max(1, len(throughput.latencies)), 2
            ),
            "commit_batches": batch_sizes(batches0, server.metrics(BATCHES)),
            # How the work was shared: one process's CPU against all of it. With the
            # workers' sessions spread evenly, the busiest worker's share is about 1/N.
            "busiest_process_cpu_share": round(max(cpu.values()) / server_cpu, 2)
            if server_cpu
            else None,
        }
    }
    if latency:
        seconds = 60.0 if run.args.full else 10.0
        # The target's fixed 100 a second, and half of what this server just sustained:
        # above its capacity a queue builds, and the latency is that queue's.
        half = max(1.0, round(throughput.summary()["msgs_per_s"] / 2, 1))
        for key, rate in (("latency_at_100", 100.0), ("latency_at_half_capacity", half)):
            offered = asyncio.run(
                open_loop(
                    server.smtp_port,
                    unique_copies(messages, f"{label}-{key}"),
                    rate,
                    seconds,
                    16,
                    envelope,
                )
            )
            figures[key] = {**offered.summary(), "offered_per_s": rate, "seconds": seconds}
    return figures, throughput.verdict_ids


# The group commit's histogram (app.metrics.COMMIT_BATCH_SIZE).
BATCHES = "intakeguard_commit_batch_size"


def batch_sizes(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Batches committed between two scrapes: how many, their mean size, and how many
    were of each size up to each bucket's bound (Prometheus buckets are cumulative)."""

    def delta(series: str) -> float:
        return after.get(series, 0.0) - before.get(series, 0.0)

    count = delta(f"{BATCHES}_count")
    buckets = {
        series.split('le="', 1)[1].split('"', 1)[0]: int(delta(series))
        for series in after
        if series.startswith(f"{BATCHES}_bucket")
    }
    return {
        "batches": int(count),
        "mean_size": round(delta(f"{BATCHES}_sum") / count, 2) if count else None,
        "at_most": buckets,
    }


def _smtp_and_api(run: Run, corpus: Corpus, dns: str, url: str) -> dict[str, Any] | None:
    """The SMTP figures on SQLite; the API is read while that server holds their verdicts."""
    log = run.scratch / "serve-sqlite.log"
    with intakeguard_serve(url, dns, log, run.args.workers) as server:
        # Without the smtp part its first phase still runs: the API needs verdicts to read.
        figures, ids = _smtp_phases(server, corpus, run, "sqlite", latency="smtp" in run.args.parts)
        if "api" in run.args.parts:
            try:
                run.figures["api"] = _api(run, server, ids)
            except BenchError as exc:
                run.figures["api"] = {"error": str(exc)}
    return figures if "smtp" in run.args.parts else None


def _milter(run: Run, corpus: Corpus, dns: str, url: str) -> dict[str, Any]:
    """The milter door's throughput beside the SMTP door's: the same corpus, 16 connections
    as fast as answered, ``serve --workers`` with MILTER_LISTEN (SQLite)."""
    port = free_port()
    log = run.scratch / "serve-milter.log"
    envelope = (corpus.client_ip, corpus.helo, corpus.mail_from, corpus.rcpt)
    messages = list(corpus.raw_messages())
    count = min(len(messages), 5000 if run.args.full else 2000)
    with intakeguard_serve(
        url, dns, log, run.args.workers, milter_listen=f"127.0.0.1:{port}"
    ) as server:
        cpu0 = server.cpu_seconds()
        throughput = asyncio.run(
            milter_closed_loop(port, unique_copies(messages, "milter-t"), count, 16, envelope)
        )
        server_cpu = server.cpu_seconds() - cpu0
    return {
        "throughput": {
            **throughput.summary(),
            "clients": 16,
            "server_cpu_ms_per_msg": round(
                1000 * server_cpu / max(1, len(throughput.latencies)), 2
            ),
        }
    }


def _api(run: Run, server: RunningServer, ids: list[str]) -> dict[str, Any]:
    """Requests per second and latency of one verdict by id, and of a filtered page."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    first = httpx.get(f"{server.api_url}/v1/verdicts/{ids[0]}", headers=headers, timeout=10)
    if first.status_code != 200:
        raise BenchError(f"GET /v1/verdicts/{{id}} answered {first.status_code}")
    decision = first.json()["decision"]
    seconds = 30.0 if run.args.full else 8.0
    single = _server_load(
        server,
        [f"/v1/verdicts/{i}" for i in ids[:2000]],
        seconds,
        run.scratch / "api-ids.txt",
    )
    listing = _server_load(
        server,
        [f"/v1/verdicts?decision={decision}&limit=50"],
        seconds,
        run.scratch / "api-list.txt",
    )
    for name, result in (("single verdict", single), ("list page", listing)):
        failed = result.get("non_2xx") or sum(
            n for status, n in result.get("statuses", {}).items() if status != "200"
        )
        if failed:
            raise BenchError(f"API {name}: {failed} answers were not 200; see the server log")
    return {"single": single, "list": {**listing, "decision": decision, "limit": 50}}


def _server_load(
    server: RunningServer, paths: list[str], seconds: float, scratch: Path
) -> dict[str, Any]:
    """run_load from 16 connections, with the server's CPU time per request: the figure
    that does not depend on what else the machine runs (wall-clock rates do)."""
    cpu0 = server.cpu_seconds()
    result = run_load(server.api_url, ADMIN_TOKEN, paths, seconds, 16, scratch)
    cpu = server.cpu_seconds() - cpu0
    result["server_cpu_ms_per_req"] = round(1000 * cpu / max(1, result["requests"]), 3)
    return result


def _postgres(run: Run, corpus: Corpus, dns: str) -> dict[str, Any]:
    """The SMTP phases again on a scratch PostgreSQL database, migrated first."""
    from app.db.engine import make_engine
    from app.db.migrate import upgrade

    with scratch_postgres() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        log = run.scratch / "serve-postgres.log"
        with intakeguard_serve(url, dns, log, run.args.workers) as server:
            figures, _ = _smtp_phases(server, corpus, run, "postgres")
    return figures


def _sizes(
    run: Run, service: DecisionService, corpus: Corpus, dns: str, sizes: list[int]
) -> dict[str, Any]:
    """Verification in process by size, then the same sizes from 1 MB up end to end over
    SMTP (server CPU per MB, every process of ``serve --workers N``)."""
    figures = measure_sizes(service, corpus, sizes, BENCH_DIR / "sizes")
    url = f"sqlite:///{run.scratch}/sizes.db"
    large = [size for size in (*sizes, 10 * MB) if size >= MB]
    # Room for the 25 MB message and the Received line on top of it.
    limit = str(max(large) + MB)
    log = run.scratch / "serve-sizes.log"
    with intakeguard_serve(url, dns, log, run.args.workers, max_message_bytes=limit) as server:
        figures["smtp"] = measure_smtp_sizes(
            server, corpus, sorted(set(large)), BENCH_DIR / "sizes"
        )
    return figures


def _memory(
    run: Run, corpus: Corpus, dns: str, sessions: int = 50, size: int = 10 * MB
) -> dict[str, Any]:
    """Peak RSS of a fresh server while ``sessions`` sessions each send ``size`` bytes."""
    path = BENCH_DIR / "sizes" / f"size-{size}.eml"
    if not fresh(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sized_message(size))
    big = path.read_bytes()
    copies = [
        f"Received: by relay.bench (memory) id {n};\r\n".encode() + big for n in range(sessions)
    ]
    url = f"sqlite:///{run.scratch}/memory.db"
    with intakeguard_serve(url, dns, run.scratch / "serve-memory.log") as server:
        idle_rss = server.peak_rss_bytes()
        cpu_before = server.cpu_seconds()
        envelope = (corpus.helo, corpus.mail_from, corpus.rcpt)
        outcome = asyncio.run(concurrent_big(server.smtp_port, copies, envelope))
        # VmHWM: the kernel's own record of the highest resident size, so no sampling.
        peak = server.peak_rss_bytes()
        cpu = server.cpu_seconds() - cpu_before
    in_flight = sessions * len(big)
    return {
        "sessions": sessions,
        "message_bytes": len(big),
        "bytes_in_flight": in_flight,
        "idle_rss_mb": round(idle_rss / MB, 1),
        "peak_rss_mb": round(peak / MB, 1),
        "limit_mb": round((2 * in_flight + 150 * MB) / MB, 1),
        # What the server held beyond the messages' own bytes (its idle size included).
        "peak_above_in_flight_mb": round((peak - in_flight) / MB, 1),
        "peak_per_in_flight": round(peak / in_flight, 2),
        # The server's CPU time per message: unlike wall_s, not inflated by a busy machine.
        "cpu_ms_per_message": round(1000 * cpu / sessions, 1),
        **{k: v for k, v in outcome.summary().items() if k in ("recorded", "replies")},
        "wall_s": round(outcome.wall, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
