"""Transactions: on SQLite writers take the write lock at BEGIN, readers do not; a lookup
of one statement opens no transaction of its own on PostgreSQL; a pooled PostgreSQL
connection is pinged only after sitting idle."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import engine as engine_module
from app.db.engine import (
    READ_ONLY,
    lookup_engine,
    make_engine,
    read_only_sessions,
    session_factory,
    store_errors,
)
from app.db.migrate import upgrade
from app.errors import StoreUnavailable


def sessions_on(tmp_path: Path) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    return engine, session_factory(engine)


def test_a_reader_reads_while_a_writer_holds_the_write_lock(tmp_path: Path) -> None:
    engine, sessions = sessions_on(tmp_path)
    reads = read_only_sessions(sessions)
    try:
        with sessions.begin() as writer:
            writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock is held now
            with reads() as reader:
                # A deferred BEGIN: the reader sees the last commit at once instead of
                # waiting (up to the busy timeout) for the writer to finish.
                count = reader.execute(text("SELECT count(*) FROM verdicts")).scalar_one()
            assert count == 0
    finally:
        engine.dispose()


def test_a_writer_holds_the_write_lock_from_begin(tmp_path: Path) -> None:
    engine, sessions = sessions_on(tmp_path)
    try:
        with sessions.begin() as writer:
            writer.execute(text("SELECT 1"))  # only read so far
            other = sqlite3.connect(tmp_path / "store.db", timeout=0.05, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    finally:
        engine.dispose()


def test_a_lookup_runs_outside_a_transaction_on_postgresql_and_reads_only_on_sqlite(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    lookups = lookup_engine(session_factory(engine))
    try:
        with lookups.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM verdicts")).scalar_one() >= 0
            if engine.dialect.name == "postgresql":
                # Autocommit: no BEGIN went before the SELECT and none is open after it,
                # so no ROLLBACK follows either (two round trips fewer per message).
                driver = connection.connection.driver_connection
                assert isinstance(driver, psycopg.Connection)
                assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            else:
                # A deferred BEGIN: it does not wait for a writer (see the first test).
                assert connection.get_execution_options()[READ_ONLY] is True
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            if engine.dialect.name == "postgresql":
                # The engine itself is untouched: its connections still open transactions.
                driver = connection.connection.driver_connection
                assert isinstance(driver, psycopg.Connection)
                assert driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    finally:
        engine.dispose()


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        pid: int = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid


def terminate(database_url: str, pid: int) -> None:
    """The server closes connection ``pid``, as a restart or a failover would."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.execute(text(f"SELECT pg_terminate_backend({pid})")).scalar()
            alive = text(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}")
            deadline = time.monotonic() + 10
            while connection.execute(alive).scalar() and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        admin.dispose()


@pytest.fixture(name="postgresql_engine")
def postgresql_engine_fixture(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("SQLite's connections are files, not sessions a server can close")
    yield engine
    engine.dispose()


def test_a_connection_lost_while_idle_in_the_pool_is_replaced_before_use(
    postgresql_engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = backend_pid(postgresql_engine)
    terminate(database_url, lost)
    # Idle longer than the limit (made 0 here): pinged at checkout, found dead, replaced.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert backend_pid(postgresql_engine) != lost


def test_a_connection_lost_within_the_idle_limit_fails_once_as_a_temporary_failure(
    postgresql_engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cost of pinging only idle connections: one lost moments after its last use
    (a restart under load) fails its statement, a temporary failure; the pool is then
    renewed, and the next use works."""
    lost = backend_pid(postgresql_engine)
    terminate(database_url, lost)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    with pytest.raises(StoreUnavailable), store_errors():
        backend_pid(postgresql_engine)
    assert backend_pid(postgresql_engine) != lost
