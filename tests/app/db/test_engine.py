"""Transactions: on SQLite writers take the write lock at BEGIN, readers do not; a lookup
of one statement opens no transaction of its own on PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import READ_ONLY, lookup_engine, make_engine, read_only_sessions, session_factory
from app.db.migrate import upgrade


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
