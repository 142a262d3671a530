"""The console's routes: login and logout, the queue, a verdict and its review form.

Every page is rendered on the server from app/console/templates (Jinja2, every value
escaped) under a Content-Security-Policy that allows no script at all and styles only
from /console/static; every task works without JavaScript. POSTs read a small
urlencoded form and are refused (403) without the session's CSRF token. Pages speak the
request's language (app/console/rendering.py) and offer a switch (/console/language).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from importlib import resources
from typing import Annotated, Any, Final, Literal, TypeVar
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from app.console import agents, i18n, rendering, sessions
from app.console.evidence import evidence
from app.console.i18n import N_
from app.console.queue import OPEN, open_verdicts
from app.db.engine import store_errors
from app.db.types import utcnow
from app.decision.service import DecisionService
from app.errors import Conflict, NotFound
from app.records.reviews import ReviewRequest, record_review
from app.registry.customers import LOGIN

router = APIRouter(
    prefix="/console", include_in_schema=False, dependencies=[Depends(rendering.choose_language)]
)

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
# A review's reason is a few sentences; the login form two short fields.
_MAX_FORM_BYTES: Final = 16 * 1024
MAX_REASON: Final = 2000
_ASSETS: Final = {"console.css": "text/css; charset=utf-8"}
# Where the switch may send the browser back to: a page of the console, nothing else.
_BACK: Final = re.compile(r"^/console/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$")
_LANG_MAX_AGE: Final = 365 * 24 * 3600
T = TypeVar("T")


def _render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    body = rendering.page(template, **context)
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


# ``message`` in the language of the request being answered.
_ = rendering.gettext


def _service(request: Request) -> DecisionService:
    service: DecisionService = request.app.state.service
    return service


def _lifetime(request: Request) -> sessions.Lifetime:
    settings = request.app.state.settings
    return sessions.Lifetime(
        idle=timedelta(minutes=settings.console_idle_minutes),
        absolute=timedelta(hours=settings.console_session_hours),
    )


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def _write(request: Request, work: Callable[[Any], T]) -> T:
    """``work(session)`` in a transaction, off the event loop."""
    return await _in_store(request, work, write=True)


async def _read(request: Request, work: Callable[[Any], T]) -> T:
    """``work(session)`` in a read-only session (on SQLite not queued behind writers)."""
    return await _in_store(request, work, write=False)


async def _in_store(request: Request, work: Callable[[Any], T], write: bool) -> T:
    service = _service(request)

    def run() -> T:
        with store_errors(), service.sessions.begin() if write else service.reads() as session:
            return work(session)

    return await run_in_threadpool(run)


async def _who(request: Request) -> sessions.Current | None:
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    if not cookie:
        return None
    lifetime, now = _lifetime(request), utcnow()
    # Most pages only read: the store is written to once a minute per session at most.
    found, stale = await _read(request, lambda s: sessions.look_up(s, cookie, now, lifetime))
    if not stale:
        return found
    return await _write(request, lambda s: sessions.current(s, cookie, now, lifetime))


async def _form(request: Request) -> dict[str, str] | None:
    """The urlencoded form, one value a field; None when it is too large to be ours."""
    body = b""
    # Read no more than a form of ours can be: a client may send gigabytes.
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _login_key(request: Request) -> bytes:
    secret: bytes = request.app.state.settings.require_secret_key()
    return hashlib.sha256(b"intakeguard console login\0" + secret).digest()


def _to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


def _refused(status: int, title: str, detail: str) -> HTMLResponse:
    """A refusal; ``title`` and ``detail`` are translated here (mark literals with N_)."""
    return _render("refused.html", status, title=_(title), detail=_(detail), who=None)


def _too_large() -> HTMLResponse:
    return _refused(
        413, N_("Form too large"), N_("No form of the console is this large; nothing was recorded.")
    )


# --- login and logout ------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def show_login(request: Request) -> Response:
    if await _who(request) is not None:
        return RedirectResponse("/console/", status_code=303)
    return _login_page(request, 200, "")


def _login_page(request: Request, status: int, error: str) -> Response:
    # A fresh pre-login value each time the form is shown; the token is bound to it.
    value = secrets.token_urlsafe(32)
    response = _render(
        "login.html", status, csrf=sessions.login_token(_login_key(request), value), error=error
    )
    _set_cookie(request, response, sessions.LOGIN_COOKIE, value, "/console/login", None)
    return response


def _set_cookie(
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


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await _form(request)
    pre = request.cookies.get(sessions.LOGIN_COOKIE, "")
    if form is None:
        return _too_large()
    if not pre:
        return _refused(
            403, N_("Form refused"), N_("Open the login page again and log in from there.")
        )
    expected = sessions.login_token(_login_key(request), pre)
    if not sessions.csrf_matches(expected, form.get("csrf", "")):
        return _refused(
            403, N_("Form refused"), N_("Open the login page again and log in from there.")
        )
    name, password = form.get("login", "").strip().lower(), form.get("password", "")
    address, now = _address(request), utcnow()
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

    outcome = await _read(request, check)
    if outcome == "throttled":
        minutes = int(sessions.THROTTLE_WINDOW.total_seconds() // 60)
        too_many = _("Too many failed logins. Try again in %(minutes)d minutes.")
        return _login_page(request, 429, too_many % {"minutes": minutes})
    if isinstance(outcome, str):
        await _write(request, lambda s: sessions.record_failure(s, name, address, now))
        return _login_page(request, 401, _("Wrong login or password."))
    agent = outcome
    cookie = await _write(request, lambda s: open_session(s, agent))
    response = RedirectResponse("/console/", status_code=303)
    lifetime = int(_lifetime(request).absolute.total_seconds())
    _set_cookie(request, response, sessions.SESSION_COOKIE, cookie, "/console/", lifetime)
    response.delete_cookie(sessions.LOGIN_COOKIE, path="/console/login")
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request) -> Response:
    who = await _who(request)
    form = await _form(request)
    if who is None:
        return _to_login()
    if form is None:
        return _too_large()
    if not sessions.csrf_matches(who.csrf, form.get("csrf", "")):
        return _refused(403, N_("Form refused"), N_("Log out from a page of the console."))
    cookie = request.cookies.get(sessions.SESSION_COOKIE, "")
    await _write(request, lambda s: sessions.end(s, cookie))
    response = _to_login()
    response.delete_cookie(sessions.SESSION_COOKIE, path="/console/")
    return response


# --- the queue and a verdict -----------------------------------------------------------

OpenDecision = Literal["review", "otp_required", "postal_required", "confirmation_required"]


@router.get("/", response_class=HTMLResponse)
async def queue(
    request: Request,
    decision: OpenDecision | None = None,
    customer: Annotated[str | None, Query(max_length=64, pattern=LOGIN.pattern)] = None,
    service: Annotated[str | None, Query(min_length=1, max_length=253)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    who = await _who(request)
    if who is None:
        return _to_login()
    wanted = service.strip().lower() if service else None

    def read(session: Any) -> Any:
        return open_verdicts(
            session, decision=decision, customer=customer, service=wanted, after=after
        )

    page = await _read(request, read)
    filters = {"decision": decision, "customer": customer, "service": wanted}
    given = {k: v for k, v in filters.items() if v}
    next_url = None
    if page.next_after is not None:
        next_url = "/console/?" + urlencode({**given, "after": page.next_after})
    return _render(
        "queue.html",
        who=who,
        rows=page.rows,
        now=utcnow(),
        decisions=OPEN,
        filters=filters,
        filtered=bool(given),
        next_url=next_url,
        first_url=("/console/?" + urlencode(given)) if after is not None else None,
        titles=_service(request).kind_titles(rendering.speech().lang),
    )


@router.get("/verdicts/{verdict_id}", response_class=HTMLResponse)
async def verdict(request: Request, verdict_id: str) -> Response:
    who = await _who(request)
    if who is None:
        return _to_login()
    return await _verdict_page(request, who, verdict_id, 200, error="")


async def _verdict_page(
    request: Request, who: sessions.Current, verdict_id: str, status: int, error: str
) -> Response:
    policy, signer = _service(request).rules.policy, _service(request).signer
    try:
        shown = await _read(request, lambda s: evidence(s, verdict_id, policy, signer))
    except NotFound:
        return _render(
            "refused.html", 404, title=_("No such verdict"), detail=verdict_id[:100], who=who
        )
    return _render(
        "verdict.html",
        status,
        who=who,
        e=shown,
        v=shown.verdict,
        error=error,
        titles=_service(request).kind_titles(rendering.speech().lang),
        max_reason=MAX_REASON,
    )


@router.post("/verdicts/{verdict_id}/review", response_class=HTMLResponse)
async def review(request: Request, verdict_id: str) -> Response:
    """Record the first review of a verdict under the logged-in agent's login."""
    who = await _who(request)
    form = await _form(request)
    if who is None:
        return _refused(
            403, N_("Not logged in"), N_("Your session ended: log in again. Nothing was recorded.")
        )
    if form is None:
        return _too_large()
    if not sessions.csrf_matches(who.csrf, form.get("csrf", "")):
        return _refused(
            403, N_("Form refused"), N_("The form was not this session's. Nothing was recorded.")
        )
    decision, reason = form.get("decision", ""), form.get("reason", "").strip()
    if decision not in ("accepted", "rejected"):
        return await _verdict_page(request, who, verdict_id, 400, _("Choose accept or reject."))
    if not reason or len(reason) > MAX_REASON:
        return await _verdict_page(
            request,
            who,
            verdict_id,
            400,
            _("Give the reason (1 to %(most)d characters).") % {"most": MAX_REASON},
        )
    wanted: Literal["accepted", "rejected"] = "accepted" if decision == "accepted" else "rejected"
    asked = ReviewRequest(wanted, who.agent.login, reason)
    now = utcnow()
    try:
        await _write(request, lambda s: record_review(s, verdict_id, asked, now))
    except NotFound:
        return _render(
            "refused.html", 404, title=_("No such verdict"), detail=verdict_id[:100], who=who
        )
    except Conflict as exc:
        return await _verdict_page(request, who, verdict_id, 409, str(exc))
    except IntegrityError:
        # Another agent's first review of the same verdict was recorded first.
        return await _verdict_page(
            request, who, verdict_id, 409, _("Another review was recorded first; see it below.")
        )
    return RedirectResponse(f"/console/verdicts/{verdict_id}", status_code=303)


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
        return _refused(400, N_("No such language"), N_("The console speaks English and Polish."))
    target = back if _BACK.match(back) and "//" not in back else "/console/"
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, i18n.LANG_COOKIE, to, "/console/", _LANG_MAX_AGE)
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
