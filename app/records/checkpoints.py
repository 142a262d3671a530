"""Writing a signed checkpoint of the audit chain, publishing it, and doing so periodically.

The checkpoint itself (its text, its signature, reading it back) is app.audit.checkpoints;
here it is also published: an ``audit.checkpoint`` outbox event in the same transaction
(webhooks carry it to a ticketing system, outside this database) and a log line (to the
log collector, also outside). ``CHECKPOINT_INTERVAL`` drives CheckpointWorker in the
serving process; ``intakeguard audit checkpoint`` writes one on demand.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.audit.checkpoints import Checkpoint, sign_head
from app.db.engine import write_transaction
from app.delivery.outbox import enqueue
from app.records.periodic import PeriodicWorker
from app.signing import VerdictSigner

log = logging.getLogger(__name__)


def write_checkpoint(session: Session, signer: VerdictSigner) -> Checkpoint:
    """Sign the chain head, keep it and publish it, in the caller's transaction."""
    checkpoint = sign_head(session, signer)
    enqueue(
        session,
        "audit.checkpoint",
        {
            "size": checkpoint.size,
            "head_hash": checkpoint.head_hash,
            "signed_at": checkpoint.signed_at,
            "key_id": checkpoint.key_id,
            "checkpoint": checkpoint.text(),
        },
    )
    log.info(
        "audit checkpoint: %d entries, head %s, signed at %s by %s: %s",
        checkpoint.size,
        checkpoint.head_hash,
        checkpoint.signed_at,
        checkpoint.key_id,
        checkpoint.signature,
    )
    return checkpoint


class CheckpointWorker(PeriodicWorker):
    """Writes a checkpoint every ``interval`` (one process per store runs it)."""

    name = "audit checkpoints"

    def __init__(
        self, sessions: sessionmaker[Session], signer: VerdictSigner, interval: timedelta
    ) -> None:
        super().__init__(interval, first_delay=interval.total_seconds())
        self.sessions = sessions
        self.signer = signer

    def describe(self) -> str:
        return f"one signed every {self.interval}"

    def run_once(self) -> Checkpoint:
        with write_transaction(self.sessions) as session:
            return write_checkpoint(session, self.signer)
