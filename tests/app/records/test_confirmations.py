"""Confirmation by the registered owner, end to end: a real SMTP relay receives the mail,
the link in it is followed over HTTP, and the answer is recorded (both databases)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import AuditEntry, OutboxEvent
from app.decision.service import DecisionService
from app.records.confirmations import expire_links
from app.registry.importer import import_customers, read_customers
from tests.app.api.common import submit
from tests.app.api.test_auth import token_with
from tests.app.cli.test_cli import intakeguard
from tests.app.delivery.test_alerts import FROM, Sink, text_of
from tests.app.delivery.test_webhooks import Clock
from tests.app.records.confirming import (
    FORWARDED,
    OLA,
    ask,
    confirmations_on,
    link_in,
    mail_worker,
    register_ola,
)
from tests.support import SECRET_KEY, TLS, LiveServer


@pytest.fixture
def sink() -> Iterator[Sink]:
    relay = Sink()
    yield relay
    relay.close()


@pytest.fixture
def confirming(service: DecisionService, live_api: LiveServer) -> Iterator[DecisionService]:
    # The page's throttle of unknown tokens is per app; each test starts with none.
    live_api.server.config.app.state.confirm_throttle = None
    with confirmations_on(service):
        yield service


def events(service: DecisionService, name: str) -> list[dict[str, Any]]:
    with service.sessions() as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.event == name))
        return [dict(row.data) for row in rows]


def mailed_link(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer, n: int = 0
) -> tuple[dict[str, Any], str, str]:
    """A request asked, its mail sent through the sink: the verdict, link and token."""
    verdict = ask(api, n)
    assert verdict["decision"] == "confirmation_required", verdict["reasons"]
    mail_worker(confirming, sink, Clock(), live_api.url).run_once()
    url, token = link_in(sink.messages()[-1])
    return verdict, url, token


def state(api: httpx.Client, verdict_id: str) -> dict[str, Any]:
    response = api.get(f"/v1/verdicts/{verdict_id}/reviews")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_owner_confirms_through_the_link_in_the_mail(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    verdict = ask(api)
    assert verdict["decision"] == "confirmation_required", verdict["reasons"]
    assert verdict["assurance"] == "asserted"
    assert "owner is asked to confirm" in verdict["reasons"][0]
    # Not sent until the outbox worker runs: nothing to show yet.
    assert state(api, verdict["id"])["confirmation"] is None

    mail_worker(confirming, sink, Clock(), live_api.url).run_once()
    [envelope] = sink.envelopes
    # Only to the registered panel address.
    assert envelope.rcpt_tos == [OLA["panel_email"]] and envelope.mail_from == FROM
    [message] = sink.messages()
    assert message["To"] == OLA["panel_email"] and message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == "Potwierdź polecenie / Confirm an instruction: no-dmarc.pl"
    text = text_of(message)
    for fact in (
        "Duplicate of an invoice",  # the kind, in the catalogue's words
        verdict["id"],  # the full verdict id
        verdict["recorded_at"][:16].replace("T", " ") + " UTC",  # when it arrived
        "do naszego biura obsługi wpłynęło polecenie",  # Polish
        "Our support desk received an instruction",  # and English
    ):
        assert fact in text, fact
    url, token = link_in(message)
    assert url == f"{live_api.url}/confirm/{token}" and len(token) == 43
    pending = state(api, verdict["id"])
    assert pending["current_decision"] == "confirmation_required"
    assert pending["confirmation"]["status"] == "pending"
    assert pending["confirmation"]["sent_at"].endswith("Z")
    assert pending["confirmation"]["decided_at"] is None

    with httpx.Client(verify=TLS, timeout=30) as browser:
        page = browser.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert page.headers["referrer-policy"] == "no-referrer"
        assert '<form method="post">' in page.text and "<script" not in page.text
        assert 'name="answer" value="confirm"' in page.text
        assert 'name="answer" value="deny"' in page.text
        assert verdict["id"] in page.text and "Duplicate of an invoice" in page.text
        done = browser.post(url, data={"answer": "confirm"})
        assert done.status_code == 200, done.text
        assert "Confirmed" in done.text
        again = browser.post(url, data={"answer": "deny"})
        assert again.status_code == 410 and "already answered" in again.text
        assert browser.get(url).status_code == 410

    confirmed = state(api, verdict["id"])
    assert confirmed["verdict_decision"] == "confirmation_required"
    assert confirmed["current_decision"] == "accepted"
    assert confirmed["confirmation"]["status"] == "confirmed"
    assert confirmed["confirmation"]["decided_at"].endswith("Z")
    # The signed verdict itself is unchanged.
    assert api.get(f"/v1/verdicts/{verdict['id']}").json() == verdict
    [event] = events(confirming, "verdict.confirmed")
    assert event == {
        "verdict_id": verdict["id"],
        "customer": "ola",
        "decision": "accepted",
        "confirmation": confirmed["confirmation"],
    }
    with confirming.sessions() as session:
        kinds = list(session.scalars(select(AuditEntry.kind).order_by(AuditEntry.seq)))
    assert kinds[-1] == "confirmation"
    assert api.get("/v1/audit/verify").json()["intact"] is True
    # Now the desk may act on it; an agent can no longer overrule the owner's answer.
    action = {"agent": "ewa", "action": "invoice sent", "details": "12/2026", "login": "ola"}
    assert api.post(f"/v1/verdicts/{verdict['id']}/actions", json=action).status_code == 201
    review = {"decision": "rejected", "agent": "ewa", "reason": "no"}
    assert api.post(f"/v1/verdicts/{verdict['id']}/review", json=review).status_code == 409


def test_this_was_not_me_rejects_it_and_raises_the_next_request_a_level(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    verdict, url, _ = mailed_link(api, confirming, sink, live_api)
    with httpx.Client(verify=TLS, timeout=30) as browser:
        done = browser.post(url, data={"answer": "deny"})
    assert done.status_code == 200
    # The owner is told what happens next.
    assert "will not be carried out" in done.text and "one more proof" in done.text
    denied = state(api, verdict["id"])
    assert denied["current_decision"] == "rejected"
    assert denied["confirmation"]["status"] == "denied"
    [event] = events(confirming, "verdict.denied")
    assert event["decision"] == "rejected" and event["verdict_id"] == verdict["id"]
    action = {"agent": "ewa", "action": "invoice sent", "details": "12/2026", "login": "ola"}
    assert api.post(f"/v1/verdicts/{verdict['id']}/actions", json=action).status_code == 409
    # The next request needs authorized now: a confirmation cannot stand in for a code.
    after = ask(api, 1)
    assert after["decision"] == "review", after["reasons"]
    assert any("this was not me" in reason for reason in after["reasons"])
    assert api.get("/v1/audit/verify").json()["intact"] is True


def test_link_scanners_and_prefetch_never_decide(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    verdict, url, _ = mailed_link(api, confirming, sink, live_api)
    prefetch = [{"Purpose": "prefetch"}, {"Sec-Purpose": "prefetch"}, {"X-Moz": "prefetch"}]
    with httpx.Client(verify=TLS, timeout=30) as scanner:
        for headers in [{}, *prefetch]:
            assert scanner.get(url, headers=headers).status_code == 200
            assert scanner.head(url, headers=headers).status_code == 200
        # Gateways append tracking parameters: still the page, never a JSON error.
        assert scanner.get(url, params={"utm_source": "mail"}).status_code == 200
        assert scanner.get(url, follow_redirects=True).status_code == 200
    assert state(api, verdict["id"])["confirmation"]["status"] == "pending"
    assert events(confirming, "verdict.confirmed") == []
    with httpx.Client(verify=TLS, timeout=30) as owner:
        # A form without a known answer records nothing.
        assert owner.post(url, data={"answer": "yes"}).status_code == 400
        assert owner.post(url).status_code == 400
        assert state(api, verdict["id"])["confirmation"]["status"] == "pending"
        assert owner.post(url, data={"answer": "confirm"}).status_code == 200
        assert owner.post(url, data={"answer": "confirm"}).status_code == 410


def test_forged_and_truncated_tokens_are_404_then_throttled(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    _, url, token = mailed_link(api, confirming, sink, live_api)
    base = url[: -len(token)]
    forged = ("A" * 43, token[:-1], token[:20], token[:-1] + ("B" if token[-1] != "B" else "C"))
    with httpx.Client(verify=TLS, timeout=30) as guesser:
        for guess in forged:
            page = guesser.get(base + guess)
            assert page.status_code == 404, guess
            assert "Unknown link" in page.text and "Copy the whole link" in page.text
        for guess in range(6):
            assert guesser.post(base + f"x{guess}", data={"answer": "confirm"}).status_code == 404
        # Ten unknown tokens from one address: refused for a while, the real one included.
        refused = guesser.get(url)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert guesser.post(url, data={"answer": "confirm"}).status_code == 429


def test_an_expired_link_is_410_and_expire_marks_it(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    verdict = ask(api)
    worker = mail_worker(confirming, sink, Clock(), live_api.url, ttl=timedelta(seconds=1))
    worker.run_once()
    url, _ = link_in(sink.messages()[-1])
    time.sleep(1.5)
    with httpx.Client(verify=TLS, timeout=30) as owner:
        page = owner.get(url)
        assert page.status_code == 410 and "expired" in page.text
        assert owner.post(url, data={"answer": "confirm"}).status_code == 410
    assert state(api, verdict["id"])["confirmation"]["status"] == "expired"
    assert state(api, verdict["id"])["current_decision"] == "confirmation_required"
    # What `intakeguard confirmations expire` (and serve, every 5 minutes) runs.
    assert expire_links(confirming.sessions) == 1
    assert expire_links(confirming.sessions) == 0
    assert state(api, verdict["id"])["confirmation"]["status"] == "expired"
    # The desk may send a new link: the old one stops working, the new one works.
    resent = api.post(f"/v1/verdicts/{verdict['id']}/confirmation/resend")
    assert resent.status_code == 202, resent.text
    assert resent.json()["confirmation"]["status"] == "pending"
    again = api.post(f"/v1/verdicts/{verdict['id']}/confirmation/resend")
    assert again.status_code == 429 and "Retry-After" in again.headers
    mail_worker(confirming, sink, Clock(), live_api.url).run_once()
    new_url, _ = link_in(sink.messages()[-1])
    assert new_url != url
    with httpx.Client(verify=TLS, timeout=30) as owner:
        assert owner.get(url).status_code == 404
        assert owner.post(new_url, data={"answer": "confirm"}).status_code == 200
    assert state(api, verdict["id"])["current_decision"] == "accepted"


def injected_message(marker: str) -> bytes:
    """An invoice request carrying ``marker``, a URL and HTML everywhere the sender writes."""
    url = f"http://evil.example/{marker}"
    html = f'<a href="{url}">{marker}</a><script>alert("{marker}")</script>'
    message = EmailMessage()
    # A colon in a display name reads as a group (RFC 5322 §3.4): the URL without scheme.
    shown = f"Ola {marker} <b>www.evil.example/{marker}</b>"
    message["From"] = Address(display_name=shown, addr_spec="ola@no-dmarc.pl")
    message["To"] = "support@hosting.example"
    message["Subject"] = f"Duplikat faktury 7/2026 dla no-dmarc.pl {marker} {url}"
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="no-dmarc.pl")
    # In the request's own sentence: a line of its own naming another domain would be
    # held as unexplained (mailhook.unexplained) before any confirmation is asked for.
    message.set_content(
        f"Prosze o duplikat faktury 7/2026 dla domeny no-dmarc.pl {marker} {url} {html}\n"
    )
    # Text that asks for nothing: read, and no reason to hold the message.
    message.add_attachment("Dzien dobry.\n", filename=f"{marker}-<b>{url}</b>.txt")
    return message.as_bytes(policy=SMTP)


def test_nothing_the_sender_wrote_reaches_the_mail_or_the_page(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    # Short enough that From is not folded (a folded quoted display name reads as malformed).
    marker = f"INJ{uuid.uuid4().hex[:12]}"
    raw = injected_message(marker)
    for field in (b"From: ", b"Subject: ", b"filename", marker.encode()):
        assert field in raw
    verdict = submit(api, raw, **FORWARDED).json()
    assert verdict["decision"] == "confirmation_required", verdict["reasons"]
    mail_worker(confirming, sink, Clock(), live_api.url).run_once()
    [envelope] = sink.envelopes
    mail = (envelope.original_content or b"").decode()
    [message] = sink.messages()
    text = text_of(message)
    url, _ = link_in(message)
    with httpx.Client(verify=TLS, timeout=30) as owner:
        page = owner.get(url).text
        done = owner.post(url, data={"answer": "confirm"}).text
    for seen, where in ((mail, "mail"), (text, "mail text"), (page, "page"), (done, "answer")):
        for planted in (marker.lower(), "evil.example", "<script", "alert("):
            assert planted not in seen.lower(), (planted, where)


def test_a_panel_address_change_is_told_to_the_old_address_which_may_deny_it(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    moved = api.put("/v1/customers/ola", json={**OLA, "panel_email": "nowa@no-dmarc.pl"})
    assert moved.status_code == 200, moved.text
    mail_worker(confirming, sink, Clock(), live_api.url).run_once()
    [envelope] = sink.envelopes
    # To the address replaced, never to the new one.
    assert envelope.rcpt_tos == ["ola@no-dmarc.pl"]
    [message] = sink.messages()
    assert "Panel address changed" in message["Subject"]
    assert "nowa@no-dmarc.pl" not in (envelope.original_content or b"").decode()
    url, _ = link_in(message)
    with httpx.Client(verify=TLS, timeout=30) as owner:
        assert owner.get(url).status_code == 200
        done = owner.post(url, data={"answer": "deny"})
    assert done.status_code == 200 and "Reported: not you" in done.text
    [event] = events(confirming, "customer.panel_change_denied")
    assert event["customer"] == "ola" and event["confirmation"]["status"] == "denied"
    assert api.get("/v1/audit/verify").json()["intact"] is True
    # Marked: a request from the new address needs a level more, and says why.
    after = ask(api, 4, sender="Ola Nowak <nowa@no-dmarc.pl>")
    assert after["decision"] != "accepted"
    assert any("this was not me" in reason for reason in after["reasons"]), after["reasons"]


def test_the_csv_import_sends_the_same_notice(
    api: httpx.Client,
    confirming: DecisionService,
    sink: Sink,
    live_api: LiveServer,
    tmp_path: Path,
) -> None:
    register_ola(api)
    table = tmp_path / "customers.csv"
    table.write_text(
        "login,kind,name,panel_email,services\nola,person,Ola Nowak,nowa@no-dmarc.pl,no-dmarc.pl\n"
    )
    customers, errors = read_customers(table, lambda *_: None)
    assert errors == []
    with confirming.sessions.begin() as session:
        report = import_customers(session, customers, SECRET_KEY.encode(), lambda *_: None)
    assert report.updated == 1
    # The same file again changes no address: no second notice.
    with confirming.sessions.begin() as session:
        import_customers(session, customers, SECRET_KEY.encode(), lambda *_: None)
    mail_worker(confirming, sink, Clock(), live_api.url).run_once()
    assert [e.rcpt_tos for e in sink.envelopes] == [["ola@no-dmarc.pl"]]


def test_cli_confirmations_expire(
    api: httpx.Client,
    confirming: DecisionService,
    sink: Sink,
    live_api: LiveServer,
    database_url: str,
    tmp_path: Path,
) -> None:
    register_ola(api)
    verdict = ask(api)
    # Planned, not sent yet: a link not made yet has no time to run out.
    mail_worker(confirming, None, Clock(), live_api.url).dispatch()
    fresh = intakeguard("confirmations", "expire", cwd=tmp_path, database_url=database_url)
    assert fresh.returncode == 0, fresh.stderr
    assert "marked 0 confirmation link(s) expired" in fresh.stdout
    mail_worker(confirming, sink, Clock(), live_api.url, ttl=timedelta(seconds=1)).run_once()
    assert len(sink.envelopes) == 1
    time.sleep(1.5)
    late = intakeguard("confirmations", "expire", cwd=tmp_path, database_url=database_url)
    assert late.returncode == 0, late.stderr
    assert "marked 1 confirmation link(s) expired" in late.stdout
    assert state(api, verdict["id"])["confirmation"]["status"] == "expired"


def test_confirmation_mails_have_an_hourly_limit_per_customer_of_their_own(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    # CONFIRM_MAX_PER_HOUR: 3 by default, for the worker and the resend route alike.
    verdicts = [ask(api, n) for n in range(4)]
    mail_worker(confirming, sink, Clock(), live_api.url, per_hour=3).run_once()
    assert len(sink.envelopes) == 3
    held = verdicts[3]["id"]
    # Held back: nothing was sent, it stays confirmation_required, the desk decides.
    assert state(api, held)["confirmation"] is None
    assert state(api, held)["current_decision"] == "confirmation_required"
    refused = api.post(f"/v1/verdicts/{held}/confirmation/resend")
    assert refused.status_code == 429, refused.text
    # Owner alerts are counted apart: a refused spoof still alerts (app.delivery.alerts).
    assert state(api, verdicts[0]["id"])["confirmation"]["status"] == "pending"


def test_the_desk_and_the_owner_decide_one_at_a_time(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    verdict, url, _ = mailed_link(api, confirming, sink, live_api)
    # An agent decides first: the link then records nothing, and says why.
    review = {"decision": "rejected", "agent": "ewa", "reason": "called the customer: not her"}
    assert api.post(f"/v1/verdicts/{verdict['id']}/review", json=review).status_code == 201
    with httpx.Client(verify=TLS, timeout=30) as owner:
        page = owner.post(url, data={"answer": "confirm"})
    assert page.status_code == 410 and "already decided" in page.text
    decided = state(api, verdict["id"])
    assert decided["current_decision"] == "rejected"
    assert decided["confirmation"]["status"] == "pending"
    assert events(confirming, "verdict.confirmed") == []
    resend = api.post(f"/v1/verdicts/{verdict['id']}/confirmation/resend")
    assert resend.status_code == 409 and "reviewed" in resend.text
    # Nothing to confirm on a verdict that is not confirmation_required.
    other = api.post("/v1/verdicts/00000000-0000-4000-8000-000000000000/confirmation/resend")
    assert other.status_code == 404


def test_a_resend_needs_the_review_scope(
    api: httpx.Client, anonymous: httpx.Client, confirming: DecisionService
) -> None:
    register_ola(api)
    verdict = ask(api)
    path = f"/v1/verdicts/{verdict['id']}/confirmation/resend"
    assert anonymous.post(path).status_code == 401
    reader = anonymous.post(path, headers=token_with(confirming, "verdicts:read"))
    assert reader.status_code == 403
    desk = anonymous.post(path, headers=token_with(confirming, "review"))
    assert desk.status_code == 202, desk.text
    again = anonymous.post(path, headers=token_with(confirming, "review"))
    assert again.status_code == 429 and "queued" in again.text


def test_a_resend_before_the_first_mail_sends_one_mail(
    api: httpx.Client, confirming: DecisionService, sink: Sink, live_api: LiveServer
) -> None:
    register_ola(api)
    verdict = ask(api)
    # The desk asks again before the outbox took the verdict's own request.
    assert api.post(f"/v1/verdicts/{verdict['id']}/confirmation/resend").status_code == 202
    mail_worker(confirming, sink, Clock(), live_api.url).run_once()
    assert len(sink.envelopes) == 1
    assert state(api, verdict["id"])["confirmation"]["status"] == "pending"
