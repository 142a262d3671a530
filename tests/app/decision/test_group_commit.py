"""Verdicts decided together are committed together, and each as if it were alone."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select, text

from app.audit.chain import _CHAIN_LOCK
from app.db.models import MessageFingerprint, OutboxEvent, Verdict
from app.decision.service import DecisionService
from app.errors import StoreUnavailable
from app.records.audit_verify import verify_chain
from app.verdict_types import Verdict as VerdictJson
from mailhook.message import Channel, Envelope, parse_message
from tests.support import make_message

ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mail.acme.pl", mail_from="jan@acme.pl")


@contextmanager
def store_held(service: DecisionService) -> Iterator[None]:
    """The store's writer lock held by someone else: batches queue behind it."""
    engine = service.sessions.kw["bind"]
    if engine.dialect.name == "sqlite":
        with service.writer_turn:
            yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _CHAIN_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _CHAIN_LOCK})
            connection.commit()


def submit_together(
    service: DecisionService, raws: list[bytes]
) -> tuple[list[VerdictJson | None], list[BaseException]]:
    """Each of ``raws`` submitted by a thread of its own while the store is held: the
    first leads and waits for the store, the others queue; released once all of them
    wait. On SQLite the leader takes its batch once it has the writer turn, so all of
    them are one batch; on PostgreSQL (no writer turn) it took its own message alone
    and waits at the chain's lock, and the others make the next batch. Verdicts in the
    order of ``raws``."""
    results: list[VerdictJson | None] = [None] * len(raws)
    errors: list[BaseException] = []

    def deliver(index: int, raw: bytes) -> None:
        try:
            results[index] = service.submit(parse_message(raw, ENVELOPE, Channel.SMTP))
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertions
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(i, raw)) for i, raw in enumerate(raws)]
    with store_held(service):
        # The first message leads, alone, and waits for the store; the others queue.
        threads[0].start()
        wait_until(lambda: service.group_commit.leading)
        for thread in threads[1:]:
            thread.start()
        # On SQLite the leader's own message waits in the queue too, for the turn.
        queued = (
            len(raws) if service.sessions.kw["bind"].dialect.name == "sqlite" else len(raws) - 1
        )
        wait_until(lambda: service.group_commit.queued() >= queued)
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def with_message_id(raw: bytes, message_id: bytes) -> bytes:
    return re.sub(rb"(?m)^Message-ID: <[^>]*>", b"Message-ID: " + message_id, raw, count=1)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the submitting threads never queued"
        time.sleep(0.01)


def count(service: DecisionService, model: Any) -> int:
    with service.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_verdicts_queued_together_commit_in_one_batch_each_recorded_once(
    service: DecisionService,
) -> None:
    sizes: list[int] = []
    service.group_commit.on_batch = sizes.append
    try:
        raws = [make_message(subject=f"Pytanie {n} o domene acme.pl") for n in range(8)]
        results, errors = submit_together(service, raws)
    finally:
        service.group_commit.on_batch = None
    assert errors == []
    if service.sessions.kw["bind"].dialect.name == "sqlite":
        # Taken after the writer turn: what queued while another held it joins the batch.
        assert sizes == [8], "one batch: every message that queued while the turn was held"
    else:
        assert sorted(sizes) == [1, 7], "the first alone, then everything that queued meanwhile"
    ids = {verdict["id"] for verdict in results if verdict is not None}
    assert len(ids) == 8
    assert count(service, Verdict) == count(service, OutboxEvent) == 8
    with service.sessions() as session:
        report = verify_chain(session)
    assert report.intact and report.entries == 8, report


def test_the_same_bytes_twice_in_a_batch_get_one_verdict(service: DecisionService) -> None:
    raw = make_message()
    others = [make_message(subject=f"Inne {n}") for n in range(3)]
    results, errors = submit_together(service, [others[0], raw, others[1], raw, others[2]])
    assert errors == []
    assert results[1] is not None and results[3] is not None
    assert results[1]["id"] == results[3]["id"]
    assert count(service, Verdict) == 4


def test_a_replay_inside_one_batch_is_seen_as_if_recorded_before(
    service: DecisionService,
) -> None:
    """The second message reuses the first's Message-ID with another body: a replay,
    though neither was in the store when the batch's decisions were made."""
    first = with_message_id(make_message(body="Prosze o fakture.\n"), b"<same@acme.pl>")
    rewritten = with_message_id(make_message(body="Prosze o transfer.\n"), b"<same@acme.pl>")
    opener = make_message(subject="Pierwsza w kolejce")
    results, errors = submit_together(service, [opener, first, rewritten])
    assert errors == []
    replay = {
        index: next(c for c in verdict["checks"] if c["name"] == "replay")["result"]
        for index, verdict in enumerate(results)
        if verdict is not None
    }
    # Whichever of the two queued first is the original; the other its replay.
    assert replay[0] == "pass"
    assert sorted([replay[1], replay[2]]) == ["fail", "pass"]
    assert count(service, MessageFingerprint) == 3


def test_a_store_that_fails_gives_every_message_of_the_batch_a_temporary_failure(
    service: DecisionService,
) -> None:
    """A batch that cannot commit: each of its messages gets StoreUnavailable (451 / 503
    / exit 75), none a verdict, and nothing of it is left in the store."""
    original = service.group_commit.transaction

    @contextmanager
    def unavailable() -> Iterator[Any]:
        with original() as session:
            yield session
            raise StoreUnavailable("disk full")

    service.group_commit.transaction = unavailable
    try:
        raws = [make_message(subject=f"Awaria {n}") for n in range(4)]
        results, errors = submit_together(service, raws)
    finally:
        service.group_commit.transaction = original
    assert results == [None] * 4
    assert len(errors) == 4 and all(isinstance(e, StoreUnavailable) for e in errors)
    assert count(service, Verdict) == 0


def test_one_message_failing_in_a_batch_leaves_the_others_recorded(
    service: DecisionService,
) -> None:
    """A fault deciding one message rolls its batch back; the others are then recorded
    one by one, and only the faulty one gets the error."""
    group = service.group_commit
    decide = group._decide
    faulty = make_message(subject="Ta jedna zawodzi")

    def failing_for_one(session: Any, job: Any, unflushed: Any) -> Any:
        if job.message.raw == faulty:
            raise RuntimeError("a fault deciding this message")
        return decide(session, job, unflushed)

    group._decide = failing_for_one
    try:
        raws = [make_message(subject=f"Zwykla {n}") for n in range(3)]
        # The faulty one in the second batch, with two others.
        results, errors = submit_together(service, [raws[0], faulty, raws[1], raws[2]])
    finally:
        group._decide = decide
    assert [str(error) for error in errors] == ["a fault deciding this message"]
    assert results[1] is None
    assert all(results[index] is not None for index in (0, 2, 3))
    assert count(service, Verdict) == count(service, OutboxEvent) == 3
    with service.sessions() as session:
        assert verify_chain(session).intact


def test_a_writer_turn_that_fails_gives_the_queue_a_temporary_failure(
    service: DecisionService,
) -> None:
    """The turn is taken before the batch: when taking it fails (its lock file gone
    unwritable), the messages waiting get StoreUnavailable, none is left queued, and the
    next message, with the turn back, is recorded."""
    group = service.group_commit
    turn = group._writer_turn

    @contextmanager
    def failing() -> Iterator[None]:
        raise OSError("flock: input/output error")
        yield  # pragma: no cover - never reached

    group._writer_turn = failing()
    try:
        raw = make_message(subject="Bez kolejki")
        error: BaseException | None = None
        try:
            service.submit(parse_message(raw, ENVELOPE, Channel.SMTP))
        except StoreUnavailable as exc:
            error = exc
    finally:
        group._writer_turn = turn
    assert isinstance(error, StoreUnavailable) and "writer turn" in str(error)
    assert group.queued() == 0 and count(service, Verdict) == 0
    verdict = service.submit(parse_message(raw, ENVELOPE, Channel.SMTP))
    assert count(service, Verdict) == 1 and verdict["id"]
