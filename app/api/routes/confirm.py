"""/confirm/<token>: the registered owner's confirmation page (README "Confirmation by the
registered owner").

Plain HTML, no JavaScript, no external assets, a strict Content-Security-Policy. GET and
HEAD only show (mail scanners and browsers' prefetch follow links); the one form posts
``answer=confirm|deny`` back to the same URL. A token that names nothing answers 404,
and a client address that keeps trying such tokens is refused for a while (429).
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import threading
import time
from collections import deque
from datetime import datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServiceDep
from app.db.engine import store_errors, write_transaction
from app.db.types import utcnow
from app.decision.service import DecisionService
from app.delivery.confirmations import HOLDER_STAGES, token_key
from app.records.confirmations import ANSWERS, Answer, Answered, Link, answer, look_up

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

# Unknown tokens a client address may try in THROTTLE_WINDOW before it is refused.
THROTTLE_LIMIT = 10
THROTTLE_WINDOW = 600.0
# Client addresses remembered at most, before those past the window are forgotten.
_MAX_CLIENTS = 10_000
# An answer is one short field; anything longer is not this form's.
_MAX_FORM_BYTES = 1024

_STYLE = (
    "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5}"
    "dt{font-weight:bold}button{font-size:1.1em;margin:.5em 1em .5em 0;padding:.4em 1.2em}"
    ".deny{background:#fdd}.confirm{background:#dfd}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
# Nothing but this page's own inline style; forms only to this origin; never framed.
CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    # The token is in the URL: no Referer carries it anywhere, no cache keeps it.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


class UnknownTokenThrottle:
    """Per client address, the times it asked for a token that names nothing."""

    def __init__(self, limit: int = THROTTLE_LIMIT, window: float = THROTTLE_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._misses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        misses = self._misses.setdefault(client, deque())
        while misses and now - misses[0] > self.window:
            misses.popleft()
        if not misses:
            del self._misses[client]
            return deque()
        return misses

    def refused(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.limit

    def miss(self, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            if len(self._misses) >= _MAX_CLIENTS:
                # Addresses that tried once and went away: forget those past the window.
                for other in list(self._misses):
                    self._recent(other, now)
            self._recent(client, now)
            self._misses.setdefault(client, deque()).append(now)


def _throttle(request: Request) -> UnknownTokenThrottle:
    state = request.app.state
    if getattr(state, "confirm_throttle", None) is None:
        state.confirm_throttle = UnknownTokenThrottle()
    throttle: UnknownTokenThrottle = state.confirm_throttle
    return throttle


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


@router.api_route("/confirm/{token}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def show(token: str, request: Request, service: ServiceDep) -> Response:
    """The summary and the form; changes nothing."""
    throttle = _throttle(request)
    if throttle.refused(_client(request)):
        return _page(429, _TOO_MANY, {"Retry-After": str(int(THROTTLE_WINDOW))})
    key = _key(request)
    with store_errors(), service.reads() as session:
        link = look_up(session, key, token, utcnow())
    if link is None:
        throttle.miss(_client(request))
        return _page(404, _UNKNOWN)
    if link.gone is not None:
        return _page(410, _gone(link))
    return _page(200, _form(link, service))


@router.post("/confirm/{token}", response_class=HTMLResponse)
async def decide(token: str, request: Request, service: ServiceDep) -> Response:
    """Record ``answer`` (confirm or deny) once; 410 when it was answered or expired."""
    throttle = _throttle(request)
    if throttle.refused(_client(request)):
        return _page(429, _TOO_MANY, {"Retry-After": str(int(THROTTLE_WINDOW))})
    body = await request.body()
    fields = parse_qs(body[:_MAX_FORM_BYTES].decode("latin-1")) if body else {}
    given = (fields.get("answer") or [""])[0]
    if len(body) > _MAX_FORM_BYTES or given not in ANSWERS:
        return _page(400, _BAD_FORM)
    key = _key(request)
    result = await _record(service, key, token, given)
    if result is None:
        throttle.miss(_client(request))
        return _page(404, _UNKNOWN)
    if isinstance(result, Link):
        return _page(410, _gone(result))
    return _page(200, _done(result))


async def _record(
    service: DecisionService, key: bytes, token: str, given: Answer
) -> Answered | Link | None:
    def run() -> Answered | Link | None:
        try:
            with write_transaction(service.sessions) as session:
                return answer(session, key, token, given, utcnow())
        except IntegrityError:
            # Another replica recorded an answer to the same link first: show it as used.
            with store_errors(), service.reads() as session:
                return look_up(session, key, token, utcnow())

    return await run_in_threadpool(run)


def _key(request: Request) -> bytes:
    return token_key(request.app.state.settings.require_secret_key())


def _page(status: int, body: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    document = (
        '<!DOCTYPE html>\n<html lang="pl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Potwierdzenie / Confirmation</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )
    return HTMLResponse(document, status_code=status, headers={**_HEADERS, **(headers or {})})


def _utc(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


def _summary(link: Link, service: DecisionService) -> str:
    titles = service.kind_titles()
    esc = html.escape
    if link.purpose == "panel_change":
        rows = [
            ("Konto / Account", esc(link.about)),
            ("Adres zmieniony / Address changed", _utc(link.arrived_at)),
            ("Numer / Reference", esc(link.reference)),
        ]
    else:
        kinds = "; ".join(esc(titles.get(kind, kind)) for kind in link.kinds)
        rows = [
            ("Usługa / Service", esc(link.about)),
            ("Rodzaj / Kind", kinds),
            ("Wpłynęło / Received", _utc(link.arrived_at)),
            ("Numer / Reference", esc(link.reference)),
        ]
    items = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return f"<dl>{items}</dl>"


def _form(link: Link, service: DecisionService) -> str:
    if link.purpose == "panel_change":
        intro = (
            "<h1>Zmiana adresu w Panelu Klienta</h1><p>Adres e-mail konta został zmieniony. "
            "Jeśli to nie Ty, wybierz <b>To nie ja</b>.</p>"
            "<h2>Panel address changed</h2><p>The account's e-mail address was changed. If it "
            "was not you, choose <b>Not me</b>.</p>"
        )
    elif link.purpose in HOLDER_STAGES:
        intro = _HOLDER_INTRO[link.purpose]
    else:
        intro = (
            "<h1>Potwierdź polecenie</h1><p>Czy to Ty wysłałeś(-aś) to polecenie do naszego "
            "biura obsługi? Nic nie zostanie zrobione bez Twojego potwierdzenia.</p>"
            "<h2>Confirm an instruction</h2><p>Did you send this instruction to our support "
            "desk? Nothing is done without your confirmation.</p>"
        )
    return (
        f"{intro}{_summary(link, service)}"
        f"<p>Link ważny do / valid until {_utc(link.expires_at)}.</p>"
        '<form method="post">'
        '<button class="confirm" type="submit" name="answer" value="confirm">'
        "Potwierdzam / Confirm</button>"
        '<button class="deny" type="submit" name="answer" value="deny">'
        "To nie ja / Not me</button></form>"
    )


def _done(result: Answered) -> str:
    link = result.link
    if link.answered == "confirm":
        if link.purpose == "panel_change":
            return "<h1>Dziękujemy / Thank you</h1><p>Nic się nie zmienia. / Nothing changes.</p>"
        if link.purpose == "holder":
            return (
                "<h1>Potwierdzone</h1><p>Dziękujemy. Teraz poprosimy nowego abonenta o "
                "potwierdzenie; zmiana nastąpi dopiero po nim. Numer "
                f"{html.escape(link.reference)}.</p>"
                "<h2>Confirmed</h2><p>Thank you. We now ask the new holder to confirm; the "
                f"change is made only after that. Reference {html.escape(link.reference)}.</p>"
            )
        return (
            "<h1>Potwierdzone</h1><p>Dziękujemy. Nasze biuro obsługi wykona polecenie "
            f"{html.escape(link.reference)}.</p>"
            "<h2>Confirmed</h2><p>Thank you. Our support desk will carry out instruction "
            f"{html.escape(link.reference)}.</p>"
        )
    if link.purpose == "panel_change":
        return (
            "<h1>Zgłoszone: to nie Ty</h1><p>Nasze biuro obsługi zostało powiadomione. Przez "
            "najbliższy czas każde polecenie dla tego konta będzie wymagało dodatkowego "
            "potwierdzenia. Skontaktuj się z nami telefonicznie, aby odzyskać dostęp do Panelu "
            f"Klienta, podając numer {html.escape(link.reference)}.</p>"
            "<h2>Reported: not you</h2><p>Our support desk has been told. For a while every "
            "instruction for this account needs one more proof. Call us to regain access to "
            f"the Customer Panel, quoting reference {html.escape(link.reference)}.</p>"
        )
    return (
        "<h1>Odrzucone: to nie Ty</h1><p>Polecenie nie zostanie wykonane i nic nie zostało "
        "zmienione. Przez najbliższy czas każde polecenie dla Twojego konta będzie wymagało "
        "dodatkowego potwierdzenia (np. kodu jednorazowego z Panelu Klienta). Zmień hasło do "
        "Panelu Klienta i do skrzynki pocztowej; w razie pytań skontaktuj się z nami przez "
        "Panel Klienta, podając numer "
        f"{html.escape(link.reference)}.</p>"
        "<h2>Denied: not you</h2><p>The instruction will not be carried out and nothing was "
        "changed. For a while every instruction for your account needs one more proof (such "
        "as a one-time code from the Customer Panel). Change the passwords of your Customer "
        "Panel and your mailbox; for questions contact us through the Customer Panel, quoting "
        f"reference {html.escape(link.reference)}.</p>"
    )


def _gone(link: Link) -> str:
    reference = html.escape(link.reference)
    if link.gone == "answered":
        what_pl = "Na to polecenie już odpowiedziano"
        what_en = "This link was already answered"
    elif link.gone == "decided":
        what_pl = "O tym poleceniu zdecydowało już nasze biuro obsługi"
        what_en = "Our support desk has already decided on this instruction"
    else:
        what_pl = "Ten link wygasł"
        what_en = "This link has expired"
    return (
        f"<h1>{what_pl}</h1><p>Link jest jednorazowy i nie może być użyty ponownie. Jeśli "
        "polecenie jest nadal aktualne, wyślij je ponownie albo skontaktuj się z nami przez "
        f"Panel Klienta, podając numer {reference}.</p>"
        f"<h2>{what_en}</h2><p>The link works once and cannot be used again. If the "
        "instruction still stands, send it again or contact us through the Customer Panel, "
        f"quoting reference {reference}.</p>"
    )


# A holder change (e-cesja): the current holder answers first, then the new holder.
_HOLDER_INTRO = {
    "holder": (
        "<h1>Potwierdź zmianę abonenta</h1><p>Czy to Ty zleciłeś(-aś) przeniesienie tej usługi "
        "na innego abonenta? Nic nie zostanie zrobione bez Twojego potwierdzenia i zgody "
        "nowego abonenta.</p>"
        "<h2>Confirm a change of holder</h2><p>Did you ask for this service to be assigned "
        "to another holder? Nothing is done without your confirmation and the new holder's "
        "consent.</p>"
    ),
    "new_holder": (
        "<h1>Przejęcie usługi</h1><p>Obecny abonent zlecił przeniesienie tej usługi na Twoje "
        "konto i to potwierdził. Czy się zgadzasz?</p>"
        "<h2>Taking over a service</h2><p>The current holder asked for this service to be "
        "assigned to your account and confirmed it. Do you agree?</p>"
    ),
}

_UNKNOWN = (
    "<h1>Nieznany link</h1><p>Ten link niczego nie potwierdza: jest niepełny albo został "
    "zastąpiony nowszym. Skopiuj cały link z najnowszej wiadomości od nas albo skontaktuj się "
    "z nami przez Panel Klienta.</p>"
    "<h2>Unknown link</h2><p>This link confirms nothing: it is incomplete or was replaced by "
    "a newer one. Copy the whole link from our latest message, or contact us through the "
    "Customer Panel.</p>"
)
_TOO_MANY = (
    "<h1>Zbyt wiele prób</h1><p>Spróbuj ponownie później.</p>"
    "<h2>Too many attempts</h2><p>Try again later.</p>"
)
_BAD_FORM = (
    "<h1>Nieczytelna odpowiedź</h1><p>Wróć do linku z wiadomości i wybierz jeden z przycisków."
    "</p><h2>Unreadable answer</h2><p>Go back to the link in our message and choose one of "
    "the buttons.</p>"
)
