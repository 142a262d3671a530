"""The queue: verdicts still waiting for the desk, oldest first.

Open is what ``GET /v1/verdicts/{id}/reviews`` would call a current decision of
``review``, ``otp_required``, ``postal_required`` or ``confirmation_required``
(app.records.reviews): no review yet, no answer from the owner, no postal documents that
complete it. Computed in one statement, so a page of the queue costs one query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Text, cast, exists, select
from sqlalchemy.orm import Session

from app.console.explanations import reason_check
from app.db.models import ConfirmationAnswer, DocumentReceipt, Review, Verdict

OPEN: Final = ("review", "otp_required", "postal_required", "confirmation_required")
PAGE_SIZE: Final = 50


@dataclass(frozen=True, slots=True)
class QueueRow:
    seq: int
    id: str
    recorded_at: datetime
    decision: str
    customer: str | None
    services: list[str]
    kinds: list[str]
    reason: str
    # The (name, result) of the check the reason is from; None for the policy's own.
    check: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: list[QueueRow]
    # The seq to continue after for the next page; None on the last one.
    next_after: int | None


def open_verdicts(
    session: Session,
    *,
    decision: str | None = None,
    customer: str | None = None,
    service: str | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the open verdicts, oldest first, after verdict ``seq`` ``after``."""
    query = (
        select(Verdict)
        .where(
            Verdict.decision.in_(OPEN if decision is None else [decision]),
            ~exists().where(Review.verdict_id == Verdict.id),
            ~exists().where(ConfirmationAnswer.verdict_id == Verdict.id),
            ~exists().where(DocumentReceipt.completes_verdict == Verdict.id),
        )
        .order_by(Verdict.seq)
        .limit(limit + 1)
    )
    if customer is not None:
        query = query.where(Verdict.customer == customer)
    if service is not None:
        # The instruction's JSON text holds each service as a JSON string, written by
        # the same serialiser (json.dumps): the quoted name matches whole names only.
        quoted = json.dumps(service).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cast(Verdict.instruction, Text).like(f"%{quoted}%", escape="\\"))
    if after is not None:
        query = query.where(Verdict.seq > after)
    verdicts = list(session.scalars(query))
    more = len(verdicts) > limit
    rows = [_row(verdict) for verdict in verdicts[:limit]]
    return QueuePage(rows, rows[-1].seq if more else None)


def _row(verdict: Verdict) -> QueueRow:
    instruction: dict[str, Any] = verdict.instruction
    reasons: list[Any] = verdict.reasons
    reason = str(reasons[0]) if reasons else ""
    return QueueRow(
        seq=verdict.seq,
        id=verdict.id,
        recorded_at=verdict.recorded_at,
        decision=verdict.decision,
        customer=verdict.customer,
        services=[str(s) for s in instruction.get("services", [])],
        kinds=[str(k) for k in instruction.get("kinds", [])],
        reason=reason,
        check=reason_check(reason, list(verdict.checks)) if reason else None,
    )
