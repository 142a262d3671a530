"""Single sign-on behind a reverse proxy, against a real ``intakeguard serve`` on loopback:
the login in CONSOLE_TRUSTED_USER_HEADER is believed from a CONSOLE_TRUSTED_PROXIES peer
only. The client socket is bound to 127.0.0.2 (the trusted proxy) or 127.0.0.1 (anyone
else): both are loopback, so the server sees two peer addresses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.console.agents import add_agent, disable_agent
from app.db.engine import make_engine, session_factory
from app.db.types import utcnow
from tests.app.api.common import register, submit
from tests.app.console.common import PASSWORD, csrf_of
from tests.app.server.test_shutdown import RunningService, running
from tests.app.server.test_supervisor import api, store  # noqa: F401 (fixture used by name)
from tests.dns_server import FixtureDnsServer
from tests.support import TLS, make_message

PROXY, ELSEWHERE = "127.0.0.2", "127.0.0.1"
HEADER = "X-Remote-User"


@contextmanager
def client_from(service: RunningService, address: str, **headers: str) -> Iterator[httpx.Client]:
    """A client whose connections leave from ``address``."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(
        verify=TLS, base_url=service.http_url, transport=transport, headers=headers, timeout=60
    ) as client:
        yield client


def test_the_header_logs_in_from_the_trusted_proxy_only(
    tmp_path: Path,
    dns_server: FixtureDnsServer,
    store: str,  # noqa: F811 (the fixture imported above)
) -> None:
    settings = {"console_trusted_user_header": HEADER, "console_trusted_proxies": "127.0.0.2/32"}
    with running(tmp_path, dns_server, "api", database_url=store, **settings) as service:
        service.wait_until_listening(int(service.http_url.rpartition(":")[2]))
        engine = make_engine(store)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            add_agent(session, "ola", "Ola Nowak", "agent", PASSWORD, utcnow())
            add_agent(session, "jan", "Jan Kos", "lead", PASSWORD, utcnow())
            disable_agent(session, "jan", utcnow())
        engine.dispose()
        with api(service) as rest:
            assert register(rest).status_code == 201
            raw = make_message(sender="nobody@else.example", subject="Hello", body="Prosze.\n")
            held = submit(rest, raw)
            assert held.json()["decision"] == "review"
            target = held.json()["id"]

            # From the proxy, with the header: Ola, without a login form.
            with client_from(service, PROXY, **{HEADER: "Ola"}) as browser:
                queue = browser.get("/console/")
                assert queue.status_code == 200, queue.text
                assert "Ola Nowak (ola, agent)" in queue.text and target in queue.text
                assert "set-cookie" not in queue.headers
                # Every page of the desk knows her: the customers' and verify pages too.
                for desk_page in ("/console/customers", "/console/verify"):
                    shown = browser.get(desk_page)
                    assert shown.status_code == 200, (desk_page, shown.text)
                    assert "Ola Nowak (ola, agent)" in shown.text
                assert browser.get("/console/login").headers["location"] == "/console/"
                page = browser.get(f"/console/verdicts/{target}")
                url, body = f"/console/verdicts/{target}/review", {"decision": "rejected"}
                body["reason"] = "Nie nasz klient."
                # Forms still need their CSRF token (the proxy vouches for the user, not
                # for the page the form came from).
                assert browser.post(url, data=body).status_code == 403
                done = browser.post(url, data={**body, "csrf": csrf_of(page)})
                assert done.status_code == 303, done.text
            reviews = rest.get(f"/v1/verdicts/{target}/reviews").json()["reviews"]
            assert [(r["agent"], r["decision"]) for r in reviews] == [("ola", "rejected")]

        # From the proxy: an unknown login, a disabled agent, a login that is no login.
        for named in ("nobody", "jan", "ola<script>"):
            with client_from(service, PROXY, **{HEADER: named}) as browser:
                refused = browser.get("/console/")
                assert refused.status_code == 403, (named, refused.text)
                assert "Not an agent of the console" in refused.text
                assert "<script>" not in refused.text
        # The refusal speaks the browser's language, like every page of the console.
        polish = {HEADER: "nobody", "Accept-Language": "pl"}
        with client_from(service, PROXY, **polish) as browser:
            refused = browser.get("/console/verify")
            assert refused.status_code == 403, refused.text
            assert "Brak dostępu do konsoli agentów" in refused.text
            assert "Not an agent of the console" not in refused.text
        # From the proxy without the header: the console's own login.
        with client_from(service, PROXY) as browser:
            assert browser.get("/console/").headers["location"] == "/console/login"

        # From anyone else the header is ignored, also when X-Forwarded-For claims the
        # proxy's address (uvicorn believes that header from 127.0.0.1, for the client
        # address it logs and throttles by; the peer is what single sign-on trusts).
        for headers in ({HEADER: "ola"}, {HEADER: "ola", "X-Forwarded-For": PROXY}):
            with client_from(service, ELSEWHERE, **headers) as browser:
                page = browser.get("/console/")
                assert page.status_code == 303 and page.headers["location"] == "/console/login"
                assert browser.get("/console/login").status_code == 200
