"""Postal documents received for a verdict that asked for them, checked and recorded."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import chain, hashing
from app.db.models import Confirmation, ConfirmationAnswer, DocumentReceipt, Verdict
from app.db.types import iso_z
from app.errors import Conflict, NotFound
from app.logs import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DocumentChecks:
    """What the agent checked on the signed paper documents."""

    name: bool
    address: bool
    signature_or_stamp: bool

    @property
    def complete(self) -> bool:
        return self.name and self.address and self.signature_or_stamp


def _holder_change_open(session: Session, verdict: Verdict) -> bool:
    """A holder change waiting for both holders' e-mail confirmations (e-cesja), which
    neither denied: paper documents may complete it instead, as they would have."""
    if verdict.decision != "confirmation_required":
        return False
    second = select(Confirmation.id).where(Confirmation.new_holder_for == verdict.id)
    if session.scalar(second) is None:
        return False
    answers = list(
        session.scalars(
            select(ConfirmationAnswer.answer).where(ConfirmationAnswer.verdict_id == verdict.id)
        )
    )
    return "deny" not in answers and len(answers) < 2


def documents_expected(session: Session, verdict_id: str) -> bool:
    """Whether postal documents may still be recorded for the verdict: it asked for them
    (or is a holder change open to them) and no complete receipt is recorded yet."""
    verdict = session.scalar(select(Verdict).where(Verdict.id == verdict_id))
    if verdict is None:
        return False
    if verdict.decision != "postal_required" and not _holder_change_open(session, verdict):
        return False
    done = select(DocumentReceipt.id).where(DocumentReceipt.completes_verdict == verdict_id)
    return session.scalar(done) is None


def receipts_of(session: Session, verdict_id: str) -> list[DocumentReceipt]:
    """Every receipt of documents recorded for the verdict, oldest first."""
    query = select(DocumentReceipt).where(DocumentReceipt.verdict_id == verdict_id)
    return list(session.scalars(query.order_by(DocumentReceipt.seq)))


def record_documents(
    session: Session,
    verdict_id: str,
    agent: str,
    checked: DocumentChecks,
    note: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Record documents received for a postal_required verdict (or a holder change still
    open to both holders' e-mail confirmation); the verdict stays as it is.

    NotFound for an unknown verdict; Conflict when it did not ask for documents, or
    when a complete receipt is already recorded for it.
    """
    # What the agent typed: no identifier or one-time code is kept in clear (app.logs).
    note = None if note is None else redact(note)
    verdict = session.scalar(select(Verdict).where(Verdict.id == verdict_id))
    if verdict is None:
        raise NotFound(f"no verdict with id {verdict_id!r}")
    if verdict.decision != "postal_required" and not _holder_change_open(session, verdict):
        raise Conflict(
            f"verdict {verdict_id} is {verdict.decision}, not postal_required: documents by "
            "post complete only a verdict that asked for them (or a holder change that both "
            "holders have not yet answered by e-mail)",
            reason="documents-not-asked",
            values={"decision": verdict.decision},
        )
    if checked.complete:
        earlier = session.scalar(
            select(DocumentReceipt).where(DocumentReceipt.completes_verdict == verdict_id)
        )
        if earlier is not None:
            raise Conflict(
                f"verdict {verdict_id} was already completed by receipt {earlier.id} "
                f"recorded by {earlier.agent}; nothing more is needed",
                reason="documents-already-complete",
                values={"agent": earlier.agent},
            )
    missing = [
        what
        for what, ok in (
            ("the name", checked.name),
            ("the address", checked.address),
            ("the signature or company stamp", checked.signature_or_stamp),
        )
        if not ok
    ]
    reason = (
        f"The documents complete verdict {verdict_id}: name, address and signature or stamp "
        "are checked, and the agent may carry out the instruction."
        if not missing
        else f"The documents do not complete verdict {verdict_id}: {', '.join(missing)} "
        "could not be confirmed; ask the customer to send corrected documents by post."
    )
    receipt = DocumentReceipt(
        id=str(uuid.uuid4()),
        verdict_id=verdict_id,
        recorded_at=now,
        agent=agent,
        name_checked=checked.name,
        address_checked=checked.address,
        signature_or_stamp_checked=checked.signature_or_stamp,
        complete=checked.complete,
        completes_verdict=verdict_id if checked.complete else None,
        note=note,
    )
    session.add(receipt)
    session.flush()
    log.info(
        "documents for verdict %s recorded by %s: %s",
        verdict_id,
        agent,
        "complete" if checked.complete else "incomplete",
    )
    result = {
        "id": receipt.id,
        "verdict_id": verdict_id,
        "agent": agent,
        "checked": {
            "name": checked.name,
            "address": checked.address,
            "signature_or_stamp": checked.signature_or_stamp,
        },
        "complete": checked.complete,
        "note": note,
        "reason": reason,
        "recorded_at": iso_z(now),
    }
    chain.append(
        session,
        "document_receipt",
        verdict_id,
        {
            "receipt_id": receipt.id,
            "verdict_id": verdict_id,
            "agent": agent,
            "complete": checked.complete,
            "record_sha256": hashing.record_digest(result),
            "row_sha256": hashing.digest_of(receipt),
        },
    )
    return result
