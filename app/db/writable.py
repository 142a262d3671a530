"""Whether the store can take a verdict now: room on SQLite's disk, a primary on PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, text

from app.db.engine import store_errors

MEBIBYTE = 1024 * 1024


def write_problem(engine: Engine, min_free_mb: int) -> str | None:
    """Why a verdict could not be recorded in ``engine``'s store now, or None.

    SQLite: the free space on the database file's filesystem (for an unprivileged
    process, ``f_bavail``) must be at least ``min_free_mb`` MiB, since below it a write
    fails with "database or disk is full" and every intake is deferred; the file must be
    writable by this process. PostgreSQL: the server must take writes (a primary, not a
    hot standby, and not ``default_transaction_read_only``). Raises StoreUnavailable when
    the database cannot be asked.
    """
    if engine.dialect.name == "sqlite":
        return _sqlite_problem(engine.url.database, min_free_mb)
    with store_errors(), engine.connect() as connection:
        standby = connection.execute(text("SELECT pg_is_in_recovery()")).scalar()
        read_only = connection.execute(text("SHOW transaction_read_only")).scalar()
    if standby:
        return "the database is a read-only standby"
    if read_only == "on":
        return "the database takes no writes (transaction_read_only)"
    return None


def _sqlite_problem(database: str | None, min_free_mb: int) -> str | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        # The directory too: SQLite creates the -wal and -shm files beside the database.
        return "the database file is not writable by this process"
    status = os.statvfs(path.parent)
    free_mb = status.f_bavail * status.f_frsize // MEBIBYTE
    if free_mb < min_free_mb:
        return (
            f"{free_mb} MiB free on the database's filesystem, "
            f"below READY_MIN_FREE_MB ({min_free_mb})"
        )
    return None
