"""Shared by the console's tests: agents, a logged-in client, verdicts waiting in the queue."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.console.agents import add_agent
from app.db.types import utcnow
from app.decision.service import DecisionService
from tests.app.api.common import register, submit
from tests.support import make_message

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def agent(
    service: DecisionService, login: str = "ola", role: str = "agent", name: str = ""
) -> None:
    with service.sessions.begin() as session:
        add_agent(session, login, name or f"Agent {login.title()}", role, PASSWORD, utcnow())


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


def log_in(client: httpx.Client, login: str = "ola", password: str = PASSWORD) -> httpx.Response:
    form = client.get("/console/login")
    assert form.status_code == 200, form.text
    return client.post(
        "/console/login",
        data={"csrf": csrf_of(form), "login": login, "password": password},
    )


def held(api: httpx.Client, subject: str = "Hello", **message: Any) -> dict[str, Any]:
    """A verdict held for review: from a stranger, about nothing the catalogue knows."""
    assert register(api).status_code in (200, 201)
    message.setdefault("sender", "nobody@else.example")
    message.setdefault("body", "Prosze.\n")
    raw = make_message(subject=subject, **message)
    response = submit(api, raw)
    assert response.status_code == 201, response.text
    verdict: dict[str, Any] = response.json()
    assert verdict["decision"] == "review", verdict["reasons"]
    return verdict
