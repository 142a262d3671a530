"""The verdict page and the forms on it: the review, the action taken for the customer,
and the postal documents received.

Each form records through the function its REST endpoint calls (app.records), with the
logged-in agent's login as the agent: no form has an agent field, and one sent anyway
is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from app.console import rendering, sessions
from app.console.evidence import evidence
from app.console.refusals import refusal
from app.console.web import (
    console_router,
    free_text,
    one_line,
    posted,
    read,
    render,
    service_of,
    to_login,
    who,
)
from app.console.web import write as write_store
from app.db.types import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.records.documents import DocumentChecks, record_documents
from app.records.reviews import ActionRequest, ReviewRequest, record_action, record_review
from app.registry.customers import LOGIN

router = console_router()
# ``message`` in the language of the request being answered.
_ = rendering.gettext

# As POST /v1/verdicts/{id}/review and /actions and /documents take them.
MAX_REASON: Final = 2000
MAX_ACTION: Final = 100
MAX_DETAILS: Final = 4000
MAX_CODE_REF: Final = 100
MAX_NOTE: Final = 2000
# The form fields an agent typed, shown again when the form is refused.
_ACTION_FIELDS: Final = ("action", "details", "login", "code_ref")


@router.get("/verdicts/{verdict_id}", response_class=HTMLResponse)
async def verdict(request: Request, verdict_id: str) -> Response:
    current = await who(request)
    if current is None:
        return to_login()
    return await verdict_page(request, current, verdict_id)


async def verdict_page(
    request: Request,
    current: sessions.Current,
    verdict_id: str,
    status: int = 200,
    error: str = "",
    typed: dict[str, str] | None = None,
) -> Response:
    """The verdict's page; ``error`` above its forms, the action form refilled from ``typed``."""
    service = service_of(request)
    policy, signer, catalogue = service.rules.policy, service.signer, service.rules.catalogue
    try:
        shown = await read(request, lambda s: evidence(s, verdict_id, policy, signer, catalogue))
    except NotFound:
        return _no_verdict(current, verdict_id)
    typed = typed or {}
    return render(
        "verdict.html",
        status,
        who=current,
        e=shown,
        v=shown.verdict,
        error=error,
        titles=service_of(request).kind_titles(rendering.speech().lang),
        max_reason=MAX_REASON,
        limits={
            "action": MAX_ACTION,
            "details": MAX_DETAILS,
            "code_ref": MAX_CODE_REF,
            "note": MAX_NOTE,
        },
        typed={field: typed.get(field, "") for field in _ACTION_FIELDS},
    )


def _no_verdict(current: sessions.Current, verdict_id: str) -> Response:
    # The id asked for, as typed: shown, never looked up in the catalogue.
    return render(
        "refused.html", 404, title=_("No such verdict"), detail=verdict_id[:100], who=current
    )


async def _record(
    request: Request,
    current: sessions.Current,
    verdict_id: str,
    work: Callable[[Any], object],
    typed: dict[str, str] | None = None,
) -> Response:
    """Record ``work(session)``; back to the verdict page, or the page with the refusal."""
    try:
        await write_store(request, work)
    except NotFound:
        return _no_verdict(current, verdict_id)
    except InvalidInput as exc:
        return await verdict_page(request, current, verdict_id, 400, refusal(exc), typed)
    except Conflict as exc:
        return await verdict_page(request, current, verdict_id, 409, refusal(exc), typed)
    except IntegrityError:
        # Another agent's first review of the same verdict was recorded first.
        return await verdict_page(
            request, current, verdict_id, 409, _("Another review was recorded first; see it below.")
        )
    return RedirectResponse(f"/console/verdicts/{verdict_id}#history", status_code=303)


@router.post("/verdicts/{verdict_id}/review", response_class=HTMLResponse)
async def review(request: Request, verdict_id: str) -> Response:
    """Record the first review of a verdict under the logged-in agent's login."""
    checked = await posted(request)
    if isinstance(checked, Response):
        return checked
    current, fields = checked
    decision, reason = fields.get("decision", ""), fields.get("reason", "").strip()
    if decision not in ("accepted", "rejected"):
        return await verdict_page(request, current, verdict_id, 400, _("Choose accept or reject."))
    if not reason or len(reason) > MAX_REASON or not free_text(reason):
        too_long = _("Give the reason (1 to %(most)d characters).") % {"most": MAX_REASON}
        return await verdict_page(request, current, verdict_id, 400, too_long)
    wanted: Literal["accepted", "rejected"] = "accepted" if decision == "accepted" else "rejected"
    asked = ReviewRequest(wanted, current.agent.login, reason)
    now = utcnow()
    return await _record(
        request, current, verdict_id, lambda s: record_review(s, verdict_id, asked, now)
    )


@router.post("/verdicts/{verdict_id}/actions", response_class=HTMLResponse)
async def action(request: Request, verdict_id: str) -> Response:
    """Record what the logged-in agent changed for the customer, as POST …/actions does."""
    checked = await posted(request)
    if isinstance(checked, Response):
        return checked
    current, fields = checked
    typed = {field: fields.get(field, "").strip() for field in _ACTION_FIELDS}
    problem = _action_problem(typed)
    if problem:
        return await verdict_page(request, current, verdict_id, 400, problem, typed)
    asked = ActionRequest(
        agent=current.agent.login,
        action=typed["action"],
        details=typed["details"],
        login=typed["login"],
        code_ref=typed["code_ref"] or None,
    )
    now = utcnow()
    return await _record(
        request, current, verdict_id, lambda s: record_action(s, verdict_id, asked, now), typed
    )


def _action_problem(typed: dict[str, str]) -> str:
    if not typed["action"] or len(typed["action"]) > MAX_ACTION or not one_line(typed["action"]):
        return _("Name the action in one line (1 to %(most)d characters).") % {"most": MAX_ACTION}
    details = typed["details"]
    if not details or len(details) > MAX_DETAILS or not free_text(details):
        return _("Describe what was changed (1 to %(most)d characters).") % {"most": MAX_DETAILS}
    if not LOGIN.fullmatch(typed["login"]):
        return _("Give the customer's login (as in the Customer Panel).")
    code_ref = typed["code_ref"]
    if len(code_ref) > MAX_CODE_REF or not one_line(code_ref):
        return _("The code reference is the id of a verdict or verification, one line.")
    return ""


@router.post("/verdicts/{verdict_id}/documents", response_class=HTMLResponse)
async def documents(request: Request, verdict_id: str) -> Response:
    """Record the postal documents the logged-in agent checked, as POST …/documents does."""
    checked = await posted(request)
    if isinstance(checked, Response):
        return checked
    current, fields = checked
    note = fields.get("note", "").strip()
    if len(note) > MAX_NOTE or not free_text(note):
        too_long = _("The note has at most %(most)d characters.") % {"most": MAX_NOTE}
        return await verdict_page(request, current, verdict_id, 400, too_long)
    # A checkbox is sent only when ticked.
    ticked = DocumentChecks(
        name=fields.get("name") == "yes",
        address=fields.get("address") == "yes",
        signature_or_stamp=fields.get("signature_or_stamp") == "yes",
    )
    login, now = current.agent.login, utcnow()
    return await _record(
        request,
        current,
        verdict_id,
        lambda s: record_documents(s, verdict_id, login, ticked, note or None, now),
    )
