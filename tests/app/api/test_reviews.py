"""POST/GET /v1/verdicts/{id}/review(s) and /actions over real HTTP: decisions and refusals."""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.auth import create_token
from app.db.models import AuditEntry, Base
from app.decision.service import DecisionService
from app.logs import JsonFormatter
from tests.app.api.common import KOWALSKI, assert_error, assert_signed, register, submit
from tests.app.delivery.test_webhooks import (  # noqa: F401 (fixtures used by name)
    Clock,
    Receiver,
    clock_fixture,
    hooks_fixture,
    hooks_server_fixture,
    make_worker,
    receiver_fixture,
)
from tests.support import TLS, make_message

FROM_ACME = {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}
# (sender, subject, decision): one verdict of each kind an agent meets.
SCENARIOS = {
    "accepted": ("jan@acme.pl", "Pytanie o domene acme.pl"),
    "otp_required": ("jan@acme.pl", "Kod authinfo dla acme.pl"),
    "postal_required": ("jan@acme.pl", "Cesja domeny acme.pl"),
    "rejected": ("kto@evil.example", "Transfer domeny acme.pl"),
    "review": ("nobody@else.example", "Hello"),
}


@contextmanager
def json_log(name: str) -> Iterator[io.StringIO]:
    """What logger ``name`` writes at INFO and above meanwhile, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(name)
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


def verdict(api: httpx.Client, decision: str) -> dict[str, Any]:
    """A recorded verdict with ``decision`` (ACME registered on first use)."""
    assert register(api).status_code in (200, 201)
    sender, subject = SCENARIOS[decision]
    envelope = FROM_ACME if sender == "jan@acme.pl" else {}
    raw = make_message(sender=sender, subject=subject, body="Prosze.\n")
    response = submit(api, raw, **envelope)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["decision"] == decision, body["reasons"]
    return body


def review(api: httpx.Client, verdict_id: str, **body: Any) -> httpx.Response:
    payload = {"decision": "accepted", "agent": "agent.ola", "reason": "Confirmed by phone."}
    return api.post(f"/v1/verdicts/{verdict_id}/review", json={**payload, **body})


def act(api: httpx.Client, verdict_id: str, **body: Any) -> httpx.Response:
    payload = {
        "agent": "agent.ola",
        "action": "authinfo_sent",
        "details": "AuthInfo code for acme.pl sent to the panel address.",
        "login": "acme",
    }
    return api.post(f"/v1/verdicts/{verdict_id}/actions", json={**payload, **body})


def test_a_review_decides_an_otp_verdict_and_leaves_the_signed_verdict_unchanged(
    api: httpx.Client,
) -> None:
    original = verdict(api, "otp_required")
    response = review(api, original["id"], decision="accepted", reason="Code read on the phone.")
    assert response.status_code == 201, response.text
    decided = response.json()
    assert decided["verdict_id"] == original["id"]
    assert (decided["decision"], decided["agent"]) == ("accepted", "agent.ola")
    assert decided["reason"] == "Code read on the phone."
    assert decided["supersedes"] is None
    state = api.get(f"/v1/verdicts/{original['id']}/reviews").json()
    assert state["verdict_decision"] == "otp_required"
    assert state["current_decision"] == "accepted"
    assert state["reviews"] == [decided]
    unchanged = api.get(f"/v1/verdicts/{original['id']}").json()
    assert unchanged == original
    assert_signed(api, unchanged)


def test_a_review_of_an_unknown_verdict_is_404(api: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    assert_error(review(api, missing), 404, "not_found", missing)
    assert_error(review(api, "not-a-verdict"), 404, "not_found")
    assert_error(api.get(f"/v1/verdicts/{missing}/reviews"), 404, "not_found")
    assert_error(act(api, missing), 404, "not_found")
    assert_error(api.get(f"/v1/verdicts/{missing}/actions"), 404, "not_found")


def test_a_second_review_must_supersede_the_current_one_with_a_reason(
    api: httpx.Client,
) -> None:
    target = verdict(api, "review")["id"]
    first = review(api, target, decision="accepted").json()
    again = review(api, target, decision="rejected", reason="Second look.")
    assert_error(again, 409, "conflict", "already reviewed", first["id"], "supersedes")
    second = review(
        api, target, decision="rejected", reason="Mailbox was compromised.", supersedes=first["id"]
    )
    assert second.status_code == 201, second.text
    assert second.json()["supersedes"] == first["id"]
    stale = review(api, target, decision="accepted", supersedes=first["id"])
    assert_error(stale, 409, "conflict", "not the current review", second.json()["id"])
    state = api.get(f"/v1/verdicts/{target}/reviews").json()
    assert state["current_decision"] == "rejected"
    assert [r["id"] for r in state["reviews"]] == [first["id"], second.json()["id"]]


def test_superseding_when_nothing_was_reviewed_is_409(api: httpx.Client) -> None:
    target = verdict(api, "review")["id"]
    response = review(api, target, supersedes=str(uuid.uuid4()))
    assert_error(response, 409, "conflict", "no review yet")


@pytest.mark.parametrize(
    ("decision", "explanation"),
    [
        ("accepted", "final"),
        ("rejected", "final"),
        ("postal_required", "signed documents received by post"),
    ],
)
def test_a_verdict_that_is_not_for_review_cannot_be_reviewed(
    api: httpx.Client, decision: str, explanation: str
) -> None:
    target = verdict(api, decision)["id"]
    assert_error(review(api, target), 409, "conflict", decision, explanation)
    assert api.get(f"/v1/verdicts/{target}/reviews").json()["reviews"] == []


def test_two_first_reviews_at_once_record_exactly_one(api: httpx.Client) -> None:
    target = verdict(api, "review")["id"]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send(decision: str) -> None:
        with httpx.Client(
            verify=TLS, base_url=str(api.base_url), headers=api.headers, timeout=30
        ) as client:
            start.wait()
            statuses.append(review(client, target, decision=decision).status_code)

    threads = [threading.Thread(target=send, args=(d,)) for d in ("accepted", "rejected")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201, 409]
    assert len(api.get(f"/v1/verdicts/{target}/reviews").json()["reviews"]) == 1


def test_an_action_is_recorded_under_an_accepted_verdict(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    response = act(api, target)
    assert response.status_code == 201, response.text
    action = response.json()
    assert (action["login"], action["code_ref"]) == ("acme", None)
    assert action["action"] == "authinfo_sent"
    assert api.get(f"/v1/verdicts/{target}/actions").json() == [action]


def test_an_action_after_an_accepting_review_is_recorded(api: httpx.Client) -> None:
    target = verdict(api, "otp_required")["id"]
    assert_error(act(api, target), 409, "conflict", "not been accepted on review")
    assert review(api, target).status_code == 201
    assert act(api, target).status_code == 201


def test_actions_on_a_rejected_verdict_are_refused(api: httpx.Client) -> None:
    target = verdict(api, "rejected")["id"]
    assert_error(act(api, target), 409, "conflict", "was rejected", "nothing may be done")
    assert api.get(f"/v1/verdicts/{target}/actions").json() == []


def test_actions_on_a_verdict_rejected_on_review_are_refused(api: httpx.Client) -> None:
    target = verdict(api, "review")["id"]
    assert review(api, target, decision="rejected", reason="Not the customer.").status_code == 201
    assert_error(act(api, target), 409, "conflict", "rejected on review")


def test_actions_on_a_postal_verdict_wait_for_the_documents(api: httpx.Client) -> None:
    target = verdict(api, "postal_required")["id"]
    assert_error(act(api, target), 409, "conflict", "documents by post")
    checked = {"name": True, "address": True, "signature_or_stamp": True}
    documents = {"agent": "agent.ola", "checked": checked}
    assert api.post(f"/v1/verdicts/{target}/documents", json=documents).status_code == 201
    assert act(api, target).status_code == 201


def test_an_action_for_another_customer_than_the_verdicts_is_refused(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    assert_error(act(api, target, login="kowalska"), 409, "conflict", "'acme'", "'kowalska'")


def test_review_and_actions_need_the_review_scope(
    api: httpx.Client, service: DecisionService
) -> None:
    target = verdict(api, "review")["id"]
    with service.sessions.begin() as session:
        token = create_token(session, "reader", ["verdicts:read"])
    reader = {"Authorization": f"Bearer {token}"}
    body = {"decision": "accepted", "agent": "a", "reason": "r"}
    response = api.post(f"/v1/verdicts/{target}/review", json=body, headers=reader)
    assert_error(response, 403, "forbidden", "review")
    assert_error(_act_as(api, target, reader), 403, "forbidden", "review")
    assert api.get(f"/v1/verdicts/{target}/reviews", headers=reader).status_code == 200


def _act_as(api: httpx.Client, verdict_id: str, headers: dict[str, str]) -> httpx.Response:
    body = {"agent": "a", "action": "x", "details": "d", "login": "acme"}
    return api.post(f"/v1/verdicts/{verdict_id}/actions", json=body, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "review", "agent": "a", "reason": "r"},
        {"decision": "accepted", "agent": "", "reason": "r"},
        {"decision": "accepted", "agent": "a", "reason": "   "},
        {"decision": "accepted", "agent": "a"},
        {"decision": "accepted", "agent": "a", "reason": "r", "extra": 1},
    ],
)
def test_a_malformed_review_is_422(api: httpx.Client, body: dict[str, Any]) -> None:
    target = verdict(api, "review")["id"]
    assert_error(api.post(f"/v1/verdicts/{target}/review", json=body), 422, "invalid_request")


def test_reviews_and_actions_are_chained(api: httpx.Client) -> None:
    target = verdict(api, "otp_required")["id"]
    assert review(api, target).status_code == 201
    assert act(api, target).status_code == 201
    report = api.get("/v1/audit/verify").json()
    # customer_put, verdict, review, action
    assert report["intact"] and report["entries"] == 4, report


def test_openapi_describes_the_new_routes(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    paths = spec["paths"]
    review_post = paths["/v1/verdicts/{verdict_id}/review"]["post"]
    assert review_post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ReviewIn"
    )
    assert set(review_post["responses"]) >= {"201", "404", "409", "422"}
    assert "get" in paths["/v1/verdicts/{verdict_id}/reviews"]
    assert {"get", "post"} <= set(paths["/v1/verdicts/{verdict_id}/actions"])
    assert "get" in paths["/v1/audit/verify"]
    assert "post" in paths["/v1/customers/{login}/erasure"]
    schemas = spec["components"]["schemas"]
    for name in ("ReviewIn", "ReviewOut", "ReviewState", "ActionIn", "ActionOut"):
        assert name in schemas
    assert {"ChainReportOut", "ErasureIn", "ErasureOut"} <= set(schemas)


def _chain_of(service: DecisionService, verdict_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The kinds and payloads of the audit entries about a verdict, in chain order."""
    with service.sessions() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.subject == verdict_id).order_by(AuditEntry.seq)
        )
        return [(entry.kind, json.loads(entry.payload)) for entry in entries]


def test_no_action_is_recorded_after_a_concurrent_rejecting_review(
    api: httpx.Client, service: DecisionService
) -> None:
    """A superseding rejection and an action sent at once: the action is either refused or
    chained before the rejection, never after it (PostgreSQL raced here before a lock)."""
    for _ in range(8):
        target = verdict(api, "otp_required")["id"]
        first = review(api, target).json()
        statuses = _reject_and_act_at_once(api, target, first["id"])
        assert statuses["review"] == 201
        kinds = [(kind, payload.get("decision")) for kind, payload in _chain_of(service, target)]
        rejection = kinds.index(("review", "rejected"))
        assert ("action", None) not in kinds[rejection:], kinds
        assert statuses["action"] == (201 if ("action", None) in kinds else 409)
    assert api.get("/v1/audit/verify").json()["intact"]


def _reject_and_act_at_once(api: httpx.Client, target: str, first_id: str) -> dict[str, int]:
    start = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def send(kind: str) -> None:
        with httpx.Client(
            verify=TLS, base_url=str(api.base_url), headers=api.headers, timeout=30
        ) as client:
            start.wait()
            if kind == "review":
                reject = {"decision": "rejected", "reason": "Fraud.", "supersedes": first_id}
                statuses[kind] = review(client, target, **reject).status_code
            else:
                statuses[kind] = act(client, target).status_code

    threads = [threading.Thread(target=send, args=(kind,)) for kind in ("review", "action")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_an_action_under_a_verdict_about_no_customer_is_refused(api: httpx.Client) -> None:
    target = verdict(api, "review")
    assert target["customer"] is None
    assert review(api, target["id"]).status_code == 201
    response = act(api, target["id"], login="kowalska")
    assert_error(response, 409, "conflict", "names no customer")
    assert api.get(f"/v1/verdicts/{target['id']}/actions").json() == []


def _code_used_by_a_verdict(api: httpx.Client, login: str = "acme") -> str:
    code = api.post(f"/v1/customers/{login}/codes").json()["code"]
    body = f"Prosze o kod AuthInfo dla acme.pl\nKod jednorazowy: {code}\n"
    raw = make_message(subject="Transfer domeny acme.pl", body=body)
    used = submit(api, raw, **FROM_ACME).json()
    assert used["decision"] == "accepted", used["reasons"]
    verdict_id: str = used["id"]
    return verdict_id


def test_code_ref_names_where_one_of_the_customers_codes_was_used(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    used_by = _code_used_by_a_verdict(api)
    response = act(api, target, code_ref=used_by.upper())
    assert response.status_code == 201, response.text
    assert response.json()["code_ref"] == used_by
    # A verdict that used no code, an id of nothing, and no id at all.
    assert_error(act(api, target, code_ref=target), 409, "conflict", "no one-time code")
    assert_error(act(api, target, code_ref=str(uuid.uuid4())), 409, "conflict", "acme")
    assert_error(act(api, target, code_ref="verification 42"), 422, "invalid_input", "code_ref")
    assert len(api.get(f"/v1/verdicts/{target}/actions").json()) == 1


def test_code_ref_of_another_customers_code_is_refused(api: httpx.Client) -> None:
    target = verdict(api, "accepted")["id"]
    assert register(api, "kowalska", **KOWALSKI).status_code == 201
    code = api.post("/v1/customers/kowalska/codes").json()["code"]
    call = {"channel": "phone", "agent": "agent.ola", "service": "kowalska.pl", "code": code}
    verification = api.post("/v1/verifications", json={**call, "login": "kowalska"})
    assert verification.json()["stage"] == "authorized", verification.text
    used_by = verification.json()["id"]
    assert_error(act(api, target, code_ref=used_by), 409, "conflict", "'acme'")
    # The same reference is good for the customer whose code it used.
    kowalska = _kowalska_accepted(api)
    assert act(api, kowalska, login="kowalska", code_ref=used_by).status_code == 201


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("review", "agent", "agent\x00ola"),
        ("review", "reason", "fraud\x00"),
        ("review", "agent", "agent\nola"),
        ("review", "supersedes", "\x00"),
        ("review", "reason", "bell\x07"),
        ("actions", "agent", "\x00"),
        ("actions", "action", "sent\x00"),
        ("actions", "action", "sent\ttwice"),
        ("actions", "details", "d\x00"),
        ("actions", "details", "d\x1b[31m"),
        ("actions", "code_ref", "\x00"),
    ],
)
def test_control_characters_are_422(api: httpx.Client, path: str, field: str, value: str) -> None:
    target = verdict(api, "accepted" if path == "actions" else "review")["id"]
    send = act if path == "actions" else review
    assert_error(send(api, target, **{field: value}), 422, "invalid_request", field)


def test_free_text_keeps_its_line_breaks_and_tabs(api: httpx.Client) -> None:
    target = verdict(api, "review")["id"]
    reason = "Called back.\n\tThe customer confirmed.\r\n"
    response = review(api, target, reason=reason)
    assert response.status_code == 201, response.text
    assert response.json()["reason"] == reason
    details = "Line one\nline two\twith a tab"
    response = act(api, target, login="acme", details=details)
    assert_error(response, 409, "conflict", "names no customer")
    accepted = verdict(api, "accepted")["id"]
    assert act(api, accepted, details=details).json()["details"] == details


def _kowalska_accepted(api: httpx.Client) -> str:
    """A verdict about customer kowalska (registered by the caller), accepted on review."""
    raw = make_message(
        sender="anna@kowalska.example", subject="Pytanie o domene kowalska.pl", body="Prosze.\n"
    )
    envelope = {"client_ip": "192.0.2.10", "helo": "mx.kowalska.example"}
    response = submit(api, raw, mail_from="anna@kowalska.example", **envelope)
    found = response.json()
    assert (found["decision"], found["customer"]) == ("review", "kowalska"), found["reasons"]
    assert review(api, found["id"]).status_code == 201
    verdict_id: str = found["id"]
    return verdict_id


def test_reviews_and_actions_are_posted_to_subscribers(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    events = ["verdict.reviewed", "verdict.action_recorded"]
    subscription = {"url": receiver.url, "events": events, "secret": receiver.secret}
    assert hooks.post("/v1/webhooks", json=subscription).status_code == 201
    target = verdict(hooks, "otp_required")["id"]
    decided = review(hooks, target).json()
    action = act(hooks, target).json()
    assert make_worker(service, clock).run_once() == 2
    assert all(request.signature_ok for request in receiver.requests)
    posted = [
        (request.headers["Intakeguard-Event"], json.loads(request.body)["data"])
        for request in receiver.requests
    ]
    common = {"verdict_id": target, "customer": "acme", "decision": "accepted"}
    assert posted == [
        ("verdict.reviewed", {**common, "review": decided}),
        ("verdict.action_recorded", {**common, "action": action}),
    ]


def test_identifiers_in_free_text_reach_no_log_entry_or_table(
    api: httpx.Client, service: DecisionService
) -> None:
    written = ("PL5260001246", "526 000 12 46", "526-000-12-46", "5260001246")
    with json_log("app.records.reviews") as stream:
        target = verdict(api, "otp_required")["id"]
        reason = f"Caller gave NIP {written[1]}."
        assert review(api, target, reason=reason).json()["reason"] == "Caller gave NIP [nip]."
        details = f"Invoice data: {written[0]}, {written[2]}; PESEL 44051401359"
        response = act(api, target, action=f"nip_changed_to_{written[3]}", details=details)
        assert response.status_code == 201, response.text
    assert response.json()["details"] == "Invoice data: [nip], [nip]; PESEL [pesel]"
    assert "[nip]" in stream.getvalue()
    found = _stored_text(service)
    for form in (*written, "44051401359"):
        assert form not in stream.getvalue()
        assert form.encode() not in found, form
    # Free text sits in the erasable side data, not the chain's permanent payload.
    [(_, entry)] = [e for e in _chain_of(service, target) if e[0] == "action"]
    assert "details" not in entry and "action" not in entry and "personal_sha256" in entry


def _stored_text(service: DecisionService) -> bytes:
    """Every value of every table, as bytes, for a search."""
    found = bytearray()
    with service.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(table.select()):
                for value in row:
                    found += value if isinstance(value, bytes) else str(value).encode()
                    found += b"\n"
    return bytes(found)


CODE_FORMS = ("1234-5678", "1234 5678", "12345678")


def test_one_time_codes_in_free_text_reach_no_table_webhook_or_log(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    # An agent who types the code the caller read out: the code is live for 15 minutes,
    # and whoever reads the record, a webhook or a log line could use it.
    events = ["verdict.reviewed", "verdict.action_recorded"]
    subscription = {"url": receiver.url, "events": events, "secret": receiver.secret}
    with json_log("app") as stream:
        assert hooks.post("/v1/webhooks", json=subscription).status_code == 201
        target = verdict(hooks, "otp_required")["id"]
        reason = f"Caller read kod {CODE_FORMS[0]} on the phone; verdict {target} confirmed."
        decided = review(hooks, target, reason=reason)
        details = f"Codes {CODE_FORMS[1]} and {CODE_FORMS[2]}, AuthInfo sent; srv-12345678 kept."
        action = act(hooks, target, action=f"code_{CODE_FORMS[2]}_used", details=details)
        logging.getLogger("app.records.reviews").info("agent wrote %s", details)
    assert decided.status_code == 201, decided.text
    assert action.status_code == 201, action.text
    # The agent's text otherwise unchanged, the verdict id and a server id included.
    assert decided.json()["reason"] == (
        f"Caller read kod [code removed] on the phone; verdict {target} confirmed."
    )
    assert action.json()["details"] == (
        "Codes [code removed] and [code removed], AuthInfo sent; srv-12345678 kept."
    )
    assert action.json()["action"] == "code_[code removed]_used"
    assert make_worker(service, clock).run_once() == 2
    # The server id is no code: it stays, and is left out of the search below.
    bodies = b"".join(request.body for request in receiver.requests).replace(b"srv-12345678", b"")
    assert b"[code removed]" in bodies
    found = _stored_text(service)
    for form in CODE_FORMS:
        assert form.encode() not in bodies, form
        assert form.encode() not in found.replace(b"srv-12345678", b""), form
        assert form not in stream.getvalue().replace("srv-12345678", ""), form
    assert "[code removed]" in stream.getvalue()
