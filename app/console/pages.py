"""The console's routes: login and logout, the queue, and the stylesheet.

The verdict page and its forms are app.console.desk; phone and chat verification and
the customers page app.console.callers; how every page is served app.console.web, in the
request's language app.console.rendering, which the switch here (/console/language) sets.
"""

from __future__ import annotations

import re
import secrets
from importlib import resources
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.console import agents, i18n, rendering, sessions
from app.console.i18n import N_
from app.console.queue import OPEN, open_verdicts
from app.console.web import (
    client_address,
    console_router,
    form,
    lifetime,
    login_key,
    read,
    refused,
    render,
    service_of,
    set_cookie,
    to_login,
    too_large,
    who,
    write,
)
from app.db.types import utcnow
from app.registry.customers import LOGIN

router = console_router()

_ASSETS: Final = {"console.css": "text/css; charset=utf-8"}
# Where the switch may send the browser back to: a page of the console, nothing else.
_BACK: Final = re.compile(r"^/console/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$")
_LANG_MAX_AGE: Final = 365 * 24 * 3600
# ``message`` in the language of the request being answered.
_ = rendering.gettext


# --- login and logout ------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def show_login(request: Request) -> Response:
    if await who(request) is not None:
        return RedirectResponse("/console/", status_code=303)
    return _login_page(request, 200, "")


def _login_page(request: Request, status: int, error: str) -> Response:
    # A fresh pre-login value each time the form is shown; the token is bound to it.
    value = secrets.token_urlsafe(32)
    response = render(
        "login.html", status, csrf=sessions.login_token(login_key(request), value), error=error
    )
    set_cookie(request, response, sessions.LOGIN_COOKIE, value, "/console/login", None)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    fields = await form(request)
    pre = request.cookies.get(sessions.LOGIN_COOKIE, "")
    if fields is None:
        return too_large()
    if not pre:
        return refused(
            403, N_("Form refused"), N_("Open the login page again and log in from there.")
        )
    expected = sessions.login_token(login_key(request), pre)
    if not sessions.csrf_matches(expected, fields.get("csrf", "")):
        return refused(
            403, N_("Form refused"), N_("Open the login page again and log in from there.")
        )
    name, password = fields.get("login", "").strip().lower(), fields.get("password", "")
    address, now = client_address(request), utcnow()
    old = request.cookies.get(sessions.SESSION_COOKIE)

    def check(session: Any) -> agents.Agent | str:
        if sessions.throttled(session, name, address, now):
            return "throttled"
        # Hashing takes a while: in a read, never while holding SQLite's write lock.
        return agents.authenticate(session, name, password) or "wrong"

    def open_session(session: Any, agent: agents.Agent) -> str:
        sessions.forget_failures(session, agent.login)
        if old:
            # Whatever session the browser brought ends; the new one has a new id.
            sessions.end(session, old)
        cookie, _started = sessions.start(session, agent, now)
        return cookie

    outcome = await read(request, check)
    if outcome == "throttled":
        minutes = int(sessions.THROTTLE_WINDOW.total_seconds() // 60)
        too_many = _("Too many failed logins. Try again in %(minutes)d minutes.")
        return _login_page(request, 429, too_many % {"minutes": minutes})
    if isinstance(outcome, str):
        await write(request, lambda s: sessions.record_failure(s, name, address, now))
        return _login_page(request, 401, _("Wrong login or password."))
    agent = outcome
    cookie = await write(request, lambda s: open_session(s, agent))
    response = RedirectResponse("/console/", status_code=303)
    span = int(lifetime(request).absolute.total_seconds())
    set_cookie(request, response, sessions.SESSION_COOKIE, cookie, "/console/", span)
    response.delete_cookie(sessions.LOGIN_COOKIE, path="/console/login")
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request) -> Response:
    current = await who(request)
    fields = await form(request)
    if current is None:
        return to_login()
    if fields is None:
        return too_large()
    if not sessions.csrf_matches(current.csrf, fields.get("csrf", "")):
        return refused(403, N_("Form refused"), N_("Log out from a page of the console."))
    cookie = request.cookies.get(sessions.SESSION_COOKIE, "")
    await write(request, lambda s: sessions.end(s, cookie))
    response = to_login()
    response.delete_cookie(sessions.SESSION_COOKIE, path="/console/")
    return response


# --- the queue -------------------------------------------------------------------------

OpenDecision = Literal["review", "otp_required", "postal_required", "confirmation_required"]


@router.get("/", response_class=HTMLResponse)
async def queue(
    request: Request,
    decision: OpenDecision | None = None,
    customer: Annotated[str | None, Query(max_length=64, pattern=LOGIN.pattern)] = None,
    service: Annotated[str | None, Query(min_length=1, max_length=253)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    current = await who(request)
    if current is None:
        return to_login()
    wanted = service.strip().lower() if service else None

    def look(session: Any) -> Any:
        return open_verdicts(
            session, decision=decision, customer=customer, service=wanted, after=after
        )

    page = await read(request, look)
    filters = {"decision": decision, "customer": customer, "service": wanted}
    given = {k: v for k, v in filters.items() if v}
    next_url = None
    if page.next_after is not None:
        next_url = "/console/?" + urlencode({**given, "after": page.next_after})
    return render(
        "queue.html",
        who=current,
        rows=page.rows,
        now=utcnow(),
        decisions=OPEN,
        filters=filters,
        filtered=bool(given),
        next_url=next_url,
        first_url=("/console/?" + urlencode(given)) if after is not None else None,
        titles=service_of(request).kind_titles(rendering.speech().lang),
    )


# --- the language switch ---------------------------------------------------------------


@router.get("/language")
async def language(
    request: Request,
    to: Annotated[str, Query(max_length=8)],
    back: Annotated[str, Query(max_length=2000)] = "/console/",
) -> Response:
    """Remember the language chosen (cookie ``lang``) and go back to the page it was
    chosen on; only a page of the console, so the link cannot send anyone elsewhere."""
    if to not in i18n.LANGUAGES:
        return refused(400, N_("No such language"), N_("The console speaks English and Polish."))
    target = back if _BACK.match(back) and "//" not in back else "/console/"
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, i18n.LANG_COOKIE, to, "/console/", _LANG_MAX_AGE)
    return response


# --- assets ------------------------------------------------------------------------------


@router.get("/static/{name}")
def asset(name: str) -> Response:
    media = _ASSETS.get(name)
    if media is None:
        return Response(status_code=404)
    body = resources.files("app.console").joinpath("static", name).read_bytes()
    return Response(
        body,
        media_type=media,
        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
