"""Start-up and shutdown of ``intakeguard serve``/``api``/``smtp``, run for real in a subprocess."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.db.engine import make_engine, session_factory
from app.db.migrate import current_revision, head_revision
from app.db.models import Verdict
from app.server.serving import bind_listener
from tests.dns_server import FixtureDnsServer
from tests.support import ADMIN_TOKEN, REPO, RULES, SECRET_KEY, make_message

INTAKEGUARD = Path(sys.executable).parent / "intakeguard"
DESK = "support@desk.example"
# sysexits.h
EX_TEMPFAIL, EX_CONFIG = 75, 78


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def service_environment(tmp_path: Path, dns: FixtureDnsServer, **settings: str) -> dict[str, str]:
    """A clean INTAKEGUARD_* environment: SQLite under ``tmp_path``, fixture DNS, loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKEGUARD_")}
    wanted = {
        "database_url": f"sqlite:///{tmp_path / 'store' / 'intakeguard.db'}",
        "secret_key": SECRET_KEY,
        "admin_token": ADMIN_TOKEN,
        "rules_dir": str(RULES),
        "dns_nameservers": dns.address,
        "dns_timeout": "2",
        "intake_recipients": "@desk.example",
        "http_listen": f"127.0.0.1:{free_port()}",
        "smtp_listen": f"127.0.0.1:{free_port()}",
        "log_level": "INFO",
        **settings,
    }
    env.update({f"INTAKEGUARD_{k.upper()}": v for k, v in wanted.items()})
    return env


class RunningService:
    """An ``intakeguard`` long-running command; its stderr goes to a file for reading later."""

    def __init__(self, process: subprocess.Popen[bytes], env: dict[str, str], log: Path) -> None:
        self.process = process
        self.env = env
        self.log = log

    @property
    def http_url(self) -> str:
        return f"http://{self.env['INTAKEGUARD_HTTP_LISTEN']}"

    @property
    def smtp_port(self) -> int:
        return int(self.env["INTAKEGUARD_SMTP_LISTEN"].rpartition(":")[2])

    @property
    def database_url(self) -> str:
        return self.env["INTAKEGUARD_DATABASE_URL"]

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_listening(self, port: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exited {self.process.returncode}:\n{self.stderr()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"nothing listens on {port}:\n{self.stderr()}")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)


@contextmanager
def running(
    tmp_path: Path, dns: FixtureDnsServer, *args: str, **settings: str
) -> Iterator[RunningService]:
    """``intakeguard ARGS`` running in ``tmp_path`` until the block ends (then killed if alive)."""
    env = service_environment(tmp_path, dns, **settings)
    log = tmp_path / f"stderr-{len(list(tmp_path.glob('stderr-*')))}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(INTAKEGUARD), *args],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    service = RunningService(process, env, log)
    try:
        yield service
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def start_data(client: smtplib.SMTP) -> None:
    """MAIL, RCPT and DATA up to the 354: the message itself is still to come."""
    client.ehlo("mx.acme.pl")
    assert client.mail("jan@acme.pl")[0] == 250
    assert client.rcpt(DESK)[0] == 250
    client.putcmd("data")
    code, reply = client.getreply()
    assert code == 354, reply


def refused(port: int, timeout: float = 30) -> bool:
    """Whether new connections to ``port`` are refused, within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.settimeout(2)
                greeting = probe.recv(512)
        except ConnectionRefusedError:
            return True
        except OSError:
            greeting = b""
        if greeting.startswith(b"421"):
            return True
        time.sleep(0.05)
    return False


def test_sigterm_finishes_the_transaction_in_flight_and_exits_0(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "serve") as service:
        service.wait_until_listening(service.smtp_port)
        raw = make_message(subject="Duplikat faktury 12/2026 dla acme.pl")
        head, _, body = raw.partition(b"\r\n\r\n")
        with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=30) as client:
            start_data(client)
            client.send(head + b"\r\n\r\n")
            service.terminate()
            # The listener closes first: from now on nobody new gets in.
            assert refused(service.smtp_port), service.stderr()
            client.send(body + b"\r\n.\r\n")
            code, reply = client.getreply()
            assert code == 250, (reply, service.stderr())
            verdict_id = reply.decode().rpartition(" ")[2]
            # The transaction had its answer; the session ends with the server.
            assert client.getreply()[0] == 421
        assert service.wait() == 0, service.stderr()
        engine = make_engine(service.database_url)
        with session_factory(engine)() as session:
            recorded = session.scalar(select(Verdict.id).where(Verdict.id == verdict_id))
        engine.dispose()
        assert recorded == verdict_id
        assert "stopping" in service.stderr()


def test_a_transaction_past_the_grace_is_not_acknowledged(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "serve", shutdown_grace_seconds="1") as service:
        service.wait_until_listening(service.smtp_port)
        with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=30) as client:
            start_data(client)
            client.send(b"Subject: half a message\r\n")
            service.terminate()
            # The client never ends its DATA: when the grace is over, it is told to retry.
            code, reply = client.getreply()
            assert code == 421, reply
        assert service.wait() == 0, service.stderr()
        engine = make_engine(service.database_url)
        with session_factory(engine)() as session:
            assert session.scalars(select(Verdict.id)).all() == []
        engine.dispose()
    assert "still open after 1 s" in service.stderr()


def test_sigterm_tells_an_idle_session_421_and_exits_0(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "smtp") as service:
        service.wait_until_listening(service.smtp_port)
        with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=30) as client:
            client.ehlo("mx.acme.pl")
            # The health probe a load balancer or monitor uses.
            assert client.noop()[0] == 250
            service.terminate()
            code, reply = client.getreply()
            assert code == 421, reply
            assert b"shutting down" in reply
        assert service.wait() == 0, service.stderr()


def test_a_port_in_use_is_named_and_stops_the_start(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        with running(tmp_path, dns_server, "api", http_listen=address) as service:
            assert service.wait() == EX_CONFIG
            assert f"INTAKEGUARD_HTTP_LISTEN {address} is already in use" in service.stderr()
        with running(tmp_path, dns_server, "smtp", smtp_listen=address) as service:
            assert service.wait() == EX_CONFIG
            assert f"INTAKEGUARD_SMTP_LISTEN {address} is already in use" in service.stderr()


def test_an_unreachable_database_is_retried_then_exits_75(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    # A loopback port nobody listens on: connections are refused at once.
    url = f"postgresql+psycopg://intakeguard@127.0.0.1:{free_port()}/intakeguard"
    with running(
        tmp_path,
        dns_server,
        "api",
        "--log-format",
        "text",
        database_url=url,
        db_connect_timeout="1",
    ) as service:
        assert service.wait() == EX_TEMPFAIL, service.stderr()
        stderr = service.stderr()
    assert "database unreachable" in stderr
    assert "retrying in" in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("intakeguard: database unavailable, try again later: no answer within")
    assert "INTAKEGUARD_DB_CONNECT_TIMEOUT=1 s" in last


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("shutdown_grace_seconds", "-1", "INTAKEGUARD_SHUTDOWN_GRACE_SECONDS"),
        ("log_format", "xml", "INTAKEGUARD_LOG_FORMAT"),
        ("metrics_listen", "nowhere", "INTAKEGUARD_METRICS_LISTEN"),
        ("secret_key", "short", "INTAKEGUARD_SECRET_KEY"),
        ("checkpoint_interval", "soon", "INTAKEGUARD_CHECKPOINT_INTERVAL"),
    ],
)
def test_a_bad_setting_stops_the_start_with_one_line_and_78(
    tmp_path: Path, dns_server: FixtureDnsServer, setting: str, value: str, named: str
) -> None:
    with running(tmp_path, dns_server, "serve", **{setting: value}) as service:
        assert service.wait() == EX_CONFIG
        lines = service.stderr().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"intakeguard: configuration error: {named}")


def test_a_missing_secret_key_stops_the_start_with_78(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    env = service_environment(tmp_path, dns_server)
    del env["INTAKEGUARD_SECRET_KEY"]
    result = subprocess.run(
        [str(INTAKEGUARD), "serve"], cwd=tmp_path, env=env, capture_output=True, timeout=60
    )
    assert result.returncode == EX_CONFIG
    assert (
        result.stderr.decode()
        .strip()
        .startswith("intakeguard: configuration error: INTAKEGUARD_SECRET_KEY: missing")
    )


# SIGTERM arrives before the migration; it takes effect once the database is at head.
_MIGRATE_UNDER_SIGTERM = """
import os, signal, sys
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.server.serving import signals_deferred

engine = make_engine(sys.argv[1])
with signals_deferred():
    os.kill(os.getpid(), signal.SIGTERM)
    upgrade(engine)
    print("migrated", flush=True)
print("still running after the block", flush=True)
"""


def test_sigterm_during_start_up_migrations_waits_for_a_consistent_revision(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = subprocess.run(
        [sys.executable, "-c", _MIGRATE_UNDER_SIGTERM, url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Killed by the held SIGTERM as soon as the block ended, not before, not never.
    assert result.returncode == -signal.SIGTERM, result.stderr
    assert result.stdout.splitlines() == ["migrated"]
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_api_alone_stops_on_sigterm_with_0(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "api") as service:
        port = int(service.env["INTAKEGUARD_HTTP_LISTEN"].rpartition(":")[2])
        service.wait_until_listening(port)
        assert httpx.get(f"{service.http_url}/healthz", timeout=10).json() == {"status": "ok"}
        service.terminate()
        assert service.wait() == 0, service.stderr()


def test_api_connections_have_nagle_off() -> None:
    """Responses are written as headers then body: with Nagle on, each body would wait for
    the client's delayed ACK (~40 ms a request on a keep-alive connection)."""
    listener = bind_listener("HTTP_LISTEN", f"127.0.0.1:{free_port()}")
    with listener, socket.create_connection(listener.getsockname()[:2]):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_serve_signs_a_checkpoint_every_checkpoint_interval(
    tmp_path: Path, dns_server: FixtureDnsServer
) -> None:
    with running(tmp_path, dns_server, "serve", checkpoint_interval="1") as service:
        service.wait_until_listening(int(service.env["INTAKEGUARD_HTTP_LISTEN"].rpartition(":")[2]))
        deadline = time.monotonic() + 30
        while "audit checkpoint: 0 entries" not in service.stderr():
            assert time.monotonic() < deadline, service.stderr()
            time.sleep(0.2)
        service.terminate()
        assert service.wait() == 0
