"""How a console page is served: its router, the page's security headers, the logged-in
agent, the store, and the small urlencoded forms every POST reads.

Every page is rendered on the server from app/console/templates (Jinja2, every value
escaped) under a Content-Security-Policy that allows no script at all and styles only
from /console/static; every task works without JavaScript. POSTs read a small
urlencoded form and are refused (403) without the session's CSRF token. Pages speak the
request's language (app/console/rendering.py) and offer a switch (/console/language).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.console import rendering, sessions, sso
from app.console.i18n import N_
from app.db.engine import store_errors, write_transaction
from app.db.types import utcnow
from app.decision.service import DecisionService

# No script from anywhere, styles and images only from here, forms only to here, never
# framed: a message's text is written by whoever sent it.
CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
# A review's reason or an action's details are a few sentences; the login form two
# short fields.
_MAX_FORM_BYTES: Final = 16 * 1024
T = TypeVar("T")
# ``message`` in the language of the request being answered.
_ = rendering.gettext


def console_router() -> APIRouter:
    """A router of console pages: each request's language chosen before its route runs."""
    return APIRouter(
        prefix="/console",
        include_in_schema=False,
        dependencies=[Depends(rendering.choose_language)],
    )


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """``template`` in the request's language, with the switch, under the page's headers."""
    body = rendering.page(template, **context)
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


def service_of(request: Request) -> DecisionService:
    service: DecisionService = request.app.state.service
    return service


def lifetime(request: Request) -> sessions.Lifetime:
    settings = request.app.state.settings
    return sessions.Lifetime(
        idle=timedelta(minutes=settings.console_idle_minutes),
        absolute=timedelta(hours=settings.console_session_hours),
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def write(request: Request, work: Callable[[Any], T]) -> T:
    """``work(session)`` in a transaction, off the event loop."""
    return await _in_store(request, work, write=True)


async def read(request: Request, work: Callable[[Any], T]) -> T:
    """``work(session)`` in a read-only session (on SQLite not queued behind writers)."""
    return await _in_store(request, work, write=False)


async def _in_store(request: Request, work: Callable[[Any], T], write: bool) -> T:
    service = service_of(request)

    def run() -> T:
        if write:
            # In the store's writer turn, taken and given back within this one thread call.
            with write_transaction(service.sessions) as session:
                return work(session)
        with store_errors(), service.reads() as session:
            return work(session)

    return await run_in_threadpool(run)


def login_key(request: Request) -> bytes:
    secret: bytes = request.app.state.settings.require_secret_key()
    return hashlib.sha256(b"intakeguard console login\0" + secret).digest()


async def who(request: Request) -> sessions.Current | None:
    named = sso.claim(request.app.state.settings, request.scope, request.headers)
    if named is not None:
        # Single sign-on: the proxy vouches for this request (app.console.sso).
        agent = await read(request, lambda s: sso.agent_named(s, named.login))
        if agent is None:
            raise sso.NotAnAgent(named.login)
        return sessions.Current(agent, sso.csrf_token(login_key(request), agent))
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    if not cookie:
        return None
    span, now = lifetime(request), utcnow()
    # Most pages only read: the store is written to once a minute per session at most.
    found, stale = await read(request, lambda s: sessions.look_up(s, cookie, now, span))
    if not stale:
        return found
    return await write(request, lambda s: sessions.current(s, cookie, now, span))


async def form(request: Request) -> dict[str, str] | None:
    """The urlencoded form, one value a field; None when it is too large to be ours."""
    body = b""
    # Read no more than a form of ours can be: a client may send gigabytes.
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


async def posted(request: Request) -> tuple[sessions.Current, dict[str, str]] | Response:
    """The logged-in agent and the form they posted with their session's CSRF token; else
    the page that refuses it (nothing is recorded)."""
    current = await who(request)
    fields = await form(request)
    if current is None:
        return refused(
            403, N_("Not logged in"), N_("Your session ended: log in again. Nothing was recorded.")
        )
    if fields is None:
        return too_large()
    if not sessions.csrf_matches(current.csrf, fields.get("csrf", "")):
        return refused(
            403, N_("Form refused"), N_("The form was not this session's. Nothing was recorded.")
        )
    return current, fields


def to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


def refused(status: int, title: str, detail: str) -> HTMLResponse:
    """A refusal; ``title`` and ``detail`` are translated here (mark literals with N_)."""
    return render("refused.html", status, title=_(title), detail=_(detail), who=None)


async def not_an_agent(request: Request, exc: Exception) -> Response:
    """The page for a login that single sign-on named but that is no enabled agent."""
    return refused(
        403,
        N_("Not an agent of the console"),
        N_(
            "Your sign-on login is not an enabled agent here; ask a lead to add it "
            "(intakeguard agents add)."
        ),
    )


def too_large() -> HTMLResponse:
    return refused(
        413, N_("Form too large"), N_("No form of the console is this large; nothing was recorded.")
    )


def set_cookie(
    request: Request, response: Response, name: str, value: str, path: str, max_age: int | None
) -> None:
    # Never sent by scripts (there are none) nor on requests from other sites; Secure
    # whenever the page came over HTTPS (behind a proxy: uvicorn's --proxy-headers).
    response.set_cookie(
        name,
        value,
        path=path,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def one_line(value: str) -> bool:
    """No control character at all: what a one-line field may hold."""
    return not any(unicodedata.category(char) == "Cc" for char in value)


def free_text(value: str) -> bool:
    """No control character but line breaks and tabs: what a text area may hold."""
    return one_line(value.replace("\r", "").replace("\n", "").replace("\t", ""))
