"""Writers beside the verdicts' batches take the store's writer turn (write_transaction).

On SQLite a writer that does not meets a batch at SQLite's lock, and one of the two
sleeps in the busy handler; on PostgreSQL there is no turn to take.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db import engine as db_engine
from app.db.engine import checkpoint_sqlite, make_engine, session_factory, writer_turn
from app.db.models import AuditCheckpoint, ConsoleSession, Customer
from app.decision.service import DecisionService
from app.records.checkpoints import CheckpointWorker
from app.records.confirmations import expire_links
from app.records.retention import run_retention
from app.signing import VerdictSigner
from tests.app.api.common import KOWALSKI, register
from tests.app.cli.test_cli import environment, migrated_sqlite_file, write_csv
from tests.app.console.common import PASSWORD, agent, csrf_of
from tests.dns_server import FixtureDnsServer
from tests.support import SECRET_KEY, TLS, LiveServer

INTAKEGUARD = Path(sys.executable).parent / "intakeguard"

# Each writes in transactions of its own: (what it is, how to run it once).
WRITERS = [
    pytest.param(lambda s: run_retention(s.sessions, days=30), id="retention"),
    pytest.param(
        lambda s: CheckpointWorker(
            s.sessions, VerdictSigner(SECRET_KEY.encode()), timedelta(hours=1)
        ).run_once(),
        id="an audit checkpoint",
    ),
    pytest.param(lambda s: expire_links(s.sessions), id="confirmation link expiry"),
    pytest.param(lambda s: checkpoint_sqlite(s.sessions.kw["bind"]), id="a WAL checkpoint"),
]


@pytest.mark.parametrize("write", WRITERS)
def test_a_writer_waits_while_another_holds_the_turn(
    service: DecisionService, write: Callable[[DecisionService], object]
) -> None:
    engine = service.sessions.kw["bind"]
    done = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            write(service)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        done.set()

    with writer_turn(engine):
        writer = threading.Thread(target=run)
        writer.start()
        # Nothing holds SQLite's own lock: only the turn can keep the writer waiting.
        finished_meanwhile = done.wait(timeout=1.5)
    writer.join(timeout=60)
    assert errors == []
    assert done.is_set()
    # SQLite: the writer waited for the turn. PostgreSQL: there is none, it went ahead.
    assert finished_meanwhile is (engine.dialect.name == "postgresql")


def test_a_checkpoint_is_written_once_the_turn_is_free(service: DecisionService) -> None:
    engine = service.sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no writer turn")
    worker = CheckpointWorker(service.sessions, VerdictSigner(SECRET_KEY.encode()), timedelta(1))
    with writer_turn(engine):
        writer = threading.Thread(target=worker.run_once)
        writer.start()
        writer.join(timeout=1.5)
        assert writer.is_alive()
        assert _count(service, AuditCheckpoint) == 0
    writer.join(timeout=60)
    assert _count(service, AuditCheckpoint) == 1


def _count(service: DecisionService, model: type) -> int:
    with service.reads() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _blocked_flock_waiters() -> set[int]:
    """Processes waiting for an flock(2), from the kernel's table (Linux)."""
    waiters = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == "->" and fields[2] == "FLOCK":
            waiters.add(int(fields[5]))
    return waiters


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("customers", "import", "{csv}"), id="the registry import"),
        pytest.param(("audit", "checkpoint"), id="an audit checkpoint"),
        pytest.param(("retention", "run"), id="retention"),
    ],
)
def test_a_command_waits_for_the_turn_a_serving_process_holds(
    tmp_path: Path, command: tuple[str, ...], dns_server: FixtureDnsServer
) -> None:
    url = migrated_sqlite_file(tmp_path)
    csv = write_csv(tmp_path / "customers.csv", "acme,company,ACME,jan@acme.pl,,,,acme.pl")
    args = [part.replace("{csv}", str(csv)) for part in command]
    engine = make_engine(url)
    try:
        with writer_turn(engine):
            child = subprocess.Popen(
                [str(INTAKEGUARD), *args],
                cwd=tmp_path,
                env=environment(
                    database_url=url, secret_key=SECRET_KEY, dns_nameservers=dns_server.address
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 60
            while child.pid not in _blocked_flock_waiters():
                assert child.poll() is None, child.communicate()
                assert time.monotonic() < deadline, "the command never waited for the turn"
                time.sleep(0.05)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        if command[0] == "customers":
            with session_factory(engine)() as session:
                assert session.scalar(select(func.count()).select_from(Customer)) == 1
    finally:
        engine.dispose()


def test_a_console_login_is_recorded_in_the_writer_turn(
    live_api: LiveServer, service: DecisionService
) -> None:
    """The console's writes (a login records a session) run in the turn, within the one
    worker thread that takes and gives it back."""
    agent(service)
    engine = service.sessions.kw["bind"]
    answers: list[int] = []
    with httpx.Client(verify=TLS, base_url=live_api.url, timeout=60) as browser:
        form = browser.get("/console/login")
        login = {"csrf": csrf_of(form), "login": "ola", "password": PASSWORD}
        with writer_turn(engine):
            post = threading.Thread(
                target=lambda: answers.append(
                    browser.post("/console/login", data=login).status_code
                )
            )
            post.start()
            post.join(timeout=1.5)
            waited = post.is_alive()
            sessions_meanwhile = _count(service, ConsoleSession)
        post.join(timeout=60)
    assert answers == [303]
    assert _count(service, ConsoleSession) == 1
    on_sqlite = engine.dialect.name == "sqlite"
    assert (waited, sessions_meanwhile) == ((True, 0) if on_sqlite else (False, 1))


def test_a_rest_write_takes_the_turn_at_its_first_statement(
    api: httpx.Client, service: DecisionService
) -> None:
    """A request's transaction takes the turn in the worker thread that runs the route, and
    gives it back at its commit: a second holder makes it wait, not fail."""
    engine = service.sessions.kw["bind"]
    assert register(api).status_code == 201
    answers: list[int] = []
    with writer_turn(engine):
        put = threading.Thread(
            target=lambda: answers.append(register(api, "kowalska", **KOWALSKI).status_code)
        )
        put.start()
        put.join(timeout=1.5)
        waited = put.is_alive()
    put.join(timeout=60)
    assert answers == [201]
    assert waited is (engine.dialect.name == "sqlite")
    # Given back at the commit: the next writers go ahead at once.
    with writer_turn(engine):
        pass
    assert api.get("/v1/customers/kowalska").status_code == 200


def test_a_rest_write_waits_no_longer_than_the_busy_handler_would(
    api: httpx.Client, service: DecisionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = service.sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no writer turn")
    monkeypatch.setattr(db_engine, "SQLITE_BUSY_SECONDS", 0.3)
    with writer_turn(engine):
        refused = register(api)
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"]
    assert register(api).status_code == 201
