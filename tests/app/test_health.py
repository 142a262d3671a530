"""Liveness, readiness (database, rules, DNS) and the SMTP receiver's NOOP probe."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator

import httpx
import pytest

from app.api import create_app
from app.decision.service import DecisionService
from app.server.handoff import InProcessHandoff
from mailhook.dns import Resolver
from mailhook.smtp_config import SmtpConfig
from tests.dns_server import FixtureDnsServer
from tests.smtp_server import SmtpThread
from tests.support import LiveServer, make_settings


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


def test_not_ready_while_no_dns_server_answers(
    database_url: str, silent_dns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment outranks the values given (and points at the fixture server).
    monkeypatch.setenv("INTAKEGUARD_DNS_NAMESERVERS", silent_dns)
    settings = make_settings(database_url, dns_timeout=0.5)
    with LiveServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        response = client.get("/readyz")
        alive = client.get("/healthz")
    assert response.status_code == 503, response.text
    assert response.json()["detail"] == "no DNS server answers"
    assert response.json()["checks"]["dns"] == "unavailable"
    assert response.json()["checks"]["database"] == "ok"
    assert int(response.headers["Retry-After"]) > 0
    assert alive.status_code == 200


def test_not_ready_once_shutting_down(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as client:
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
