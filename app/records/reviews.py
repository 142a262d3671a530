"""Agents' reviews of verdicts and the actions they then take; insert-only, chained.

A verdict is never changed: a review records an agent's decision on a ``review`` or
``otp_required`` verdict, a later review may supersede it (naming it, with a reason),
and the verdict's current state is derived from the newest review.

Reviews and actions of one verdict are decided one at a time: each takes a lock on the
verdict's row before reading its state (PostgreSQL ``SELECT … FOR UPDATE``; SQLite's
IMMEDIATE transactions already hold the database's write lock), so an action can never
be recorded on the strength of a review that a concurrent one was superseding.

Free text (a review's reason, an action's name and details) is stored with every
PESEL, NIP and REGON replaced by its kind, and enters the audit chain only through the
erasable personal side row (app.audit.chain), never its permanent payload.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit import chain, hashing
from app.db.models import (
    AgentAction,
    Confirmation,
    ConfirmationAnswer,
    Customer,
    DocumentReceipt,
    OneTimeCode,
    Review,
    Verdict,
)
from app.db.types import iso_z, utcnow
from app.delivery.outbox import enqueue
from app.errors import Conflict, InvalidInput
from app.logs import redact
from app.records.verdicts import find_verdict

log = logging.getLogger(__name__)

# What an agent may still decide; accepted and rejected are final, postal_required
# is completed by documents received (app.records.verifications.record_documents).
# confirmation_required: until the owner answers (then the answer decides).
REVIEWABLE = ("review", "otp_required", "confirmation_required")
# What an owner's answer to a confirmation makes of the verdict.
ANSWERED = {"confirm": "accepted", "deny": "rejected"}


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    decision: Literal["accepted", "rejected"]
    agent: str
    reason: str
    supersedes: str | None = None


@dataclass(frozen=True, slots=True)
class ActionRequest:
    agent: str
    action: str
    details: str
    login: str
    code_ref: str | None = None


def record_review(
    session: Session, verdict_id: str, request: ReviewRequest, now: datetime
) -> dict[str, Any]:
    """Record an agent's decision; Conflict when the verdict is final or already reviewed
    and the request does not supersede the current review."""
    verdict = locked_verdict(session, verdict_id)
    if verdict.decision not in REVIEWABLE:
        raise _not_reviewable(verdict)
    answer = _answer(session, verdict.id)
    if answer is not None:
        outcome = _answered(session, verdict.id) or "waiting for the new holder's answer"
        raise Conflict(
            f"verdict {verdict.id} was decided by the registered owner, who answered "
            f"{answer.answer} to the confirmation; it is {outcome}",
            reason="decided-by-owner",
            values={"answer": answer.answer},
        )
    reviews = _reviews(session, verdict.id)
    latest = reviews[-1] if reviews else None
    if latest is None and request.supersedes is not None:
        raise Conflict(
            f"verdict {verdict.id} has no review yet, so there is none to supersede; "
            "send the review without 'supersedes'",
            reason="nothing-to-supersede",
        )
    if latest is not None and request.supersedes is None:
        raise Conflict(
            f"verdict {verdict.id} was already reviewed: {latest.decision} by {latest.agent} "
            f"(review {latest.id}); to correct it, send 'supersedes': '{latest.id}' with "
            "the reason for the correction",
            reason="already-reviewed",
            values={"decision": latest.decision, "agent": latest.agent},
        )
    if latest is not None and request.supersedes != latest.id:
        raise Conflict(
            f"review {request.supersedes!r} is not the current review of verdict {verdict.id}; "
            f"the current one is {latest.id}, and only it can be superseded",
            reason="not-the-current-review",
        )
    review = Review(
        id=str(uuid.uuid4()),
        verdict_id=verdict.id,
        recorded_at=now,
        decision=request.decision,
        agent=request.agent,
        reason=redact(request.reason),
        supersedes=request.supersedes,
        # Unique: of two first reviews racing, the second fails (409 from the API).
        first_for_verdict=verdict.id if latest is None else None,
    )
    session.add(review)
    session.flush()
    result = review_json(review)
    chain.append(
        session,
        "review",
        verdict.id,
        {
            "review_id": review.id,
            "verdict_id": verdict.id,
            "decision": review.decision,
            "agent": review.agent,
            "supersedes": review.supersedes,
            "record_sha256": hashing.record_digest(result),
            "row_sha256": hashing.digest_of(review),
        },
        personal={"reason": review.reason},
    )
    enqueue(
        session,
        "verdict.reviewed",
        {
            "verdict_id": verdict.id,
            "customer": verdict.customer,
            "decision": review.decision,
            "review": result,
        },
    )
    log.info(
        "verdict %s reviewed by %s: %s%s",
        verdict.id,
        request.agent,
        request.decision,
        f" (superseding review {request.supersedes})" if request.supersedes else "",
    )
    return result


def locked_verdict(session: Session, verdict_id: str) -> Verdict:
    """The verdict row, locked until commit: reviews and actions of one verdict are
    decided one at a time, each reading the state the one before it left."""
    verdict = find_verdict(session, verdict_id)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Verdict.seq).where(Verdict.seq == verdict.seq).with_for_update())
    # SQLite: the transaction began IMMEDIATE (app.db.engine) and holds the write lock.
    return verdict


def _not_reviewable(verdict: Verdict) -> Conflict:
    if verdict.decision == "postal_required":
        return Conflict(
            f"verdict {verdict.id} is postal_required: it is completed by signed documents "
            "received by post (POST /v1/verdicts/{id}/documents), not by a review",
            reason="review-of-postal",
        )
    return Conflict(
        f"verdict {verdict.id} is {verdict.decision}, which is final; only review, "
        "otp_required and confirmation_required verdicts are decided by an agent",
        reason="review-of-final",
        values={"decision": verdict.decision},
    )


def review_state(session: Session, verdict_id: str) -> dict[str, Any]:
    """The verdict's decision as recorded, its current decision, and every review."""
    verdict = find_verdict(session, verdict_id)
    reviews = _reviews(session, verdict.id)
    return {
        "verdict_id": verdict.id,
        "verdict_decision": verdict.decision,
        "current_decision": _current_decision(session, verdict, reviews),
        "reviews": [review_json(r) for r in reviews],
        "confirmation": confirmation_state(session, verdict.id, utcnow()),
    }


def confirmation_state(session: Session, verdict_id: str, now: datetime) -> dict[str, Any] | None:
    """``{status, sent_at, decided_at, parties}`` of the verdict's confirmation; None if
    none was sent.

    ``parties``: each one asked, ``{role: holder|new_holder, status, sent_at, decided_at}``
    (a holder change has both; the new holder's status is ``waiting`` until the current
    holder confirms, ``cancelled`` when they deny). The overall status is ``confirmed``
    once every party confirmed, ``denied`` when any denied, ``expired`` when a stage ran
    out of time, else ``pending``; ``decided_at`` is when that became so.
    """
    row = session.scalar(select(Confirmation).where(Confirmation.verdict_id == verdict_id))
    # Planned but its mail not sent yet (the outbox is about to, or the hourly limit held
    # it back): nothing was sent.
    if row is None or row.sends == 0:
        return None
    second = session.scalar(select(Confirmation).where(Confirmation.new_holder_for == verdict_id))
    if second is None:
        return confirmation_json(session, row, now)
    parties = [_party(session, row, now), _party(session, second, now)]
    statuses = [party["status"] for party in parties]
    if "denied" in statuses:
        status = "denied"
    elif all(s == "confirmed" for s in statuses):
        status = "confirmed"
    elif "expired" in statuses:
        status = "expired"
    else:
        status = "pending"
    decided = [p["decided_at"] for p in parties if p["status"] in ("confirmed", "denied")]
    final = status in ("confirmed", "denied")
    return {
        "status": status,
        "sent_at": parties[0]["sent_at"],
        "decided_at": max(decided) if final else None,
        "parties": parties,
    }


def confirmation_json(session: Session, row: Confirmation, now: datetime) -> dict[str, Any]:
    """status: pending, confirmed, denied or expired; times in ISO 8601 UTC; the one
    party asked (a confirmation that is not a holder change's)."""
    party = _party(session, row, now)
    return {
        "status": party["status"],
        "sent_at": party["sent_at"],
        "decided_at": party["decided_at"],
        "parties": [party],
    }


def _party(session: Session, row: Confirmation, now: datetime) -> dict[str, Any]:
    answer = session.scalar(
        select(ConfirmationAnswer).where(ConfirmationAnswer.confirmation_id == row.id)
    )
    if answer is not None:
        status = "confirmed" if answer.answer == "confirm" else "denied"
    elif row.status in ("waiting", "cancelled"):
        status = row.status
    elif row.status == "expired" or (row.expires_at is not None and row.expires_at <= now):
        status = "expired"
    else:
        status = "pending"
    return {
        "role": "new_holder" if row.purpose == "new_holder" else "holder",
        "status": status,
        "sent_at": iso_z(row.sent_at) if row.sent_at is not None else None,
        "decided_at": iso_z(answer.recorded_at) if answer is not None else None,
    }


def _answered(session: Session, verdict_id: str) -> str | None:
    """What the owners' answers make of a confirmation_required verdict: rejected when
    anyone denied, accepted when everyone asked confirmed; None while someone has yet to
    answer (a holder change's new holder), or nobody has."""
    answers = list(
        session.scalars(
            select(ConfirmationAnswer.answer).where(ConfirmationAnswer.verdict_id == verdict_id)
        )
    )
    if not answers:
        return None
    if "deny" in answers:
        return ANSWERED["deny"]
    stages = session.scalar(
        select(Confirmation.id).where(Confirmation.new_holder_for == verdict_id)
    )
    needed = 2 if stages is not None else 1
    return ANSWERED["confirm"] if len(answers) >= needed else None


def _answer(session: Session, verdict_id: str) -> ConfirmationAnswer | None:
    return session.scalar(
        select(ConfirmationAnswer)
        .where(ConfirmationAnswer.verdict_id == verdict_id)
        .order_by(ConfirmationAnswer.seq)
        .limit(1)
    )


def _reviews(session: Session, verdict_id: str) -> list[Review]:
    return list(
        session.scalars(select(Review).where(Review.verdict_id == verdict_id).order_by(Review.seq))
    )


def _current_decision(session: Session, verdict: Verdict, reviews: list[Review]) -> str:
    if reviews:
        return reviews[-1].decision
    if verdict.decision == "confirmation_required":
        answered = _answered(session, verdict.id)
        if answered is None and documents_complete(session, verdict.id):
            # A holder change completed on paper before both holders answered by e-mail.
            return "accepted"
        return answered or verdict.decision
    if verdict.decision == "postal_required" and documents_complete(session, verdict.id):
        return "accepted"
    return verdict.decision


def documents_complete(session: Session, verdict_id: str) -> bool:
    return (
        session.scalar(
            select(DocumentReceipt.id).where(DocumentReceipt.completes_verdict == verdict_id)
        )
        is not None
    )


def review_json(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "verdict_id": review.verdict_id,
        "decision": review.decision,
        "agent": review.agent,
        "reason": review.reason,
        "supersedes": review.supersedes,
        "recorded_at": iso_z(review.recorded_at),
    }


def record_action(
    session: Session, verdict_id: str, request: ActionRequest, now: datetime
) -> dict[str, Any]:
    """Record what an agent changed for the customer; Conflict unless the verdict, as
    reviewed or completed by documents, now stands accepted for that customer."""
    verdict = locked_verdict(session, verdict_id)
    current = _current_decision(session, verdict, _reviews(session, verdict.id))
    if current != "accepted":
        raise _refusal(verdict, current)
    if verdict.customer is None:
        raise Conflict(
            f"verdict {verdict.id} names no customer, so it cannot authorise anything done "
            "for one; record the action under a verdict about that customer",
            reason="no-customer",
        )
    if request.login != verdict.customer:
        raise Conflict(
            f"verdict {verdict.id} is about customer {verdict.customer!r}, not "
            f"{request.login!r}; record the action under the verdict that concerns them",
            reason="another-customer",
            values={"customer": verdict.customer, "login": request.login},
        )
    code_ref = (
        None if request.code_ref is None else _code_use(session, request.login, request.code_ref)
    )
    action = AgentAction(
        id=str(uuid.uuid4()),
        verdict_id=verdict.id,
        recorded_at=now,
        agent=request.agent,
        action=redact(request.action),
        details=redact(request.details),
        login=request.login,
        code_ref=code_ref,
    )
    session.add(action)
    session.flush()
    result = action_json(action)
    chain.append(
        session,
        "action",
        verdict.id,
        {
            "action_id": action.id,
            "verdict_id": verdict.id,
            "agent": action.agent,
            "login": action.login,
            "code_ref": action.code_ref,
            "record_sha256": hashing.record_digest(result),
            "row_sha256": hashing.digest_of(action),
        },
        personal={"action": action.action, "details": action.details},
    )
    enqueue(
        session,
        "verdict.action_recorded",
        {
            "verdict_id": verdict.id,
            "customer": verdict.customer,
            "decision": current,
            "action": result,
        },
    )
    log.info("action %r on verdict %s by %s", action.action, verdict.id, request.agent)
    return result


def _code_use(session: Session, login: str, code_ref: str) -> str:
    """``code_ref`` as the id of the verdict or verification where one of ``login``'s
    one-time codes was used; refused when it names no such use."""
    try:
        reference = str(uuid.UUID(code_ref))
    except ValueError:
        raise InvalidInput(
            "code_ref: must be the id of the verdict or verification where the customer's "
            "one-time code was used",
            reason="code-ref-not-an-id",
        ) from None
    used = session.scalar(
        select(OneTimeCode.id)
        .join(Customer, Customer.id == OneTimeCode.customer_id)
        .where(
            Customer.login == login,
            or_(
                OneTimeCode.used_by_verdict == reference,
                OneTimeCode.used_by_verification == reference,
            ),
        )
        .limit(1)
    )
    if used is None:
        raise Conflict(
            f"code_ref {reference}: no one-time code of customer {login!r} was used "
            "by that verdict or verification",
            reason="code-not-used-there",
            values={"login": login},
        )
    return reference


def _refusal(verdict: Verdict, current: str) -> Conflict:
    """Why nothing may be done yet on the instruction of ``verdict``, now ``current``."""
    if current == "rejected":
        how = {
            "rejected": "was rejected",
            "confirmation_required": "was rejected (denied by the registered owner, or on review)",
        }.get(verdict.decision, "was rejected on review")
        return Conflict(
            f"verdict {verdict.id} {how}: nothing may be done on its instruction",
            reason="act-on-rejected",
        )
    if current == "postal_required":
        return Conflict(
            f"verdict {verdict.id} waits for signed documents by post; record them "
            "(POST /v1/verdicts/{id}/documents) before acting",
            reason="act-before-documents",
        )
    if current == "confirmation_required":
        return Conflict(
            f"verdict {verdict.id} waits for the registered owner to confirm it through the "
            "link sent to the panel address; act once it is confirmed (or review it)",
            reason="act-before-confirmation",
        )
    return Conflict(
        f"verdict {verdict.id} is {current} and has not been accepted on review; review it "
        "(POST /v1/verdicts/{id}/review) before acting",
        reason="act-before-review",
        values={"decision": current},
    )


def list_actions(session: Session, verdict_id: str) -> list[dict[str, Any]]:
    verdict = find_verdict(session, verdict_id)
    rows = session.scalars(
        select(AgentAction).where(AgentAction.verdict_id == verdict.id).order_by(AgentAction.seq)
    )
    return [action_json(row) for row in rows]


def action_json(action: AgentAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "verdict_id": action.verdict_id,
        "agent": action.agent,
        "action": action.action,
        "details": action.details,
        "login": action.login,
        "code_ref": action.code_ref,
        "recorded_at": iso_z(action.recorded_at),
    }
