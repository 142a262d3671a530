"""Confirmation through the SMTP door: a real SMTP session in, the confirmation mail out
through a real relay, the link answered over HTTP."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import httpx
import pytest

from app.decision.service import DecisionService
from app.server.handoff import InProcessHandoff
from tests.app.delivery.test_alerts import Sink
from tests.app.delivery.test_webhooks import Clock
from tests.app.records.confirming import (
    FORWARDED,
    OLA,
    confirmations_on,
    link_in,
    mail_worker,
    register_ola,
)
from tests.app.server.test_doors import DESK, smtp_config
from tests.smtp_server import SmtpThread
from tests.support import TLS, LiveServer, make_message


@pytest.fixture
def sink() -> Iterator[Sink]:
    relay = Sink()
    yield relay
    relay.close()


def test_a_request_by_smtp_is_confirmed_through_the_mailed_link(
    api: httpx.Client, service: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    raw = make_message(
        sender="Ola Nowak <ola@no-dmarc.pl>",
        subject="Duplikat faktury 8/2026 dla no-dmarc.pl",
        body="Prosze o duplikat faktury 8/2026 dla domeny no-dmarc.pl.\n",
    )
    with (
        confirmations_on(service),
        SmtpThread(lambda: InProcessHandoff(service), smtp_config()) as door,
        smtplib.SMTP("127.0.0.1", door.port, timeout=30) as client,
    ):
        client.ehlo("relay.hosting.example")
        # Our relay says which server handed it over: not no-dmarc.pl's own.
        client.docmd("XFORWARD", f"ADDR={FORWARDED['client_ip']} HELO={FORWARDED['helo']}")
        client.mail(FORWARDED["mail_from"])
        client.rcpt(DESK)
        code, reply = client.data(raw)
    assert code == 250, reply
    verdict_id = reply.decode().rpartition(" ")[2]
    verdict = api.get(f"/v1/verdicts/{verdict_id}").json()
    assert verdict["channel"] == "smtp"
    assert verdict["decision"] == "confirmation_required", verdict["reasons"]
    mail_worker(service, sink, Clock(), live_api.url).run_once()
    [envelope] = sink.envelopes
    assert envelope.rcpt_tos == [OLA["panel_email"]]
    url, _ = link_in(sink.messages()[0])
    with httpx.Client(verify=TLS, timeout=30) as owner:
        assert owner.post(url, data={"answer": "confirm"}).status_code == 200
    state = api.get(f"/v1/verdicts/{verdict_id}/reviews").json()
    assert state["current_decision"] == "accepted"
    assert state["confirmation"]["status"] == "confirmed"
