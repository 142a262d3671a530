"""Engine and sessions for the embedded SQLite file or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.errors import StoreUnavailable


def make_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with foreign keys on, or psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={"connect_timeout": 5},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL is durable in WAL mode except across power loss of the host itself.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def store_errors() -> Iterator[None]:
    """Translate driver errors that mean "try again later" into StoreUnavailable."""
    try:
        yield
    except OperationalError as exc:
        raise StoreUnavailable(_first_line(exc)) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(_first_line(exc)) from exc
        raise


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else "the database is unavailable"
