"""Engine and sessions for the embedded SQLite file or PostgreSQL."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, ExceptionContext, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from app.errors import StoreUnavailable

log = logging.getLogger(__name__)


# How long a SQLite writer waits for the write lock (the driver's busy handler) and for
# the writer turn in sessions that take it as they begin (turn_sessions).
SQLITE_BUSY_SECONDS = 15.0


def make_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with foreign keys on, or psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _create_private(Path(database))
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(
        parsed,
        pool_size=10,
        max_overflow=10,
        connect_args={"connect_timeout": 5},
    )
    event.listen(engine.pool, "checkin", _note_checkin)
    event.listen(engine, "handle_error", _note_refused_write)

    def ping_if_idle(driver: Any, record: Any, _proxy: Any) -> None:
        _ping_if_idle(engine.dialect, driver, record)

    event.listen(engine.pool, "checkout", ping_if_idle)
    return engine


# SQLSTATEs by which PostgreSQL says it cannot take writes now (PostgreSQL's appendix
# A): of class 53, insufficient resources, 53100 disk full, 53200 out of memory and 53300
# too many connections (53400, a configured limit such as temp_file_limit, is one
# statement's), and 25006, a write in a read-only transaction. Nothing a probe may
# cheaply ask shows a full disk (its free space is the server's), so readiness
# (app.db.writable) reports the last such refusal for a while.
REFUSED_WRITE_STATES = ("53100", "53200", "53300", "25006")
REFUSED_WRITE_REMEMBERED_SECONDS = 60.0
# The store's address (URL without password) -> (monotonic time, SQLSTATE, its name).
_REFUSED_WRITES: dict[str, tuple[float, str, str]] = {}


def _store_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _note_refused_write(context: ExceptionContext) -> None:
    """handle_error: remember that the store refused a write (see REFUSED_WRITE_STATES)."""
    if context.engine is None:
        return
    error = context.original_exception
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate in REFUSED_WRITE_STATES:
        # The condition's name only (DiskFull): the message names the server's files.
        _REFUSED_WRITES[_store_key(context.engine)] = (
            time.monotonic(),
            sqlstate,
            type(error).__name__,
        )
        log.warning("the database refused a write: SQLSTATE %s: %s", sqlstate, error)


def refused_write(engine: Engine, now: float | None = None) -> str | None:
    """The store's refusal of a write within REFUSED_WRITE_REMEMBERED_SECONDS, said in a
    sentence, or None; this process's engines on the same database share it."""
    noted = _REFUSED_WRITES.get(_store_key(engine))
    if noted is None:
        return None
    at, sqlstate, name = noted
    age = (time.monotonic() if now is None else now) - at
    if age > REFUSED_WRITE_REMEMBERED_SECONDS:
        return None
    return f"the database refused a write {age:.0f} s ago (SQLSTATE {sqlstate}, {name})"


# A pooled connection idle longer than this is pinged before use (_ping_if_idle).
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN = "intakeguard_checked_in"


def _note_checkin(_driver: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dialect: Dialect, driver: Any, record: Any) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for connections that sat idle in the pool.

    A connection the server or a failover closed while it sat in the pool is found by a
    ``SELECT 1`` and replaced before anyone uses it. pool_pre_ping sent that round trip
    at every checkout, twice a message under load (its look-alike lookup and its batch),
    for connections used milliseconds before. One that was lost within the last second
    fails its statement instead: a temporary failure for that message or batch (the
    sender retries), and SQLAlchemy then replaces every connection of the pool.
    """
    if time.monotonic() - record.info.get(_CHECKED_IN, 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        # The dialect's ping, as pool_pre_ping sends it (outside any transaction).
        dialect.do_ping(driver)
    except Exception as exc:  # any failure: this connection is unusable
        # The pool drops this connection and checks out another (SQLAlchemy's documented
        # way for a ping of one's own), up to three times before it gives up.
        raise DisconnectionError(f"a pooled connection no longer answers: {exc}") from exc


def _create_private(database: Path) -> None:
    """The database file ``0600`` and the directories made for it ``0700``, whatever the
    umask: the store holds messages and personal data, readable by this service alone.

    SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, and
    ``-turn`` (_SqliteTurn) is opened ``0600``; a file or directory that already exists is
    the operator's and is left as it is.
    """
    for directory in reversed((database.parent, *database.parent.parents)):
        if directory.exists():
            continue
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue
        # mkdir's mode passes through the umask; 0700 is what is meant, whatever it is.
        os.chmod(directory, 0o700)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(database, flags, 0o600)
    except FileExistsError:
        exposed = database.stat().st_mode & 0o077
        if exposed:
            log.warning(
                "the database file %s can be read or written by other users (mode %o): "
                "chmod 600 it",
                database,
                database.stat().st_mode & 0o777,
            )
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL is durable in WAL mode except across power loss of the host itself.
    cursor.execute("PRAGMA synchronous=FULL")
    # Deleted rows are overwritten with zeros, not left in free pages: erasure and
    # retention (app.records.retention) must remove personal data from the file itself.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
    # The driver's own implicit BEGIN is deferred and comes only before a write; the
    # "begin" listener below issues ours instead.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Connection) -> None:
    # A deferred transaction reads a snapshot and may find it stale when it first writes:
    # two appenders would read the same audit chain head (app.audit.chain), and a writer that
    # read first fails with "database is locked" however long it waits. Taking the write
    # lock at BEGIN serialises writers from their start; SQLite has one writer anyway.
    # Sessions from read_only_sessions() only read: a deferred BEGIN lets them run beside
    # a writer (WAL) instead of queueing behind its commit.
    # On the driver connection, as the driver's own BEGIN would be: not a statement of ours.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    statement = "BEGIN" if read_only else "BEGIN IMMEDIATE"
    connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]


def writer_turn(engine: Engine) -> AbstractContextManager[object]:
    """What a thread holds around its write transaction on ``engine``.

    SQLite has one writer: a second BEGIN IMMEDIATE gets SQLITE_BUSY, and the driver's
    busy handler retries it after sleeps of growing length (up to 100 ms each), whether
    or not the lock was freed meanwhile, so the lock sits idle while its waiters sleep.
    Writers of verdicts queue for a turn instead (``_SqliteTurn``), handed over the
    moment the holder commits: threads of this process, and the other processes of
    ``serve --workers`` on the same file. PostgreSQL needs none: its writers run side
    by side until the chain lock.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    # One turn per engine (per database file), whichever service or thread asks.
    turn = _WRITER_TURNS.get(engine)
    if turn is None:
        turn = _WRITER_TURNS.setdefault(engine, _SqliteTurn(engine.url.database))
    return turn


class _SqliteTurn:
    """A thread lock, then an flock(2) on ``<database>-turn`` shared with other processes.

    The file holds nothing; only its lock matters, which the kernel hands to the next
    waiter at once and drops with a process that dies holding it. Where it cannot be
    opened (an in-memory database, a read-only directory), writers of other processes
    meet SQLite's busy handler as before: slower, never wrong.
    """

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        self._path = f"{database}-turn" if database and database != ":memory:" else None
        self._fd: int | None = None

    def __enter__(self) -> _SqliteTurn:
        self._threads.acquire()
        try:
            fd = self._lock_file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self, timeout: float) -> bool:
        """Take the turn within ``timeout`` seconds; False when it was not free by then."""
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            return False
        try:
            fd = self._lock_file()
            pause = 0.001
            # flock(2) has no timeout: tried without blocking, with pauses growing to
            # 10 ms (only another process's writer holds it now, this process's wait
            # on the thread lock above).
            while fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        self._threads.release()
                        return False
                    time.sleep(pause)
                    pause = min(pause * 2, 0.01)
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _lock_file(self) -> int | None:
        # Opened on first use, under the thread lock; kept open for the engine's life.
        if self._fd is None and self._path is not None:
            try:
                flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
                self._fd = os.open(self._path, flags, 0o600)
            except OSError as exc:
                log.warning("no cross-process writer turn (%s): %s", self._path, exc.strerror)
                self._path = None
        return self._fd

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


_WRITER_TURNS: weakref.WeakKeyDictionary[Engine, _SqliteTurn] = weakref.WeakKeyDictionary()


@contextmanager
def write_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A write transaction begun in the store's writer turn and committed before the turn
    passes on (see writer_turn): for writers beside the batches of verdicts (retention,
    checkpoints, link expiry, the outbox, the CLI), so a batch waits for them on the turn
    instead of sleeping in SQLite's busy handler. The turn is not re-entrant: never from a
    thread that holds it already."""
    with writer_turn(sessions.kw["bind"]), store_errors(), sessions.begin() as session:
        yield session


_HOLDS_TURN = "intakeguard_holds_turn"


def turn_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions on the same engine whose transactions take the writer turn as they begin
    (at the first statement, as SQLite's write lock is, not when the session is made) and
    give it back when they end (committed, rolled back or closed): for a request's
    session, which FastAPI opens, hands to the route and commits in different worker
    threads. Waiting no longer than SQLite's busy handler would (SQLITE_BUSY_SECONDS), it
    then fails as the store being unavailable. Elsewhere than on SQLite, ``sessions``.
    """
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        return sessions
    turn = writer_turn(engine)
    assert isinstance(turn, _SqliteTurn)
    made = session_factory(engine)

    def take(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return  # a SAVEPOINT inside the transaction that holds the turn
        if not turn.acquire(SQLITE_BUSY_SECONDS):
            raise StoreUnavailable(
                f"the store's writer turn was not free within {SQLITE_BUSY_SECONDS:g} s"
            )
        session.info[_HOLDS_TURN] = True

    def give_back(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and session.info.pop(_HOLDS_TURN, False):
            turn.release()

    event.listen(made, "after_transaction_create", take)
    event.listen(made, "after_transaction_end", give_back)
    return made


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# Execution option marking connections of sessions that never write.
READ_ONLY = "intakeguard_read_only"


def read_only_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions on the same engine for reading only: on SQLite their transactions do not
    take the write lock (see _sqlite_begin_immediate); elsewhere they are the same."""
    engine: Engine = sessions.kw["bind"]
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


def lookup_engine(sessions: sessionmaker[Session]) -> Engine:
    """An engine for a lookup of one statement outside any transaction of ours.

    On SQLite its connections only read (see read_only_sessions); on PostgreSQL they run
    in autocommit, which spares the BEGIN and ROLLBACK round trips around the one
    statement (asked for every message: whether its bytes were recorded before).
    """
    engine: Engine = read_only_sessions(sessions).kw["bind"]
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


# Why a store answered nothing: every pooled connection stayed in use while a request
# waited for one (PostgreSQL: pool_size + max_overflow connections per process).
POOL_EXHAUSTED = "every database connection of this process is in use; retry later"


@contextmanager
def store_errors() -> Iterator[None]:
    """Translate driver errors that mean "try again later" into StoreUnavailable."""
    try:
        yield
    except OperationalError as exc:
        raise StoreUnavailable(_first_line(exc)) from exc
    except PoolTimeout as exc:
        raise StoreUnavailable(POOL_EXHAUSTED) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(_first_line(exc)) from exc
        raise


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else "the database is unavailable"


def checkpoint_sqlite(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the file and truncate it, so pages that held
    erased data are gone from the log too; nothing to do on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    # In the writer turn: a TRUNCATE checkpoint holds the write lock while it copies.
    with writer_turn(engine), store_errors(), engine.connect() as connection:
        # The driver connection itself: outside any transaction, which a checkpoint needs.
        connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA wal_checkpoint(TRUNCATE)"
        )
