"""How lookups grow with the store: registry resolution and the verdict list, rows bulk-inserted
with SQL (an ORM insert of millions of rows would take longer than the rest of the run)."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.db.engine import make_engine, session_factory
from app.db.migrate import upgrade
from app.decision.checks.customer_match import match_customer
from app.records.verdicts import VerdictFilter, _encode_cursor, list_verdicts
from app.registry.lookalikes import imitated_domain
from mailhook.instructions import Instruction

STAMP = "2026-11-01 00:00:00.000000"
DECISIONS = ("accepted", "review", "rejected", "otp_required", "postal_required")
# What a verdict row holds besides its columns, at about the size a real one does.
CHECK = {
    "name": "dmarc",
    "result": "pass",
    "reason": "The From domain bench01.example is "
    "authenticated by an aligned DKIM pass (d=bench01.example); its policy is reject.",
}
CHECKS = json.dumps([{**CHECK, "name": f"check-{n}"} for n in range(12)])


def _series(engine: Engine, count: int, select_list: str, table: str, columns: str) -> None:
    """INSERT INTO table (columns) SELECT select_list over i = 1..count, in one statement."""
    if engine.dialect.name == "sqlite":
        sql = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
            f"INSERT INTO {table} ({columns}) SELECT {select_list} FROM n"
        )
    else:
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT {select_list} "
            "FROM generate_series(1, :count) AS n(i)"
        )
    with engine.begin() as connection:
        connection.execute(text(sql), {"count": count, "stamp": STAMP, "checks": CHECKS})


def _concat(engine: Engine, *parts: str) -> str:
    # SQLite's || and PostgreSQL's || agree, but PostgreSQL wants text on both sides.
    cast = "" if engine.dialect.name == "sqlite" else "::text"
    return " || ".join(part if part.startswith("'") else f"{part}{cast}" for part in parts)


def fill_registry(engine: Engine, customers: int) -> None:
    """``customers`` customers with one domain each: c{i}, c{i}@mail{i % 1000}.example."""
    stamp = ":stamp" if engine.dialect.name == "sqlite" else "CAST(:stamp AS timestamptz)"
    login = _concat(engine, "'c'", "i")
    name = _concat(engine, "'Customer '", "i")
    email = _concat(engine, "'c'", "i", "'@mail'", "(i % 1000)", "'.example'")
    _series(
        engine,
        customers,
        f"{login}, 'person', {name}, {email}, {stamp}, {stamp}, {stamp}",
        "customers",
        "login, kind, name, panel_email, panel_email_changed_at, created_at, updated_at",
    )
    # The skeleton of these ASCII names is taken as the name itself: what is measured is
    # an indexed lookup among so many rows, not the confusables table.
    domain = _concat(engine, "'sklep'", "i", "'.example'")
    _series(
        engine,
        customers,
        f"i, 'domain', {domain}, {domain}, {domain}",
        "services",
        "customer_id, kind, name_ascii, name_unicode, skeleton",
    )


def fill_verdicts(engine: Engine, verdicts: int) -> None:
    """``verdicts`` verdict rows, decisions in turn, customers c1..c100."""
    sqlite = engine.dialect.name == "sqlite"
    uuid = (
        "printf('%08d-0000-4000-8000-%012d', i, i)"
        if sqlite
        else "lpad(i::text, 8, '0') || '-0000-4000-8000-' || lpad(i::text, 12, '0')"
    )
    sha = "printf('%064d', i)" if sqlite else "lpad(i::text, 64, '0')"
    stamp = ":stamp" if sqlite else "CAST(:stamp AS timestamptz)"
    as_json = "" if sqlite else "::json"
    decision = "CASE i % 5 " + " ".join(f"WHEN {n} THEN '{d}'" for n, d in enumerate(DECISIONS))
    message_id = _concat(engine, "'<v'", "i", "'@bench01.example>'")
    customer = _concat(engine, "'c'", "(1 + i % 100)")
    instruction = '\'{"kinds": ["inquiry"], "services": []}\''
    _series(
        engine,
        verdicts,
        f"{uuid}, {message_id}, {sha}, {stamp}, 'smtp', {decision} END, 'authenticated', "
        f"{customer}, {instruction}{as_json}, :checks{as_json}, '[]'{as_json}, "
        f"'{{}}'{as_json}, 'bench', 'unsigned'",
        "verdicts",
        "id, message_id, message_sha256, recorded_at, channel, decision, assurance, customer, "
        "instruction, checks, reasons, envelope, rules_version, signature",
    )


def _alternating_medians(actions: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median ms of each action, timed in turn round after round.

    The small and the large store are timed alternately, not one after the other, so
    whatever else the machine does in the meantime weighs on both alike.
    """
    times: dict[str, list[float]] = {name: [] for name in actions}
    for action in actions.values():
        action()  # warm: connection, page cache
    for _ in range(rounds):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    return {name: round(1000 * statistics.median(spent), 3) for name, spent in times.items()}


# Customers resolved per round of the registry lookup: spread over the whole registry.
PROBES = 10


def registry_lookup(sessions: Callable[[], Session], customers: int) -> Callable[[], object]:
    """One round of resolving PROBES customers: the look-alike lookup and the customer match."""
    probes = [max(1, customers * k // PROBES) for k in range(1, PROBES + 1)]

    def resolve() -> None:
        with sessions() as session:
            for i in probes:
                domain = f"sklep{i}.example"
                imitated_domain(session, domain)
                instruction = Instruction(kinds=("inquiry",), services=(domain,), logins=())
                match = match_customer(session, f"c{i}@mail{i % 1000}.example", instruction)
                assert match.customer is not None and match.customer.login == f"c{i}"

    return resolve


PAGES = ("newest", "decision", "customer", "deep_cursor")


def verdict_pages(
    sessions: Callable[[], Session], verdicts: int
) -> dict[str, Callable[[], object]]:
    """Reading a page of 50: newest, by decision, by customer, and deep (a cursor midway)."""

    def page(cursor: str | None = None, **filters: Any) -> Callable[[], object]:
        wanted = VerdictFilter(**filters)

        def read() -> None:
            with sessions() as session:
                page = list_verdicts(session, wanted=wanted, limit=50, cursor=cursor)
                assert len(page.items) == 50

        return read

    middle = _encode_cursor(verdicts // 2)
    return {
        "newest": page(),
        "decision": page(decision="review"),
        "customer": page(customer="c7"),
        "deep_cursor": page(decision="review", cursor=middle),
    }


def measure_growth(
    url_for: Callable[[str], str], customers: tuple[int, int], verdicts: tuple[int, int]
) -> dict[str, Any]:
    """Registry and verdict-list lookups at a small and a large store; growth = large / small."""
    result: dict[str, Any] = {"registry": {}, "verdict_list": {}}
    engines: list[Engine] = []

    def filled(name: str, fill: Callable[[Engine, int], None], count: int) -> tuple[Engine, float]:
        engine = _fresh(url_for(f"{name}-{count}"))
        engines.append(engine)
        started = time.perf_counter()
        fill(engine, count)
        return engine, round(time.perf_counter() - started, 1)

    lookups: dict[str, Callable[[], object]] = {}
    for count in customers:
        engine, fill_s = filled("registry", fill_registry, count)
        result["registry"][str(count)] = {"fill_s": fill_s}
        lookups[str(count)] = registry_lookup(session_factory(engine), count)
    pages: dict[str, Callable[[], object]] = {}
    for count in verdicts:
        engine, fill_s = filled("verdicts", fill_verdicts, count)
        result["verdict_list"][str(count)] = {"fill_s": fill_s}
        for kind, read in verdict_pages(session_factory(engine), count).items():
            pages[f"{count}/{kind}"] = read
    for size, ms in _alternating_medians(lookups, rounds=20).items():
        result["registry"][size]["lookup_ms"] = round(ms / PROBES, 3)
    for key, ms in _alternating_medians(pages, rounds=50).items():
        size, kind = key.split("/")
        result["verdict_list"][size][kind] = ms
    for engine in engines:
        engine.dispose()
    small, large = (result["registry"][str(c)]["lookup_ms"] for c in customers)
    result["registry_growth"] = round(large / small, 2)
    worst = max(
        result["verdict_list"][str(verdicts[1])][k] / result["verdict_list"][str(verdicts[0])][k]
        for k in PAGES
    )
    result["verdict_list_growth"] = round(worst, 2)
    return result


def _fresh(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine
