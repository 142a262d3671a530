"""The processes a benchmark run starts: the fixture DNS server, ``intakeguard serve``, a
scratch PostgreSQL database. All on loopback; each is stopped by the context that started it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support import ADMIN_TOKEN, REPO, RULES, SECRET_KEY

POSTGRES_URL = os.environ.get(
    "INTAKEGUARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class BenchError(RuntimeError):
    """A part of the benchmark could not run (a server did not start, a peer failed)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def dns_server(zones: Path) -> Iterator[str]:
    """``tests/dns_server.py`` serving ``zones`` in a process of its own; yields ip:port.

    Its own process, so that serving rspamd or the server under test never counts as
    our CPU time.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dns_server", "--port", "0", str(zones)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if " on " not in line:
            raise BenchError(f"the fixture DNS server did not start: {line!r}")
        yield line.rsplit(" on ", 1)[1].strip()
    finally:
        _stop(process)


@dataclass
class RunningServer:
    """An ``intakeguard serve`` process (with its workers) and where it listens."""

    process: subprocess.Popen[bytes]
    smtp_port: int
    http_port: int
    database_url: str
    workers: int = 1

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        """The server's process and, with workers, its worker processes."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.pid:
                    children.append(int(stat.parent.name))
        return [self.pid, *children]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def metrics(self, prefix: str) -> dict[str, float]:
        """The server's Prometheus samples whose name starts with ``prefix``, by series
        (name and labels as written), summed over its workers."""
        text = httpx.get(f"{self.api_url}/metrics", timeout=10).text
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith(prefix):
                series, _, value = line.rpartition(" ")
                samples[series] = float(value)
        return samples

    def peak_rss_bytes(self) -> int:
        """The high-water mark of resident memory (VmHWM), summed over the processes."""
        return sum(_peak_rss_bytes(pid) for pid in self.pids())

    def cpu_by_process(self) -> dict[int, float]:
        """User plus system CPU time so far, by process (the supervisor's and each worker's)."""
        return {pid: _cpu_seconds(pid) for pid in self.pids()}

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far, its workers' included
        (those alive now: a worker replaced during the run would be missed)."""
        return sum(_cpu_seconds(pid) for pid in self.pids())


def _peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise BenchError("VmHWM not found in /proc status")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def intakeguard_serve(
    database_url: str, dns: str, log: Path, workers: int = 1, **settings: str
) -> Iterator[RunningServer]:
    """``intakeguard serve --workers WORKERS`` on free loopback ports, ready for SMTP and
    HTTP (every worker of them)."""
    smtp_port, http_port = free_port(), free_port()
    env = {
        **os.environ,
        "INTAKEGUARD_DATABASE_URL": database_url,
        "INTAKEGUARD_SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
        "INTAKEGUARD_HTTP_LISTEN": f"127.0.0.1:{http_port}",
        "INTAKEGUARD_DNS_NAMESERVERS": dns,
        "INTAKEGUARD_DNS_TIMEOUT": "5",
        "INTAKEGUARD_SECRET_KEY": SECRET_KEY,
        "INTAKEGUARD_ADMIN_TOKEN": ADMIN_TOKEN,
        "INTAKEGUARD_RULES_DIR": str(RULES),
        "INTAKEGUARD_INTAKE_RECIPIENTS": "@hosting.example",
        "INTAKEGUARD_TRUSTED_ARC_SEALERS": "relay.example",
        # The load comes from one loopback address; the per-client limits are not measured.
        "INTAKEGUARD_SMTP_MAX_CONNECTIONS_PER_MINUTE": "1000000",
        "INTAKEGUARD_SMTP_MAX_SESSIONS_PER_CLIENT": "1000000",
        "INTAKEGUARD_LOG_LEVEL": "WARNING",
        **{f"INTAKEGUARD_{name.upper()}": value for name, value in settings.items()},
    }
    command = [str(Path(sys.executable).with_name("intakeguard")), "serve", f"--workers={workers}"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)
    server = RunningServer(process, smtp_port, http_port, database_url, workers)
    try:
        _wait_ready(server, log)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: RunningServer, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"intakeguard serve exited early; see {log}")
        with contextlib.suppress(httpx.HTTPError, OSError):
            ready = httpx.get(f"{server.api_url}/readyz", timeout=2).status_code == 200
            with socket.create_connection(("127.0.0.1", server.smtp_port), timeout=2):
                pass
            # One process (the supervisor) and a worker in each slot, all started, and
            # each taking SMTP connections: a worker still starting when the clients
            # connect leaves all their sessions to the others.
            if (
                ready
                and len(server.pids()) == server.workers + (server.workers > 1)
                and _every_worker_takes_smtp(server)
            ):
                return
        time.sleep(0.2)
    raise BenchError(f"intakeguard serve was not ready within {timeout:g} s; see {log}")


def _every_worker_takes_smtp(server: RunningServer) -> bool:
    """Whether sessions opened one by one reach every worker (their sessions board
    hands each to the least busy, mailhook.accepting)."""
    workers = set(server.pids()) - {server.pid} if server.workers > 1 else {server.pid}
    sessions = [
        socket.create_connection(("127.0.0.1", server.smtp_port), timeout=5)
        for _ in range(2 * len(workers))
    ]
    try:
        for session in sessions:
            session.recv(512)  # the greeting: the session has begun
        clients = {session.getsockname()[1] for session in sessions}
        return set(_owners(server.smtp_port, clients, workers).values()) >= workers
    finally:
        for session in sessions:
            session.close()


def _owners(port: int, clients: set[int], pids: set[int]) -> dict[int, int]:
    """client port -> which of ``pids`` holds the server side of its connection."""
    inodes: dict[str, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) in clients:
            inodes[f"socket:[{inode}]"] = int(remote.split(":")[1], 16)
    owners = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target in inodes:
                    owners[inodes[target]] = pid
    return owners


def _stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def postgres_available() -> bool:
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available here"
        return False
    finally:
        engine.dispose()


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database for one part of the run, dropped afterwards."""
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"intakeguard_bench_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
