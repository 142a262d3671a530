"""The queue: verdicts still waiting for the desk, oldest first.

What is open is app.records.open_state's (shared with ``GET /v1/verdicts?state=open``),
computed in one statement, so a page of the queue costs one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.console.explanations import reason_check
from app.db.models import Verdict
from app.records.open_state import OPEN, names_service, still_open

__all__ = ["OPEN", "PAGE_SIZE", "QueuePage", "QueueRow", "open_verdicts"]
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
        .where(still_open(OPEN if decision is None else [decision]))
        .order_by(Verdict.seq)
        .limit(limit + 1)
    )
    if customer is not None:
        query = query.where(Verdict.customer == customer)
    if service is not None:
        query = query.where(names_service(service))
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
