"""The outbox: events in the verdict's transaction, back-off, leases, row locks."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import event, func, select, text

from app.db.models import OutboxDelivery, OutboxEvent, WebhookSubscription
from app.db.types import utcnow
from app.decision.service import DecisionService
from app.delivery.outbox import (
    FIRST_DELAY,
    LEASE,
    MAX_ATTEMPTS,
    MAX_DELAY,
    OutboxWorker,
    backoff,
    enqueue,
)
from app.delivery.webhooks import SecretBox, WebhookSender
from tests.app.api.common import register, submit
from tests.app.delivery.test_webhooks import (
    Clock,
    Receiver,
    clock_fixture,  # noqa: F401 - a fixture, requested by its name
    deliveries,
    hooks_fixture,  # noqa: F401
    hooks_server_fixture,  # noqa: F401
    make_worker,
    receiver_fixture,  # noqa: F401
    spoof,
    subscribe,
)
from tests.support import SECRET_KEY, make_message


def test_back_off_doubles_from_30_seconds_to_an_hour_and_lasts_over_a_day() -> None:
    waits = [backoff(n, 0.0) for n in range(1, MAX_ATTEMPTS)]
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert waits[0] == FIRST_DELAY and max(waits) == MAX_DELAY == waits[-1]
    # From the first attempt to the last, with no jitter at all: more than 24 hours.
    assert sum(waits, timedelta()) >= timedelta(hours=24)
    # Jitter spreads retries of many deliveries apart and only ever lengthens a wait.
    assert backoff(3, 0.999) > backoff(3, 0.0)
    assert backoff(3, 0.999) <= backoff(3, 0.0) * 1.2


def count(service: DecisionService, model: type[OutboxEvent] | type[OutboxDelivery]) -> int:
    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_each_recorded_verdict_writes_exactly_one_event(
    api: httpx.Client, service: DecisionService
) -> None:
    raw = make_message()
    verdict = submit(api, raw).json()
    with service.sessions() as session:
        [event] = session.scalars(select(OutboxEvent)).all()
    assert event.event == "verdict.recorded" and event.data == verdict
    assert event.dispatched_at is None
    # The same bytes again are a retransmission: the first verdict, no second event.
    assert submit(api, raw).json()["id"] == verdict["id"]
    assert count(service, OutboxEvent) == 1


def test_an_event_exists_only_if_its_transaction_commits(service: DecisionService) -> None:
    with service.sessions() as session, session.begin():
        enqueue(session, "verdict.recorded", {"id": "x"})
        session.rollback()
    assert count(service, OutboxEvent) == 0
    with service.sessions.begin() as session:
        enqueue(session, "verdict.reviewed", {"id": "x"})
    assert count(service, OutboxEvent) == 1
    with service.sessions.begin() as session, pytest.raises(ValueError, match=r"verdict\.lost"):
        enqueue(session, "verdict.lost", {})


def test_a_claimed_delivery_is_leased_not_taken_twice(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    subscribe(hooks, receiver)
    spoof(hooks)
    worker, other = make_worker(service, clock), make_worker(service, clock)
    assert worker.dispatch() == 1
    assert other.dispatch() == 0
    claimed = worker._claim()
    assert len(claimed) == 1
    # While the first worker posts, a second one finds nothing to do.
    assert other._claim() == []
    # A worker that died mid-post loses its lease; the delivery is taken over.
    clock.advance(LEASE + timedelta(seconds=1))
    assert [c.id for c in other._claim()] == [claimed[0].id]


def test_rows_locked_by_another_replica_are_skipped(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    engine = service.sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer; FOR UPDATE SKIP LOCKED is PostgreSQL's")
    register(hooks)
    subscribe(hooks, receiver)
    spoof(hooks)
    worker = make_worker(service, clock)
    worker.dispatch()
    with engine.connect() as replica, replica.begin():
        # Another replica is in the middle of claiming the delivery.
        replica.execute(text("SELECT seq FROM outbox_deliveries FOR UPDATE"))
        assert worker._claim() == []
        # And while it dispatches, this one waits its turn rather than dispatch twice.
        replica.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x1A7A_0B0C})
        spoof(hooks, 2)
        assert worker.dispatch() == 0
    assert len(worker._claim()) == 1
    assert worker.dispatch() == 1


def test_deleting_a_subscription_drops_its_pending_deliveries(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    subscription = subscribe(hooks, receiver)
    spoof(hooks)
    receiver.script = [500]
    worker = make_worker(service, clock)
    worker.run_once()
    assert count(service, OutboxDelivery) == 1
    assert hooks.delete(f"/v1/webhooks/{subscription['id']}").status_code == 204
    assert count(service, OutboxDelivery) == 0
    clock.advance(timedelta(hours=1))
    assert worker.run_once() == 0
    assert len(receiver.requests) == 1


def add_unchecked_subscription(service: DecisionService, url: str) -> str:
    """A subscription row as an older release or a hand edit could leave it: URL unchecked."""
    subscription_id = str(uuid.uuid4())
    box = SecretBox(SECRET_KEY.encode())
    with service.sessions.begin() as session:
        session.add(
            WebhookSubscription(
                id=subscription_id,
                url=url,
                events=["*"],
                decisions=None,
                secret_sealed=box.seal("test-webhook-secret-0123456789abcdef", subscription_id),
                created_at=utcnow() - timedelta(minutes=1),
            )
        )
    return subscription_id


def delivery_of(service: DecisionService, subscription_id: str) -> OutboxDelivery:
    with service.sessions() as session:
        [row] = session.scalars(
            select(OutboxDelivery).where(OutboxDelivery.subscription_id == subscription_id)
        ).all()
        return row


def test_an_unusable_url_is_dead_lettered_and_does_not_starve_the_others(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    # Listed before the good one, so each is claimed and tried first.
    tab = add_unchecked_subscription(service, receiver.url + "\tx")
    port = add_unchecked_subscription(service, "http://[::1]x/hook")
    good = subscribe(hooks, receiver)
    spoof(hooks)
    worker = make_worker(service, clock)
    assert worker.run_once() == 3
    [request] = receiver.requests
    assert request.signature_ok
    [delivered] = deliveries(hooks, good)
    assert delivered["status"] == "delivered"
    for subscription_id, mention in ((tab, "control character"), (port, "not a valid URL")):
        dead = delivery_of(service, subscription_id)
        assert dead.status == "dead" and dead.attempts == 1, dead.last_error
        assert dead.last_error is not None and mention in dead.last_error
    # Dead at once: nothing is left for later passes to stumble on.
    clock.advance(timedelta(hours=1))
    assert worker.run_once() == 0


class FaultySender(WebhookSender):
    """Fails on one URL with an error nobody planned for, as a library bug would."""

    def send(
        self,
        subscription: WebhookSubscription,
        delivery: OutboxDelivery,
        body: bytes,
        now: datetime,
    ) -> None:
        if subscription.url.endswith("/faulty"):
            raise RuntimeError("something nobody planned for")
        super().send(subscription, delivery, body, now)


def test_an_unexpected_error_fails_only_its_own_delivery(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    faulty = subscribe(hooks, receiver, url=receiver.url.replace("/hook", "/faulty"))
    good = subscribe(hooks, receiver)
    spoof(hooks)
    sender = FaultySender(SecretBox(SECRET_KEY.encode()), ["127.0.0.1"], 5.0)
    worker = OutboxWorker(service.sessions, sender, now=clock, jitter=lambda: 0.0)
    assert worker.run_once() == 2
    assert deliveries(hooks, good)[0]["status"] == "delivered"
    [failed] = deliveries(hooks, faulty)
    # Not known to be hopeless: retried on the usual schedule like any failure.
    assert failed["status"] == "pending" and failed["attempts"] == 1
    assert failed["last_error"] == "unexpected error: RuntimeError: something nobody planned for"
    assert datetime.fromisoformat(failed["next_attempt_at"]) == clock() + timedelta(seconds=30)


def test_a_dispatch_with_nothing_to_deliver_marks_the_events_without_reading_them(
    service: DecisionService,
) -> None:
    """No subscription, no alerts, no confirmation mail: one UPDATE marks the events (the
    write lock, which every batch of verdicts waits for, is held for one statement)."""
    with service.sessions.begin() as session:
        for number in range(3):
            enqueue(session, "verdict.recorded", {"id": f"v{number}"})
    worker = OutboxWorker(service.sessions, WebhookSender(SecretBox(SECRET_KEY.encode()), [], 5))
    engine = service.sessions.kw["bind"]
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert worker.dispatch() == 3
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert not [s for s in statements if s.startswith("SELECT outbox_events.")]
    assert [s for s in statements if s.startswith("UPDATE outbox_events")]
    with service.sessions() as session:
        assert session.scalar(select(func.count()).where(OutboxEvent.dispatched_at.is_(None))) == 0
        assert session.scalar(select(func.count()).select_from(OutboxDelivery)) == 0
    assert worker.dispatch() == 0
