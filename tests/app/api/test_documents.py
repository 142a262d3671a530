"""POST /v1/verdicts/{id}/documents over real HTTP: postal documents for a postal verdict."""

from __future__ import annotations

from typing import Any

import httpx

from app.db.models import DocumentReceipt, Verdict
from app.decision.service import DecisionService
from tests.app.api.common import assert_error, register, submit
from tests.support import make_message

FROM_ACME = {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}
ALL_CHECKED = {"name": True, "address": True, "signature_or_stamp": True}


def verdict_asking(api: httpx.Client, body: str) -> dict[str, Any]:
    assert register(api).status_code == 201
    response = submit(api, make_message(subject="Domena acme.pl", body=body), **FROM_ACME)
    assert response.status_code == 201, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


def receive(api: httpx.Client, verdict_id: str, **body: Any) -> httpx.Response:
    return api.post(
        f"/v1/verdicts/{verdict_id}/documents",
        json={"agent": "agent.ola", "checked": ALL_CHECKED, **body},
    )


def test_complete_documents_complete_a_postal_verdict_once(
    api: httpx.Client, service: DecisionService
) -> None:
    verdict = verdict_asking(api, "Prosze o zmiane abonenta domeny acme.pl.")
    assert verdict["decision"] == "postal_required"
    response = receive(api, verdict["id"], note="KRS odpis w zalaczeniu")
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["verdict_id"] == verdict["id"]
    assert receipt["complete"] is True
    assert receipt["checked"] == ALL_CHECKED
    assert receipt["note"] == "KRS odpis w zalaczeniu"
    assert receipt["reason"].startswith(f"The documents complete verdict {verdict['id']}")
    assert {"id", "recorded_at", "agent"} <= set(receipt)

    second = receive(api, verdict["id"])
    assert_error(second, 409, "conflict", "already completed by receipt", receipt["id"])
    # The verdict itself is unchanged: records are append-only.
    assert api.get(f"/v1/verdicts/{verdict['id']}").json() == verdict
    with service.sessions() as session:
        assert session.query(Verdict).one().decision == "postal_required"


def test_incomplete_documents_are_recorded_and_say_what_is_missing(api: httpx.Client) -> None:
    verdict = verdict_asking(api, "Wnosze o dokonanie cesji domeny acme.pl na nowa spolke.")
    checked = {**ALL_CHECKED, "signature_or_stamp": False}
    response = receive(api, verdict["id"], checked=checked)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["complete"] is False
    assert "the signature or company stamp could not be confirmed" in receipt["reason"]
    assert "send corrected documents by post" in receipt["reason"]
    # A later complete receipt still completes it.
    assert receive(api, verdict["id"]).json()["complete"] is True


def test_unknown_verdict_is_404(api: httpx.Client) -> None:
    assert_error(receive(api, "no-such-verdict"), 404, "not_found", "no-such-verdict")


def test_a_verdict_that_did_not_ask_for_documents_is_409(api: httpx.Client) -> None:
    verdict = verdict_asking(api, "Mam pytanie o domene acme.pl.")
    assert verdict["decision"] == "accepted"
    assert_error(receive(api, verdict["id"]), 409, "conflict", "is accepted, not postal_required")


def test_extra_fields_are_refused(api: httpx.Client) -> None:
    verdict = verdict_asking(api, "Prosze o zmiane abonenta domeny acme.pl.")
    response = receive(api, verdict["id"], decision="accepted")
    assert_error(response, 422, "invalid_request", "decision")


def test_a_note_keeps_no_one_time_code_or_identifier(
    api: httpx.Client, service: DecisionService
) -> None:
    verdict = verdict_asking(api, "Prosze o zmiane abonenta domeny acme.pl.")
    note = "Fax mentions kod 1234-5678 and NIP 526-000-12-46; KRS 0000123456 attached."
    response = receive(api, verdict["id"], note=note)
    assert response.status_code == 201, response.text
    expected = "Fax mentions kod [code removed] and NIP [nip]; KRS 0000123456 attached."
    assert response.json()["note"] == expected
    with service.sessions() as session:
        assert session.query(DocumentReceipt).one().note == expected
