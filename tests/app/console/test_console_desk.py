"""The console's action and postal documents forms, /console/verify and /console/customers
over real HTTP on both databases: recorded under the logged-in agent, in the audit chain,
nothing recorded without the session's CSRF token, identifiers never echoed back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.console.customers import mask_panel_address
from app.console.web import CSP
from app.db.models import AgentAction, AuditEntry, DocumentReceipt, Verification
from app.decision.service import DecisionService
from tests.app.api.common import KOWALSKI, NIP, PESEL, register
from tests.app.api.test_reviews import verdict as scenario
from tests.app.console.common import agent, csrf_of, held, log_in
from tests.support import TLS


@pytest.fixture
def browser(live_api: Any, service: DecisionService) -> Iterator[httpx.Client]:
    """A client without a token, keeping cookies like a browser, on an empty store."""
    with httpx.Client(verify=TLS, base_url=live_api.url, timeout=30) as client:
        yield client


def chained(service: DecisionService, kind: str) -> list[dict[str, Any]]:
    """The payloads of the audit chain's entries of ``kind``, oldest first."""
    with service.sessions() as session:
        rows = session.scalars(
            select(AuditEntry.payload).where(AuditEntry.kind == kind).order_by(AuditEntry.seq)
        )
        return [json.loads(row) for row in rows]


def code_for(api: httpx.Client, login: str = "acme") -> str:
    response = api.post(f"/v1/customers/{login}/codes")
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


def test_an_action_is_recorded_under_the_logged_in_agent_and_shown_in_the_history(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    target = scenario(api, "accepted")["id"]
    log_in(browser)
    page = browser.get(f"/console/verdicts/{target}")
    assert 'action="/console/verdicts/' + target + '/actions"' in page.text
    assert 'name="agent"' not in page.text
    token = csrf_of(page)
    url = f"/console/verdicts/{target}/actions"
    body = {"action": "authinfo_sent", "details": "Sent to the panel address.", "login": "acme"}
    assert browser.post(url, data=body).status_code == 403
    assert browser.post(url, data={**body, "csrf": "x" * 43}).status_code == 403
    with service.sessions() as session:
        assert session.scalars(select(AgentAction)).all() == []
    # A field naming another agent is ignored: the agent is the one logged in.
    done = browser.post(url, data={**body, "csrf": token, "agent": "someone.else"})
    assert done.status_code == 303, done.text
    actions = api.get(f"/v1/verdicts/{target}/actions").json()
    assert [(a["agent"], a["action"], a["login"]) for a in actions] == [
        ("ola", "authinfo_sent", "acme")
    ]
    assert [(e["agent"], e["login"]) for e in chained(service, "action")] == [("ola", "acme")]
    history = browser.get(f"/console/verdicts/{target}").text
    assert "Action: authinfo_sent" in history and "Sent to the panel address." in history


@pytest.mark.parametrize(
    ("fields", "status", "mention"),
    [
        pytest.param({"action": ""}, 400, "Name the action", id="no action name"),
        pytest.param({"action": "a\tb"}, 400, "Name the action", id="a tab in the action"),
        pytest.param({"details": " "}, 400, "Describe what was changed", id="no details"),
        pytest.param({"login": "Not A Login"}, 400, "customer&#39;s login", id="bad login"),
        pytest.param({"login": "kowalska"}, 409, "acme, not kowalska:", id="another customer"),
        pytest.param({"code_ref": "42"}, 400, "code_ref", id="code_ref not an id"),
        pytest.param(
            {"code_ref": "00000000-0000-4000-8000-000000000000"},
            409,
            "No one-time code of customer acme",
            id="code_ref of no code use",
        ),
    ],
)
def test_a_refused_action_records_nothing_and_keeps_what_was_typed(
    browser: httpx.Client,
    service: DecisionService,
    api: httpx.Client,
    fields: dict[str, str],
    status: int,
    mention: str,
) -> None:
    agent(service)
    target = scenario(api, "accepted")["id"]
    log_in(browser)
    token = csrf_of(browser.get(f"/console/verdicts/{target}"))
    body = {"action": "dns_changed", "details": "Typed by the agent.", "login": "acme", **fields}
    refused = browser.post(f"/console/verdicts/{target}/actions", data={**body, "csrf": token})
    assert refused.status_code == status, refused.text
    assert mention in refused.text
    assert "Typed by the agent." in refused.text or not body["details"].strip()
    assert api.get(f"/v1/verdicts/{target}/actions").json() == []


def test_an_action_on_a_verdict_not_accepted_is_refused_and_no_form_is_offered(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    target = held(api)["id"]
    log_in(browser)
    page = browser.get(f"/console/verdicts/{target}")
    assert "/actions" not in page.text
    body = {"action": "x", "details": "y", "login": "acme", "csrf": csrf_of(page)}
    refused = browser.post(f"/console/verdicts/{target}/actions", data=body)
    assert refused.status_code == 409 and "has not been accepted on review" in refused.text


def test_postal_documents_incomplete_then_complete_accept_the_verdict(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    target = scenario(api, "postal_required")["id"]
    log_in(browser)
    page = browser.get(f"/console/verdicts/{target}")
    assert 'name="signature_or_stamp"' in page.text and "form.review" not in page.text
    url = f"/console/verdicts/{target}/documents"
    token = csrf_of(page)
    assert browser.post(url, data={"name": "yes"}).status_code == 403
    with service.sessions() as session:
        assert session.scalars(select(DocumentReceipt)).all() == []
    partial = {"name": "yes", "address": "yes", "note": "No stamp.", "csrf": token}
    assert browser.post(url, data=partial).status_code == 303
    state = api.get(f"/v1/verdicts/{target}/reviews").json()
    assert state["current_decision"] == "postal_required"
    full = {**partial, "signature_or_stamp": "yes", "note": "Stamped copy.", "agent": "x"}
    assert browser.post(url, data=full).status_code == 303
    assert api.get(f"/v1/verdicts/{target}/reviews").json()["current_decision"] == "accepted"
    receipts = chained(service, "document_receipt")
    assert [(r["agent"], r["complete"]) for r in receipts] == [("ola", False), ("ola", True)]
    after = browser.get(f"/console/verdicts/{target}").text
    assert "Postal documents: incomplete" in after and "Postal documents: complete" in after
    # Complete: the documents form is gone, the action form is offered, and a third
    # receipt is a conflict shown on the page.
    assert 'name="signature_or_stamp"' not in after and "/actions" in after
    again = browser.post(url, data=full)
    assert again.status_code == 409 and "already complete this verdict" in again.text


def stage_of(page: httpx.Response) -> str | None:
    found = re.search(r'<span id="stage" class="stage (\w+)">', page.text)
    return found.group(1) if found else None


def verify_form(browser: httpx.Client) -> str:
    page = browser.get("/console/verify")
    assert page.status_code == 200, page.text
    return csrf_of(page)


def verified(browser: httpx.Client, data: dict[str, str]) -> httpx.Response:
    """POST the form: its answer is a redirect to the result (post, redirect, get)."""
    posted = browser.post("/console/verify", data=data)
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"].startswith("/console/verify?done=")
    return browser.get(posted.headers["location"])


def test_a_phone_verification_reaches_authorized_with_a_real_code_and_echoes_nothing(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    assert register(api).status_code == 201
    code = code_for(api)
    log_in(browser)
    token = verify_form(browser)
    call = {"channel": "phone", "service": "acme.pl", "identifier_kind": "nip", "csrf": token}
    identified = verified(browser, {**call, "identifier": NIP})
    assert identified.status_code == 200, identified.text
    assert stage_of(identified) == "identified"
    assert "may give information about the service" in identified.text
    authorized = verified(
        browser, {**call, "identifier": NIP, "login": "acme", "code": code, "agent": "x"}
    )
    assert authorized.status_code == 200 and stage_of(authorized) == "authorized"
    # Reloading the result records nothing again.
    assert stage_of(browser.get(str(authorized.url))) == "authorized"
    # Neither the number nor the code comes back in the page, in any spelling.
    for page in (identified.text, authorized.text):
        for secret in (NIP, NIP.replace("-", ""), code, code.replace("-", "")):
            assert secret not in page
    found = re.search(r'class="verification-id">([0-9a-f-]{36})<', authorized.text)
    assert found is not None
    with service.sessions() as session:
        rows = session.scalars(select(Verification).order_by(Verification.seq)).all()
        assert [(r.agent, r.stage, r.identifier_kind) for r in rows] == [
            ("ola", "identified", "nip"),
            ("ola", "authorized", "nip"),
        ]
        assert rows[-1].id == found.group(1)
    assert [(v["agent"], v["stage"]) for v in chained(service, "verification")] == [
        ("ola", "identified"),
        ("ola", "authorized"),
    ]
    # The code is used up: the same one again does not authorize.
    again = verified(browser, {**call, "login": "acme", "code": code})
    assert stage_of(again) == "none" and "used" in again.text
    # Another agent does not see this agent's verification; a lead does.
    agent(service, "piotr")
    agent(service, "lena", role="lead")
    for login, shown in (("piotr", False), ("lena", True)):
        with httpx.Client(base_url=str(browser.base_url), timeout=30) as other:
            log_in(other, login)
            page = other.get(str(authorized.url))
            assert (page.status_code, stage_of(page) == "authorized") == (
                (200, True) if shown else (404, False)
            ), login
    # And the verification is a code_ref an action on an accepted verdict may rest on.
    target = scenario(api, "accepted")["id"]
    token = csrf_of(browser.get(f"/console/verdicts/{target}"))
    action = {"action": "authinfo_sent", "details": "By phone.", "login": "acme"}
    done = browser.post(
        f"/console/verdicts/{target}/actions",
        data={**action, "code_ref": found.group(1), "csrf": token},
    )
    assert done.status_code == 303, done.text
    assert api.get(f"/v1/verdicts/{target}/actions").json()[0]["code_ref"] == found.group(1)


@pytest.mark.parametrize(
    ("fields", "mention"),
    [
        pytest.param({"channel": "fax"}, "Choose phone or chat", id="unknown channel"),
        pytest.param({"service": ""}, "Give the service", id="no service"),
        pytest.param(
            {"service": "bad name!.pl"},
            "bad name!.pl is not a valid domain name.",
            id="bad service",
        ),
        pytest.param({"identifier_kind": "ssn"}, "PESEL, NIP or REGON", id="unknown kind"),
        pytest.param({"code": "87-65"}, "8 digits", id="short code"),
        pytest.param({"login": "", "code": "8765-4321"}, "together with the login", id="no login"),
    ],
)
def test_a_refused_verification_records_nothing_and_echoes_no_identifier(
    browser: httpx.Client, service: DecisionService, fields: dict[str, str], mention: str
) -> None:
    agent(service)
    log_in(browser)
    token = verify_form(browser)
    body = {
        "channel": "phone",
        "service": "kowalska.pl",
        "identifier_kind": "pesel",
        "identifier": PESEL,
        "login": "kowalska",
        "csrf": token,
        **fields,
    }
    refused = browser.post("/console/verify", data=body)
    assert refused.status_code == 400 and mention in refused.text
    for secret in (PESEL, "8765-4321", "87-65"):
        assert secret not in refused.text
    with service.sessions() as session:
        assert session.scalars(select(Verification)).all() == []
    assert browser.post("/console/verify", data={**body, "csrf": ""}).status_code == 403


def test_masking_the_panel_address() -> None:
    assert mask_panel_address("jan@example.pl") == "j***@e***.pl"
    assert mask_panel_address("anna@kowalska.example") == "a***@k***.example"
    assert mask_panel_address("x@sub.acme.com.pl") == "x***@s***.pl"
    assert mask_panel_address("broken") == "***"


def test_customers_by_service_or_login_masked_for_an_agent_whole_for_a_lead(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    agent(service, "szef", role="lead")
    assert register(api, "kowalska", **KOWALSKI).status_code == 201
    target = scenario(api, "accepted")["id"]
    log_in(browser)
    page = browser.get("/console/customers", params={"service": "kowalska.pl"})
    assert page.status_code == 200, page.text
    assert "Anna Kowalska" in page.text and "a***@k***.example" in page.text
    assert KOWALSKI["panel_email"] not in page.text and PESEL not in page.text
    assert "customer_put" in page.text
    acme = browser.get("/console/customers", params={"login": "acme"}).text
    assert target in acme and "jan@acme.pl" not in acme and "j***@a***.pl" in acme
    # Upper case and a trailing dot name the same service.
    assert "Anna Kowalska" in browser.get("/console/customers?service=KOWALSKA.PL.").text
    for params, status, mention in (
        ({"service": "nobody.pl"}, 404, "No customer holds nobody.pl"),
        ({"login": "nobody"}, 404, "No customer has the login nobody"),
        ({"login": "Bad Login"}, 404, "No customer has that login"),
        ({"service": "bad name!.pl"}, 400, "bad name!.pl is not a valid domain name."),
        ({"service": "acme.pl", "login": "acme"}, 400, "by service or by login"),
    ):
        missing = browser.get("/console/customers", params=params)
        assert missing.status_code == status and mention in missing.text, missing.text
    assert browser.get("/console/customers", params={"other": "x"}).status_code == 422
    browser.cookies.clear()
    log_in(browser, "szef")
    lead = browser.get("/console/customers", params={"service": "kowalska.pl"}).text
    assert KOWALSKI["panel_email"] in lead


def test_the_pages_link_to_each_other_and_need_a_login(
    browser: httpx.Client, service: DecisionService
) -> None:
    for path in ("/console/verify", "/console/customers"):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/console/login"
    refused = browser.post("/console/verify", data={"service": "acme.pl"})
    assert refused.status_code == 403 and "Not logged in" in refused.text
    agent(service)
    log_in(browser)
    for path in ("/console/", "/console/verify", "/console/customers"):
        response = browser.get(path)
        assert response.headers["content-security-policy"] == CSP
        assert "<script" not in response.text
        for link in ('href="/console/"', 'href="/console/verify"', 'href="/console/customers"'):
            assert link in response.text, (path, link)
