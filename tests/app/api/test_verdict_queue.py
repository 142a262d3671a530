"""GET /v1/verdicts?state=open&service=&since=&until=: the desk's work queue over REST,
the same verdicts the console's queue shows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.console.queue import open_verdicts
from app.decision.service import DecisionService
from tests.app.api.common import assert_error
from tests.app.api.test_verdicts import ENVELOPES, read_all, record_all, submit, with_message_id
from tests.support import make_message


def record_queue(api: httpx.Client) -> list[dict[str, Any]]:
    """The verdicts of test_verdicts, and a transfer of żółw.pl waiting for a code."""
    verdicts = record_all(api)
    raw = with_message_id(
        make_message(sender="jan@acme.pl", subject="Transfer domeny żółw.pl", body="Prosze.\n"),
        "<otp@test.example>",
    )
    response = submit(api, raw, **ENVELOPES["jan@acme.pl"])
    assert response.status_code == 201, response.text
    assert response.json()["decision"] == "otp_required", response.json()["reasons"]
    return [*verdicts, response.json()]


def ids(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [v["id"] for page in pages for v in page]


def test_open_lists_what_waits_for_the_desk_newest_first(
    api: httpx.Client, service: DecisionService
) -> None:
    verdicts = record_queue(api)
    waiting = [
        v for v in verdicts if v["decision"] in ("review", "postal_required", "otp_required")
    ]
    assert len(waiting) == 3
    assert ids(read_all(api, limit=2, state="open")) == [v["id"] for v in reversed(waiting)]
    # The same set as the console's queue (which reads it oldest first).
    with service.reads() as session:
        assert [r.id for r in open_verdicts(session).rows] == [v["id"] for v in waiting]


def test_a_reviewed_verdict_leaves_the_open_list(api: httpx.Client) -> None:
    verdicts = record_queue(api)
    held = next(v for v in verdicts if v["decision"] == "review")
    review = {"decision": "rejected", "agent": "ola", "reason": "Nie wiadomo, o co chodzi."}
    assert api.post(f"/v1/verdicts/{held['id']}/review", json=review).status_code == 201
    listed = ids(read_all(api, limit=50, state="open"))
    assert held["id"] not in listed
    assert len(listed) == 2
    # Without state=open it is still listed, as signed.
    assert held["id"] in ids(read_all(api, limit=50, decision="review"))


@pytest.mark.parametrize("spelling", ["żółw.pl", "xn--w-uga1v8h.pl", "ŻÓŁW.PL."])
def test_filter_by_service_in_either_form(api: httpx.Client, spelling: str) -> None:
    verdicts = record_queue(api)
    about = [v["id"] for v in reversed(verdicts) if "żółw.pl" in v["instruction"]["services"]]
    assert len(about) == 2  # the refused DNS change and the transfer waiting for a code
    assert ids(read_all(api, limit=50, service=spelling)) == about
    assert ids(read_all(api, limit=50, service=spelling, state="open")) == [verdicts[-1]["id"]]


def test_a_service_matches_whole_names_only(api: httpx.Client) -> None:
    record_queue(api)
    assert read_all(api, limit=50, service="cme.pl") == [[]]
    assert read_all(api, limit=50, service="acme.p") == [[]]


def test_since_and_until_bound_the_recording_time(api: httpx.Client) -> None:
    verdicts = record_queue(api)
    window = {"since": verdicts[2]["recorded_at"], "until": verdicts[5]["recorded_at"]}
    assert ids(read_all(api, limit=2, **window)) == [v["id"] for v in verdicts[4:1:-1]]
    opened = ids(read_all(api, limit=50, state="open", **window))
    assert opened == [verdicts[3]["id"], verdicts[2]["id"]]
    # A time with an offset is the same instant.
    assert ids(read_all(api, limit=50, since="2000-01-01T01:00:00+01:00")) == [
        v["id"] for v in reversed(verdicts)
    ]


@pytest.mark.parametrize(
    ("name", "value", "mention"),
    [
        pytest.param("state", "closed", "state", id="a state other than open"),
        pytest.param("since", "2026-12-01T10:00:00", "timezone", id="a time without its zone"),
        pytest.param("until", "yesterday", "until", id="a time that is no time"),
        pytest.param("service", "", "service", id="an empty service"),
        pytest.param("service", "a..b", "not a valid domain name", id="a malformed domain"),
    ],
)
def test_a_malformed_filter_is_422(api: httpx.Client, name: str, value: str, mention: str) -> None:
    response = api.get("/v1/verdicts", params={name: value})
    assert response.status_code == 422, response.text
    assert mention in response.text


def test_an_unknown_parameter_of_a_list_is_422_naming_it(api: httpx.Client) -> None:
    for path in ("/v1/verdicts", "/v1/customers", "/v1/tokens", "/v1/webhooks"):
        response = api.get(path, params={"stat": "open"})
        detail = assert_error(response, 422, "invalid_request", "query.stat")
        assert detail == [{"field": "query.stat", "message": "unknown query parameter"}], path
