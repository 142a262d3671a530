"""Bad input over real HTTP: a JSON error saying what is wrong, or a recorded verdict; never 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.api import create_app
from app.db.models import StoredMessage
from app.decision.service import DecisionService
from tests.app.api.common import (
    ACME,
    KOWALSKI,
    PESEL,
    RFC822,
    assert_error,
    assert_signed,
    check,
    load_mail,
    register,
    submit,
)
from tests.support import ADMIN_TOKEN, TLS, LiveServer, make_message, make_settings

# Nothing listens on port 1 of the loopback: every connection is refused at once.
DOWN_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/none"


# --- PUT /v1/customers/{login} ---------------------------------------------------------


def test_malformed_json_is_422(api: httpx.Client) -> None:
    response = api.put(
        "/v1/customers/acme",
        content=b'{"panel_email": "jan@acme.pl", "kind": ',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 422, "invalid_request", "JSON decode error")


def test_json_that_is_not_utf8_is_422(api: httpx.Client) -> None:
    response = api.put(
        "/v1/customers/acme",
        content=b'{"panel_email": "jan@acme.pl", "name": "\xb3\xf3d\xbc"}',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 422, "invalid_request", "JSON decode error", "not UTF-8")


@pytest.mark.parametrize("body", [[], "acme", 42, None])
def test_a_body_that_is_not_an_object_is_422(api: httpx.Client, body: Any) -> None:
    assert_error(api.put("/v1/customers/acme", json=body), 422, "invalid_request", "body")


def test_unknown_fields_are_422_naming_the_field(api: httpx.Client) -> None:
    response = api.put("/v1/customers/acme", json={**ACME, "email": "jan@acme.pl"})
    detail = assert_error(response, 422, "invalid_request", "body.email")
    assert detail == [{"field": "body.email", "message": "Extra inputs are not permitted"}]


@pytest.mark.parametrize("field", ["panel_email", "kind", "name"])
def test_a_missing_field_is_422_naming_it(api: httpx.Client, field: str) -> None:
    body = {k: v for k, v in ACME.items() if k != field}
    assert_error(api.put("/v1/customers/acme", json=body), 422, "invalid_request", f"body.{field}")


def test_an_unknown_kind_is_422(api: httpx.Client) -> None:
    response = api.put("/v1/customers/acme", json={**ACME, "kind": "robot"})
    assert_error(response, 422, "invalid_request", "body.kind", "'person' or 'company'")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("not-an-address", "@-sign"),
        ("jan@", "after the @-sign"),
        ("jan kowalski@acme.pl", "panel_email"),
        ("jan@acme..pl", "panel_email"),
        ("Jan <jan@acme.pl>", "panel_email"),
        ("", "panel_email"),
    ],
)
def test_an_invalid_panel_address_is_422(api: httpx.Client, address: str, reason: str) -> None:
    response = api.put("/v1/customers/acme", json={**ACME, "panel_email": address})
    assert_error(response, 422, "invalid_input", "panel_email", reason)
    assert_error(api.get("/v1/customers/acme"), 404, "not_found")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"kind": "person", "nip": None, "pesel": "44051401358"}, "pesel"),
        ({"kind": "person", "nip": None, "pesel": "4405140135"}, "pesel"),
        ({"kind": "person", "nip": None, "pesel": "44131401354"}, "pesel"),
        ({"nip": "5260250275"}, "nip"),
        ({"nip": "526025027"}, "nip"),
        ({"regon": "123456789"}, "regon"),
        ({"regon": "12345678512346"}, "regon"),
    ],
)
def test_a_wrong_checksum_is_422_naming_the_identifier(
    api: httpx.Client, changes: dict[str, Any], named: str
) -> None:
    response = api.put("/v1/customers/acme", json={**ACME, **changes})
    detail = assert_error(response, 422, "invalid_input", f"{named}:", "not valid")
    # The wrong number is not echoed back either.
    assert changes[named] not in detail


def test_identifier_with_letters_is_422(api: httpx.Client) -> None:
    response = api.put("/v1/customers/acme", json={**ACME, "nip": "PL5260250274"})
    assert_error(response, 422, "invalid_input", "nip:", "only digits")


def test_pesel_of_a_company_is_422(api: httpx.Client) -> None:
    response = api.put("/v1/customers/acme", json={**ACME, "pesel": PESEL})
    assert_error(response, 422, "invalid_input", "pesel:", "company", "NIP or REGON")


@pytest.mark.parametrize(
    ("service", "reason"),
    [
        ("not a domain!", "neither a domain name nor a server id"),
        ("-acme.pl", "not a valid domain name"),
        ("a" * 64 + ".pl", "not a valid domain name"),
        ("acme.pl\x00", "not a valid domain name"),
    ],
)
def test_an_invalid_service_is_422(api: httpx.Client, service: str, reason: str) -> None:
    response = api.put("/v1/customers/acme", json={**ACME, "services": [service]})
    assert_error(response, 422, "invalid_input", "services:", reason)


@pytest.mark.parametrize("name", ["   ", "ACME\x00 sp. z o.o.", "ACME\nsp. z o.o.", "A\x1b[2J"])
def test_an_empty_name_or_one_with_control_characters_is_422(api: httpx.Client, name: str) -> None:
    response = api.put("/v1/customers/anna.k", json={**KOWALSKI, "name": name})
    assert_error(response, 422, "invalid_input", "name:")


@pytest.mark.parametrize(
    "login", ["UPPER", "a", "-acme", "acme!", "ac%20me", "a" * 65, "acme%00", "ż"]
)
def test_a_bad_login_in_the_path_is_422(api: httpx.Client, login: str) -> None:
    response = api.put(f"/v1/customers/{login}", json=ACME)
    assert_error(response, 422, "invalid_request", "path.login")
    assert_error(api.get(f"/v1/customers/{login}"), 422, "invalid_request", "path.login")


# --- POST /v1/messages: input that is no message at all ---------------------------------


def test_an_empty_body_is_422(api: httpx.Client) -> None:
    for raw in (b"", b"\r\n\r\n  \r\n"):
        assert_error(submit(api, raw), 422, "unusable_message", "the message is empty")


@pytest.mark.parametrize(
    "raw",
    [
        b"just some text without headers",
        b"\r\nBody after an empty header section.\r\n",
        json.dumps(ACME).encode(),
        json.dumps(ACME, indent=2).encode(),
        b"<html><body>Transfer acme.pl</body></html>",
    ],
    ids=["text", "empty-header-section", "json", "json-indented", "html"],
)
def test_a_body_without_a_header_section_is_422(api: httpx.Client, raw: bytes) -> None:
    assert_error(submit(api, raw), 422, "unusable_message", "no RFC 5322 header section")
    assert api.get("/v1/verdicts").json()["items"] == []


def test_a_body_over_the_size_limit_is_413(api: httpx.Client) -> None:
    raw = make_message() + b"x" * (30 * 1024 * 1024)
    response = submit(api, raw)
    assert_error(response, 413, "payload_too_large", "larger than the limit of 26214400 bytes")
    assert api.get("/v1/verdicts").json()["items"] == []


def test_a_streamed_body_over_the_size_limit_is_413(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield make_message()
        for _ in range(30):
            yield b"x" * (1024 * 1024)

    # A generator is sent chunked, without Content-Length: the limit applies while reading.
    response = api.post("/v1/messages", content=chunks(), headers=RFC822)
    assert_error(response, 413, "payload_too_large", "26214400 bytes")


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data", None])
def test_a_wrong_content_type_is_415(api: httpx.Client, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.post("/v1/messages", content=make_message(), headers=headers)
    assert_error(response, 415, "unsupported_media_type", "message/rfc822")


@pytest.mark.parametrize("client_ip", ["not-an-ip", "300.1.2.3", "192.0.2.1/24", ""])
def test_a_client_ip_that_is_not_an_ip_is_422(api: httpx.Client, client_ip: str) -> None:
    response = submit(api, make_message(), client_ip=client_ip)
    assert_error(response, 422, "invalid_input", "client_ip", "not an IP address")
    assert api.get("/v1/verdicts").json()["items"] == []


@pytest.mark.parametrize("name", ["helo", "mail_from", "rcpt"])
@pytest.mark.parametrize("control", ["\x00", "\r\n"])
def test_an_envelope_with_control_characters_is_422(
    api: httpx.Client, name: str, control: str
) -> None:
    response = submit(api, make_message(), **{name: f"jan{control}@acme.pl"})
    assert_error(response, 422, "invalid_input", f"{name}:", "control characters")


# --- POST /v1/messages: broken headers are evidence, recorded with a verdict -----------

BROKEN_FROM = [
    ("no-from-header", "no From header"),
    ("from-without-address", "local part with no domain"),
    ("two-from-headers", "2 From headers"),
    ("from-two-mailboxes", "holds 2 mailboxes"),
    ("from-group-address", "holds a group"),
    ("latin2-8bit-headers", "Non-ASCII characters"),
    ("broken-encoded-word-from", "base64"),
    ("nul-bytes", "non-printables"),
]


@pytest.mark.parametrize(("scenario", "reason"), BROKEN_FROM, ids=[s for s, _ in BROKEN_FROM])
def test_a_broken_from_header_is_recorded_as_rejected(
    api: httpx.Client, service: DecisionService, scenario: str, reason: str
) -> None:
    assert register(api).status_code == 201
    raw = load_mail(scenario)
    response = submit(api, raw, client_ip="192.0.2.7", helo="mx.example")
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["decision"] == "rejected"
    assert verdict["assurance"] == "none"
    sender = check(verdict, "from-mailbox")
    assert sender["result"] == "fail"
    assert reason in sender["reason"]
    assert sender["reason"] in verdict["reasons"]
    _assert_recorded(api, service, verdict, raw)


def test_a_broken_encoded_word_in_the_subject_does_not_hide_the_instruction(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    raw = load_mail("broken-encoded-word-subject")
    verdict = submit(api, raw).json()
    assert verdict["decision"] == "rejected"
    assert verdict["instruction"] == {"kinds": ["transfer_out"], "services": ["acme.pl"]}
    assert check(verdict, "from-mailbox")["result"] == "pass"
    match = check(verdict, "customer-match")
    assert match["result"] == "fail"
    assert "kto@evil.example is not the address registered for customer acme" in match["reason"]
    _assert_recorded(api, service, verdict, raw)


def test_raw_latin2_headers_keep_the_evidence_readable(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    raw = load_mail("latin2-8bit-headers")
    verdict = submit(api, raw).json()
    # The 8-bit Message-ID cannot be decoded; it is kept with replacement characters.
    assert verdict["message_id"] == "<\ufffd\ufffdw-8bit@freemail.example>"
    assert verdict["customer"] == "acme"
    assert verdict["instruction"]["kinds"] == ["dns_change"]
    _assert_recorded(api, service, verdict, raw)


def test_nul_bytes_in_headers_are_recorded_without_them(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    raw = load_mail("nul-bytes")
    verdict = submit(api, raw).json()
    assert verdict["message_id"] == "<nul\ufffdbytes@acme.pl>"
    assert "\x00" not in json.dumps(verdict, ensure_ascii=False)
    listed = api.get("/v1/verdicts", params={"message_id": verdict["message_id"]}).json()
    assert [v["id"] for v in listed["items"]] == [verdict["id"]]
    _assert_recorded(api, service, verdict, raw)


def test_five_hundred_headers_are_read_and_recorded(
    api: httpx.Client, service: DecisionService
) -> None:
    assert register(api).status_code == 201
    raw = load_mail("five-hundred-headers")
    assert raw.count(b"\r\n", 0, raw.index(b"\r\n\r\n")) + 1 == 500
    verdict = submit(api, raw).json()
    assert verdict["decision"] == "review"
    assert verdict["message_id"] == "<five-hundred-headers@else.example>"
    assert check(verdict, "from-mailbox")["reason"] == "The message is from nobody@else.example."
    match = check(verdict, "customer-match")
    assert match["result"] == "none"
    assert "not a registered panel address" in match["reason"]
    _assert_recorded(api, service, verdict, raw)


def _assert_recorded(
    api: httpx.Client, service: DecisionService, verdict: dict[str, Any], raw: bytes
) -> None:
    """The verdict reads back as returned, its signature verifies, the raw message is kept."""
    stored = api.get(f"/v1/verdicts/{verdict['id']}")
    assert stored.status_code == 200, stored.text
    assert stored.json() == verdict
    assert_signed(api, verdict)
    with service.sessions() as session:
        kept = session.scalar(select(StoredMessage.raw))
    assert kept == raw


# --- The database is down: 503 + Retry-After, never 500 --------------------------------


@pytest.fixture(scope="module")
def down_api() -> Iterator[httpx.Client]:
    """A client of a second live app whose database cannot be reached."""
    with _admin_client(create_app(make_settings(DOWN_DATABASE_URL))) as client:
        yield client


@contextmanager
def _admin_client(app: FastAPI) -> Iterator[httpx.Client]:
    """An administrator's client of ``app``, served live for the block."""
    with (
        LiveServer(app) as server,
        httpx.Client(
            verify=TLS,
            base_url=server.url,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        ) as client,
    ):
        yield client


def _assert_unavailable(response: httpx.Response) -> None:
    assert_error(response, 503, "store_unavailable", "database is unavailable", "retry later")
    assert int(response.headers["Retry-After"]) > 0


def test_a_message_while_the_database_is_down_is_503(down_api: httpx.Client) -> None:
    # With and without a registered service named, the store is needed to decide.
    for raw in (make_message(), make_message(subject="Hello", body="Nothing named.\n")):
        _assert_unavailable(submit(down_api, raw, client_ip="192.0.2.7"))


def test_reading_while_the_database_is_down_is_503(down_api: httpx.Client) -> None:
    _assert_unavailable(down_api.get("/v1/verdicts/00000000-0000-0000-0000-000000000000"))
    _assert_unavailable(down_api.get("/v1/verdicts"))
    _assert_unavailable(down_api.get("/v1/customers/acme"))
    _assert_unavailable(down_api.put("/v1/customers/acme", json=ACME))
    _assert_unavailable(down_api.delete("/v1/customers/acme"))


def test_a_token_cannot_be_checked_while_the_database_is_down(down_api: httpx.Client) -> None:
    # Not 401: the token may well be valid, and the client should retry, not give up.
    response = down_api.get(
        "/v1/verdicts", headers={"Authorization": "Bearer igt_some-token-we-cannot-check"}
    )
    _assert_unavailable(response)


def test_readiness_follows_the_database(down_api: httpx.Client, anonymous: httpx.Client) -> None:
    down = down_api.get("/readyz")
    assert down.status_code == 503, down.text
    assert down.json()["status"] == "unavailable"
    # The driver's error (hosts, ports) is logged, never shown to an anonymous caller.
    assert down.json()["detail"] == "the database is unreachable"
    assert "127.0.0.1" not in down.text
    assert int(down.headers["Retry-After"]) > 0
    # Liveness does not depend on the database.
    assert down_api.get("/healthz").json() == {"status": "ok"}

    ready = anonymous.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


def test_readiness_wants_a_migrated_database(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'empty.db'}")
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(verify=TLS, base_url=server.url) as client,
    ):
        response = client.get("/readyz")
    assert response.status_code == 503, response.text
    assert response.json()["status"] == "unavailable"
    assert "intakeguard db upgrade" in response.json()["detail"]
    assert int(response.headers["Retry-After"]) > 0


def test_every_connection_in_use_is_503_not_500(database_url: str) -> None:
    """A burst that holds every pooled connection (a process's pool_size + max_overflow)
    for the pool's whole wait: the request is answered 503 with Retry-After, never 500,
    and once connections come back the same requests are answered."""
    app = create_app(make_settings(database_url))
    engine = app.state.service.sessions.kw["bind"]
    # The pool's wait, 30 s by default, shortened for the test (QueuePool keeps it here).
    engine.pool._timeout = 0.3
    held = []
    with _admin_client(app) as api:
        try:
            while True:
                try:
                    held.append(engine.connect())
                except PoolTimeout:
                    break
            _assert_unavailable(submit(api, make_message(), client_ip="192.0.2.7"))
            _assert_unavailable(api.put("/v1/customers/acme", json=ACME))
        finally:
            for connection in held:
                connection.close()
        assert api.put("/v1/customers/acme", json=ACME).status_code in (200, 201)
        assert submit(api, make_message(), client_ip="192.0.2.7").status_code == 201
    engine.dispose()
