"""Running the doors: the API and the SMTP receiver in one loop, or apart; the pipe."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, TypeVar, cast

import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import metrics
from app.api import create_app, create_confirm_app
from app.console.sso import RecordPeer
from app.db.engine import make_engine, store_errors
from app.decision.service import DecisionService
from app.delivery.outbox import OutboxWorker
from app.errors import StoreUnavailable
from app.records.checkpoints import CheckpointWorker
from app.records.confirmations import ExpiryWorker
from app.records.retention import RetentionWorker
from app.server.handoff import make_handoff
from app.server.heap import set_start_up_heap_aside
from app.server.listeners import (
    bind_listener,
    listen_error,
    milter_config,
    smtp_config,
    start_metrics_server,
)
from app.server.worker_role import WorkerRole
from app.settings import ENV_PREFIX, Settings, split_listen
from mailhook.handoff import Handoff
from mailhook.milter import MilterServer, start_milter
from mailhook.receiver import SmtpReceiver, start_receiver

_T = TypeVar("_T")

log = logging.getLogger(__name__)


class BackgroundWorker(Protocol):
    """A worker thread beside the doors (the outbox): started, then stopped within ``timeout``."""

    def start(self) -> None: ...

    def stop(self, timeout: float) -> None: ...


async def serve(
    settings: Settings,
    *,
    http: bool,
    smtp: bool,
    milter: bool = False,
    role: WorkerRole | None = None,
) -> None:
    """Run the decision API, the SMTP receiver and/or the milter until SIGTERM or SIGINT,
    then stop in order (``_Running.shut_down``) and return, for an exit status of 0.

    ``role``: this process is one of the workers of ``serve --workers N`` (app.server.supervisor);
    it serves the listening sockets it inherited (the milter's too), and only worker 1
    runs the outbox and retention, which must run once.
    """
    # Installed first: a SIGTERM during start-up still ends in the orderly shutdown.
    stop = _stop_on_signals()
    service = None
    if http or not settings.api_url:
        service = DecisionService.from_settings(settings, settings.require_secret_key())
        metrics.bind_store(service.sessions.kw["bind"])
        log.info(
            "rules %s, version %s; %s",
            settings.rules_dir,
            service.rules.version,
            settings.rules_source(),
        )
        if service.rules.policy.confirmation.enabled and not service.confirmations_on:
            log.warning(
                "confirmation by the registered owner is off: it needs %sPUBLIC_URL and "
                "%sALERT_SMTP_RELAY; such requests are held for review instead",
                ENV_PREFIX,
                ENV_PREFIX,
            )
        if unread := settings.unread_local_rules():
            log.warning("rules: %s", unread)
    # Every listener is bound before anything serves: a port in use stops the start
    # with one line, before a half of the service has taken traffic.
    http_socket = None
    if http:
        http_socket = role.http if role else bind_listener("HTTP_LISTEN", settings.http_listen)
    # The owner's confirmation page on a listener of its own (one process serves it).
    confirm_socket = None
    if http and settings.confirm_listen and (role is None or role.primary):
        confirm_socket = bind_listener("CONFIRM_LISTEN", settings.confirm_listen)
    running = _Running()
    try:
        if service is not None and (role is None or role.primary):
            # Webhooks and alerts of verdicts recorded in this process's store.
            running.workers.append(
                OutboxWorker.from_settings(settings, service.sessions, service.kind_titles())
            )
            running.workers.append(RetentionWorker(service.sessions, settings.raw_retention_days))
            running.workers.append(ExpiryWorker(service.sessions))
            if settings.checkpoint_interval:
                running.workers.append(
                    CheckpointWorker(
                        service.sessions,
                        service.signer,
                        timedelta(seconds=settings.checkpoint_interval),
                    )
                )
        if smtp or milter:
            handoff = make_handoff(settings, service)
        if smtp:
            running.receiver = await _start_smtp(settings, handoff, role)
        if milter:
            running.milter = await _start_milter(settings, handoff, role)
        if settings.metrics_listen:
            start_metrics_server(settings.metrics_listen, role.metrics if role else None)
        for worker in running.workers:
            worker.start()
        if http_socket is not None:
            assert service is not None
            running.start_api(settings, service, http_socket)
        if confirm_socket is not None:
            assert service is not None
            running.start_confirm(settings, service, confirm_socket)
        if role is not None:
            running.orphan_watch = asyncio.create_task(_stop_when_orphaned(stop, role.parent))
        # Everything long-lived is built: out of the collector's way (app.server.heap).
        set_start_up_heap_aside()
        await running.until_stopped(stop)
        await running.shut_down(settings.shutdown_grace_seconds)
    finally:
        await running.abandon()
        if http_socket is not None:
            http_socket.close()
        if confirm_socket is not None:
            confirm_socket.close()
        if service is not None:
            service.sessions.kw["bind"].dispose()


async def _start_smtp(
    settings: Settings, handoff: Handoff, role: WorkerRole | None
) -> SmtpReceiver:
    host, port = split_listen(settings.smtp_listen)
    config = smtp_config(settings, role.count if role else 1)
    sock, seat = (role.smtp, role.seat("smtp")) if role else (None, None)
    starting = start_receiver(handoff, config, host, port, sock, seat)
    return await _listen(starting, "SMTP_LISTEN", settings.smtp_listen)


async def _start_milter(
    settings: Settings, handoff: Handoff, role: WorkerRole | None
) -> MilterServer:
    assert settings.milter_listen is not None
    host, port = split_listen(settings.milter_listen)
    sock = role.milter if role else None
    seat = role.seat("milter") if role else None
    starting = start_milter(handoff, milter_config(settings), host, port, sock, seat)
    return await _listen(starting, "MILTER_LISTEN", settings.milter_listen)


async def _stop_when_orphaned(stop: asyncio.Event, parent: int) -> None:
    """A worker whose supervisor is gone (killed with SIGKILL) stops as on SIGTERM:
    nothing would restart it, nor stop it."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("the supervisor (pid %d) is gone; stopping", parent)
    stop.set()


@dataclass
class _Running:
    """What serve() started, for shutting it down in order."""

    receiver: SmtpReceiver | None = None
    milter: MilterServer | None = None
    workers: list[BackgroundWorker] = field(default_factory=list)
    app: FastAPI | None = None
    api: _ApiServer | None = None
    api_task: asyncio.Task[None] | None = None
    # CONFIRM_LISTEN's server (app.api.create_confirm_app), when set.
    confirm: _ApiServer | None = None
    confirm_task: asyncio.Task[None] | None = None
    orphan_watch: asyncio.Task[None] | None = None

    def start_api(self, settings: Settings, service: DecisionService, sock: socket.socket) -> None:
        self.app = create_app(settings, service)
        config = uvicorn.Config(
            self.app,
            log_config=None,  # our handler and format (app.logs)
            log_level=settings.log_level.lower(),
            access_log=True,
            proxy_headers=False,  # applied below, inside RecordPeer
        )
        # uvicorn's X-Forwarded-* handling as it would apply it (from FORWARDED_ALLOW_IPS),
        # with the connection's own address kept for single sign-on (app.console.sso).
        config.app = RecordPeer(
            ProxyHeadersMiddleware(cast(Any, self.app), trusted_hosts=config.forwarded_allow_ips)
        )
        self.api = _ApiServer(config)
        self.api_task = asyncio.create_task(self.api.serve(sockets=[sock]))
        host, port = sock.getsockname()[:2]
        log.info("decision API listening on http://%s:%d", host, port)

    def start_confirm(
        self, settings: Settings, service: DecisionService, sock: socket.socket
    ) -> None:
        config = uvicorn.Config(
            create_confirm_app(settings, service),
            log_config=None,
            log_level=settings.log_level.lower(),
            access_log=True,
        )
        self.confirm = _ApiServer(config)
        self.confirm_task = asyncio.create_task(self.confirm.serve(sockets=[sock]))
        host, port = sock.getsockname()[:2]
        log.info("confirmation page listening on http://%s:%d/confirm/", host, port)

    async def until_stopped(self, stop: asyncio.Event) -> None:
        """Until a signal, or until the API ends on its own (it failed to start)."""
        stopping = asyncio.create_task(stop.wait())
        waiting: set[asyncio.Future[Any]] = {stopping}
        if self.api_task is not None:
            waiting.add(self.api_task)
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()

    async def shut_down(self, grace: float) -> None:
        """Within ``grace`` seconds in all: readiness off; the SMTP door drains (new
        connections refused, idle sessions 421, transactions in flight finish: 250 once
        recorded, else no answer, so the sender retries); workers stop; the API goes
        last, letting its requests in flight finish."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace

        def left() -> float:
            return max(0.0, deadline - loop.time())

        if self.app is not None:
            self.app.state.shutting_down = True
        log.info("stopping: no new SMTP sessions; up to %.0f s for those in flight", grace)
        if self.receiver is not None:
            await self.receiver.shutdown(left())
            self.receiver = None
        if self.milter is not None:
            await self.milter.shutdown(left())
            self.milter = None
        # The outbox worker stops once the SMTP door can enqueue nothing more (what the
        # API's last requests enqueue is sent by the next start). A second at least, to
        # end the delivery attempt it is in.
        await _stop_workers(self.workers, max(left(), 1.0))
        self.workers = []
        for server, task in ((self.confirm, self.confirm_task), (self.api, self.api_task)):
            if server is not None and task is not None:
                server.config.timeout_graceful_shutdown = math.ceil(left())
                server.should_exit = True
                await task
        self.api = self.confirm = None
        log.info("stopped")

    async def abandon(self) -> None:
        """After a failed start or shutdown: release what is still running, without waiting."""
        if self.orphan_watch is not None:
            self.orphan_watch.cancel()
        if self.receiver is not None:
            self.receiver.server.close()
        if self.milter is not None:
            self.milter.server.close()
        if self.workers:
            await _stop_workers(self.workers, 1.0)
        for server in (self.api, self.confirm):
            if server is not None:
                server.should_exit = True


async def _stop_workers(workers: Sequence[BackgroundWorker], timeout: float) -> None:
    # stop() joins a thread: off the event loop, which still serves the API meanwhile.
    await asyncio.gather(*(asyncio.to_thread(worker.stop, timeout) for worker in workers))


class _ApiServer(uvicorn.Server):
    """uvicorn without signal handlers of its own: serve() decides the order of shutdown.

    (uvicorn would also raise the signal again once it stopped, ending the process with
    SIGTERM's status instead of 0.)
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _listen(starting: Awaitable[_T], setting: str, value: str) -> _T:
    try:
        return await starting
    except OSError as exc:
        raise listen_error(setting, value, exc) from None


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop


def wait_for_store(settings: Settings) -> None:
    """Wait for the database to answer, retrying with back-off up to DB_CONNECT_TIMEOUT.

    A database that starts after us (a container started beside it, a failover) is no
    reason to crash-loop; one that stays away ends the start with StoreUnavailable (75).
    """
    timeout = settings.db_connect_timeout
    deadline = time.monotonic() + timeout
    delay = 0.25
    engine = make_engine(settings.database_url)
    try:
        while True:
            try:
                with store_errors(), engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except StoreUnavailable as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreUnavailable(
                        f"no answer within {ENV_PREFIX}DB_CONNECT_TIMEOUT={timeout:g} s ({exc})"
                    ) from None
                delay = min(delay * 2, 5.0, left)
                log.warning("database unreachable (%s); retrying in %.1f s", exc, delay)
                time.sleep(delay)
    finally:
        engine.dispose()


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGTERM and SIGINT until the block ends (around migrations at start-up).

    Each migration runs in its own transaction (``transaction_per_migration`` in
    migrations/env.py): PostgreSQL's DDL is transactional, and so is SQLite's now that
    app.db.engine issues the BEGIN itself (pysqlite's own would leave DDL outside any
    transaction, committed statement by statement). A kill mid-way would still roll back
    to the previous revision. Held signals go further: the upgrade runs to the head
    revision, and only then does the signal end the process, as it would have.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGTERM, signal.SIGINT}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
