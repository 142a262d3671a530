"""Header instances and automatic mail end to end: never accepted (issue 13, classes 5, 6)."""

from __future__ import annotations

import httpx

from tests.app.api.common import check, register, submit
from tests.support import make_message, signed_by_acme

# Not acme.pl's server: only the DKIM signature authenticates these messages; given to
# the desk (without rcpt, and no desk domain configured, addressed-to holds such mail).
ELSEWHERE = {
    "client_ip": "203.0.113.5",
    "helo": "mx.elsewhere.example",
    "rcpt": "support@hosting.example",
}
ASKED = "Duplikat faktury 12/2026 dla acme.pl"
BODY = "Dzien dobry, prosze o duplikat faktury 12/2026 za domene acme.pl.\n"


def test_a_signed_request_is_accepted_as_the_baseline(api: httpx.Client) -> None:
    assert register(api).status_code == 201
    verdict = submit(api, signed_by_acme(make_message(subject=ASKED, body=BODY)), **ELSEWHERE)
    verdict = verdict.json()
    assert check(verdict, "dmarc")["result"] == "pass"
    assert check(verdict, "signed-headers")["result"] == "pass"
    assert check(verdict, "header-count")["result"] == "pass"
    assert check(verdict, "auto-submitted")["result"] == "none"
    assert verdict["decision"] == "accepted", verdict["reasons"]


def test_a_subject_prepended_above_a_signed_message_is_held(api: httpx.Client) -> None:
    assert register(api).status_code == 201
    signed = signed_by_acme(make_message(subject=ASKED, body=BODY))
    raw = b"Subject: Transfer domeny acme.pl, prosze o kod AuthInfo\r\n" + signed
    verdict = submit(api, raw, **ELSEWHERE).json()
    assert check(verdict, "dmarc")["result"] == "pass"  # the signature still verifies
    assert check(verdict, "signed-headers")["result"] == "uncovered"
    assert check(verdict, "header-count")["result"] == "fail"
    assert verdict["decision"] == "review", verdict["reasons"]


def test_an_out_of_office_reply_echoing_a_request_is_held(api: httpx.Client) -> None:
    assert register(api).status_code == 201
    raw = make_message(
        subject=f"Automatyczna odpowiedź: {ASKED}", body=BODY, Auto_Submitted="auto-replied"
    )
    verdict = submit(api, signed_by_acme(raw), **ELSEWHERE).json()
    assert check(verdict, "dmarc")["result"] == "pass"
    assert check(verdict, "auto-submitted")["result"] == "auto"
    assert verdict["decision"] == "review", verdict["reasons"]


def test_an_auto_reply_subject_alone_is_held(api: httpx.Client) -> None:
    assert register(api).status_code == 201
    raw = make_message(subject=f"Re: Out of Office: {ASKED}", body=BODY)
    verdict = submit(api, signed_by_acme(raw), **ELSEWHERE).json()
    assert check(verdict, "auto-submitted")["result"] == "auto"
    assert verdict["decision"] == "review", verdict["reasons"]
