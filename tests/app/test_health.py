"""Liveness, readiness (database writable and migrated, rules; DNS reported) and the SMTP
receiver's NOOP probe."""

from __future__ import annotations

import errno
import os
import smtplib
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.api import build_service, create_app
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.decision.service import DecisionService
from app.server.handoff import InProcessHandoff
from mailhook.dns import Resolver
from mailhook.smtp_config import SmtpConfig
from tests.app.server.test_doors import DESK, smtp_send
from tests.conftest import ON_CI
from tests.dns_server import FixtureDnsServer
from tests.smtp_server import SmtpThread
from tests.support import TLS, LiveServer, make_message, make_settings


@pytest.fixture
def silent_dns() -> Iterator[str]:
    """A loopback UDP port that takes queries and never answers them."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sink.getsockname()[1]}"


def test_liveness_needs_nothing_but_the_process(anonymous: httpx.Client) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_names_what_it_checked(anonymous: httpx.Client, service: DecisionService) -> None:
    response = anonymous.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "rules": service.rules.version, "dns": "ok"}


def test_silent_dns_is_reported_without_failing_readiness(
    anonymous: httpx.Client,
    api: httpx.Client,
    service: DecisionService,
    dns_faults: dict[str, str],
) -> None:
    # The probe asks for the root SOA; silence there is what a resolver outage looks like.
    dns_faults["."] = "timeout"
    response = anonymous.get("/readyz")
    metrics = anonymous.get("/metrics").text
    # What this replica still does without DNS: verdicts are read (and reviewed).
    assert api.get("/v1/verdicts").status_code == 200
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {
        "database": "ok",
        "rules": service.rules.version,
        "dns": "degraded",
    }
    assert "intakeguard_dns_answering 0.0" in metrics
    dns_faults.clear()
    assert anonymous.get("/readyz").json()["checks"]["dns"] == "ok"
    assert "intakeguard_dns_answering 1.0" in anonymous.get("/metrics").text


def test_no_dns_server_at_all_is_still_ready(
    database_url: str, silent_dns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment outranks the values given (and points at the fixture server).
    monkeypatch.setenv("INTAKEGUARD_DNS_NAMESERVERS", silent_dns)
    settings = make_settings(database_url, dns_timeout=0.5)
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(verify=TLS, base_url=server.url) as client,
    ):
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["dns"] == "degraded"
    assert response.json()["checks"]["database"] == "ok"


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of its own: a disk that can really be filled."""
    reason = "mounting a tmpfs needs root (CAP_SYS_ADMIN); the disk-full test cannot run"
    if os.geteuid() != 0:
        if ON_CI:
            pytest.fail(f"{reason}, and with CI=true it must")
        pytest.skip(reason)
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        message = f"{reason}: {mounted.stderr.strip()}"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "--lazy", str(mountpoint)], check=False)


def fill(directory: Path) -> Path:
    """Write zeros into ``directory`` until its filesystem refuses more."""
    filler = directory / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(bytes(64 * 1024))
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_full_sqlite_disk_is_not_ready_while_intake_is_deferred(small_filesystem: Path) -> None:
    url = f"sqlite:///{small_filesystem / 'intakeguard.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = make_settings(url, ready_min_free_mb=1)
    service = build_service(settings)
    config = SmtpConfig(recipients=(DESK,))
    with (
        LiveServer(create_app(settings, service)) as api,
        httpx.Client(verify=TLS, base_url=api.url, timeout=30) as client,
        SmtpThread(lambda: InProcessHandoff(service), config) as smtp,
    ):
        assert client.get("/readyz").status_code == 200
        assert smtp_send(smtp.port, make_message())[0] == 250
        filler = fill(small_filesystem)
        response = client.get("/readyz")
        deferred = smtp_send(smtp.port, make_message(subject="Druga wiadomosc"))
        alive = client.get("/healthz")
        filler.unlink()
        recovered = client.get("/readyz")
    service.sessions.kw["bind"].dispose()
    assert response.status_code == 503, response.text
    assert "below READY_MIN_FREE_MB (1)" in response.json()["detail"]
    assert deferred[0] == 451
    assert alive.status_code == 200
    assert recovered.status_code == 200, recovered.text


def test_a_read_only_postgresql_is_not_ready(postgresql_url: str) -> None:
    # A hot standby answers reads and refuses writes; a read-only session looks the same.
    options = "-c default_transaction_read_only=on"
    url = make_url(postgresql_url).update_query_dict({"options": options})
    settings = make_settings(url.render_as_string(hide_password=False))
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(verify=TLS, base_url=server.url) as client,
    ):
        response = client.get("/readyz")
    assert response.status_code == 503, response.text
    assert response.json()["detail"] == "the database takes no writes (transaction_read_only)"


def test_not_ready_once_shutting_down(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    with LiveServer(app) as server, httpx.Client(verify=TLS, base_url=server.url) as client:
        assert client.get("/readyz").status_code == 200
        app.state.shutting_down = True
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["detail"] == "shutting down"


def test_the_dns_probe_tells_an_answering_server_from_a_silent_one(
    dns_server: FixtureDnsServer, silent_dns: str
) -> None:
    # The fixture server refuses the root zone it does not serve: still an answer.
    assert Resolver([dns_server.address], timeout=1).answering()
    assert not Resolver([silent_dns], timeout=0.3).answering()
    # One silent server among answering ones is not an outage.
    assert Resolver([silent_dns, dns_server.address], timeout=0.3).answering()


def test_the_smtp_receiver_answers_noop(service: DecisionService) -> None:
    config = SmtpConfig(recipients=("support@hosting.example",))
    with (
        SmtpThread(lambda: InProcessHandoff(service), config) as server,
        smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client,
    ):
        # Before HELO, as a bare TCP health check would ask (RFC 5321 §4.1.1.9).
        assert client.noop() == (250, b"OK")
        client.ehlo("monitor.hosting.example")
        assert client.noop()[0] == 250
