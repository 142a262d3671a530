"""Two API processes on one PostgreSQL: the same confirmation link posted to both at once
records exactly one answer, one audit entry and one event."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db.engine import make_engine, session_factory
from app.db.models import AuditEntry, ConfirmationAnswer, OutboxEvent
from tests.app.delivery.test_alerts import FROM, Sink
from tests.app.records.confirming import FORWARDED, OLA, link_in
from tests.app.server.test_replicas import api_client, empty_store, intakeguard
from tests.app.server.test_shutdown import RunningService, running
from tests.dns_server import FixtureDnsServer
from tests.support import make_message

POSTS_PER_REPLICA = 4


@pytest.fixture
def sink() -> Iterator[Sink]:
    relay = Sink()
    yield relay
    relay.close()


@pytest.fixture
def two_apis(
    tmp_path: Path, dns_server: FixtureDnsServer, postgresql_url: str, sink: Sink
) -> Iterator[list[RunningService]]:
    intakeguard(tmp_path, dns_server, postgresql_url, "db", "upgrade")
    empty_store(postgresql_url)
    with ExitStack() as stack:
        settings = {
            "database_url": postgresql_url,
            "alert_smtp_relay": f"127.0.0.1:{sink.port}",
            "alert_from": FROM,
            "public_url": "https://intake.hosting.example",
        }
        apis = [stack.enter_context(running(tmp_path, dns_server, "api", **settings)) for _ in "12"]
        for api in apis:
            api.wait_until_listening(int(api.http_url.rpartition(":")[2]))
        yield apis
        for api in apis:
            api.terminate()
        for api in apis:
            assert api.wait() == 0, api.stderr()


def test_one_link_posted_to_two_replicas_at_once_records_one_answer(
    two_apis: list[RunningService], sink: Sink, postgresql_url: str
) -> None:
    first, second = (api_client(api) for api in two_apis)
    with first, second:
        assert first.put("/v1/customers/ola", json=OLA).status_code == 201
        raw = make_message(
            sender="Ola Nowak <ola@no-dmarc.pl>",
            subject="Duplikat faktury 3/2026 dla no-dmarc.pl",
            body="Prosze o duplikat faktury 3/2026 dla domeny no-dmarc.pl.\n",
        )
        response = second.post(
            "/v1/messages",
            content=raw,
            headers={"Content-Type": "message/rfc822"},
            params=FORWARDED,
        )
        verdict = response.json()
        assert verdict["decision"] == "confirmation_required", verdict
        # The replicas' outbox workers send the mail through the sink.
        deadline = time.monotonic() + 60
        while not sink.envelopes and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(sink.envelopes) == 1, [api.stderr() for api in two_apis]
        url, token = link_in(sink.messages()[0])
        assert url == f"https://intake.hosting.example/confirm/{token}"
        racing = 2 * POSTS_PER_REPLICA
        start = threading.Barrier(racing, timeout=60)

        def post(client: httpx.Client, answer: str) -> int:
            start.wait()
            return client.post(f"/confirm/{token}", data={"answer": answer}).status_code

        with ThreadPoolExecutor(max_workers=racing) as pool:
            futures = [
                pool.submit(post, client, answer)
                for client in (first, second)
                for answer in ("confirm", "deny")[: POSTS_PER_REPLICA // 2] * 2
            ]
            statuses = Counter(future.result() for future in futures)
        assert statuses == {200: 1, 410: racing - 1}, statuses
        state = first.get(f"/v1/verdicts/{verdict['id']}/reviews").json()
        assert state["current_decision"] in ("accepted", "rejected")
        assert state["confirmation"]["status"] in ("confirmed", "denied")
        assert second.get("/v1/audit/verify").json()["intact"] is True

    engine = make_engine(postgresql_url)
    try:
        with session_factory(engine)() as session:
            answers = session.scalar(select(func.count()).select_from(ConfirmationAnswer))
            entries = session.scalar(select(func.count()).where(AuditEntry.kind == "confirmation"))
            events = session.scalar(
                select(func.count()).where(
                    OutboxEvent.event.in_(("verdict.confirmed", "verdict.denied"))
                )
            )
    finally:
        engine.dispose()
    assert (answers, entries, events) == (1, 1, 1)
