"""A holder change confirmed by both holders (e-cesja, holder_change = "confirm_both"), end
to end: the current holder's link, then the new holder's, each through a real SMTP relay
and followed over HTTP (both databases)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import AuditEntry, ConfirmationAnswer
from app.db.types import utcnow
from app.decision.service import DecisionService
from app.records.confirmations import expire
from tests.app.delivery.test_alerts import Sink, text_of
from tests.app.delivery.test_webhooks import Clock
from tests.app.records.confirming import ask, confirmations_on, link_in, mail_worker, register_ola
from tests.app.records.test_confirmations import events, state
from tests.support import TLS, LiveServer

# The new holder: a registered customer with a panel address of their own.
BARTEK: dict[str, Any] = {
    "panel_email": "bartek@new-holder.example",
    "kind": "person",
    "name": "Bartek Kowalski",
    "services": [],
}
MARKER = "ZQX-e-cesja-marker"


@pytest.fixture
def sink() -> Iterator[Sink]:
    relay = Sink()
    yield relay
    relay.close()


@contextmanager
def both_holders(service: DecisionService) -> Iterator[DecisionService]:
    """The session's service with confirmation on and holder_change = "confirm_both"."""
    rules = service.rules
    confirmation = dataclasses.replace(rules.policy.confirmation, holder_change="confirm_both")
    policy = dataclasses.replace(rules.policy, confirmation=confirmation)
    service.rules = dataclasses.replace(rules, policy=policy)
    try:
        with confirmations_on(service):
            yield service
    finally:
        service.rules = rules


@pytest.fixture
def e_cesja(service: DecisionService, live_api: LiveServer) -> Iterator[DecisionService]:
    live_api.server.config.app.state.confirm_throttle = None
    with both_holders(service):
        yield service


def register(api: httpx.Client, login: str, customer: dict[str, Any]) -> None:
    response = api.put(f"/v1/customers/{login}", json=customer)
    assert response.status_code == 201, response.text


def ask_holder_change(api: httpx.Client, new_holder: str = "login: bartek") -> dict[str, Any]:
    """Ola, from her panel address through a forwarder (asserted), asks to assign her domain;
    the subject and display name carry a marker that no mail may repeat."""
    return ask(
        api,
        sender=f"{MARKER} <ola@no-dmarc.pl>",
        subject=f"Zmiana abonenta {MARKER} http://evil.example/x",
        body=(
            f"Prosze o zmiane abonenta domeny no-dmarc.pl na nowego abonenta {new_holder}\n"
            f"<b>{MARKER}</b> http://evil.example/x\n"
        ),
    )


def sent(sink: Sink, e_cesja: DecisionService, url: str) -> Message:
    """Run the outbox once; the one mail it sent."""
    before = len(sink.messages())
    mail_worker(e_cesja, sink, Clock(), url).run_once()
    messages = sink.messages()
    assert len(messages) == before + 1, [m["To"] for m in messages[before:]]
    return messages[-1]


def first_stage(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> tuple[dict[str, Any], str]:
    """A holder change asked and its first mail (to Ola) sent: the verdict and Ola's link."""
    register_ola(api)
    register(api, "bartek", BARTEK)
    verdict = ask_holder_change(api)
    held = [
        (c["name"], c["result"], c["reason"])
        for c in verdict["checks"]
        if c["result"] not in ("pass", "none", "warn")
    ]
    assert verdict["decision"] == "confirmation_required", (held, verdict["reasons"])
    assert "then the new holder" in verdict["reasons"][0]
    assert "customer bartek" in verdict["reasons"][0]
    mail = sent(sink, e_cesja, live_api.url)
    assert mail["To"] == "ola@no-dmarc.pl"
    text = text_of(mail)
    assert "Change of the domain holder" in text and "new holder (login): bartek" in text
    assert MARKER not in str(mail) and "evil.example" not in str(mail)
    url, _ = link_in(mail)
    return verdict, url


def holder_confirmed(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> tuple[dict[str, Any], Message]:
    """The first stage confirmed by Ola: the verdict and the mail to the new holder."""
    verdict, holder_url = first_stage(api, e_cesja, sink, live_api)
    with httpx.Client(verify=TLS, timeout=30) as holder:
        assert holder.post(holder_url, data={"answer": "confirm"}).status_code == 200
    return verdict, sent(sink, e_cesja, live_api.url)


def test_both_holders_confirm_and_the_change_is_accepted(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    verdict, holder_url = first_stage(api, e_cesja, sink, live_api)
    waiting = state(api, verdict["id"])["confirmation"]
    assert waiting["status"] == "pending"
    assert [(p["role"], p["status"]) for p in waiting["parties"]] == [
        ("holder", "pending"),
        ("new_holder", "waiting"),
    ]
    with httpx.Client(verify=TLS, timeout=30) as holder:
        page = holder.get(holder_url)
        assert page.status_code == 200 and "Confirm a change of holder" in page.text
        assert MARKER not in page.text and verdict["id"] in page.text
        done = holder.post(holder_url, data={"answer": "confirm"})
        assert done.status_code == 200 and "new holder to confirm" in done.text
    # Still waiting: one holder is not enough, and nothing tells ticketing it was confirmed.
    half = state(api, verdict["id"])
    assert half["current_decision"] == "confirmation_required"
    assert [p["status"] for p in half["confirmation"]["parties"]] == ["confirmed", "pending"]
    assert half["confirmation"]["decided_at"] is None
    assert events(e_cesja, "verdict.confirmed") == []
    action = {"agent": "ewa", "action": "holder changed", "details": "-", "login": "ola"}
    assert api.post(f"/v1/verdicts/{verdict['id']}/actions", json=action).status_code == 409

    mail = sent(sink, e_cesja, live_api.url)
    assert mail["To"] == "bartek@new-holder.example"
    text = text_of(mail)
    assert "no-dmarc.pl" in text and "to your account (login): bartek" in text
    assert MARKER not in str(mail) and "evil.example" not in str(mail)
    new_url, _ = link_in(mail)
    assert new_url != holder_url
    with httpx.Client(verify=TLS, timeout=30) as new_holder:
        page = new_holder.get(new_url)
        assert page.status_code == 200 and "Taking over a service" in page.text
        assert MARKER not in page.text
        assert new_holder.post(new_url, data={"answer": "confirm"}).status_code == 200
        assert new_holder.post(new_url, data={"answer": "deny"}).status_code == 410

    final = state(api, verdict["id"])
    assert final["verdict_decision"] == "confirmation_required"
    assert final["current_decision"] == "accepted"
    assert final["confirmation"]["status"] == "confirmed"
    assert final["confirmation"]["decided_at"] == final["confirmation"]["parties"][1]["decided_at"]
    [event] = events(e_cesja, "verdict.confirmed")
    assert event == {
        "verdict_id": verdict["id"],
        "customer": "ola",
        "decision": "accepted",
        "confirmation": final["confirmation"],
    }
    # Each answer is an entry of the chain, and the chain verifies.
    with e_cesja.sessions() as session:
        kinds = list(session.scalars(select(AuditEntry.kind).order_by(AuditEntry.seq)))
        answers = list(
            session.scalars(select(ConfirmationAnswer.customer).order_by(ConfirmationAnswer.seq))
        )
    assert kinds[-2:] == ["confirmation", "confirmation"]
    assert answers == ["ola", "bartek"]
    assert api.get("/v1/audit/verify").json()["intact"] is True
    assert api.post(f"/v1/verdicts/{verdict['id']}/actions", json=action).status_code == 201
    # The signed verdict never changes.
    assert api.get(f"/v1/verdicts/{verdict['id']}").json() == verdict


def test_the_new_holder_denies_and_it_is_rejected(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    verdict, mail = holder_confirmed(api, e_cesja, sink, live_api)
    new_url, _ = link_in(mail)
    with httpx.Client(verify=TLS, timeout=30) as new_holder:
        done = new_holder.post(new_url, data={"answer": "deny"})
        assert done.status_code == 200 and "will not be carried out" in done.text
    denied = state(api, verdict["id"])
    assert denied["current_decision"] == "rejected"
    assert denied["confirmation"]["status"] == "denied"
    assert [p["status"] for p in denied["confirmation"]["parties"]] == ["confirmed", "denied"]
    [event] = events(e_cesja, "verdict.denied")
    assert event["decision"] == "rejected" and event["customer"] == "ola"
    # The denier's account is marked, as after any "this was not me".
    with e_cesja.sessions() as session:
        deniers = list(
            session.scalars(
                select(ConfirmationAnswer.customer).where(ConfirmationAnswer.answer == "deny")
            )
        )
    assert deniers == ["bartek"]
    assert api.get("/v1/audit/verify").json()["intact"] is True


def test_the_holder_denies_it_is_rejected_and_the_new_holder_never_mailed(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    verdict, holder_url = first_stage(api, e_cesja, sink, live_api)
    with httpx.Client(verify=TLS, timeout=30) as holder:
        assert holder.post(holder_url, data={"answer": "deny"}).status_code == 200
    denied = state(api, verdict["id"])
    assert denied["current_decision"] == "rejected"
    assert denied["confirmation"]["status"] == "denied"
    assert [p["status"] for p in denied["confirmation"]["parties"]] == ["denied", "cancelled"]
    mail_worker(e_cesja, sink, Clock(), live_api.url).run_once()
    assert [m["To"] for m in sink.messages()] == ["ola@no-dmarc.pl"]
    [event] = events(e_cesja, "verdict.denied")
    assert event["verdict_id"] == verdict["id"]
    # Ola's next request needs one level more, as after any "this was not me".
    after = ask(api, 5)
    assert any("this was not me" in reason for reason in after["reasons"]), after["reasons"]


def test_the_link_of_the_first_stage_cannot_answer_the_second(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    verdict, holder_url = first_stage(api, e_cesja, sink, live_api)
    with httpx.Client(verify=TLS, timeout=30) as holder:
        assert holder.post(holder_url, data={"answer": "confirm"}).status_code == 200
        # The same link again, now that the new holder is asked: used, decides nothing.
        again = holder.post(holder_url, data={"answer": "confirm"})
        assert again.status_code == 410 and "already answered" in again.text
        assert holder.get(holder_url).status_code == 410
    pending = state(api, verdict["id"])
    assert pending["current_decision"] == "confirmation_required"
    assert [p["status"] for p in pending["confirmation"]["parties"]] == ["confirmed", "pending"]
    with e_cesja.sessions() as session:
        assert len(list(session.scalars(select(ConfirmationAnswer.id)))) == 1


@pytest.mark.parametrize(
    "named",
    [
        pytest.param("login: nobody", id="the new holder is not a registered customer"),
        pytest.param("bez loginu", id="no new holder is named by login"),
        pytest.param("login: ola", id="the new holder named is the current holder"),
        pytest.param("login: bartek albo login: celina", id="two new holders are named"),
    ],
)
def test_without_one_registered_new_holder_it_stays_postal(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, named: str
) -> None:
    register_ola(api)
    register(api, "bartek", BARTEK)
    register(api, "celina", {**BARTEK, "panel_email": "celina@new-holder.example"})
    verdict = ask_holder_change(api, named)
    assert verdict["decision"] == "postal_required", verdict["reasons"]
    assert "cannot be confirmed by both holders by e-mail" in verdict["reasons"][-1]
    mail_worker(e_cesja, sink, Clock(), "http://127.0.0.1").run_once()
    assert sink.messages() == []


def test_the_default_policy_keeps_a_holder_change_postal(
    api: httpx.Client, service: DecisionService, sink: Sink
) -> None:
    with confirmations_on(service):
        register_ola(api)
        register(api, "bartek", BARTEK)
        verdict = ask_holder_change(api)
    # As before e-cesja: another customer's login makes the account unclear, and nothing
    # is mailed to anyone.
    assert verdict["decision"] == "review", verdict["reasons"]
    assert "also of bartek" in verdict["reasons"][0]
    postal = ask_holder_change(api, "bez loginu")
    assert postal["decision"] == "postal_required", postal["reasons"]
    assert len(postal["reasons"]) == 1
    mail_worker(service, sink, Clock(), "http://127.0.0.1").run_once()
    assert sink.messages() == []


def test_seven_days_without_both_answers_expire_it(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    verdict, mail = holder_confirmed(api, e_cesja, sink, live_api)
    new_url, _ = link_in(mail)
    # The link works until seven days after the request, whatever CONFIRM_TTL_MINUTES says.
    assert (utcnow() + timedelta(days=7)).strftime("%Y-%m-%d") in text_of(mail)
    with e_cesja.sessions.begin() as session:
        # What `intakeguard confirmations expire` does a day too early, then on time.
        assert expire(session, utcnow() + timedelta(days=6)) == 0
    with e_cesja.sessions.begin() as session:
        assert expire(session, utcnow() + timedelta(days=7, minutes=1)) == 1
    expired = state(api, verdict["id"])
    assert expired["current_decision"] == "confirmation_required"
    assert expired["confirmation"]["status"] == "expired"
    assert [p["status"] for p in expired["confirmation"]["parties"]] == ["confirmed", "expired"]
    with httpx.Client(verify=TLS, timeout=30) as new_holder:
        page = new_holder.post(new_url, data={"answer": "confirm"})
        assert page.status_code == 410 and "expired" in page.text
    assert state(api, verdict["id"])["current_decision"] == "confirmation_required"


def test_nobody_answering_in_seven_days_expires_both_stages(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    verdict, holder_url = first_stage(api, e_cesja, sink, live_api)
    with e_cesja.sessions.begin() as session:
        assert expire(session, utcnow() + timedelta(days=7, minutes=1)) == 2
    expired = state(api, verdict["id"])["confirmation"]
    assert expired["status"] == "expired"
    assert [p["status"] for p in expired["parties"]] == ["expired", "expired"]
    with httpx.Client(verify=TLS, timeout=30) as holder:
        assert holder.post(holder_url, data={"answer": "confirm"}).status_code == 410
    mail_worker(e_cesja, sink, Clock(), live_api.url).run_once()
    assert len(sink.messages()) == 1  # the new holder was never asked


def test_paper_documents_still_complete_it_while_the_holders_have_not_both_answered(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    verdict, mail = holder_confirmed(api, e_cesja, sink, live_api)
    new_url, _ = link_in(mail)
    checked = {"name": True, "address": True, "signature_or_stamp": True}
    receipt = api.post(
        f"/v1/verdicts/{verdict['id']}/documents", json={"agent": "ewa", "checked": checked}
    )
    assert receipt.status_code == 201, receipt.text
    assert state(api, verdict["id"])["current_decision"] == "accepted"
    # The desk decided on paper: the new holder's link decides nothing any more.
    with httpx.Client(verify=TLS, timeout=30) as new_holder:
        page = new_holder.post(new_url, data={"answer": "deny"})
        assert page.status_code == 410 and "already decided" in page.text
    assert state(api, verdict["id"])["current_decision"] == "accepted"
    assert api.get("/v1/audit/verify").json()["intact"] is True


def test_documents_are_refused_once_a_holder_denied(
    api: httpx.Client, e_cesja: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    verdict, holder_url = first_stage(api, e_cesja, sink, live_api)
    with httpx.Client(verify=TLS, timeout=30) as holder:
        assert holder.post(holder_url, data={"answer": "deny"}).status_code == 200
    checked = {"name": True, "address": True, "signature_or_stamp": True}
    receipt = api.post(
        f"/v1/verdicts/{verdict['id']}/documents", json={"agent": "ewa", "checked": checked}
    )
    assert receipt.status_code == 409, receipt.text
    assert state(api, verdict["id"])["current_decision"] == "rejected"
