"""Which verdicts are still open for the desk, and which name a service: the conditions
the console's queue and ``GET /v1/verdicts?state=open&service=`` share.

Open is what ``GET /v1/verdicts/{id}/reviews`` would call a current decision of
``review``, ``otp_required``, ``postal_required`` or ``confirmation_required``
(app.records.reviews): no review yet, no answer from the owner, no postal documents that
complete it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from sqlalchemy import ColumnElement, Text, and_, cast, exists

from app.db.models import ConfirmationAnswer, DocumentReceipt, Review, Verdict

OPEN: Final = ("review", "otp_required", "postal_required", "confirmation_required")


def still_open(decisions: Sequence[str] = OPEN) -> ColumnElement[bool]:
    """Verdicts decided one of ``decisions`` (all of OPEN by default) that nothing settled."""
    return and_(
        Verdict.decision.in_(decisions),
        ~exists().where(Review.verdict_id == Verdict.id),
        ~exists().where(ConfirmationAnswer.verdict_id == Verdict.id),
        ~exists().where(DocumentReceipt.completes_verdict == Verdict.id),
    )


def names_service(service: str) -> ColumnElement[bool]:
    """Verdicts whose ``instruction.services`` holds ``service`` (as the registry writes it)."""
    # The instruction's JSON text holds each service as a JSON string, written by the
    # same serialiser (json.dumps): the quoted name matches whole names only.
    quoted = json.dumps(service).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(Verdict.instruction, Text).like(f"%{quoted}%", escape="\\")
