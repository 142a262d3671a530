"""The registered owner's answer to a confirmation link, and the upkeep of the links.

A link (app.delivery.confirmations) names one confirmation by the keyed hash of its
token. Reading it (``look_up``) never changes anything: mail scanners follow links.
Answering it (``answer``) records, in one transaction, the answer (insert-only, one per
confirmation: of two answers racing, the second fails on the unique key or finds the
first under the row lock), its entry in the audit chain, the webhook event, and the
link's end. The signed verdict never changes; its current decision follows the answer
(app.records.reviews).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.audit import chain, hashing
from app.db.engine import write_transaction
from app.db.models import Confirmation, ConfirmationAnswer, Customer, Review, Verdict
from app.db.types import iso_z, utcnow
from app.delivery.confirmations import (
    TOKEN_FORM,
    second_stage,
    sent_lately,
    services_named,
    token_hash,
)
from app.delivery.outbox import enqueue
from app.errors import Conflict, RateLimited
from app.records.periodic import PeriodicWorker
from app.records.reviews import (
    ANSWERED,
    confirmation_json,
    confirmation_state,
    documents_complete,
    locked_verdict,
)
from app.records.verdicts import find_verdict

log = logging.getLogger(__name__)

Answer = Literal["confirm", "deny"]
ANSWERS: tuple[Answer, ...] = ("confirm", "deny")
# Why a link cannot be answered any more (the page says it, with what to do).
Gone = Literal["answered", "expired", "decided"]
# A resend of the same confirmation waits this long after the previous mail.
RESEND_PAUSE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Link:
    """What the confirmation page shows: nothing the sender wrote."""

    confirmation_id: str
    purpose: str
    about: str
    kinds: tuple[str, ...]
    arrived_at: datetime
    reference: str
    expires_at: datetime | None
    gone: Gone | None
    answered: Answer | None


def look_up(session: Session, key: bytes, token: str, now: datetime) -> Link | None:
    """The link ``token`` names, or None when it names none (forged, truncated, replaced)."""
    row = _by_token(session, key, token)
    return None if row is None else _link(session, row, now)


def _by_token(session: Session, key: bytes, token: str) -> Confirmation | None:
    if not TOKEN_FORM.match(token):
        return None
    return session.scalar(
        select(Confirmation).where(Confirmation.token_hash == token_hash(key, token))
    )


def _link(session: Session, row: Confirmation, now: datetime) -> Link:
    stored = session.scalar(
        select(ConfirmationAnswer.answer).where(ConfirmationAnswer.confirmation_id == row.id)
    )
    # The column holds only what answer() wrote: one of ANSWERS.
    answer = cast(Answer | None, stored)
    gone: Gone | None = None
    if answer is not None:
        gone = "answered"
    elif row.status == "expired" or row.expires_at is None or row.expires_at <= now:
        gone = "expired"
    if row.purpose == "panel_change":
        return Link(
            confirmation_id=row.id,
            purpose=row.purpose,
            about=row.customer,
            kinds=(),
            arrived_at=row.created_at,
            reference=row.id,
            expires_at=row.expires_at,
            gone=gone,
            answered=answer,
        )
    verdict = find_verdict(session, str(row.verdict_ref))
    if gone is None and (_reviewed(session, verdict.id) or documents_complete(session, verdict.id)):
        # An agent decided, or (a holder change) paper documents completed it.
        gone = "decided"
    # A holder change: the services are the current holder's, whoever is asked.
    customer = verdict_customer(session, verdict)
    return Link(
        confirmation_id=row.id,
        purpose=row.purpose,
        about=services_named(customer, verdict.instruction) if customer else row.customer,
        kinds=tuple(verdict.instruction.get("kinds", [])),
        arrived_at=verdict.recorded_at,
        reference=verdict.id,
        expires_at=row.expires_at,
        gone=gone,
        answered=answer,
    )


def verdict_customer(session: Session, verdict: Verdict) -> Customer | None:
    """The registered customer the verdict is about, as the registry holds it now."""
    return session.scalar(select(Customer).where(Customer.login == verdict.customer))


def _reviewed(session: Session, verdict_id: str) -> bool:
    return (
        session.scalar(select(Review.id).where(Review.verdict_id == verdict_id).limit(1))
        is not None
    )


@dataclass(frozen=True, slots=True)
class Answered:
    """An answer recorded: the link as it now stands and the verdict's current decision."""

    link: Link
    decision: str | None


def answer(
    session: Session, key: bytes, token: str, given: Answer, now: datetime
) -> Answered | Link | None:
    """Record the owner's answer. None: no such link. A ``Link`` whose ``gone`` says why
    nothing was recorded (already answered, expired, decided by the desk). ``Answered``
    when the answer was recorded with its chain entry and event, in the caller's
    transaction."""
    found = _by_token(session, key, token)
    if found is None:
        return None
    if found.verdict_ref is not None:
        # The verdict first, as reviews, actions and resends lock it: an answer and a
        # review of one verdict are decided one at a time, in one lock order.
        locked_verdict(session, found.verdict_ref)
    # Then the link itself, read again under its lock (a replica may have answered it, a
    # resend replaced its token). SQLite: the IMMEDIATE transaction already serialises.
    row = session.scalar(
        select(Confirmation)
        .where(Confirmation.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or row.token_hash != found.token_hash:
        return None
    link = _link(session, row, now)
    if link.gone is not None:
        return link
    record = ConfirmationAnswer(
        id=str(uuid.uuid4()),
        confirmation_id=row.id,
        verdict_id=row.verdict_ref,
        customer=row.customer,
        answer=given,
        recorded_at=now,
    )
    session.add(record)
    row.status = "answered"
    session.flush()
    verdict_id = row.verdict_ref
    # A holder change's first "confirm" asks the new holder next; the verdict waits.
    asks_next = _next_stage(session, row, given)
    state = confirmation_state(session, verdict_id, now) if verdict_id else None
    if state is None:
        state = confirmation_json(session, row, now)
    decision = ANSWERED[given] if verdict_id is not None and asks_next is None else None
    chain.append(
        session,
        "confirmation",
        verdict_id or row.customer,
        {
            "answer_id": record.id,
            "confirmation_id": row.id,
            "purpose": row.purpose,
            "verdict_id": verdict_id,
            "customer": row.customer,
            "answer": given,
            "record_sha256": hashing.record_digest(answer_json(record)),
            "row_sha256": hashing.digest_of(record),
        },
    )
    if asks_next is not None:
        enqueue(session, "confirmation.requested", {"confirmation_id": asks_next.id})
    elif verdict_id is not None:
        event = "verdict.confirmed" if given == "confirm" else "verdict.denied"
        data = {
            "verdict_id": verdict_id,
            # The verdict's customer (a holder change's current holder), whoever answered.
            "customer": find_verdict(session, verdict_id).customer,
            "decision": decision,
            "confirmation": state,
        }
        enqueue(session, event, data)
    elif given == "deny":
        enqueue(
            session,
            "customer.panel_change_denied",
            {"customer": row.customer, "confirmation": state},
        )
    log.info(
        "confirmation %s (%s, customer %s) answered %s",
        row.id,
        verdict_id or row.purpose,
        row.customer,
        given,
    )
    return Answered(_link(session, row, now), decision)


def _next_stage(session: Session, row: Confirmation, given: Answer) -> Confirmation | None:
    """After the current holder's answer to a holder change: on "confirm", the new holder's
    stage, now pending (its mail is queued by the caller); on "deny", that stage is
    cancelled and nobody else is asked. None for every other confirmation."""
    if row.purpose != "holder" or row.verdict_id is None:
        return None
    stage = session.scalar(
        select(Confirmation).where(Confirmation.new_holder_for == row.verdict_id).with_for_update()
    )
    if stage is None or stage.status != "waiting":
        return None
    stage.status = "pending" if given == "confirm" else "cancelled"
    session.flush()
    return stage if given == "confirm" else None


def answer_json(record: ConfirmationAnswer) -> dict[str, Any]:
    return {
        "id": record.id,
        "confirmation_id": record.confirmation_id,
        "verdict_id": record.verdict_id,
        "customer": record.customer,
        "answer": record.answer,
        "recorded_at": iso_z(record.recorded_at),
    }


def recent_denial(session: Session, login: str, since: datetime) -> date | None:
    """The day ``login``'s owner last answered "this was not me", if on or after ``since``."""
    last = session.scalar(
        select(func.max(ConfirmationAnswer.recorded_at)).where(
            ConfirmationAnswer.customer == login,
            ConfirmationAnswer.answer == "deny",
            ConfirmationAnswer.recorded_at >= since,
        )
    )
    return last.date() if last is not None else None


def expire(session: Session, now: datetime) -> int:
    """Mark every pending link past its time expired, and a holder change's second stage
    still waiting at the end of the change's window; how many. The verdicts stay
    confirmation_required: the desk resends or reviews them."""
    result = session.execute(
        update(Confirmation)
        .where(Confirmation.status.in_(("pending", "waiting")), Confirmation.expires_at <= now)
        .values(status="expired")
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        log.info("%d confirmation link(s) expired", count)
    return count


def expire_links(sessions: sessionmaker[Session]) -> int:
    """``expire`` in a transaction of its own (``intakeguard confirmations expire``)."""
    with write_transaction(sessions) as session:
        return expire(session, utcnow())


class ExpiryWorker(PeriodicWorker):
    """Runs ``expire_links`` every ``interval`` in the serving process (idempotent)."""

    name = "confirmation-expiry"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        interval: timedelta = timedelta(minutes=5),
        first_delay: float = 30.0,
    ) -> None:
        super().__init__(interval, first_delay)
        self.sessions = sessions

    def describe(self) -> str:
        return f"confirmation links past their time are marked expired every {self.interval}"

    def run_once(self) -> int:
        return expire_links(self.sessions)


def resend(session: Session, verdict_id: str, now: datetime, per_hour: int) -> dict[str, Any]:
    """Queue a new confirmation mail (a new link; the one before stops working).

    Conflict unless the verdict waits for a confirmation nobody answered and no agent
    decided; RateLimited while a mail is queued, within RESEND_PAUSE of a mail whose link
    still works, or when the customer's confirmation mails for the hour are used up.
    """
    verdict = locked_verdict(session, verdict_id)
    if verdict.decision != "confirmation_required":
        raise Conflict(
            f"verdict {verdict.id} is {verdict.decision}; only a confirmation_required "
            "verdict has a confirmation to resend"
        )
    if _reviewed(session, verdict.id):
        raise Conflict(f"verdict {verdict.id} was reviewed by an agent; nothing to confirm")
    row = session.scalar(select(Confirmation).where(Confirmation.verdict_id == verdict.id))
    if row is not None and row.status == "answered":
        raise Conflict(f"verdict {verdict.id}: the owner already answered the confirmation")
    if row is not None and row.status == "pending" and row.token_hash is None:
        raise RateLimited(f"verdict {verdict.id}: a confirmation mail is queued already", 60)
    still_valid = row is not None and row.expires_at is not None and row.expires_at > now
    if (
        row is not None
        and row.sent_at is not None
        and still_valid
        and now - row.sent_at < RESEND_PAUSE
    ):
        wait = RESEND_PAUSE - (now - row.sent_at)
        raise RateLimited(
            f"verdict {verdict.id}: a confirmation was sent at {iso_z(row.sent_at)}; "
            f"resend after {int(RESEND_PAUSE.total_seconds() // 60)} minutes",
            int(wait.total_seconds()) + 1,
        )
    customer = verdict_customer(session, verdict)
    if customer is None:
        raise Conflict(f"verdict {verdict.id}: the customer is no longer registered")
    if sent_lately(session, customer.login, now) >= per_hour:
        raise RateLimited(
            f"customer {customer.login} was sent {per_hour} confirmation(s) this hour; "
            "try again later",
            3600,
        )
    if row is None:
        row = Confirmation(
            id=str(uuid.uuid4()),
            purpose="holder" if second_stage(session, verdict.id) is not None else "verdict",
            verdict_id=verdict.id,
            customer=customer.login,
            to_address=customer.panel_email,
            token_hash=None,
            created_at=now,
            sent_at=None,
            expires_at=None,
            sends=0,
            status="pending",
        )
        session.add(row)
    else:
        row.status = "pending"
        row.token_hash = None
        row.expires_at = None
        row.to_address = customer.panel_email
    session.flush()
    enqueue(session, "confirmation.requested", {"confirmation_id": row.id})
    log.info("confirmation of verdict %s queued again", verdict.id)
    return {"verdict_id": verdict.id, "confirmation": confirmation_json(session, row, now)}
