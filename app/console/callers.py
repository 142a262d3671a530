"""Phone and chat (/console/verify) and the customers page (/console/customers).

A verification is recorded by app.records.verifications.record_verification, what
``POST /v1/verifications`` records through, under the logged-in agent's login. The
PESEL, NIP or REGON and the one-time code a caller gives are never written back into a
page: a refused or answered form comes back with those fields empty.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, get_args

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.console import rendering, sessions
from app.console.customers import customer_page, holder_of
from app.console.i18n import N_
from app.console.refusals import refusal
from app.console.web import console_router, one_line, posted, read, render, to_login, who, write
from app.db.types import utcnow
from app.errors import InvalidInput, NotFound
from app.records.verifications import (
    CallerClaims,
    record_verification,
    recorded_verification,
    verification_json,
)
from app.registry.codes import normalise_code
from app.registry.customers import LOGIN
from app.registry.identifiers import IdentifierKind

router = console_router()
# ``message`` in the language of the request being answered.
_ = rendering.gettext

Channel = Literal["phone", "chat"]
CHANNELS: Final = get_args(Channel)
# What an agent may do at each stage of the procedure (app.records.verifications).
STAGES: Final = (
    (
        "none",
        N_("Disclose nothing and change nothing; ask for the identifier or the login and code."),
    ),
    ("identified", N_("Give information about the service; change nothing without a code.")),
    ("authorized", N_("Make the change asked for, and record it with this verification's id.")),
)
# Words the pages show through _(value): the channels, and a customer's kind.
SHOWN_WORDS: Final = (N_("phone"), N_("chat"), N_("person"), N_("company"))
# The fields that are shown again; never the identifier nor the code.
_KEPT: Final = ("channel", "service", "identifier_kind", "login")


@router.get("/verify", response_class=HTMLResponse)
async def verify_form(
    request: Request, done: Annotated[str | None, Query(max_length=36)] = None
) -> Response:
    """The form; with ``done``, also the verification the agent just recorded (the
    answer to a POST is a redirect here, so reloading the page records nothing again)."""
    current = await who(request)
    if current is None:
        return to_login()
    if done is None:
        return _verify_page(current, {}, None, "", 200)
    whole = current.agent.role == "lead"

    def look(session: Any) -> tuple[dict[str, str], dict[str, Any]] | None:
        row = recorded_verification(session, done)
        # An agent sees their own verifications; a lead every one.
        if row is None or (row.agent != current.agent.login and not whole):
            return None
        kept = {
            "channel": row.channel,
            "service": row.service,
            "identifier_kind": row.identifier_kind or "",
            "login": row.login or "",
        }
        return kept, verification_json(row)

    found = await read(request, look)
    if found is None:
        return _verify_page(current, {}, None, _("No verification of yours has that id."), 404)
    return _verify_page(current, found[0], found[1], "", 200)


def _verify_page(
    current: sessions.Current,
    kept: dict[str, str],
    result: dict[str, Any] | None,
    error: str,
    status: int,
) -> Response:
    return render(
        "verify.html",
        status,
        who=current,
        kept={field: kept.get(field, "") for field in _KEPT},
        result=result,
        error=error,
        channels=CHANNELS,
        kinds=[kind.value for kind in IdentifierKind],
        stages=STAGES,
    )


@router.post("/verify", response_class=HTMLResponse)
async def verify(request: Request) -> Response:
    """Record which stage the caller reached, as POST /v1/verifications does."""
    checked = await posted(request)
    if isinstance(checked, Response):
        return checked
    current, fields = checked
    kept = {field: fields.get(field, "").strip() for field in _KEPT}
    kept["login"] = kept["login"].lower()
    claims = _claims(current, kept, fields)
    if isinstance(claims, str):
        return _verify_page(current, kept, None, claims, 400)
    secret: bytes = request.app.state.settings.require_secret_key()
    now = utcnow()
    try:
        result = await write(request, lambda s: record_verification(s, claims, secret, now))
    except InvalidInput as exc:
        # The service's name (never an identifier: those are checked inside, as reasons).
        return _verify_page(current, kept, None, refusal(exc), 400)
    # Post, redirect, get: a reload shows the result without recording it twice.
    return RedirectResponse(f"/console/verify?done={result['id']}", status_code=303)


def _claims(
    current: sessions.Current, kept: dict[str, str], fields: dict[str, str]
) -> CallerClaims | str:
    """What the caller said, as the record takes it; or what is wrong with the form."""
    channel = kept["channel"]
    if channel not in CHANNELS:
        return _("Choose phone or chat.")
    service = kept["service"]
    if not service or len(service) > 253 or not one_line(service):
        return _("Give the service the caller names (a domain or server id).")
    identifier = fields.get("identifier", "").strip()
    kind = None
    if identifier:
        try:
            kind = IdentifierKind(kept["identifier_kind"])
        except ValueError:
            return _("Say which identifier the caller gave: PESEL, NIP or REGON.")
        if len(identifier) > 20:
            return _("That identifier is too long to be a PESEL, NIP or REGON.")
    login, code_text = kept["login"], fields.get("code", "").strip()
    if login and not LOGIN.fullmatch(login):
        return _("The login is 2 to 64 lower-case letters, digits, '.', '_' or '-'.")
    code = None
    if code_text:
        code = normalise_code(code_text)
        if code is None:
            return _("A one-time code is 8 digits, like 1234-5678.")
        if not login:
            return _("A one-time code is checked together with the login.")
    return CallerClaims(
        channel="phone" if channel == "phone" else "chat",
        service=service,
        agent=current.agent.login,
        identifier_kind=kind,
        identifier=identifier or None,
        login=login or None,
        code=code,
    )


@router.get("/customers", response_class=HTMLResponse)
async def customers(
    request: Request,
    service: Annotated[str | None, Query(max_length=253)] = None,
    login: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Look a customer up by a service they hold or by their login."""
    current = await who(request)
    if current is None:
        return to_login()
    service = (service or "").strip()
    wanted = (login or "").strip().lower()
    asked = {"service": service, "login": wanted}
    whole = current.agent.role == "lead"

    def look(session: Any) -> Any:
        holder = wanted
        if service:
            holder = holder_of(session, service) or ""
            if not holder:
                return service
        return customer_page(session, holder, whole) if holder else None

    if service and wanted:
        return _customers_page(current, asked, None, _("Look up by service or by login."), 400)
    if wanted and not LOGIN.fullmatch(wanted):
        return _customers_page(current, asked, None, _("No customer has that login."), 404)
    try:
        found = await read(request, look)
    except InvalidInput as exc:
        return _customers_page(current, asked, None, refusal(exc), 400)
    except NotFound:
        missing = _("No customer has the login %(login)s.") % {"login": wanted}
        return _customers_page(current, asked, None, missing, 404)
    if isinstance(found, str):
        # The service no customer holds.
        missing = _("No customer holds %(service)s.") % {"service": found}
        return _customers_page(current, asked, None, missing, 404)
    return _customers_page(current, asked, found, "", 200)


def _customers_page(
    current: sessions.Current, asked: dict[str, str], found: Any, error: str, status: int
) -> Response:
    return render("customers.html", status, who=current, asked=asked, c=found, error=error)
