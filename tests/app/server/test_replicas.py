"""Two APIs and two SMTP receivers on one PostgreSQL: one verdict per message, one chain."""

from __future__ import annotations

import hashlib
import json
import smtplib
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.audit.hashing import GENESIS
from app.db.engine import make_engine, session_factory
from app.db.models import AuditEntry, Base, Verdict
from tests.app.api.common import ACME, RFC822
from tests.app.server.test_shutdown import INTAKEGUARD, RunningService, running, service_environment
from tests.dns_server import FixtureDnsServer
from tests.support import ADMIN_TOKEN, TLS, make_message

DESK = "support@desk.example"
ENVELOPE = {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}
# How often each door gets the very same bytes, all at once; and how many other messages.
SAME_BYTES_PER_DOOR = 3
DIFFERENT_MESSAGES = 40
STRANGER = "Jan <jan.k@freemail.example>"

Door = Callable[[bytes], str]


@dataclass
class Replicas:
    """The four doors, by name, onto the one store; and the two APIs."""

    doors: dict[str, Door]
    apis: list[httpx.Client]
    services: dict[str, RunningService]
    database_url: str


def intakeguard(tmp_path: Path, dns: FixtureDnsServer, database_url: str, *args: str) -> str:
    """Run a one-shot command on the shared store; its stdout."""
    env = service_environment(tmp_path, dns, database_url=database_url, log_level="WARNING")
    result = subprocess.run(
        [str(INTAKEGUARD), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def empty_store(database_url: str) -> None:
    # The session's database may hold other tests' rows: this test counts exactly.
    engine = make_engine(database_url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


def smtp_door(service: RunningService) -> Door:
    def send(raw: bytes) -> str:
        with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=60) as client:
            client.ehlo(ENVELOPE["helo"])
            assert client.mail(ENVELOPE["mail_from"])[0] == 250
            assert client.rcpt(DESK)[0] == 250
            code, reply = client.data(raw)
        assert code == 250, (reply, service.stderr())
        # "250 2.0.0 Ok: recorded <id>": the answer names the verdict.
        text = reply.decode()
        assert text.startswith("2.0.0 Ok: recorded "), text
        return text.rpartition(" ")[2]

    return send


def api_door(client: httpx.Client) -> Door:
    def send(raw: bytes) -> str:
        response = client.post(
            "/v1/messages", content=raw, headers=RFC822, params={**ENVELOPE, "rcpt": DESK}
        )
        assert response.status_code == 201, response.text
        verdict_id: str = response.json()["id"]
        return verdict_id

    return send


def api_client(service: RunningService) -> httpx.Client:
    return httpx.Client(
        verify=TLS,
        base_url=service.http_url,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=60,
    )


@pytest.fixture
def replicas(
    tmp_path: Path, dns_server: FixtureDnsServer, postgresql_url: str
) -> Iterator[Replicas]:
    """``db upgrade`` once; two ``api`` and two ``smtp`` processes; SIGTERM ends each with 0."""
    intakeguard(tmp_path, dns_server, postgresql_url, "db", "upgrade")
    empty_store(postgresql_url)
    token = intakeguard(
        tmp_path,
        dns_server,
        postgresql_url,
        "token",
        "create",
        "--name",
        "smtp",
        "--scope",
        "intake",
    ).split()[0]
    with ExitStack() as stack:

        def start(command: str, **settings: str) -> RunningService:
            return stack.enter_context(
                running(tmp_path, dns_server, command, database_url=postgresql_url, **settings)
            )

        api_1, api_2 = start("api"), start("api")
        # One receiver hands messages to API #1 over HTTP, the other records directly.
        smtp_1 = start("smtp", api_url=api_1.http_url, api_token=token)
        smtp_2 = start("smtp")
        services = {"api_1": api_1, "api_2": api_2, "smtp_1": smtp_1, "smtp_2": smtp_2}
        for service in (api_1, api_2):
            service.wait_until_listening(int(service.http_url.rpartition(":")[2]))
        for service in (smtp_1, smtp_2):
            service.wait_until_listening(service.smtp_port)
        apis = [stack.enter_context(api_client(service)) for service in (api_1, api_2)]
        doors = {
            "smtp to API #1": smtp_door(smtp_1),
            "smtp to the store": smtp_door(smtp_2),
            "API #1": api_door(apis[0]),
            "API #2": api_door(apis[1]),
        }
        yield Replicas(doors, apis, services, postgresql_url)
        # The receivers first: one of them still needs API #1 until it stops.
        for group in ([smtp_1, smtp_2], [api_1, api_2]):
            for service in group:
                service.terminate()
            for service in group:
                assert service.wait() == 0, service.stderr()


def different_messages() -> list[bytes]:
    """Invoices and transfers from the customer, and now and then a stranger naming acme.pl."""
    messages = []
    for number in range(DIFFERENT_MESSAGES):
        if number % 5 == 4:
            raw = make_message(sender=STRANGER, subject=f"Transfer domeny acme.pl ({number})")
        else:
            raw = make_message(subject=f"Duplikat faktury {number}/2026 dla acme.pl")
        messages.append(raw)
    return messages


def deliver_all(
    replicas: Replicas, same: bytes, others: list[bytes]
) -> tuple[list[str], dict[bytes, str]]:
    """Send everything at once; the verdict ids answered for ``same``, and for each other."""
    doors = list(replicas.doors.values())
    racing = len(doors) * SAME_BYTES_PER_DOOR
    # The same bytes leave together, through every door, so the recordings race.
    start = threading.Barrier(racing, timeout=60)

    def deliver_same(door: Door) -> str:
        start.wait()
        return door(same)

    with ThreadPoolExecutor(max_workers=racing + 4) as pool:
        same_ids = [
            pool.submit(deliver_same, door) for door in doors for _ in range(SAME_BYTES_PER_DOOR)
        ]
        other_ids = {
            raw: pool.submit(doors[number % len(doors)], raw) for number, raw in enumerate(others)
        }
        return [f.result() for f in same_ids], {raw: f.result() for raw, f in other_ids.items()}


def listed_verdicts(api: httpx.Client) -> list[dict[str, Any]]:
    """Every verdict, following the keyset pagination to its end."""
    items: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": 7}
    while True:
        response = api.get("/v1/verdicts", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        params["cursor"] = page["next_cursor"]


def stored_rows(database_url: str) -> tuple[list[tuple[str, str]], list[AuditEntry]]:
    """(verdict id, message SHA-256) of every verdict row, and the chain in seq order."""
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        verdicts = [
            (row.id, row.message_sha256)
            for row in session.execute(select(Verdict.id, Verdict.message_sha256))
        ]
        chain = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        session.expunge_all()
    engine.dispose()
    return verdicts, chain


def test_replicas_record_each_message_once_in_one_linear_chain(
    replicas: Replicas, tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    api_1, api_2 = replicas.apis
    # Through API #2: the decisions the other replicas make look this customer up.
    assert api_2.put("/v1/customers/acme", json=ACME).status_code == 201
    same = make_message(subject="Duplikat faktury 12/2026 dla acme.pl")
    others = different_messages()

    same_ids, other_ids = deliver_all(replicas, same, others)

    # The same bytes: one verdict, named in every answer, whichever door and replica.
    assert len(same_ids) == len(replicas.doors) * SAME_BYTES_PER_DOOR
    assert len(set(same_ids)) == 1, Counter(same_ids)
    # Different messages: each its own verdict.
    assert len(set(other_ids.values())) == DIFFERENT_MESSAGES
    assert same_ids[0] not in other_ids.values()
    answered = {same_ids[0], *other_ids.values()}

    # Recorded: exactly one row per message, none lost, none doubled.
    verdicts, chain = stored_rows(replicas.database_url)
    by_sha = Counter(sha for _, sha in verdicts)
    sent = {hashlib.sha256(raw).hexdigest() for raw in [same, *others]}
    assert set(by_sha) == sent
    assert [sha for sha, count in by_sha.items() if count != 1] == []
    assert {verdict_id for verdict_id, _ in verdicts} == answered
    # Either API lists the same verdicts: one store behind both.
    for api in (api_1, api_2):
        listed = [verdict["id"] for verdict in listed_verdicts(api)]
        assert Counter(listed) == Counter(answered)
    # The registry entered every decision: the customer's own mail is theirs, and a
    # stranger naming their domain is turned away.
    decisions = {verdict["id"]: verdict for verdict in listed_verdicts(api_1)}
    assert {verdict["customer"] for verdict in decisions.values()} == {"acme"}
    strangers = [other_ids[raw] for raw in others if STRANGER.encode() in raw]
    assert len(strangers) == DIFFERENT_MESSAGES // 5
    assert {decisions[verdict_id]["decision"] for verdict_id in strangers} == {"rejected"}
    # Both topologies were real: receiver #1's mail was decided by API #1, receiver #2's
    # in its own process.
    logs = {name: service.stderr() for name, service in replicas.services.items()}
    assert "via smtp" in logs["api_1"], logs["api_1"]
    assert "via smtp" not in logs["api_2"]
    assert "recorded verdict" not in logs["smtp_1"]
    assert "via smtp" in logs["smtp_2"], logs["smtp_2"]

    # One chain: a verdict entry each, and the customer's registration.
    kinds = Counter(entry.kind for entry in chain)
    assert kinds == {"verdict": len(answered), "customer_put": 1}
    assert sorted(e.subject for e in chain if e.kind == "verdict") == sorted(answered)
    # Linear: seq 1..n without a gap, each entry naming the one before it.
    assert [entry.seq for entry in chain] == list(range(1, len(chain) + 1))
    assert [entry.prev_hash for entry in chain] == [GENESIS] + [e.entry_hash for e in chain[:-1]]

    # Both APIs and the command line walk the chain and find it whole.
    expected = {
        "intact": True,
        "entries": len(answered) + 1,
        "head_hash": chain[-1].entry_hash,
        "broken_seq": None,
        "problem": None,
        "erased_personal_records": 0,
    }
    for api in (api_1, api_2):
        assert api.get("/v1/audit/verify").json() == expected
    report = intakeguard(tmp_path, dns_server, replicas.database_url, "audit", "verify", "--json")
    assert json.loads(report) == expected
