"""The console over real HTTP on both databases: login, sessions, CSRF, the queue, reviews."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.console.agents import disable_agent
from app.console.queue import open_verdicts
from app.console.sessions import MAX_FAILURES_PER_LOGIN, SESSION_COOKIE
from app.console.web import CSP
from app.db.models import ConsoleSession, Review, Verdict
from app.db.types import utcnow
from app.decision.service import DecisionService
from tests.app.api.common import register, submit
from tests.app.api.test_reviews import verdict as scenario
from tests.app.console.common import PASSWORD, agent, csrf_of, held, log_in
from tests.support import TLS, LiveServer, make_message


@pytest.fixture
def browser(live_api: LiveServer, service: DecisionService) -> Iterator[httpx.Client]:
    """A client without a token, keeping cookies like a browser, on an empty store."""
    with httpx.Client(verify=TLS, base_url=live_api.url, timeout=30) as client:
        yield client


@pytest.fixture
def other(live_api: LiveServer, service: DecisionService) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=live_api.url, timeout=30) as client:
        yield client


def test_pages_need_a_login_and_are_served_under_a_strict_policy(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    target = held(api)["id"]
    for path in ("/console/", f"/console/verdicts/{target}"):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/console/login"
    page = browser.get("/console/login")
    assert page.headers["content-security-policy"] == CSP
    assert "script-src" not in CSP and "'unsafe-inline'" not in CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    assert browser.get("/console/static/console.css").headers["content-type"].startswith("text/css")
    assert browser.get("/console/static/other.js").status_code == 404
    # An unknown query parameter is refused, as everywhere in the API.
    agent(service)
    assert log_in(browser).status_code == 303
    assert browser.get("/console/", params={"state": "open"}).status_code == 422


def test_a_login_sets_a_strict_cookie_and_a_new_session_id(
    browser: httpx.Client, service: DecisionService
) -> None:
    agent(service)
    # A session id planted before login (fixation) is not the one the login gives.
    browser.cookies.set(
        SESSION_COOKIE, "planted-by-an-attacker", domain="127.0.0.1", path="/console/"
    )
    response = log_in(browser)
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ig_console="))
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/console/"):
        assert attribute.lower() in cookie.lower(), cookie
    # Over plain HTTP on loopback the browser would drop a Secure cookie.
    assert "secure" not in cookie.lower()
    given = browser.cookies.get(SESSION_COOKIE, path="/console/")
    assert given not in (None, "planted-by-an-attacker")
    with service.sessions() as session:
        stored = session.scalars(select(ConsoleSession.id_hash)).all()
    assert len(stored) == 1 and given not in stored[0]
    queue = browser.get("/console/")
    assert queue.status_code == 200 and "Agent Ola (ola, agent)" in queue.text
    # Logged in, the login page leads to the queue.
    assert browser.get("/console/login").headers["location"] == "/console/"


def test_wrong_passwords_are_refused_then_throttled_per_login(
    browser: httpx.Client, service: DecisionService
) -> None:
    agent(service)
    agent(service, "jan")
    for _ in range(MAX_FAILURES_PER_LOGIN):
        wrong = log_in(browser, password="not the password")
        assert wrong.status_code == 401 and "Wrong login or password" in wrong.text
    assert log_in(browser, "nobody", PASSWORD).status_code == 401
    # Now even the right password is refused for that login, and nothing is said about it.
    throttled = log_in(browser)
    assert throttled.status_code == 429 and "Too many failed logins" in throttled.text
    assert f"{SESSION_COOKIE}=" not in throttled.headers.get("set-cookie", "")
    # Another login from the same address still works (the address's limit is higher).
    assert log_in(browser, "jan").status_code == 303


def test_a_login_form_without_its_token_is_refused(
    browser: httpx.Client, other: httpx.Client, service: DecisionService
) -> None:
    agent(service)
    no_token = browser.post("/console/login", data={"login": "ola", "password": PASSWORD})
    assert no_token.status_code == 403
    # A token from another browser's form does not match this browser's cookie.
    token = csrf_of(other.get("/console/login"))
    browser.get("/console/login")
    crossed = browser.post(
        "/console/login", data={"csrf": token, "login": "ola", "password": PASSWORD}
    )
    assert crossed.status_code == 403
    assert browser.get("/console/").status_code == 303


def test_a_review_is_recorded_under_the_logged_in_agent_and_csrf_is_enforced(
    browser: httpx.Client, other: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    agent(service, "jan")
    target = held(api)["id"]
    assert log_in(browser).status_code == 303
    assert log_in(other, "jan").status_code == 303
    page = browser.get(f"/console/verdicts/{target}")
    assert page.status_code == 200 and 'name="decision" value="accepted"' in page.text
    mine = csrf_of(page)
    theirs = csrf_of(other.get(f"/console/verdicts/{target}"))
    url = f"/console/verdicts/{target}/review"
    body = {"decision": "accepted", "reason": "Called the owner back."}
    # Without a token, with another session's, with none but a forged agent field.
    assert browser.post(url, data=body).status_code == 403
    assert browser.post(url, data={**body, "csrf": theirs}).status_code == 403
    assert httpx.post(browser.base_url.join(url), data={**body, "csrf": mine}).status_code == 403
    with service.sessions() as session:
        assert session.scalars(select(Review)).all() == []
    done = browser.post(url, data={**body, "csrf": mine, "agent": "someone.else"})
    assert done.status_code == 303, done.text
    state = api.get(f"/v1/verdicts/{target}/reviews").json()
    assert state["current_decision"] == "accepted"
    assert [(r["agent"], r["reason"]) for r in state["reviews"]] == [
        ("ola", "Called the owner back.")
    ]
    # The verdict left the queue; a second first review is a conflict shown on the page.
    assert target not in browser.get("/console/").text
    again = other.post(url, data={"decision": "rejected", "reason": "No.", "csrf": theirs})
    assert again.status_code == 409 and "already reviewed" in again.text


def test_a_review_without_a_decision_or_reason_is_refused_on_the_page(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    target = held(api)["id"]
    log_in(browser)
    token = csrf_of(browser.get(f"/console/verdicts/{target}"))
    url = f"/console/verdicts/{target}/review"
    cases = [
        ({"decision": "review", "reason": "x"}, "Choose accept or reject"),
        ({"decision": "rejected", "reason": "  "}, "Give the reason"),
        ({"decision": "rejected", "reason": "x" * 2001}, "Give the reason"),
    ]
    for body, mention in cases:
        refused = browser.post(url, data={**body, "csrf": token})
        assert refused.status_code == 400 and mention in refused.text
    assert api.get(f"/v1/verdicts/{target}/reviews").json()["reviews"] == []
    missing = "00000000-0000-4000-8000-000000000000"
    assert browser.get(f"/console/verdicts/{missing}").status_code == 404


def test_sessions_end_at_logout_when_idle_when_old_and_when_the_agent_is_disabled(
    browser: httpx.Client, service: DecisionService
) -> None:
    agent(service)
    log_in(browser)
    token = csrf_of(browser.get("/console/"))
    assert browser.post("/console/logout", data={}).status_code == 403
    assert browser.post("/console/logout", data={"csrf": token}).status_code == 303
    assert browser.get("/console/").status_code == 303

    def aged(**ago: timedelta) -> int:
        browser.cookies.clear()
        log_in(browser)
        with service.sessions.begin() as session:
            session.execute(
                update(ConsoleSession).values(**{k: utcnow() - v for k, v in ago.items()})
            )
        return browser.get("/console/").status_code

    # Settings: 30 minutes idle, 12 hours in all.
    assert aged(last_seen_at=timedelta(minutes=29)) == 200
    assert aged(last_seen_at=timedelta(minutes=31)) == 303
    assert aged(created_at=timedelta(hours=12, minutes=1)) == 303
    browser.cookies.clear()
    log_in(browser)
    assert browser.get("/console/").status_code == 200
    with service.sessions.begin() as session:
        disable_agent(session, "ola", utcnow())
    assert browser.get("/console/").status_code == 303
    assert log_in(browser).status_code == 401


def test_the_queue_shows_open_verdicts_oldest_first_filtered_and_paginated(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    first = held(api, "Hello one")["id"]
    otp = scenario(api, "otp_required")["id"]
    postal = scenario(api, "postal_required")["id"]
    done = scenario(api, "accepted")["id"]
    last = held(api, "Hello two")["id"]
    log_in(browser)

    def shown(**filters: str) -> list[str]:
        page = browser.get("/console/", params=filters)
        assert page.status_code == 200, page.text
        return re.findall(r'href="/console/verdicts/([0-9a-f-]{36})"', page.text)

    assert shown() == [first, otp, postal, last]
    assert shown(decision="otp_required") == [otp]
    assert shown(service="acme.pl") == [otp, postal]
    assert shown(service="ACME.pl") == [otp, postal]
    assert shown(service="acme") == []
    assert shown(customer="acme") == [otp, postal]
    assert shown(customer="acme", decision="review") == []
    queue = browser.get("/console/").text
    assert "Kod authinfo" not in queue and "acme.pl" in queue
    assert done not in queue
    # Reviewed, or completed by documents: no longer open.
    assert (
        api.post(
            f"/v1/verdicts/{first}/review",
            json={"decision": "rejected", "agent": "api.user", "reason": "Spam."},
        ).status_code
        == 201
    )
    assert shown() == [otp, postal, last]

    # A page at a time, oldest first; the next one continues after the last shown.
    with service.reads() as session:
        one = open_verdicts(session, limit=2)
        assert [row.id for row in one.rows] == [otp, postal] and one.next_after is not None
        two = open_verdicts(session, limit=2, after=one.next_after)
        assert [row.id for row in two.rows] == [last] and two.next_after is None
    assert shown(after=str(one.next_after)) == [last]


def test_a_form_larger_than_any_of_ours_is_refused_unread(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    target = held(api)["id"]
    log_in(browser)
    token = csrf_of(browser.get(f"/console/verdicts/{target}"))
    huge = {"csrf": token, "decision": "accepted", "reason": "x" * 100_000}
    response = browser.post(f"/console/verdicts/{target}/review", data=huge)
    assert response.status_code == 413 and "Form too large" in response.text
    assert api.get(f"/v1/verdicts/{target}/reviews").json()["reviews"] == []


def test_behind_a_tls_proxy_on_loopback_the_cookies_are_secure(
    browser: httpx.Client, service: DecisionService
) -> None:
    agent(service)
    # What a reverse proxy on the same host that terminated TLS sends (uvicorn believes
    # X-Forwarded-Proto from loopback only).
    browser.headers["X-Forwarded-Proto"] = "https"
    form = browser.get("/console/login")
    assert "secure" in form.headers["set-cookie"].lower()
    browser.cookies.set(
        "ig_console_login",
        form.cookies["ig_console_login"],
        domain="127.0.0.1",
        path="/console/login",
    )
    response = browser.post(
        "/console/login", data={"csrf": csrf_of(form), "login": "ola", "password": PASSWORD}
    )
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ig_console="))
    assert "secure" in cookie.lower()


def test_the_verdict_page_says_whether_the_stored_verdict_still_verifies(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    target = held(api)["id"]
    log_in(browser)
    assert "valid: the verdict is as recorded" in browser.get(f"/console/verdicts/{target}").text
    with service.sessions.begin() as session:
        session.execute(
            update(Verdict).where(Verdict.id == target).values(reasons=["Nothing to see."])
        )
    page = browser.get(f"/console/verdicts/{target}").text
    assert "does not verify with this service" in page and "valid: the verdict" not in page


def test_a_page_moves_the_idle_clock_on_at_most_once_a_minute(
    browser: httpx.Client, service: DecisionService
) -> None:
    agent(service)
    log_in(browser)

    def last_seen() -> timedelta:
        with service.sessions() as session:
            seen = session.scalars(select(ConsoleSession.last_seen_at)).one()
        return utcnow() - seen

    with service.sessions.begin() as session:
        ago = utcnow() - timedelta(seconds=30)
        session.execute(update(ConsoleSession).values(last_seen_at=ago))
    assert browser.get("/console/").status_code == 200
    assert last_seen() >= timedelta(seconds=30)
    with service.sessions.begin() as session:
        ago = utcnow() - timedelta(minutes=20)
        session.execute(update(ConsoleSession).values(last_seen_at=ago))
    assert browser.get("/console/").status_code == 200
    assert last_seen() < timedelta(seconds=30)


def test_the_text_as_read_marks_the_recognised_phrases_and_services(
    browser: httpx.Client, service: DecisionService, api: httpx.Client
) -> None:
    agent(service)
    body = "Proszę o duplikat faktury 12/2026 dla acme.pl. <b>Nie</b> pogrubione.\n"
    assert register(api).status_code in (200, 201)
    response = submit(api, make_message(subject="Faktura", body=body, sender="jan@acme.pl"))
    target = response.json()
    assert target["instruction"] == {"kinds": ["invoice_duplicate"], "services": ["acme.pl"]}
    log_in(browser)
    page = browser.get(f"/console/verdicts/{target['id']}").text
    assert "<mark>duplikat</mark> faktury" in page
    assert "<mark>acme.pl</mark>" in page
    assert "&lt;b&gt;Nie&lt;/b&gt; pogrubione" in page
