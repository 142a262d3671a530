"""The outbox: events in the verdict's transaction, back-off, leases, row locks."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, text

from app.db.models import OutboxDelivery, OutboxEvent
from app.intake import DecisionService
from app.outbox import FIRST_DELAY, LEASE, MAX_ATTEMPTS, MAX_DELAY, backoff, enqueue
from tests.app.api.common import register, submit
from tests.app.test_webhooks import (
    Clock,
    Receiver,
    clock_fixture,  # noqa: F401 - a fixture, requested by its name
    hooks_fixture,  # noqa: F401
    hooks_server_fixture,  # noqa: F401
    make_worker,
    receiver_fixture,  # noqa: F401
    spoof,
    subscribe,
)
from tests.support import make_message


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
