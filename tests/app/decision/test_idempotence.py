"""The same bytes delivered twice are recorded once and answered with the first verdict."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import Verdict
from app.decision.service import DecisionService
from mailhook.errors import TemporaryFailure
from mailhook.message import Channel, Envelope, parse_message
from tests.support import make_message

RFC822 = {"Content-Type": "message/rfc822"}


def verdict_count(service: DecisionService) -> int:
    with service.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Verdict)) or 0)


def test_a_resubmitted_message_gets_the_first_verdict(
    api: httpx.Client, service: DecisionService
) -> None:
    raw = make_message()
    first = api.post("/v1/messages", content=raw, headers=RFC822)
    again = api.post("/v1/messages", content=raw, headers=RFC822)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert verdict_count(service) == 1
    # Different bytes are a different delivery.
    other = api.post("/v1/messages", content=make_message(), headers=RFC822)
    assert other.json()["id"] != first.json()["id"]
    assert verdict_count(service) == 2


def test_racing_deliveries_of_the_same_bytes_record_one_verdict(
    service: DecisionService,
) -> None:
    raw = make_message()
    start = threading.Barrier(4)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        start.wait()
        try:
            results.append(service.submit(parse_message(raw, Envelope(), Channel.SMTP)))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({verdict["id"] for verdict in results}) == 1
    assert verdict_count(service) == 1


def test_a_retransmission_gets_its_first_verdict_while_dns_is_in_trouble(
    service: DecisionService, dns_faults: dict[str, str]
) -> None:
    """Whether bytes were recorded is asked after the checks, in the batch's look-up; a
    check's temporary failure must still not turn a recorded message into a 451."""
    raw = make_message()
    envelope = Envelope(client_ip="192.0.2.10", helo="mail.acme.pl", mail_from="jan@acme.pl")
    first = service.submit(parse_message(raw, envelope, Channel.SMTP))
    if service.resolver is not None:
        service.resolver.clear_cache()
    dns_faults["acme.pl"] = "timeout"
    dns_faults["_dmarc.acme.pl"] = "timeout"
    again = service.submit(parse_message(raw, envelope, Channel.SMTP))
    assert again == first
    assert verdict_count(service) == 1
    # Other bytes with the same trouble are a temporary failure, not a verdict.
    with pytest.raises(TemporaryFailure):
        service.submit(parse_message(make_message(), envelope, Channel.SMTP))
