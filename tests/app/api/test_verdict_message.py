"""GET /v1/verdicts/{id}/message: the message as the decision read it (messages:read)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from app.decision.service import DecisionService
from app.records.retention import empty_raw
from tests.app.api.common import assert_error, load_mail, register, submit
from tests.app.api.test_auth import token_with

# A reply whose HTML alternative hides a request, with an attachment, an encoded subject,
# a Reply-To elsewhere, an upstream Authentication-Results and a header nobody reads.
MULTIPART = (
    b"Authentication-Results: mx.someone.example; spf=pass smtp.mailfrom=acme.pl\r\n"
    b"From: Jan Kowalski <jan@acme.pl>\r\n"
    b"Reply-To: <jan.k@freemail.example>\r\n"
    b"To: support@hosting.example\r\n"
    b"Subject: =?utf-8?q?Pro=C5=9Bba_o_duplikat_faktury?=\r\n"
    b"Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <view-1@acme.pl>\r\n"
    b"X-Mailer: <script>alert(1)</script>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n'
    b"\r\n"
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="alt"\r\n'
    b"\r\n"
    b"--alt\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Prosze o duplikat faktury 12/2026 za acme.pl.\r\n"
    b"\r\n"
    b"> Wczesniejsza wiadomosc\r\n"
    b"--alt\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b'<p>Prosze o duplikat faktury 12/2026 za acme.pl.</p><p style="display:none">'
    b'<a href="https://evil.example/x">kod AuthInfo</a></p>\r\n'
    b"--alt--\r\n"
    b"--outer\r\n"
    b'Content-Type: application/pdf; name="faktura.pdf"\r\n'
    b'Content-Disposition: attachment; filename="faktura.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQK\r\n"
    b"--outer--\r\n"
)


def recorded(api: httpx.Client, raw: bytes) -> dict[str, object]:
    assert register(api).status_code == 201
    response = submit(api, raw, client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
    assert response.status_code == 201, response.text
    verdict: dict[str, object] = response.json()
    return verdict


def test_the_headers_that_matter_and_every_part_as_read(
    anonymous: httpx.Client, api: httpx.Client, service: DecisionService
) -> None:
    verdict = recorded(api, MULTIPART)
    headers = token_with(service, "messages:read")
    response = anonymous.get(f"/v1/verdicts/{verdict['id']}/message", headers=headers)
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["verdict_id"] == verdict["id"]
    assert shown["message_id"] == "<view-1@acme.pl>"
    assert shown["raw_kept"] is True and shown["emptied_at"] is None and shown["problem"] == ""
    assert shown["envelope"] == {
        "client_ip": "192.0.2.10",
        "helo": "mx.acme.pl",
        "mail_from": "jan@acme.pl",
        "rcpt": [],
        "trusted_hop": False,
    }
    # Top to bottom, decoded, only the fields the checks read (not X-Mailer).
    assert [h["name"] for h in shown["headers"]] == [
        "Authentication-Results",
        "From",
        "Reply-To",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
    ]
    subject = next(h["value"] for h in shown["headers"] if h["name"] == "Subject")
    assert subject == "Prośba o duplikat faktury"
    assert "<script>" not in response.text
    labels = [p["label"] for p in shown["parts"]]
    assert len(labels) == 3, shown["parts"]
    plain, html, pdf = shown["parts"]
    assert plain["content_type"] == "text/plain" and plain["read"] is True
    assert "kod AuthInfo" in html["hidden_text"]
    assert html["links"] == ["https://evil.example/x"]
    assert pdf["filename"] == "faktura.pdf" and pdf["attached"] is True
    assert pdf["read"] is False and pdf["problem"]
    pieces = [(t["role"], t["part"]) for t in shown["text"]]
    assert ("subject", None) in pieces
    assert ("own", plain["label"]) in pieces and ("quoted", plain["label"]) in pieces
    assert ("unread", pdf["label"]) in pieces
    own = next(t["text"] for t in shown["text"] if t["part"] == plain["label"])
    assert own.startswith("Prosze o duplikat faktury 12/2026")
    assert shown["truncated"] is False


def test_once_emptied_only_the_record_remains_and_it_says_so(
    api: httpx.Client, service: DecisionService
) -> None:
    verdict = recorded(api, load_mail("parts-hidden-span-authinfo"))
    with service.sessions.begin() as session:
        shown = api.get(f"/v1/verdicts/{verdict['id']}/message").json()
        empty_raw(session, [shown["message_sha256"]], datetime(2026, 12, 1, tzinfo=UTC))
    after = api.get(f"/v1/verdicts/{verdict['id']}/message").json()
    assert after["raw_kept"] is False
    assert after["emptied_at"] == "2026-12-01T00:00:00Z"
    assert (after["headers"], after["parts"], after["text"]) == ([], [], [])
    assert after["message_id"] == "<parts-hidden-span-authinfo@test.example>"
    assert after["envelope"] == shown["envelope"]


@pytest.mark.parametrize("verdict_id", ["00000000-0000-0000-0000-000000000000", "nonsense"])
def test_an_unknown_verdict_is_404(api: httpx.Client, verdict_id: str) -> None:
    assert_error(api.get(f"/v1/verdicts/{verdict_id}/message"), 404, "not_found")


def test_reading_the_message_needs_messages_read(
    anonymous: httpx.Client, api: httpx.Client, service: DecisionService
) -> None:
    verdict = recorded(api, load_mail("parts-hidden-span-authinfo"))
    path = f"/v1/verdicts/{verdict['id']}/message"
    reader = token_with(service, "verdicts:read", "registry:read")
    assert_error(anonymous.get(path, headers=reader), 403, "forbidden", "messages:read")
    assert_error(anonymous.get(path), 401, "unauthorized")
    assert_error(api.get(path, params={"raw": "1"}), 422, "invalid_request", "query.raw")
