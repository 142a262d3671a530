"""``intakeguard serve --workers N``: one supervisor, N worker processes on the same ports.

One Python process is bound to one core (the GIL); a worker per core uses them all.

- The supervisor (the process started as ``intakeguard serve``) waits for the store and
  migrates it, as a single process does, then binds every listener (HTTP, SMTP,
  milter, metrics) once: a port in use ends the start with one line and exit status 78, before
  any worker runs.
- Each worker is a new interpreter running the same command (``python -P -m app.cli.main
  serve ...``), told by ``_INTAKEGUARD_WORKER`` its number and the descriptors of the
  listening sockets it inherits (``pass_fds``, as systemd's LISTEN_FDS does). A fresh
  interpreter rather than ``fork()``: the supervisor has imported SQLAlchemy, asyncio
  and prometheus_client by then, and none of them promise to survive a fork
  (connection pools, locks held by threads, metrics already counted in memory); the
  price, a second of start-up per worker, is paid once.
- Every worker accepts on the same sockets; the kernel hands each connection to one.
  Worker 1 alone runs the outbox and the retention purge, which must run once.
- Metrics: workers count in prometheus_client's multiprocess mode (a directory of
  per-process files made at start, removed at exit), and a scrape of any worker sums
  them (app.metrics).
- SIGTERM or SIGINT to the supervisor is passed to every worker, which shuts down as a
  single process does (SMTP sessions drain, the API last); the supervisor exits 0 once
  all have exited cleanly.
- A worker that dies (a crash, the OOM killer) is logged and replaced, after a delay
  that doubles while replacements die young (0.5 s up to 30 s), as gunicorn or a
  service manager would: the other workers keep serving meanwhile. One that exits 64,
  75 or 78 (bad usage, store unavailable, bad configuration) would fail the same way
  again: the supervisor stops the others and exits with that status.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from prometheus_client import multiprocess

from app.server.listeners import bind_listener, smtp_config
from app.server.worker_role import WORKER_ENV
from app.sysexits import EX_CONFIG, EX_SOFTWARE, EX_TEMPFAIL, EX_USAGE
from mailhook.accepting import SessionBoard

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Statuses a replacement would end with too.
_FATAL = {
    EX_USAGE: "usage error",
    EX_TEMPFAIL: "store unavailable",
    EX_CONFIG: "configuration error",
}
# A worker that lived this long before dying is replaced at once; younger, after a delay.
_HEALTHY_SECONDS = 30.0
_MAX_DELAY = 30.0


@dataclass
class _Slot:
    """Worker number ``number``: the process now running as it, and its history."""

    number: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Starts the workers, replaces those that die, and stops them on a signal."""

    settings: Settings
    command: Sequence[str]
    listeners: dict[str, socket.socket]
    metrics_dir: Path
    slots: list[_Slot] = field(default_factory=list)
    stopping: bool = False
    # How many sessions each worker holds at each door (mailhook.accepting).
    board: SessionBoard | None = None

    def run(self) -> int:
        """Until SIGTERM/SIGINT or a fatal worker exit; the exit status of ``serve``."""
        self.slots = [_Slot(number) for number in range(1, self.settings.workers + 1)]
        self.board = SessionBoard.create(len(self.slots))
        if self.stopping:
            return 0
        log.info("starting %d workers", len(self.slots))
        for slot in self.slots:
            self._start(slot)
        while not self.stopping:
            for slot in self.slots:
                fatal = self._check(slot)
                if fatal is not None:
                    self._stop_all()
                    return fatal
            time.sleep(0.1)
        return self._stop_all()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _start(self, slot: _Slot) -> None:
        fds = {name: sock.fileno() for name, sock in self.listeners.items()}
        if self.board is not None:
            fds["board"] = self.board.fd
        spec = {"number": slot.number, "count": len(self.slots), "fds": fds}
        env = {**os.environ, WORKER_ENV: json.dumps(spec), MULTIPROC_ENV: str(self.metrics_dir)}
        # Our own interpreter and arguments, no shell: nothing in it comes from elsewhere.
        slot.process = subprocess.Popen(  # noqa: S603
            self.command,
            env=env,
            stdin=subprocess.DEVNULL,
            pass_fds=list(fds.values()),
        )
        slot.started = time.monotonic()
        slot.restart_at = None
        log.info("worker %d started (pid %d)", slot.number, slot.process.pid)

    def _check(self, slot: _Slot) -> int | None:
        """Replace a dead worker when its delay is over; a fatal status to exit with."""
        now = time.monotonic()
        if slot.process is None:
            if slot.restart_at is not None and now >= slot.restart_at:
                self._start(slot)
            return None
        status = slot.process.poll()
        if status is None:
            return None
        pid, slot.process = slot.process.pid, None
        _forget_metrics_of(pid, self.metrics_dir)
        if self.board is not None:
            self.board.vacate(slot.number)
        if status in _FATAL:
            log.error(
                "worker %d (pid %d) exited %d (%s); stopping",
                slot.number,
                pid,
                status,
                _FATAL[status],
            )
            return status
        young = now - slot.started < _HEALTHY_SECONDS
        slot.failures = slot.failures + 1 if young else 1
        delay = min(0.5 * 2 ** (slot.failures - 1), _MAX_DELAY) if young else 0.0
        slot.restart_at = now + delay
        log.error(
            "worker %d (pid %d) %s; starting another in %.1f s",
            slot.number,
            pid,
            _describe_status(status),
            delay,
        )
        return None

    def _stop_all(self) -> int:
        """SIGTERM to every worker; wait for their orderly shutdown; 0 when all were clean."""
        # Our copies of the listening sockets close now: once the workers have closed
        # theirs, new connections are refused rather than left waiting in the backlog.
        for sock in self.listeners.values():
            sock.close()
        live = [slot for slot in self.slots if slot.process is not None]
        for slot in live:
            assert slot.process is not None
            with contextlib.suppress(ProcessLookupError):
                slot.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds + 15.0
        clean = True
        for slot in live:
            assert slot.process is not None
            try:
                status = slot.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d (pid %d) did not stop; killed", slot.number, slot.process.pid)
                slot.process.kill()
                status = slot.process.wait()
            # Killed by our SIGTERM before it could set up its shutdown: it served nothing.
            if status not in (0, -signal.SIGTERM):
                log.error("worker %d %s", slot.number, _describe_status(status))
                clean = False
        log.info("all workers stopped")
        return 0 if clean else EX_SOFTWARE


def _describe_status(status: int) -> str:
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited {status}"


def _forget_metrics_of(pid: int, metrics_dir: Path) -> None:
    """A dead worker's gauges (SMTP sessions open) stop counting; its counters stay."""
    multiprocess.mark_process_dead(pid, str(metrics_dir))  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def _metrics_directory() -> Iterator[Path]:
    """The operator's PROMETHEUS_MULTIPROC_DIR emptied of an earlier run's files, or
    one of our own, removed at exit."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="intakeguard-metrics-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def supervise(settings: Settings, argv: Sequence[str], *, http: bool, smtp: bool) -> int:
    """Bind the listeners, run ``settings.workers`` workers of ``intakeguard ARGV``."""
    # -P: the working directory is not put on sys.path, where a directory named "app"
    # would shadow ours.
    command = [sys.executable, "-P", "-m", "app.cli.main", *argv]
    supervisor = Supervisor(settings, command, {}, Path())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, supervisor.on_signal)
    if smtp:
        # A certificate that does not load is a configuration error of the supervisor.
        smtp_config(settings)
    listeners = supervisor.listeners
    try:
        if http:
            listeners["http"] = bind_listener("HTTP_LISTEN", settings.http_listen)
        if smtp:
            listeners["smtp"] = bind_listener("SMTP_LISTEN", settings.smtp_listen)
        if settings.milter_listen:
            listeners["milter"] = bind_listener("MILTER_LISTEN", settings.milter_listen)
        if settings.metrics_listen:
            listeners["metrics"] = bind_listener("METRICS_LISTEN", settings.metrics_listen)
        with _metrics_directory() as supervisor.metrics_dir:
            return supervisor.run()
    finally:
        for sock in listeners.values():
            sock.close()
