"""Webhook subscriptions over the REST API and signed deliveries to a real HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from app.api import create_app
from app.auth import create_token
from app.db.models import WebhookSubscription
from app.db.types import utcnow
from app.decision.service import DecisionService
from app.delivery.outbox import MAX_ATTEMPTS, OutboxWorker
from app.delivery.webhooks import SECRET_PREFIX, SecretBox, WebhookSender
from app.settings import Settings
from mailhook.metrics import PREFIX
from tests.app.api.common import ACME, assert_error, assert_signed, register, submit
from tests.support import ADMIN_TOKEN, SECRET_KEY, TLS, LiveServer, make_message

SPOOF = {
    "sender": "Jan Kowalski <jan.kowalski@freemail.example>",
    "subject": "Transfer domeny acme.pl",
    "body": "Prosze o kod AuthInfo dla domeny acme.pl, przenosze ja.\n",
}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class Receiver:
    """A threaded HTTP endpoint on 127.0.0.1 that answers from a script of outcomes.

    Each outcome is a status code, or "hang": wait (up to 30 s) for ``release`` before
    answering 200, which makes a worker with a short timeout give up. When the script is
    used up it answers 200. Every request's signature is checked with ``secret``.
    """

    script: list[int | str] = field(default_factory=list)
    secret: str = ""
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)
    answered_hang: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.record(dict(self.headers.items()), body)
                outcome = receiver.script.pop(0) if receiver.script else 200
                if outcome == "hang":
                    receiver.hanging.set()
                    receiver.release.wait(30)
                    receiver.answered_hang.set()
                    outcome = 200
                self.send_response(int(outcome))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def record(self, headers: dict[str, str], body: bytes) -> None:
        stamp = headers.get("Intakeguard-Timestamp", "")
        expected = hmac.new(self.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        given = headers.get("Intakeguard-Signature", "")
        ok = hmac.compare_digest(given, "v1=" + expected.hexdigest())
        self.requests.append(Received(headers, body, ok))

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Clock:
    """The worker's clock, moved by the test instead of waiting for back-off."""

    def __init__(self) -> None:
        self.moment = utcnow()

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    hook = Receiver(secret="test-webhook-secret-0123456789abcdef")
    yield hook
    hook.close()


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


def make_worker(service: DecisionService, clock: Clock, timeout: float = 5.0) -> OutboxWorker:
    sender = WebhookSender(SecretBox(SECRET_KEY.encode()), ["127.0.0.1"], timeout)
    # jitter 0: the schedule is exactly 30 s, 1, 2, 4 … min, so the test can step it.
    return OutboxWorker(service.sessions, sender, now=clock, jitter=lambda: 0.0)


@pytest.fixture(name="hooks_server", scope="module")
def hooks_server_fixture(
    settings: Settings, session_service: DecisionService
) -> Iterator[LiveServer]:
    allowed = settings.model_copy(update={"webhook_allowed_hosts": ["127.0.0.1", "::1"]})
    with LiveServer(create_app(allowed, session_service)) as server:
        yield server


@pytest.fixture(name="hooks")
def hooks_fixture(hooks_server: LiveServer, service: DecisionService) -> Iterator[httpx.Client]:
    """A client of an API that allows webhooks to 127.0.0.1, on an empty store."""
    with httpx.Client(
        verify=TLS,
        base_url=hooks_server.url,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    ) as client:
        yield client


def failures() -> float:
    return REGISTRY.get_sample_value(f"{PREFIX}_webhook_failures_total") or 0.0


def subscribe(hooks: httpx.Client, receiver: Receiver, **changes: Any) -> dict[str, Any]:
    body = {"url": receiver.url, "events": ["verdict.recorded"], "secret": receiver.secret}
    response = hooks.post("/v1/webhooks", json={**body, **changes})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def spoof(hooks: httpx.Client, n: int = 0) -> dict[str, Any]:
    """A rejected verdict: a transfer of acme.pl asked for from a stranger's address."""
    response = submit(hooks, make_message(**{**SPOOF, "body": SPOOF["body"] + f"#{n}\n"}))
    assert response.status_code == 201, response.text
    verdict: dict[str, Any] = response.json()
    assert verdict["decision"] == "rejected"
    return verdict


def deliveries(hooks: httpx.Client, subscription: dict[str, Any], **params: str) -> list[Any]:
    response = hooks.get(f"/v1/webhooks/{subscription['id']}/deliveries", params=params)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()
    return found


def test_subscriptions_are_created_listed_read_and_deleted(hooks: httpx.Client) -> None:
    url = "http://127.0.0.1:9/hook"
    created = hooks.post("/v1/webhooks", json={"url": url, "events": ["*"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith(SECRET_PREFIX) and len(body["secret"]) > 40
    assert body["events"] == ["*"] and body["decisions"] is None
    # The secret is shown once: neither the list nor the single read carries it.
    listed = hooks.get("/v1/webhooks").json()
    assert [s["id"] for s in listed] == [body["id"]]
    assert "secret" not in listed[0]
    one = hooks.get(f"/v1/webhooks/{body['id']}").json()
    assert one == {k: v for k, v in body.items() if k != "secret"}
    chosen = hooks.post(
        "/v1/webhooks",
        json={
            "url": url,
            "events": ["verdict.recorded"],
            "decisions": ["rejected"],
            "secret": "s" * 24,
        },
    ).json()
    assert chosen["secret"] == "s" * 24 and chosen["decisions"] == ["rejected"]
    assert hooks.delete(f"/v1/webhooks/{body['id']}").status_code == 204
    assert_error(hooks.get(f"/v1/webhooks/{body['id']}"), 404, "not_found", body["id"])
    assert_error(hooks.delete("/v1/webhooks/not-a-uuid"), 404, "not_found")
    assert [s["id"] for s in hooks.get("/v1/webhooks").json()] == [chosen["id"]]


def test_secret_is_sealed_at_rest(hooks: httpx.Client, service: DecisionService) -> None:
    created = hooks.post(
        "/v1/webhooks", json={"url": "https://127.0.0.1/h", "events": ["*"]}
    ).json()
    with service.sessions() as session:
        row = session.scalars(select(WebhookSubscription)).one()
    assert created["secret"] not in row.secret_sealed
    assert SecretBox(SECRET_KEY.encode()).open(row.secret_sealed, row.id) == created["secret"]
    with pytest.raises(Exception, match="SECRET_KEY"):
        SecretBox(b"another-secret-key-0123456789abcdef").open(row.secret_sealed, row.id)
    with pytest.raises(Exception, match="SECRET_KEY"):
        # Sealed for one subscription, the secret does not open as another's.
        SecretBox(SECRET_KEY.encode()).open(row.secret_sealed, "0" * 8 + row.id[8:])


@pytest.mark.parametrize(
    ("url", "mention"),
    [
        ("ftp://127.0.0.1/x", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("http://internal.example/hook", "WEBHOOK_ALLOWED_HOSTS"),
        ("http://169.254.169.254/latest", "169.254.169.254"),
        ("http://user:pw@127.0.0.1/hook", "credentials"),
        ("http:///nohost", "no host"),
        ("http://127.0.0.1:99999/hook", "not a valid URL"),
        # What urlsplit checks must be what httpx requests: no whitespace, no odd hosts.
        ("http://127.0.0.1/a b", "control character or whitespace (U+0020)"),
        ("http://127.0.0.1\u200b/hook", "control character or whitespace (U+200B)"),
        ("http://[::1]x/hook", "not a valid URL"),
        ("http://[host]/hook", "not a valid URL"),
        ("http://127.0.0.1:00080/hook", "'00080' is not a plain decimal number"),
        ("http://127.0.0.1:/hook", "'' is not a plain decimal number"),
    ],
)
def test_urls_that_are_not_allowed_are_refused(hooks: httpx.Client, url: str, mention: str) -> None:
    response = hooks.post("/v1/webhooks", json={"url": url, "events": ["*"]})
    assert_error(response, 422, "invalid_input", mention)
    assert hooks.get("/v1/webhooks").json() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "http://127.0.0.1/hook\x00"),
        ("url", "http://127.0.0.1/hook\tx"),
        ("url", "http://127.0.0.1/\r\nhook"),
        ("url", "http://127.0.0.1/hook\x85"),
        ("events", ["verdict.recorded\x00"]),
        ("secret", "a-long-enough-secret-0123456789\x00"),
    ],
)
def test_control_characters_are_refused_on_every_store(
    hooks: httpx.Client, field: str, value: Any
) -> None:
    # PostgreSQL refuses NUL in text: this was a 500 there, and must be a 422 on both.
    body = {"url": "http://127.0.0.1/hook", "events": ["*"], field: value}
    response = hooks.post("/v1/webhooks", json=body)
    assert_error(response, 422, "invalid_request", field, "control characters")
    assert hooks.get("/v1/webhooks").json() == []


def test_urls_with_a_port_or_an_ipv6_literal_are_accepted_as_written(hooks: httpx.Client) -> None:
    for url in (
        "http://127.0.0.1:8080/hook?a=%00",
        "https://[::1]:443/hook",
        "http://[0:0:0:0:0:0:0:1]:8080/hook",
    ):
        created = hooks.post("/v1/webhooks", json={"url": url, "events": ["*"]})
        assert created.status_code == 201, created.text
        assert created.json()["url"] == url


def test_default_allows_no_webhook_host_at_all(api: httpx.Client) -> None:
    # The shared test API runs on the defaults: WEBHOOK_ALLOWED_HOSTS empty.
    response = api.post("/v1/webhooks", json={"url": "http://127.0.0.1/h", "events": ["*"]})
    assert_error(response, 422, "invalid_input", "WEBHOOK_ALLOWED_HOSTS", "none are allowed")


def test_bad_events_secrets_and_decisions_are_refused(hooks: httpx.Client) -> None:
    url = "http://127.0.0.1/h"
    bad_event = hooks.post("/v1/webhooks", json={"url": url, "events": ["verdict.deleted"]})
    assert_error(bad_event, 422, "invalid_input", "verdict.deleted", "verdict.recorded")
    no_event = hooks.post("/v1/webhooks", json={"url": url, "events": []})
    assert_error(no_event, 422, "invalid_request", "events")
    short = hooks.post("/v1/webhooks", json={"url": url, "events": ["*"], "secret": "short"})
    assert_error(short, 422, "invalid_input", "secret")
    crlf = hooks.post("/v1/webhooks", json={"url": url, "events": ["*"], "secret": "a\r\n" * 10})
    assert_error(crlf, 422, "invalid_request", "secret", "control characters")
    decision = hooks.post("/v1/webhooks", json={"url": url, "events": ["*"], "decisions": ["x"]})
    assert_error(decision, 422, "invalid_request", "decisions")


def test_webhooks_need_the_webhooks_scope(
    hooks: httpx.Client, hooks_server: LiveServer, service: DecisionService
) -> None:
    with service.sessions.begin() as session:
        token = create_token(session, "reader", ["verdicts:read"])
    with httpx.Client(
        verify=TLS, base_url=hooks_server.url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        assert_error(client.get("/v1/webhooks"), 403, "forbidden", "webhooks")
        refused = client.post("/v1/webhooks", json={"url": "http://127.0.0.1/", "events": ["*"]})
        assert_error(refused, 403, "forbidden", "webhooks")
    with service.sessions.begin() as session:
        token = create_token(session, "ticketing", ["webhooks"])
    with httpx.Client(
        verify=TLS, base_url=hooks_server.url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        assert client.get("/v1/webhooks").status_code == 200


def test_a_verdict_is_posted_signed_and_verifiable(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    subscription = subscribe(hooks, receiver)
    verdict = spoof(hooks)
    assert make_worker(service, clock).run_once() == 1
    [request] = receiver.requests
    assert request.signature_ok
    assert request.headers["Intakeguard-Event"] == "verdict.recorded"
    assert request.headers["Intakeguard-Timestamp"] == str(int(clock().timestamp()))
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body["event"] == "verdict.recorded"
    assert body["data"] == verdict
    # The ticketing system can check the verdict itself with the key from /v1/keys.
    assert_signed(hooks, body["data"])
    [delivery] = deliveries(hooks, subscription)
    assert delivery["id"] == request.headers["Intakeguard-Delivery"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["next_attempt_at"] is None
    # Done is done: another pass posts nothing again.
    assert make_worker(service, clock).run_once() == 0
    assert len(receiver.requests) == 1


def test_a_tampered_body_does_not_verify(receiver: Receiver) -> None:
    # The receiver's own check must be able to fail, or the tests above prove nothing.
    receiver.record({"Intakeguard-Timestamp": "1", "Intakeguard-Signature": "v1=00"}, b"{}")
    assert not receiver.requests[-1].signature_ok


def test_failures_and_timeouts_are_retried_with_the_same_delivery_id(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    subscription = subscribe(hooks, receiver)
    spoof(hooks)
    receiver.script = [500, "hang"]
    worker = make_worker(service, clock, timeout=0.5)
    failures_before = failures()
    assert worker.run_once() == 1
    assert failures() == failures_before + 1
    [failed] = deliveries(hooks, subscription)
    assert failed["status"] == "pending" and failed["attempts"] == 1
    assert failed["last_error"] == "the endpoint answered HTTP 500"
    due = datetime.fromisoformat(failed["next_attempt_at"])
    assert due == clock() + timedelta(seconds=30)
    # Not due yet: nothing is tried.
    clock.advance(timedelta(seconds=29))
    assert worker.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert worker.run_once() == 1
    assert receiver.hanging.is_set()
    [timed_out] = deliveries(hooks, subscription)
    assert timed_out["attempts"] == 2
    assert timed_out["last_error"] == "the endpoint did not answer in time"
    assert datetime.fromisoformat(timed_out["next_attempt_at"]) == clock() + timedelta(minutes=1)
    receiver.release.set()
    clock.advance(timedelta(minutes=1))
    assert worker.run_once() == 1
    [done] = deliveries(hooks, subscription)
    assert done["status"] == "delivered" and done["attempts"] == 3
    assert len(receiver.requests) == 3
    assert all(r.signature_ok for r in receiver.requests)
    # The idempotency key and the body are the same on every try; the timestamp is not.
    assert {r.headers["Intakeguard-Delivery"] for r in receiver.requests} == {done["id"]}
    assert len({r.body for r in receiver.requests}) == 1
    assert len({r.headers["Intakeguard-Timestamp"] for r in receiver.requests}) == 3


def test_deliveries_arrive_oldest_first_per_subscription(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    subscribe(hooks, receiver)
    verdicts = [spoof(hooks, n) for n in range(3)]
    receiver.script = [500, 503]
    worker = make_worker(service, clock)
    for step in (timedelta(0), timedelta(seconds=30), timedelta(minutes=1)):
        clock.advance(step)
        worker.run_once()
    delivered = [json.loads(r.body)["data"]["id"] for r in receiver.requests]
    # The first verdict was tried three times before the others were tried at all.
    assert delivered == [verdicts[0]["id"]] * 3 + [verdicts[1]["id"], verdicts[2]["id"]]


def test_subscription_filters_by_event_and_decision(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    other = Receiver(secret=receiver.secret)
    try:
        subscribe(hooks, receiver, decisions=["accepted", "review"])
        subscribe(hooks, other, events=["verdict.reviewed"])
        catch_all = Receiver(secret=receiver.secret)
        try:
            subscribe(hooks, catch_all, events=["*"], decisions=["rejected"])
            spoof(hooks)
            make_worker(service, clock).run_once()
            assert len(catch_all.requests) == 1
        finally:
            catch_all.close()
        assert receiver.requests == [] and other.requests == []
    finally:
        other.close()


def test_dead_letter_after_the_last_try_and_redelivery(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    subscription = subscribe(hooks, receiver)
    spoof(hooks)
    receiver.script = [500] * MAX_ATTEMPTS
    worker = make_worker(service, clock)
    started = clock()
    worker.run_once()
    while True:
        [delivery] = deliveries(hooks, subscription)
        if delivery["status"] != "pending":
            break
        clock.moment = datetime.fromisoformat(delivery["next_attempt_at"])
        worker.run_once()
    assert delivery["status"] == "dead" and delivery["attempts"] == MAX_ATTEMPTS
    assert len(receiver.requests) == MAX_ATTEMPTS
    # Retried for more than a day before giving up.
    assert clock() - started >= timedelta(hours=24)
    dead = deliveries(hooks, subscription, status="dead")
    assert [d["id"] for d in dead] == [delivery["id"]]
    assert deliveries(hooks, subscription, status="pending") == []
    # An operator puts it back once the endpoint works; it keeps its id.
    retried = hooks.post(f"/v1/webhooks/deliveries/{delivery['id']}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "pending" and retried.json()["attempts"] == 0
    assert worker.run_once() == 1
    assert receiver.requests[-1].headers["Intakeguard-Delivery"] == delivery["id"]
    assert deliveries(hooks, subscription, status="delivered")[0]["id"] == delivery["id"]
    again = hooks.post(f"/v1/webhooks/deliveries/{delivery['id']}/retry")
    assert_error(again, 409, "conflict", "delivered")
    assert_error(hooks.post("/v1/webhooks/deliveries/nope/retry"), 404, "not_found")
    bad_status = hooks.get(
        f"/v1/webhooks/{subscription['id']}/deliveries", params={"status": "lost"}
    )
    assert_error(bad_status, 422, "invalid_request", "status")


def test_a_hanging_endpoint_does_not_hold_up_intake(
    hooks: httpx.Client, service: DecisionService, receiver: Receiver, clock: Clock
) -> None:
    register(hooks)
    subscribe(hooks, receiver)
    receiver.script = ["hang"]
    worker = make_worker(service, clock, timeout=30)
    worker.poll_seconds = 0.05
    worker.start()
    try:
        spoof(hooks, 1)
        assert not receiver.answered_hang.is_set()
        assert receiver.hanging.wait(10), "the worker never posted"
        # The worker is stuck inside the POST; intake answers regardless, and both
        # answers came while the endpoint still held the first delivery.
        second = submit(hooks, make_message(**{**SPOOF, "body": "acme.pl #2\n"}))
        assert second.status_code == 201, second.text
        assert not receiver.answered_hang.is_set()
    finally:
        receiver.release.set()
        worker.stop(timeout=15)
    assert (
        ACME["services"][0]
        in json.loads(receiver.requests[0].body)["data"]["instruction"]["services"]
    )
