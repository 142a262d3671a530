"""Alerts to the registered owner through a real SMTP relay (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, message_from_string
from email.message import Message
from email.policy import default
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from app.db.models import OutboxDelivery
from app.decision.service import DecisionService
from app.delivery.alerts import AlertSender, alert_sender_from_settings, build_alert
from app.delivery.outbox import OutboxWorker
from app.delivery.webhooks import DeliveryFailed, SecretBox, WebhookSender
from app.errors import ConfigError
from app.settings import load_settings
from tests.app.api.common import register, submit
from tests.app.delivery.test_webhooks import SPOOF, Clock
from tests.support import SECRET_KEY, make_message, make_settings

FROM = "security@hosting.example"


class Sink:
    """An SMTP relay that keeps what it is given, or answers 451 while ``failing``.

    With ``smtputf8`` it announces SMTPUTF8 (RFC 6531) and takes UTF-8 addresses.
    """

    def __init__(self, smtputf8: bool = False) -> None:
        self.smtputf8 = smtputf8
        self.envelopes: list[Envelope] = []
        self.failing = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> asyncio.Server:
        return await self.loop.create_server(
            lambda: SMTP(self, hostname="relay.test", enable_SMTPUTF8=self.smtputf8),
            "127.0.0.1",
            0,
        )

    async def handle_DATA(self, _: SMTP, __: Session, envelope: Envelope) -> str:
        if self.failing:
            return "451 4.3.0 try again later"
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def port(self) -> int:
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    def messages(self) -> list[Message]:
        # UTF-8 headers (RFC 6532) are read as text; plain ASCII mail reads the same either way.
        return [
            message_from_string((e.original_content or b"").decode(), policy=default)
            for e in self.envelopes
        ]

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def sink() -> Iterator[Sink]:
    relay = Sink()
    yield relay
    relay.close()


@pytest.fixture
def utf8_sink() -> Iterator[Sink]:
    relay = Sink(smtputf8=True)
    yield relay
    relay.close()


def alert_worker(service: DecisionService, sink: Sink, clock: Clock) -> OutboxWorker:
    webhooks = WebhookSender(SecretBox(SECRET_KEY.encode()), [], 5.0)
    return OutboxWorker(
        service.sessions,
        webhooks,
        AlertSender("127.0.0.1", sink.port, FROM, timeout=5),
        alert_interval=timedelta(hours=1),
        now=clock,
        jitter=lambda: 0.0,
    )


def spoof(api: httpx.Client, n: int = 0) -> dict[str, Any]:
    raw = make_message(**{**SPOOF, "body": SPOOF["body"] + f"#{n}\n"})
    verdict: dict[str, Any] = submit(api, raw).json()
    assert verdict["decision"] == "rejected" and verdict["customer"] == "acme"
    return verdict


def text_of(message: Message) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def test_a_refused_spoof_is_reported_to_the_panel_address_only(
    api: httpx.Client, service: DecisionService, sink: Sink
) -> None:
    register(api)
    verdict = spoof(api)
    clock = Clock()
    assert alert_worker(service, sink, clock).run_once() == 1
    [envelope] = sink.envelopes
    # To the registered address; never back to the sender (no backscatter).
    assert envelope.rcpt_tos == ["jan@acme.pl"]
    assert envelope.mail_from == FROM
    [message] = sink.messages()
    assert message["To"] == "jan@acme.pl" and message["From"] == FROM
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == "Refused instruction about acme.pl"
    body = text_of(message)
    assert "acme.pl" in body and verdict["id"] in body
    assert verdict["recorded_at"][:16].replace("T", " ") + " UTC" in body
    assert "If it was you" in body
    # Nothing that helps an attacker: no sender, no copy of the message, no reasons.
    raw = envelope.original_content or b""
    for secret in ("freemail", "kowalski", "AuthInfo", "Transfer domeny", "j***@acme.pl"):
        assert secret.lower().encode() not in raw.lower(), secret
    assert verdict["reasons"][0].encode() not in raw


def test_only_rejected_verdicts_naming_a_customer_alert(
    api: httpx.Client, service: DecisionService, sink: Sink
) -> None:
    register(api)
    # Rejected, but about nobody registered: there is no owner to tell.
    stranger = make_message(
        sender="x@freemail.example", subject="Transfer domeny nikogo.pl", body="nikogo.pl\n"
    )
    assert submit(api, stranger).json()["customer"] is None
    # From acme.pl's own server, authenticated: accepted, nothing to report.
    own = make_message(sender="jan@acme.pl", subject="Pytanie o domene acme.pl")
    accepted = submit(api, own, client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
    assert accepted.json()["decision"] == "accepted", accepted.text
    worker = alert_worker(service, sink, Clock())
    assert worker.run_once() == 0
    assert sink.envelopes == []
    # The panel address forged in From, failing DMARC: refused, and the owner is told.
    forged = make_message(sender="jan@acme.pl", subject="Transfer domeny acme.pl")
    refused = submit(api, forged).json()
    assert refused["decision"] == "rejected" and refused["assurance"] == "asserted"
    assert worker.run_once() == 1
    assert [e.rcpt_tos for e in sink.envelopes] == [["jan@acme.pl"]]


def test_one_alert_per_customer_per_interval_and_the_held_back_are_counted(
    api: httpx.Client, service: DecisionService, sink: Sink
) -> None:
    register(api)
    clock = Clock()
    worker = alert_worker(service, sink, clock)
    for n in range(3):
        spoof(api, n)
    worker.run_once()
    assert len(sink.envelopes) == 1
    assert "more such" not in text_of(sink.messages()[0])
    clock.advance(timedelta(minutes=59))
    spoof(api, 3)
    worker.run_once()
    assert len(sink.envelopes) == 1
    clock.advance(timedelta(minutes=2))
    spoof(api, 4)
    worker.run_once()
    assert len(sink.envelopes) == 2
    assert "3 more such instruction(s) were refused" in text_of(sink.messages()[1])


def test_a_relay_that_is_down_or_deferring_is_retried(
    api: httpx.Client, service: DecisionService, sink: Sink
) -> None:
    register(api)
    spoof(api)
    clock = Clock()
    worker = alert_worker(service, sink, clock)
    sink.failing = True
    worker.run_once()
    with service.sessions() as session:
        [delivery] = session.scalars(select(OutboxDelivery)).all()
    assert delivery.kind == "alert" and delivery.status == "pending"
    assert delivery.last_error == "the relay answered 451"
    sink.failing = False
    unreachable = OutboxWorker(
        service.sessions,
        worker.webhooks,
        AlertSender("127.0.0.1", 9, FROM, timeout=2),
        now=clock,
        jitter=lambda: 0.0,
    )
    clock.advance(timedelta(seconds=30))
    unreachable.run_once()
    with service.sessions() as session:
        [delivery] = session.scalars(select(OutboxDelivery)).all()
    assert delivery.status == "pending" and delivery.attempts == 2
    assert delivery.last_error is not None and "cannot reach the relay" in delivery.last_error
    clock.advance(timedelta(minutes=1))
    worker.run_once()
    assert len(sink.envelopes) == 1
    with service.sessions() as session:
        [delivery] = session.scalars(select(OutboxDelivery)).all()
    assert delivery.status == "delivered" and delivery.attempts == 3


ALERT = {
    "to": "jan@acme.pl",
    "login": "acme",
    "services": ["acme.pl"],
    "refused_at": "2026-11-28T10:00:00.123Z",
    "reference": "3f1c2a9e-0000-4000-8000-000000000000",
    "suppressed": 0,
}


@pytest.mark.parametrize(
    "to",
    [
        "jan@acme.pl\r\nBcc: thief@evil.example",
        "jan@acme.pl\nBcc: thief@evil.example",
        "jan@acme.pl, thief@evil.example",
        "Jan <thief@evil.example>",
        "jan@acme.pl\x00",
        "",
        # Unicode is welcome in the local part (RFC 6531), its line and format breaks not.
        "zażółć@acme.pl\u2028Bcc: thief@evil.example",
        "zażółć@acme.pl\x85Bcc: thief@evil.example",
        "za\u200bżółć@acme.pl",
        "zażółć @acme.pl",
    ],
)
def test_an_address_with_tricks_is_refused_not_sent(to: str, sink: Sink) -> None:
    with pytest.raises(ValueError, match="not a single plain mailbox"):
        build_alert({**ALERT, "to": to}, FROM, "key")
    with pytest.raises(DeliveryFailed) as failed:
        AlertSender("127.0.0.1", sink.port, FROM).send({**ALERT, "to": to}, "key")
    assert failed.value.permanent
    assert sink.envelopes == []


def test_a_unicode_mailbox_is_sent_with_smtputf8(
    api: httpx.Client, service: DecisionService, utf8_sink: Sink
) -> None:
    # The registry takes a UTF-8 local part; the alert must reach it, not be dead-lettered.
    assert register(api, panel_email="zażółć@acme.pl").status_code in (200, 201)
    verdict = spoof(api)
    assert alert_worker(service, utf8_sink, Clock()).run_once() == 1
    [envelope] = utf8_sink.envelopes
    assert envelope.rcpt_tos == ["zażółć@acme.pl"] and envelope.mail_from == FROM
    assert envelope.smtp_utf8 and "SMTPUTF8" in envelope.mail_options
    [message] = utf8_sink.messages()
    assert message["To"] == "zażółć@acme.pl"
    assert verdict["id"] in text_of(message)
    with service.sessions() as session:
        [delivery] = session.scalars(select(OutboxDelivery)).all()
    assert delivery.status == "delivered", delivery.last_error


def test_an_idn_domain_is_sent_as_its_a_label_without_smtputf8(sink: Sink) -> None:
    AlertSender("127.0.0.1", sink.port, FROM).send({**ALERT, "to": "jan@żółw.pl"}, "key")
    [envelope] = sink.envelopes
    assert envelope.rcpt_tos == ["jan@xn--w-uga1v8h.pl"]
    assert not envelope.smtp_utf8
    assert sink.messages()[0]["To"] == "jan@xn--w-uga1v8h.pl"


def test_a_relay_without_smtputf8_is_a_permanent_failure_that_says_why(sink: Sink) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        AlertSender("127.0.0.1", sink.port, FROM).send({**ALERT, "to": "zażółć@acme.pl"}, "key")
    assert failed.value.permanent
    assert "does not announce SMTPUTF8" in str(failed.value)
    # Named enough for an operator to find the customer, masked like any logged address.
    assert "za***@acme.pl" in str(failed.value) and "zażółć" not in str(failed.value)
    assert sink.envelopes == []


def test_line_breaks_in_names_cannot_add_headers(sink: Sink) -> None:
    tricky = {
        **ALERT,
        "services": ["acme.pl\r\nBcc: thief@evil.example"],
        "login": "acme\r\nBcc: thief@evil.example",
        "reference": "ref\r\nX-Evil: 1",
    }
    AlertSender("127.0.0.1", sink.port, FROM).send(tricky, "key\r\nBcc: thief@evil.example")
    [envelope] = sink.envelopes
    assert envelope.rcpt_tos == ["jan@acme.pl"]
    [message] = sink.messages()
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in str(message["Subject"]) and "\n" not in str(message["Message-ID"])
    headers = (envelope.original_content or b"").split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers and b"\r\nX-Evil:" not in headers
    no_services = build_alert({**tricky, "services": []}, FROM, "key")
    assert message_from_bytes(no_services.as_bytes(), policy=default)["Bcc"] is None
    assert "your account acme Bcc: thief@evil.example" in str(no_services["Subject"])


def test_alerts_are_off_without_a_relay_and_say_so(
    caplog: pytest.LogCaptureFixture, database_url: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.delivery.alerts"):
        assert alert_sender_from_settings(make_settings(database_url)) is None
    assert "alerts to registered owners are off" in caplog.text
    assert "INTAKEGUARD_ALERT_SMTP_RELAY" in caplog.text
    with pytest.raises(ConfigError, match=r"^INTAKEGUARD_ALERT_FROM: missing"):
        alert_sender_from_settings(make_settings(database_url, alert_smtp_relay="127.0.0.1:25"))
    sender = alert_sender_from_settings(
        make_settings(database_url, alert_smtp_relay="127.0.0.1:2526", alert_from=FROM)
    )
    assert sender is not None and (sender.host, sender.port) == ("127.0.0.1", 2526)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ALERT_FROM", "security@hosting.example\r\nBcc: x@evil.example", "plain mailbox"),
        ("ALERT_SMTP_RELAY", "relay.example", "host:port"),
        ("ALERT_INTERVAL_MINUTES", "0", "greater than or equal to 1"),
        ("WEBHOOK_ALLOWED_HOSTS", "https://hooks.example", "no scheme or port"),
        ("WEBHOOK_TIMEOUT", "0", "greater than 0"),
    ],
)
def test_bad_settings_stop_start_up_with_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(f"INTAKEGUARD_{name}", value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value).startswith(f"INTAKEGUARD_{name}: ")
    assert message in str(refused.value) and "\n" not in str(refused.value)
