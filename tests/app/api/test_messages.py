"""POST /v1/messages end to end over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.app.api.common import assert_signed, check
from tests.support import make_message

ACME = {
    "panel_email": "jan@acme.pl",
    "kind": "company",
    "name": "ACME sp. z o.o.",
    "nip": "526-025-02-74",
    "services": ["acme.pl", "żółw.pl"],
}
RFC822 = {"Content-Type": "message/rfc822"}
# Sent by acme.pl's own server (its SPF record authorises 192.0.2.10), so that SPF
# aligns and DMARC passes: the message is authenticated.
FROM_ACME = {"client_ip": "192.0.2.10", "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"}


def register_acme(api: httpx.Client) -> None:
    assert api.put("/v1/customers/acme", json=ACME).status_code == 201


def submit(api: httpx.Client, raw: bytes, **params: object) -> httpx.Response:
    return api.post("/v1/messages", content=raw, headers=RFC822, params=params)


def test_message_from_the_panel_address_is_recorded_and_readable(api: httpx.Client) -> None:
    register_acme(api)
    raw = make_message(sender="Jan <JAN@ACME.PL>", subject="Pytanie o domenę acme.pl")
    response = submit(api, raw, client_ip="192.0.2.10", helo="mx.acme.pl", rcpt="support@h.example")
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["customer"] == "acme"
    assert verdict["assurance"] == "asserted"
    assert verdict["channel"] == "api"
    assert verdict["instruction"] == {"kinds": ["inquiry"], "services": ["acme.pl"]}
    results = {c["name"]: c["result"] for c in verdict["checks"]}
    assert results["from-mailbox"] == "pass"
    assert results["customer-match"] == "pass"
    # Without authentication an asserted sender is not enough to act, and acme.pl
    # publishes DMARC p=reject: unauthenticated mail in its name is refused.
    assert results["dmarc"] == "reject"
    assert verdict["decision"] == "rejected"
    assert verdict["reasons"][0].startswith("DMARC fails for acme.pl")

    stored = api.get(f"/v1/verdicts/{verdict['id']}")
    assert stored.status_code == 200
    assert stored.json() == verdict


def test_message_naming_the_domain_from_another_address_is_rejected(api: httpx.Client) -> None:
    register_acme(api)
    raw = make_message(
        sender="Jan Kowalski <jan.kowalski@freemail.example>",
        subject="Transfer domeny acme.pl",
        body="Prosze o kod AuthInfo dla domeny acme.pl, przenosze ja.\n",
    )
    verdict = submit(api, raw).json()
    assert verdict["decision"] == "rejected"
    assert verdict["assurance"] == "none"
    assert verdict["customer"] == "acme"
    assert verdict["instruction"]["kinds"] == ["transfer_out"]
    match = check(verdict, "customer-match")
    assert match["name"] == "customer-match" and match["result"] == "fail"
    reason = verdict["reasons"][0]
    assert "jan.kowalski@freemail.example" in reason  # what came
    assert "j***@acme.pl" in reason  # whose address was expected, masked
    assert "jan@acme.pl" not in reason
    # Rejected verdicts are evidence: they are recorded and listed.
    listed = api.get("/v1/verdicts", params={"decision": "rejected"}).json()
    assert [v["id"] for v in listed["items"]] == [verdict["id"]]


def test_a_foreign_sender_is_told_which_named_services_the_customer_holds(
    api: httpx.Client,
) -> None:
    services = ["zeta.pl", "acme.pl", "żółw.pl", "alfa.pl"]
    assert api.put("/v1/customers/acme", json={**ACME, "services": services}).status_code == 201
    other = {**ACME, "panel_email": "ola@beta.pl", "nip": None, "services": ["beta.pl"]}
    assert api.put("/v1/customers/beta", json=other).status_code == 201
    raw = make_message(
        sender="kto@evil.example",
        subject="Zmiana DNS",
        # Named in another order than registered, with a domain of another customer and
        # one nobody holds; acme.pl is held but not named.
        body="Prosze zmienic DNS dla alfa.pl, beta.pl, niczyja.pl, ŻÓŁW.PL i zeta.pl.\n",
    )
    verdict = submit(api, raw).json()
    assert verdict["instruction"]["services"] == ["alfa.pl", "beta.pl", "żółw.pl", "zeta.pl"]
    assert verdict["customer"] == "acme"
    match = check(verdict, "customer-match")
    assert match["result"] == "fail"
    # The customer's named services in the order they were registered, as people read them.
    assert match["reason"].startswith(
        "The sender kto@evil.example is not the address registered for customer acme, "
        "who holds zeta.pl, żółw.pl, alfa.pl (expected j***@acme.pl)"
    ), match["reason"]


def test_unicode_and_punycode_names_of_a_domain_are_the_same_service(api: httpx.Client) -> None:
    register_acme(api)
    for written in ("żółw.pl", "xn--w-uga1v8h.pl", "ŻÓŁW.PL"):
        raw = make_message(
            sender="attacker@evil.example", subject=f"Zmiana DNS dla {written}", body="Prosze.\n"
        )
        verdict = submit(api, raw).json()
        assert verdict["decision"] == "rejected", written
        assert verdict["instruction"]["services"] == ["żółw.pl"]


def test_unknown_sender_naming_nothing_goes_to_review(api: httpx.Client) -> None:
    register_acme(api)
    raw = make_message(sender="nobody@else.example", subject="Hello", body="A question.\n")
    verdict = submit(api, raw).json()
    assert verdict["decision"] == "review"
    assert verdict["customer"] is None
    assert check(verdict, "customer-match")["result"] == "none"


def test_sender_known_by_panel_address_alone_is_the_customer(api: httpx.Client) -> None:
    register_acme(api)
    raw = make_message(subject="Duplikat faktury 12/2026", body="Prosze o duplikat faktury.\n")
    verdict = submit(api, raw).json()
    assert verdict["customer"] == "acme"
    assert verdict["instruction"] == {"kinds": ["invoice_duplicate"], "services": []}


def test_services_of_two_customers_in_one_message_go_to_review(api: httpx.Client) -> None:
    register_acme(api)
    other = {**ACME, "panel_email": "ola@beta.pl", "nip": None, "services": ["beta.pl"]}
    assert api.put("/v1/customers/beta", json=other).status_code == 201
    raw = make_message(subject="Pytanie o acme.pl i beta.pl")
    verdict = submit(api, raw, **FROM_ACME).json()
    assert verdict["decision"] == "review"
    # The sender is acme's: the other customer's service beside acme's is what holds it.
    assert check(verdict, "customer-match")["result"] == "pass"
    assert check(verdict, "service-scope")["result"] == "mixed"


def test_holder_change_needs_documents_by_post(api: httpx.Client) -> None:
    register_acme(api)
    raw = make_message(subject="Cesja domeny acme.pl", body="Prosze o zmiane abonenta domeny.\n")
    verdict = submit(api, raw, **FROM_ACME).json()
    assert verdict["decision"] == "postal_required"
    assert "post" in verdict["reasons"][0]


def test_verdict_signature_verifies_with_the_published_key(api: httpx.Client) -> None:
    register_acme(api)
    assert_signed(api, submit(api, make_message()).json())
