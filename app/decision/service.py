"""The decision service: one canonical message in, one recorded, signed verdict out."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial
from time import perf_counter
from typing import Any

from sqlalchemy import Engine, Label
from sqlalchemy.orm import Session, sessionmaker

from app import metrics
from app.audit import chain
from app.db.engine import (
    lookup_engine,
    make_engine,
    read_only_sessions,
    session_factory,
    store_errors,
    turn_sessions,
    writer_turn,
)
from app.db.models import Customer, OneTimeCode
from app.db.types import utcnow
from app.decision.checks.customer_match import match_customer
from app.decision.checks.handed_over_by import handed_over_by
from app.decision.checks.instruction_kind import instruction_kind
from app.decision.checks.named_addresses import named_addresses
from app.decision.checks.named_customer import named_customer
from app.decision.checks.one_time_code import one_time_code
from app.decision.checks.registered_alignment import registered_alignment
from app.decision.checks.replay import (
    Fingerprints,
    Sightings,
    check_replay,
    fingerprints,
    sightings,
)
from app.decision.checks.sending_service import sending_service
from app.decision.checks.service_scope import service_scope
from app.decision.group_commit import Decided, GroupCommit, Job
from app.decision.holder_change import named_new_holder
from app.decision.named_customers import named_customers
from app.decision.policy import HOLDER_CHANGE_KIND, NewHolder, assurance_of, decide
from app.decision.rules import Rules, load_rules
from app.delivery.confirmations import new_holder_stage
from app.errors import StoreUnavailable
from app.records.confirmations import recent_denial
from app.records.verdicts import get_verdict, recorded_for_bytes, verdict_for_bytes, verdict_rows
from app.registry.codes import code_key, link_to_verdict
from app.registry.index import RegistryIndex, RegistryView, version_column
from app.registry.lookalikes import driver_lookup, imitated_domain
from app.settings import Settings
from app.signing import VerdictSigner
from app.verdict_types import CheckJson, Explanation, VerdictBody
from app.verdict_types import Verdict as VerdictJson
from mailhook.checks import run_pipeline
from mailhook.context import CheckContext, TrustConfig
from mailhook.dns import Resolver
from mailhook.errors import TemporaryFailure
from mailhook.findings import Finding
from mailhook.instructions import Instruction, extract, extraction_findings
from mailhook.message import InboundMessage
from mailhook.metrics import MESSAGES_RECEIVED

log = logging.getLogger(__name__)
# Where a batch's session keeps its view of the registry index (read once per batch).
_REGISTRY_VIEW = "intakeguard_registry_view"


class DecisionService:
    """Verifies, decides and records; every door hands its message here."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rules: Rules,
        signer: VerdictSigner,
        resolver: Resolver | None = None,
        trust: TrustConfig | None = None,
        provider_domains: tuple[str, ...] = (),
        clock: Callable[[], datetime] = utcnow,
        code_key: bytes | None = None,
        recent_change_days: int = 14,
        identifier_key: bytes | None = None,
        confirmations_on: bool = False,
    ) -> None:
        self.sessions = sessions
        # For lookups that never write: on SQLite they need not wait for the writer.
        self.reads = read_only_sessions(sessions)
        # For a single Core query where a whole ORM session (or transaction) is overhead.
        self.read_engine: Engine = lookup_engine(sessions)
        # Held around each batch's write transaction (see writer_turn, group_commit).
        self.writer_turn = writer_turn(sessions.kw["bind"])
        # For the API's requests that write: each transaction takes the same turn as it
        # begins and gives it back at its end (turn_sessions).
        self.writes = turn_sessions(sessions)
        self.rules = rules
        # A panel address changed within this many days raises the requirement a level.
        self.recent_change = timedelta(days=recent_change_days)
        self.signer = signer
        self.resolver = resolver
        self.trust = trust or TrustConfig()
        # Our own domains (A-labels), which a sender's domain must not imitate either.
        self.provider_domains = provider_domains
        # The time the checks judge dates against; a test pins it for dated fixtures.
        self.clock = clock
        # Key of the one-time code hashes (app.registry.codes); without it codes cannot be checked.
        self.code_key = code_key
        # Key of the registry's PESEL/NIP/REGON hashes (the secret key, app.registry.identifiers).
        self.identifier_key = identifier_key
        # Whether owners can be asked to confirm: confirmation mail can go out (a relay
        # and PUBLIC_URL). Else no verdict is confirmation_required, whatever the policy.
        self.confirmations_on = confirmations_on
        # The registered services each name stands for, remembered per registry version.
        self.registry = RegistryIndex()
        # Verdicts decided at once are committed together (app.decision.group_commit).
        self.group_commit = GroupCommit(
            self._write_transaction,
            self._decide_and_sign,
            link_to_verdict,
            self._recorded,
            on_batch=metrics.COMMIT_BATCH_SIZE.observe,
            turn=self.writer_turn,
        )

    @classmethod
    def from_settings(cls, settings: Settings, signing_key: bytes) -> DecisionService:
        """The service ``settings`` describe: store, rules (validated), DNS and trust."""
        rules = load_rules(settings.rules_dir)
        # Said once at start by the long-running services (app.server.serving), not by
        # every pipe run: the pipe's last line must stay its verdict id.
        mail_out = settings.public_url is not None and settings.alert_smtp_relay is not None
        return cls(
            session_factory(make_engine(settings.database_url)),
            rules,
            VerdictSigner(signing_key),
            resolver=Resolver(settings.dns_nameservers or None, timeout=settings.dns_timeout),
            trust=settings.trust(),
            provider_domains=tuple(settings.provider_domains),
            code_key=code_key(signing_key),
            recent_change_days=settings.recent_change_days,
            identifier_key=signing_key,
            confirmations_on=mail_out,
        )

    def kind_titles(self, lang: str = "en") -> dict[str, str]:
        """The catalogue's title of each instruction kind (confirmation mail names them);
        for ``lang`` "pl" its Polish title (title_pl) where the catalogue gives one."""
        return {
            kind.name: (kind.title_pl if lang == "pl" and kind.title_pl else kind.title)
            for kind in self.rules.catalogue.kinds
        }

    def submit(self, message: InboundMessage) -> VerdictJson:
        """Decide on ``message`` and record the verdict.

        Raises TemporaryFailure when a check could not get an answer (DNS timeout,
        SERVFAIL) and StoreUnavailable when the verdict cannot be recorded: in both
        cases nothing is recorded and the sender should retry.
        """
        started = perf_counter()
        MESSAGES_RECEIVED.labels(door=message.channel.value).inc()
        # Whether these bytes were recorded before is asked in the batch's transaction,
        # with the replay check's look-up (app.decision.checks.replay.sightings).
        # The mail checks run before the transaction opens: DNS may be slow, and a
        # transaction held open across it would only block other writers.
        with metrics.timed(metrics.VERIFICATION_SECONDS):
            findings = self.verify(message)
        temporary = [f.reason for f in findings if f.result == "temperror"]
        if temporary:
            # A retransmission still gets its first verdict while DNS is in trouble.
            earlier = self._recorded(message)
            if earlier is not None:
                return earlier
            raise TemporaryFailure(" ".join(temporary))
        # What needs only the message is worked out before the write transaction: on
        # SQLite every writer waits while one holds it.
        instruction = extract(message, self.rules.catalogue)
        prints = fingerprints(message, sender_of(findings))
        job = Job(message, findings, instruction, prints)
        with metrics.timed(metrics.RECORDING_SECONDS):
            verdict = self.group_commit.record(job)
        if job.retransmission:
            return verdict
        metrics.count_verdict(verdict["decision"], verdict["instruction"]["kinds"])
        duration_ms = round((perf_counter() - started) * 1000, 1)
        # The one line per message: ids to find it, never its addresses (app.logs).
        log.info(
            "recorded verdict %s: %s (%s) for message %s via %s in %.1f ms",
            verdict["id"],
            verdict["decision"],
            verdict["assurance"],
            message.message_id,
            message.channel.value,
            duration_ms,
            extra={
                "verdict_id": verdict["id"],
                "message_id": message.message_id,
                "decision": verdict["decision"],
                "assurance": verdict["assurance"],
                "channel": message.channel.value,
                "duration_ms": duration_ms,
            },
        )
        return verdict

    @contextmanager
    def _write_transaction(self) -> Iterator[Session]:
        """The write transaction of a batch of verdicts, begun in the writer turn its
        leader holds (see app.decision.group_commit)."""
        with store_errors(), self.sessions.begin() as session:
            yield session

    def _decide_and_sign(
        self, session: Session, job: Job, unflushed: list[dict[str, Any]]
    ) -> Decided:
        """``job``'s verdict decided in ``session``'s transaction and signed, with the
        one-time code it used; or, if its bytes were recorded before, that verdict.
        ``unflushed``: fingerprints of verdicts earlier in the same batch, not inserted
        yet (app.decision.group_commit)."""
        registry = session.info.get(_REGISTRY_VIEW)
        if registry is None:
            # The batch's first statement: what its first message needs, the registry's
            # version, and on SQLite the chain's head as well.
            seen, registry = self._open_batch(session, job.prints)
        else:
            seen = sightings(session, job.prints, unflushed)
        if seen.recorded_verdict is not None:
            # The same bytes again are a retransmission (a 250 lost on the way back, a
            # pipe retried): they get the first verdict, so each is recorded exactly once.
            earlier = get_verdict(session, seen.recorded_verdict)
            self._answering_with(job.message, earlier)
            return Decided(earlier=earlier)
        body, code, new_holder = self._decision(
            session, job.findings, job.instruction, job.prints, seen, True, registry
        )
        rows = verdict_rows(job.message, body, self.signer)
        # A holder change both holders confirm: the new holder's stage, waiting for the
        # current holder's answer, recorded with the verdict (app.delivery.confirmations).
        stages = (
            (new_holder_stage(rows.verdict["id"], new_holder, rows.verdict_row["recorded_at"]),)
            if new_holder is not None
            else ()
        )
        return Decided(rows=rows, code=code, confirmations=stages)

    def _open_batch(self, session: Session, prints: Fingerprints) -> tuple[Sightings, RegistryView]:
        """The first message's sightings, with, in the same statement, the registry's
        version (the batch's view of the index) and, on SQLite, the audit chain's head.

        SQLite's write transaction began IMMEDIATE and holds the database's write lock to
        its commit, so the head read now stays the head: the batch's appends follow it in
        memory. PostgreSQL's head is read after the chain's advisory lock, in a statement
        of its own (one that began before the lock was granted could see an older head),
        once per batch too (app.audit.chain.hold_head).
        """
        dialect = session.get_bind().dialect.name
        also: tuple[Label[Any], ...] = (version_column(dialect),)
        if dialect == "sqlite":
            also += (chain.HEAD_SEQ, chain.HEAD_HASH)
        seen = sightings(session, prints, (), also)
        registry = self.registry.view(session, version=seen.also[0])
        session.info[_REGISTRY_VIEW] = registry
        chain.hold_head(session, seen.also[1:] if dialect == "sqlite" else None)
        return seen, registry

    def _recorded(self, message: InboundMessage) -> VerdictJson | None:
        """The verdict recorded for ``message``'s bytes, if any (outside any batch)."""
        with store_errors():
            # A bare connection answers the usual "never seen" at a fraction of the cost of
            # a session loading a verdict; only a retransmission needs the second step.
            with self.read_engine.connect() as connection:
                if not recorded_for_bytes(connection, message.sha256):
                    return None
            with self.reads() as session:
                earlier = verdict_for_bytes(session, message.sha256)
        if earlier is not None:
            self._answering_with(message, earlier)
        return earlier

    def _answering_with(self, message: InboundMessage, earlier: VerdictJson) -> None:
        log.info(
            "message %s (%s) was already recorded as verdict %s; answering with it",
            message.message_id,
            message.sha256[:16],
            earlier["id"],
        )

    def explain(self, message: InboundMessage) -> Explanation:
        """What the verdict would be, without recording anything (temperrors shown as such)."""
        findings = self.verify(message)
        instruction = extract(message, self.rules.catalogue)
        prints = fingerprints(message, sender_of(findings))
        with store_errors(), self.reads() as session:
            seen = sightings(session, prints)
            body, _, _ = self._decision(
                session, findings, instruction, prints, seen, consume_code=False
            )
            session.rollback()
        explanation: Explanation = {
            "message_id": message.message_id,
            "channel": message.channel.value,
            **body,
        }
        temporary = [f.reason for f in findings if f.result == "temperror"]
        if temporary:
            # What submit would do: no decision, a retry later.
            explanation["decision"] = None
            explanation["reasons"] = temporary
        return explanation

    def verify(self, message: InboundMessage) -> list[Finding]:
        """The mail checks' findings for ``message``.

        Raises StoreUnavailable when the registry could not be read for the look-alike
        lookup: the same answer as when the verdict cannot be recorded.
        """
        store_trouble: list[StoreUnavailable] = []

        def lookalike_of(domain: str) -> str | None:
            # One indexed lookup on a pooled connection of its own (no transaction is open).
            try:
                with store_errors():
                    return imitated_domain(
                        driver_lookup(self.read_engine), domain, self.provider_domains
                    )
            except StoreUnavailable as exc:
                store_trouble.append(exc)
                # For the check a temporary failure (temperror, never a pass); for the
                # caller the store being down, raised below.
                raise TemporaryFailure(f"the registry cannot be read now ({exc})") from exc

        context = CheckContext(
            resolver=self.resolver,
            trust=self.trust,
            now=self.clock(),
            lookalike_of=lookalike_of,
        )
        findings = run_pipeline(message, context)
        if store_trouble:
            raise store_trouble[0]
        return findings

    def _decision(
        self,
        session: Session,
        findings: list[Finding],
        instruction: Instruction,
        prints: Fingerprints,
        seen: Sightings,
        consume_code: bool,
        registry: RegistryView | None = None,
    ) -> tuple[VerdictBody, OneTimeCode | None, Customer | None]:
        """The verdict body, the one-time code it used (consumed when ``consume_code``;
        else nothing is changed), and the new holder who confirms a holder change after the
        current one (e-cesja). ``prints``: the message's fingerprints; ``seen``: the earlier
        messages like them, which the replay check judges (app.decision.checks.replay)."""
        findings = [*findings, *extraction_findings(instruction)]
        sender = sender_of(findings)
        # A holder change both holders may confirm names the new holder by login: that
        # login says to whom, not which account the request is about (the services do).
        e_cesja = (
            self.rules.policy.confirmation.both_holders and HOLDER_CHANGE_KIND in instruction.kinds
        )
        about = dataclasses.replace(instruction, logins=()) if e_cesja else instruction
        match = match_customer(session, sender, about, self.identifier_key, registry)
        if match.finding is not None:
            findings.append(match.finding)
        for identity in (
            registered_alignment(session, findings),
            sending_service(findings),
            handed_over_by(session, findings, match.customer, registry),
        ):
            if identity is not None:
                findings.append(identity)
        if match.identifier_finding is not None:
            findings.append(match.identifier_finding)
        wanted = tuple(self.rules.kind(name) for name in instruction.kinds)
        findings.append(instruction_kind(wanted, instruction.unrecognised))
        findings.append(service_scope(wanted, match.stated, match.mentioned, sender))
        named = named_addresses(instruction.addresses, match.customer, self.provider_domains)
        if named is not None:
            findings.append(named)
        if match.customer is not None and instruction.names.words:
            by_name = named_customers(session, instruction.names, registry)
            named = named_customer(by_name, match.customer)
            if named is not None:
                findings.append(named)
        findings.append(check_replay(prints, seen))
        code_finding, code = one_time_code(
            session,
            instruction,
            match.customer,
            findings,
            assurance_of(findings, self.rules.policy),
            self.code_key,
            consume_code,
        )
        if code_finding is not None:
            findings.append(code_finding)
        assurance = assurance_of(findings, self.rules.policy)
        new_holder: NewHolder | None = None
        successor: Customer | None = None
        if e_cesja and match.customer is not None:
            new_holder, successor = named_new_holder(session, instruction.logins, match.customer)
        decide_with = partial(
            decide,
            findings,
            wanted,
            assurance,
            self.rules.policy,
            panel_email_changed=self._recent_change(match.customer),
            confirmable=self.confirmations_on and match.customer is not None,
            new_holder=new_holder,
        )
        decision = decide_with()
        # An owner's recent "this was not me" raises the requirement, which can change
        # every outcome but these two: it is looked up only when it may matter (one query
        # saved for most mail, which spoofing attempts make rejected).
        if decision.decision not in ("rejected", "postal_required"):
            denied = self._recent_denial(session, match.customer)
            if denied is not None:
                decision = decide_with(denied=denied)
        return (
            {
                "decision": decision.decision,
                "assurance": assurance,
                "customer": match.customer.login if match.customer else None,
                # Identifiers are not listed here: the customer-identifier check names only their
                # kind, and the API's verdict schema (which the signature must match) has no field.
                "instruction": {"kinds": list(instruction.kinds), "services": list(match.services)},
                "checks": [
                    CheckJson(name=f.name, result=f.result, reason=f.reason) for f in findings
                ],
                "reasons": list(decision.reasons),
                "rules_version": self.rules.version,
            },
            code,
            # Only a holder change waiting for both holders has a second stage.
            successor if decision.decision == "confirmation_required" else None,
        )

    def _recent_change(self, customer: Customer | None) -> date | None:
        """The day the customer's panel address changed, if within the recent window."""
        if customer is None:
            return None
        changed = _aware(customer.panel_email_changed_at)
        # Registration sets the address too; only a change after it counts.
        if changed <= _aware(customer.created_at):
            return None
        if self.clock() - changed > self.recent_change:
            return None
        return changed.date()

    def _recent_denial(self, session: Session, customer: Customer | None) -> date | None:
        """The day the owner answered "this was not me", if within the recent window."""
        if customer is None:
            return None
        return recent_denial(session, customer.login, self.clock() - self.recent_change)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the store writes UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def sender_of(findings: list[Finding]) -> str | None:
    """The normalised From address, when the from-mailbox check found a usable one."""
    return next(
        (
            f.evidence["address"]
            for f in findings
            if f.name == "from-mailbox" and f.result == "pass"
        ),
        None,
    )
