"""Shared by the confirmation tests: a customer whose domain has no DMARC, the mail that
asks them to confirm, and the outbox worker that sends it through a real SMTP sink."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import Message
from typing import Any

import httpx
from sqlalchemy import select, update

from app.db.models import Confirmation
from app.decision.service import DecisionService
from app.delivery.alerts import AlertSender
from app.delivery.confirmations import ConfirmationMailer, token_hash, token_key
from app.delivery.outbox import OutboxWorker
from app.delivery.webhooks import SecretBox, WebhookSender
from tests.app.api.common import submit
from tests.app.delivery.test_alerts import FROM, Sink
from tests.app.delivery.test_webhooks import Clock
from tests.support import SECRET_KEY, make_message

# no-dmarc.pl publishes SPF (192.0.2.27) and no DMARC record: mail from its panel address
# sent through any other server is "asserted", the default confirmable case.
OLA: dict[str, Any] = {
    "panel_email": "ola@no-dmarc.pl",
    "kind": "person",
    "name": "Ola Nowak",
    "services": ["no-dmarc.pl"],
}
# Not the domain's server: SPF fails, and with no DMARC record nothing authenticates it.
FORWARDED = {"client_ip": "198.51.100.7", "helo": "forwarder.example", "mail_from": "x@fwd.example"}
KEY = token_key(SECRET_KEY.encode())
LINK = re.compile(r"(https?://\S+/confirm/([A-Za-z0-9_-]+))")


@contextmanager
def confirmations_on(service: DecisionService) -> Iterator[DecisionService]:
    """The session's service with confirmation mail configured (PUBLIC_URL and a relay)."""
    service.confirmations_on = True
    try:
        yield service
    finally:
        service.confirmations_on = False


def register_ola(api: httpx.Client) -> None:
    response = api.put("/v1/customers/ola", json=OLA)
    assert response.status_code == 201, response.text


def ask(api: httpx.Client, n: int = 0, **message: str) -> dict[str, Any]:
    """An invoice request from Ola's panel address through a forwarder: to be confirmed."""
    fields = {
        "sender": "Ola Nowak <ola@no-dmarc.pl>",
        "subject": f"Duplikat faktury {n}/2026 dla no-dmarc.pl",
        "body": f"Prosze o duplikat faktury {n}/2026 dla domeny no-dmarc.pl.\n",
        **message,
    }
    response = submit(api, make_message(**fields), **FORWARDED)
    assert response.status_code == 201, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


def mail_worker(
    service: DecisionService,
    sink: Sink | None,
    clock: Clock,
    public_url: str,
    per_hour: int = 3,
    ttl: timedelta = timedelta(minutes=60),
) -> OutboxWorker:
    # Without a sink: a worker that only plans (dispatch); port 9 (discard) is never used.
    relay = AlertSender("127.0.0.1", sink.port if sink else 9, FROM, timeout=5)
    mailer = ConfirmationMailer(
        relay, KEY, public_url, ttl, service.kind_titles(), per_hour=per_hour
    )
    return OutboxWorker(
        service.sessions,
        WebhookSender(SecretBox(SECRET_KEY.encode()), [], 5.0),
        relay,
        now=clock,
        jitter=lambda: 0.0,
        confirmations=mailer,
    )


def link_in(message: Message) -> tuple[str, str]:
    """The confirmation URL in a mail's text, and its token."""
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.findall(body.get_content())
    assert found, body.get_content()
    assert len({url for url, _ in found}) == 1, found  # the same link in both languages
    return found[0]


def known_token(service: DecisionService, verdict_id: str, token: str) -> None:
    """Give a planned confirmation the link ``token`` without mailing it (for tests of what
    happens after the mail, such as the audit chain's)."""
    with service.sessions.begin() as session:
        row = session.scalar(select(Confirmation).where(Confirmation.verdict_id == verdict_id))
        assert row is not None
        session.execute(
            update(Confirmation)
            .where(Confirmation.id == row.id)
            .values(
                token_hash=token_hash(KEY, token),
                sent_at=row.created_at,
                expires_at=row.created_at + timedelta(hours=1),
                sends=1,
            )
        )


def answered(api: httpx.Client, service: DecisionService, given: str = "confirm") -> str:
    """A verdict of Ola's whose confirmation was answered ``given`` through the page
    (the link set by known_token instead of mailed); its id."""
    with confirmations_on(service):
        register_ola(api)
        verdict = ask(api, 99)
    assert verdict["decision"] == "confirmation_required", verdict["reasons"]
    mail_worker(service, None, Clock(), str(api.base_url)).dispatch()
    token = "T" * 43
    known_token(service, verdict["id"], token)
    page = api.post(f"/confirm/{token}", data={"answer": given})
    assert page.status_code == 200, page.text
    verdict_id: str = verdict["id"]
    return verdict_id
