"""GET /v1/verdicts and /v1/verdicts/{id}: filters and keyset pagination, newest first."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.pool import QueuePool

from app.api.routes.verdicts import stored_json
from app.api.schemas import VerdictOut, VerdictPage
from app.auth import create_token
from app.decision.service import DecisionService
from tests.app.api.common import assert_error, assert_signed, register, submit
from tests.support import make_message

# (sender, subject) of each message, oldest first, and the decision each gets.
MESSAGES: list[tuple[str, str, str]] = [
    ("jan@acme.pl", "Pytanie o domene acme.pl", "accepted"),
    ("kto@evil.example", "Transfer domeny acme.pl", "rejected"),
    ("nobody@else.example", "Hello", "review"),
    ("jan@acme.pl", "Cesja domeny acme.pl", "postal_required"),
    ("kto@evil.example", "Zmiana DNS dla żółw.pl", "rejected"),
    ("jan@acme.pl", "Duplikat faktury 12/2026", "accepted"),
    ("kto@evil.example", "Kod authinfo dla acme.pl", "rejected"),
]
# Jan's mail comes from acme.pl's own server, which its SPF record authorises: SPF
# aligns, DMARC passes and the customer is authenticated.
ENVELOPES: dict[str, dict[str, str]] = {
    "jan@acme.pl": {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}
}


def record_all(api: httpx.Client) -> list[dict[str, Any]]:
    """Register ACME and submit MESSAGES; the verdicts, oldest first."""
    assert register(api).status_code == 201
    verdicts = []
    for n, (sender, subject, decision) in enumerate(MESSAGES):
        raw = with_message_id(
            make_message(sender=sender, subject=subject, body="Prosze.\n"), f"<m{n}@test.example>"
        )
        response = submit(api, raw, **ENVELOPES.get(sender, {}))
        assert response.status_code == 201, response.text
        verdict = response.json()
        assert verdict["decision"] == decision, (subject, verdict["reasons"])
        verdicts.append(verdict)
    return verdicts


def read_all(api: httpx.Client, limit: int, **filters: str) -> list[list[dict[str, Any]]]:
    """Every page of the list, following ``next_cursor`` until it is None."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **filters}
        if cursor is not None:
            params["cursor"] = cursor
        response = api.get("/v1/verdicts", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor does not advance"


def test_pages_run_newest_first_without_gaps_or_duplicates(api: httpx.Client) -> None:
    verdicts = record_all(api)
    pages = read_all(api, limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    seen = [v["id"] for page in pages for v in page]
    assert len(seen) == len(set(seen))
    assert seen == [v["id"] for v in reversed(verdicts)]
    # Each listed verdict is the recorded one, signature included.
    assert [v for page in pages for v in page] == list(reversed(verdicts))


def test_a_page_that_ends_the_list_has_no_cursor(api: httpx.Client) -> None:
    record_all(api)
    assert [len(page) for page in read_all(api, limit=7)] == [7]
    assert [len(page) for page in read_all(api, limit=200)] == [7]


def test_a_verdict_recorded_while_paging_does_not_shift_the_pages(api: httpx.Client) -> None:
    verdicts = record_all(api)
    first = api.get("/v1/verdicts", params={"limit": 3}).json()
    assert submit(api, make_message(subject="Newer")).status_code == 201
    second = api.get("/v1/verdicts", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [v["id"] for v in second["items"]] == [v["id"] for v in verdicts[3::-1][:3]]


def test_filter_by_decision(api: httpx.Client) -> None:
    verdicts = record_all(api)
    pages = read_all(api, limit=2, decision="rejected")
    assert [len(page) for page in pages] == [2, 1]
    rejected = [v["id"] for v in reversed(verdicts) if v["decision"] == "rejected"]
    assert [v["id"] for page in pages for v in page] == rejected


def test_filter_by_customer(api: httpx.Client) -> None:
    verdicts = record_all(api)
    listed = [v for page in read_all(api, limit=50, customer="acme") for v in page]
    assert [v["id"] for v in listed] == [
        v["id"] for v in reversed(verdicts) if v["customer"] == "acme"
    ]
    assert len(listed) == 6  # every message but the one naming nothing
    assert read_all(api, limit=50, customer="beta") == [[]]


def test_filter_by_message_id_and_decision_together(api: httpx.Client) -> None:
    verdicts = record_all(api)
    listed = api.get("/v1/verdicts", params={"message_id": "<m4@test.example>"}).json()
    assert [v["id"] for v in listed["items"]] == [verdicts[4]["id"]]
    assert listed["next_cursor"] is None
    both = {"message_id": "<m4@test.example>", "decision": "review"}
    assert api.get("/v1/verdicts", params=both).json()["items"] == []


def test_one_verdict_by_id(api: httpx.Client) -> None:
    verdicts = record_all(api)
    response = api.get(f"/v1/verdicts/{verdicts[1]['id']}")
    assert response.status_code == 200
    assert response.json() == verdicts[1]


def test_verdicts_are_sent_as_their_models_serialise_them(api: httpx.Client) -> None:
    verdicts = record_all(api)
    one = api.get(f"/v1/verdicts/{verdicts[4]['id']}")
    assert one.headers["content-type"] == "application/json"
    assert one.content == _as_model_sends(VerdictOut, one.json())
    assert_signed(api, one.json())
    page = api.get("/v1/verdicts", params={"limit": 3})
    assert page.headers["content-type"] == "application/json"
    assert page.content == _as_model_sends(VerdictPage, page.json())


def test_on_sqlite_reads_do_not_wait_for_the_shared_pool(
    api: httpx.Client, anonymous: httpx.Client, service: DecisionService
) -> None:
    """The event loop's reads (app.api.reads) have connections of their own: threads
    holding every connection of the shared pool do not stall them."""
    if service.read_engine.dialect.name != "sqlite":
        pytest.skip("only SQLite reads run in the event loop; PostgreSQL's use a thread")
    verdict = record_all(api)[0]
    with service.sessions.begin() as session:
        reader = {
            "Authorization": f"Bearer {create_token(session, 'ticketing', ['verdicts:read'])}"
        }
    pool = service.read_engine.pool
    assert isinstance(pool, QueuePool)
    held = [service.read_engine.connect() for _ in range(pool.size() + pool._max_overflow)]
    try:
        # The pool would make a request wait 30 s for a connection; these answer at once.
        one = anonymous.get(f"/v1/verdicts/{verdict['id']}", headers=reader, timeout=5)
        assert one.json() == verdict
        page = anonymous.get("/v1/verdicts", params={"limit": 1}, headers=reader, timeout=5)
        assert page.status_code == 200, page.text
    finally:
        for connection in held:
            connection.close()


# Every character JSON writers disagree on: controls, quotes, separators, non-BMP.
AWKWARD = 'ż\x00\x01\x1f\x7f"\\/\t\n\r\b\f\u2028\u2029\ufffd\U0001f600</script>é'


def test_stored_json_is_byte_for_byte_the_models_serialisation() -> None:
    verdict: dict[str, Any] = {
        "id": "5f0c1c52-8d9c-4a0b-9a51-2d1b0e3c4f5a",
        "message_id": f"<{AWKWARD}@example>",
        "recorded_at": "2026-11-28T23:59:59.123456Z",
        "channel": "smtp",
        "decision": "review",
        "assurance": "none",
        "customer": None,
        "instruction": {"kinds": [AWKWARD], "services": ["żółw.pl"]},
        "checks": [{"name": "spf", "result": "none", "reason": AWKWARD}],
        "reasons": [AWKWARD, ""],
        "rules_version": "sha256:00",
        "signature": "ed25519:k.s",
    }
    assert stored_json(verdict).body == _as_model_sends(VerdictOut, verdict)
    page = {"items": [verdict, {**verdict, "customer": "acme"}], "next_cursor": "djE6Mg"}
    assert stored_json(page).body == _as_model_sends(VerdictPage, page)
    empty = {"items": [], "next_cursor": None}
    assert stored_json(empty).body == _as_model_sends(VerdictPage, empty)


def _as_model_sends(model: type[BaseModel], content: dict[str, Any]) -> bytes:
    """What FastAPI sends for ``content`` under ``response_model=model``."""
    adapter = TypeAdapter(model)
    return adapter.dump_json(adapter.validate_python(content))


@pytest.mark.parametrize(
    "verdict_id",
    ["00000000-0000-0000-0000-000000000000", "not-a-verdict-id", "x" * 300, "with%00nul"],
)
def test_unknown_verdict_is_404(api: httpx.Client, verdict_id: str) -> None:
    assert_error(api.get(f"/v1/verdicts/{verdict_id}"), 404, "not_found", "no verdict with id")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "",
        base64.urlsafe_b64encode(b"v2:5").decode(),
        base64.urlsafe_b64encode(b"v1:-5").decode(),
        base64.urlsafe_b64encode(b"v1:" + b"9" * 30).decode(),
        base64.urlsafe_b64encode("v1:٣".encode()).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_an_invalid_cursor_is_422(api: httpx.Client, cursor: str) -> None:
    response = api.get("/v1/verdicts", params={"cursor": cursor})
    assert_error(response, 422, "invalid_input", "cursor", "not a cursor returned by this API")


def test_an_overlong_cursor_is_422(api: httpx.Client) -> None:
    response = api.get("/v1/verdicts", params={"cursor": "A" * 500})
    assert_error(response, 422, "invalid_request", "query.cursor", "at most 100 characters")


@pytest.mark.parametrize("limit", ["0", "-1", "201", "1000", "ten"])
def test_a_limit_out_of_range_is_422(api: httpx.Client, limit: str) -> None:
    response = api.get("/v1/verdicts", params={"limit": limit})
    assert_error(response, 422, "invalid_request", "query.limit")


def test_an_unknown_decision_filter_is_422(api: httpx.Client) -> None:
    response = api.get("/v1/verdicts", params={"decision": "maybe"})
    assert_error(response, 422, "invalid_request", "query.decision", "rejected")


@pytest.mark.parametrize("name", ["customer", "message_id"])
def test_a_filter_with_a_nul_character_is_422(api: httpx.Client, name: str) -> None:
    response = api.get("/v1/verdicts", params={name: "acme\x00"})
    assert_error(response, 422, "invalid_request", f"query.{name}")


def with_message_id(raw: bytes, message_id: str) -> bytes:
    """``raw`` with its Message-ID replaced by ``message_id``."""
    return re.sub(rb"(?im)^Message-ID:.*$", f"Message-ID: {message_id}".encode(), raw, count=1)
