"""Group commit: verdicts decided at the same time recorded in one transaction, one fsync.

Each thread that has a verdict to record (an SMTP session's, a REST request's) queues
it and waits. Whoever finds no commit under way leads: it waits for the store's writer
turn (on SQLite the write lock every process of the file shares; app.db.engine), then
takes everything queued (up to ``MAX_BATCH``), decides and records it in one write
transaction, commits, and hands each waiter its verdict; meanwhile newcomers queue for
the next batch. No thread waits for company: a lone message is a batch of one,
committed at once; under load a batch holds whatever arrived while the previous one
was committing, this process's or another's (the batch is taken once the turn is had,
not before waiting for it). So the writer's serial section (the transaction, the
fsync, the write lock) is paid once per batch instead of once per message.

Nothing changes about what is acknowledged: a waiter returns only after the commit that
holds its verdict, and the door answers 250 / 201 / exit 0 only then. Within a batch:

- the decision of each message is made in turn, in the batch's transaction, so a later
  message sees what an earlier one did (a one-time code used, a DKIM signature seen:
  app.decision.checks.replay is given the batch's unflushed fingerprints);
- the rows are inserted at the end, each verdict's rows of five tables with its audit
  chain entry as one row of a view, in one statement (app.records.verdict_records); the
  chain's head is read once per batch, under the chain's lock (SQLite's write lock,
  PostgreSQL's advisory lock), and followed in memory (app.audit.chain.hold_head);
- a message whose bytes are already in the batch gets the verdict of the first copy;
- a message carrying a one-time code writes during its decision (the code used, its
  audit entry): the batch's rows so far are inserted before it, so the chain keeps the
  order a serial writer would have given it.

Failure: when the store is unavailable the whole batch fails and every message in it
gets that temporary failure (451 / 503 / exit 75). Any other error (another process
recorded the same bytes meanwhile, a fault while deciding one message) rolls the batch
back and records its messages one by one, each in a transaction of its own, so one
message's trouble never becomes another's.

Several processes (``serve --workers``) and replicas each batch their own messages;
the store serialises their batches (see app.db.engine.writer_turn and
app.audit.chain), so the chain stays one line without a writer process in between.
PostgreSQL has no writer turn (``turn`` does nothing): its batches are decided side by
side and meet at the chain's lock, late in the transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import Confirmation, table_of
from app.decision.checks.replay import Fingerprints, fingerprint_rows
from app.delivery.outbox import event_row
from app.errors import StoreUnavailable
from app.records.verdict_records import Recorded, insert_verdicts
from app.records.verdicts import VerdictRows
from app.verdict_types import Verdict as VerdictJson
from mailhook.findings import Finding
from mailhook.instructions import Instruction
from mailhook.message import InboundMessage

# Verdicts committed together at most: enough to amortise the fsync many times over,
# few enough that one batch's transaction holds the write lock only milliseconds.
MAX_BATCH = 64


@dataclass(slots=True)
class Job:
    """One message's verdict to record: what the checks found, and, once done, the outcome."""

    message: InboundMessage
    findings: list[Finding]
    instruction: Instruction
    prints: Fingerprints
    verdict: VerdictJson | None = None
    error: BaseException | None = None
    done: bool = False
    # Its bytes had been recorded before: ``verdict`` is that first verdict.
    retransmission: bool = False


@dataclass(frozen=True, slots=True)
class Decided:
    """What deciding a job gave: a new verdict's rows and the one-time code it used, or,
    for bytes recorded before, their first verdict."""

    rows: VerdictRows | None = None
    code: Any = None
    earlier: VerdictJson | None = None
    # Confirmation rows recorded with the verdict (a holder change's second stage).
    confirmations: tuple[dict[str, Any], ...] = ()


@dataclass(slots=True)
class _Batch:
    """The verdicts of a batch not yet inserted, in the order they were decided."""

    verdicts: list[Recorded] = field(default_factory=list)
    # Their fingerprint rows, which later messages of the batch are checked against.
    fingerprints: list[dict[str, Any]] = field(default_factory=list)
    confirmations: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, rows: VerdictRows, prints: Fingerprints, confirmations: tuple[dict[str, Any], ...]
    ) -> None:
        verdict = rows.verdict
        recorded_at = datetime.fromisoformat(verdict["recorded_at"])
        self.fingerprints += fingerprint_rows(prints, verdict["id"], recorded_at)
        # Webhooks and the owner's alert go out exactly when the verdict commits.
        event = event_row("verdict.recorded", verdict)
        self.verdicts.append(Recorded(rows, prints.body_sha256, prints.lookup_keys(), event))
        self.confirmations += confirmations

    def insert(self, session: Session) -> None:
        """Insert every verdict so far (one statement: app.records.verdict_records), then
        the confirmations, whose foreign keys name them."""
        insert_verdicts(session, self.verdicts)
        self.verdicts.clear()
        self.fingerprints.clear()
        if self.confirmations:
            session.execute(insert(table_of(Confirmation)), self.confirmations)
            self.confirmations.clear()


# What decides one job in the batch's transaction and signs its verdict, given the
# fingerprint rows of the batch not inserted yet.
Decide = Callable[[Session, Job, list[dict[str, Any]]], Decided]
# Links a used code to the verdict (by id) that used it, once that verdict is inserted.
LinkCode = Callable[[Session, Any, str], None]
# The verdict recorded earlier for these bytes (another process's), if any.
Earlier = Callable[[InboundMessage], VerdictJson | None]
# The write transaction of a batch: driver errors translated, BEGIN…COMMIT.
Transaction = Callable[[], AbstractContextManager[Session]]


class GroupCommit:
    """The queue and the leader's turn; see the module docstring."""

    def __init__(
        self,
        transaction: Transaction,
        decide: Decide,
        link_code: LinkCode,
        earlier: Earlier,
        max_batch: int = MAX_BATCH,
        on_batch: Callable[[int], None] | None = None,
        turn: AbstractContextManager[object] | None = None,
    ) -> None:
        self.transaction = transaction
        # The store's writer turn (app.db.engine.writer_turn), held by the leader from
        # before it takes its batch to after the batch's commit.
        self._writer_turn = turn if turn is not None else nullcontext()
        self._decide = decide
        self._link_code = link_code
        self._earlier = earlier
        self._max_batch = max_batch
        # Told the size of each batch committed or failed (metrics, the benchmark).
        self.on_batch = on_batch
        self._queue: list[Job] = []
        self._leading = False
        self._turn = threading.Condition()

    @property
    def leading(self) -> bool:
        """Whether a batch is being committed now."""
        return self._leading

    def queued(self) -> int:
        """Verdicts waiting for the next batch (not counting the one being committed)."""
        with self._turn:
            return len(self._queue)

    def record(self, job: Job) -> VerdictJson:
        """Record ``job``'s verdict; returns once it is committed.

        Raises what recording it raised: StoreUnavailable when the store could not be
        written (nothing of the batch was recorded), or the error of its own decision.
        """
        with self._turn:
            self._queue.append(job)
            while not job.done:
                if self._leading:
                    self._turn.wait()
                    continue
                self._leading = True
                self._turn.release()
                try:
                    self._lead()
                finally:
                    self._turn.acquire()
                    self._leading = False
                    self._turn.notify_all()
        if job.error is not None:
            raise job.error
        assert job.verdict is not None
        return job.verdict

    def _lead(self) -> None:
        """Wait for the writer turn, then take and commit a batch: what queued while the
        turn was awaited (another process's batch committing) is in it."""
        batch: list[Job] = []
        try:
            with self._writer_turn:
                batch = self._take()
                self._commit(batch)
        except Exception as exc:  # noqa: BLE001 - each waiter gets it as a temporary failure
            # Only the turn can fail here (_commit leaves every job of its batch done):
            # nothing was recorded, and the queue must not wait for a turn that fails.
            failure = StoreUnavailable(f"the store's writer turn failed: {exc}")
            for job in batch or self._take():
                if not job.done:
                    job.error, job.done = failure, True

    def _take(self) -> list[Job]:
        with self._turn:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        return batch

    def _commit(self, batch: list[Job]) -> None:
        """Record ``batch``, leaving each job done with its verdict or its error."""
        try:
            self._commit_together(batch)
        except StoreUnavailable as exc:
            for job in batch:
                job.error = exc
        except Exception:  # noqa: BLE001 - each message is tried alone and gets its own error
            # Rolled back: a duplicate from another process, or one message's fault.
            # One by one, each message gets its own outcome.
            for job in batch:
                if not job.done:
                    self._alone(job)
        except BaseException as exc:
            for job in batch:
                job.error = exc
            raise
        finally:
            for job in batch:
                if job.verdict is None and job.error is None:
                    job.error = StoreUnavailable("the verdict was not recorded")
                job.done = True
            if self.on_batch is not None:
                self.on_batch(len(batch))

    def _commit_together(self, batch: list[Job]) -> None:
        firsts: dict[str, Job] = {}
        copies: list[tuple[Job, Job]] = []
        decided: list[tuple[Job, VerdictJson]] = []
        with self.transaction() as session:
            pending = _Batch()
            for job in batch:
                first = firsts.setdefault(job.message.sha256, job)
                if first is not job:
                    # The same bytes twice in one batch: one verdict, as a retry gets.
                    copies.append((job, first))
                    continue
                if job.instruction.codes:
                    # Its decision may use a code and append to the chain: what the
                    # batch recorded before it goes first.
                    pending.insert(session)
                outcome = self._decide(session, job, pending.fingerprints)
                if outcome.rows is None:
                    assert outcome.earlier is not None
                    job.retransmission = True
                    decided.append((job, outcome.earlier))
                    continue
                pending.add(outcome.rows, job.prints, outcome.confirmations)
                if outcome.code is not None:
                    # The code points at the verdict that used it: inserted first.
                    pending.insert(session)
                    self._link_code(session, outcome.code, outcome.rows.verdict["id"])
                decided.append((job, outcome.rows.verdict))
            pending.insert(session)
        for job, verdict in decided:
            job.verdict = verdict
        for job, first in copies:
            job.verdict = first.verdict
            job.retransmission = True

    def _alone(self, job: Job) -> None:
        """Record ``job`` in a transaction of its own."""
        try:
            self._commit_together([job])
        except IntegrityError as exc:
            # Another delivery of the same bytes was recorded while we checked this one.
            try:
                earlier = self._earlier(job.message)
            except Exception as lookup_error:  # noqa: BLE001 - raised in the waiter
                job.error = lookup_error
                return
            if earlier is None:
                job.error = exc
            job.verdict = earlier
            job.retransmission = True
        except Exception as exc:  # noqa: BLE001 - raised in the waiter, not the leader
            job.error = exc
