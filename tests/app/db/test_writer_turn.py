"""Threads of one process take turns at the SQLite write lock (app.db.engine.writer_turn)."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.engine import make_engine, writer_turn
from app.db.models import OutboxEvent
from app.decision.service import DecisionService
from app.delivery.outbox import OutboxWorker
from app.delivery.webhooks import SecretBox, WebhookSender
from mailhook.message import Channel, Envelope, parse_message
from tests.app.decision.test_idempotence import verdict_count
from tests.support import make_message


def test_one_turn_per_sqlite_store_and_none_on_postgresql(service: DecisionService) -> None:
    engine = service.sessions.kw["bind"]
    if engine.dialect.name == "sqlite":
        assert writer_turn(engine) is writer_turn(engine) is service.writer_turn
    else:
        assert isinstance(writer_turn(engine), nullcontext)


def test_a_verdict_waits_for_its_turn_then_is_recorded(service: DecisionService) -> None:
    if service.sessions.kw["bind"].dialect.name != "sqlite":
        return  # no turn to wait for (the previous test shows it)
    results: list[dict[str, Any]] = []

    def deliver() -> None:
        results.append(service.submit(parse_message(make_message(), Envelope(), Channel.SMTP)))

    with service.writer_turn:
        delivery = threading.Thread(target=deliver)
        delivery.start()
        delivery.join(timeout=2)
        # Checked, but not recorded while another writer of this process has the turn.
        assert delivery.is_alive()
        assert verdict_count(service) == 0
    delivery.join(timeout=60)
    assert len(results) == 1
    assert verdict_count(service) == 1


def test_many_threads_record_each_their_own_verdict(service: DecisionService) -> None:
    messages = [make_message() for _ in range(8)]
    start = threading.Barrier(len(messages))
    ids: list[str] = []
    errors: list[BaseException] = []

    def deliver(raw: bytes) -> None:
        start.wait()
        try:
            ids.append(service.submit(parse_message(raw, Envelope(), Channel.SMTP))["id"])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(raw,)) for raw in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(set(ids)) == len(messages) == verdict_count(service)


def test_a_writer_of_another_process_holds_the_turn_on_the_file(
    service: DecisionService,
) -> None:
    """`serve --workers`: the turn is an flock on `<database>-turn`, which another process
    (here another open file, which flock treats alike) holds while it writes."""
    engine = service.sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        return  # no turn (the first test shows it)
    results: list[dict[str, Any]] = []

    def deliver() -> None:
        results.append(service.submit(parse_message(make_message(), Envelope(), Channel.SMTP)))

    fd = os.open(f"{engine.url.database}-turn", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        delivery = threading.Thread(target=deliver)
        delivery.start()
        delivery.join(timeout=2)
        assert delivery.is_alive()
        assert verdict_count(service) == 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        delivery.join(timeout=60)
    finally:
        os.close(fd)
    assert len(results) == 1
    assert verdict_count(service) == 1


def test_a_turn_file_that_cannot_be_opened_leaves_the_busy_handler(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A `-turn` path that is a symlink is not followed (O_NOFOLLOW): writers still get
    their turn within the process, with a warning that other processes meet SQLite's
    busy handler instead."""
    database = tmp_path / "store.db"
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "store.db-turn").symlink_to(elsewhere)
    engine = make_engine(f"sqlite:///{database}")
    try:
        with (
            caplog.at_level(logging.WARNING, logger="app.db.engine"),
            writer_turn(engine),
            engine.begin() as connection,
        ):
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    finally:
        engine.dispose()
    assert not elsewhere.exists()
    assert "no cross-process writer turn" in caplog.text


def test_the_outbox_dispatches_only_in_its_turn(service: DecisionService) -> None:
    """The outbox worker's writes queue for the same turn as the verdicts' batches: a
    dispatch that met a batch at SQLite's lock would sleep in the busy handler, and the
    batch behind it too."""
    engine = service.sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        return  # no turn (the first test shows it)
    service.submit(parse_message(make_message(), Envelope(), Channel.SMTP))
    worker = OutboxWorker(service.sessions, WebhookSender(SecretBox(b"k" * 32), [], 5.0))
    taken: list[int] = []
    with service.writer_turn:
        dispatch = threading.Thread(target=lambda: taken.append(worker.dispatch()))
        dispatch.start()
        dispatch.join(timeout=2)
        # Nothing else holds SQLite's lock: only the turn keeps the dispatch waiting.
        assert dispatch.is_alive()
        assert undispatched(service) == 1
    dispatch.join(timeout=60)
    assert taken == [1]
    assert undispatched(service) == 0


def undispatched(service: DecisionService) -> int:
    with service.reads() as session:
        return len(
            session.scalars(select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))).all()
        )
