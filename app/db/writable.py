"""Whether the store can take a verdict now: room on SQLite's disk, a writable PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, text

from app.db.engine import refused_write, store_errors

MEBIBYTE = 1024 * 1024


# One round trip, reading and writing nothing: a standby; this session read-only; and
# what new sessions get from ALTER DATABASE/ROLE ... SET default_transaction_read_only,
# which a pooled session started earlier does not show (the most specific setting wins:
# the role in this database, then the role, then the database).
_PG_WRITABILITY = text(
    """
    SELECT pg_is_in_recovery(),
           current_setting('transaction_read_only')::boolean,
           (SELECT split_part(item, '=', 2)::boolean
              FROM pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) AS item
             WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database
                                          WHERE datname = current_database()))
               AND s.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = current_user))
               AND NOT (s.setdatabase = 0 AND s.setrole = 0)
               AND lower(split_part(item, '=', 1)) = 'default_transaction_read_only'
             ORDER BY s.setrole <> 0 DESC, s.setdatabase <> 0 DESC
             LIMIT 1)
    """
)


def write_problem(engine: Engine, min_free_mb: int) -> str | None:
    """Why a verdict could not be recorded in ``engine``'s store now, or None.

    SQLite: the free space on the database file's filesystem (for an unprivileged
    process, ``f_bavail``) must be at least ``min_free_mb`` MiB, since below it a write
    fails with "database or disk is full" and every intake is deferred; the file must be
    writable by this process. PostgreSQL: the server must take writes (a primary, not a
    hot standby; neither this session nor new ones ``default_transaction_read_only``),
    and must not have refused a write lately for lack of resources (a full disk: see
    app.db.engine.refused_write). Nothing is written to find out. Raises
    StoreUnavailable when the database cannot be asked.
    """
    if engine.dialect.name == "sqlite":
        return _sqlite_problem(engine.url.database, min_free_mb)
    with store_errors(), engine.connect() as connection:
        standby, read_only, new_sessions_read_only = connection.execute(_PG_WRITABILITY).one()
    if standby:
        return "the database is a read-only standby"
    if read_only:
        return "the database takes no writes (transaction_read_only)"
    if new_sessions_read_only:
        return (
            "the database takes no writes from new sessions "
            "(default_transaction_read_only set on the database or role)"
        )
    return refused_write(engine)


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
