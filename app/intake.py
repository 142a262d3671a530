"""The decision service: one canonical message in, one recorded, signed verdict out."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, session_factory, store_errors
from app.matching import match_customer
from app.policy import assurance_of, decide
from app.rules import Rules, load_rules
from app.settings import Settings
from app.signing import VerdictSigner
from app.verdicts import record_verdict
from mailhook.checks import run_pipeline
from mailhook.context import CheckContext, TrustConfig
from mailhook.dns import Resolver
from mailhook.errors import TemporaryFailure
from mailhook.findings import Finding
from mailhook.instructions import extract
from mailhook.message import InboundMessage

log = logging.getLogger(__name__)


class DecisionService:
    """Verifies, decides and records; every door hands its message here."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rules: Rules,
        signer: VerdictSigner,
        resolver: Resolver | None = None,
        trust: TrustConfig | None = None,
    ) -> None:
        self.sessions = sessions
        self.rules = rules
        self.signer = signer
        self.resolver = resolver
        self.trust = trust or TrustConfig()

    @classmethod
    def from_settings(cls, settings: Settings, signing_key: bytes) -> DecisionService:
        """The service ``settings`` describe: store, rules (validated), DNS and trust."""
        return cls(
            session_factory(make_engine(settings.database_url)),
            load_rules(settings.rules_dir),
            VerdictSigner(signing_key),
            resolver=Resolver(settings.dns_nameservers or None, timeout=settings.dns_timeout),
            trust=settings.trust(),
        )

    def submit(self, message: InboundMessage) -> dict[str, Any]:
        """Decide on ``message`` and record the verdict.

        Raises TemporaryFailure when a check could not get an answer (DNS timeout,
        SERVFAIL) and StoreUnavailable when the verdict cannot be recorded: in both
        cases nothing is recorded and the sender should retry.
        """
        # The mail checks run before the transaction opens: DNS may be slow, and a
        # transaction held open across it would only block other writers.
        findings = self.verify(message)
        temporary = [f.reason for f in findings if f.result == "temperror"]
        if temporary:
            raise TemporaryFailure(" ".join(temporary))
        with store_errors(), self.sessions.begin() as session:
            verdict = record_verdict(
                session, message, self._decide(session, message, findings), self.signer
            )
        log.info(
            "recorded verdict %s: %s (%s) for message %s via %s",
            verdict["id"],
            verdict["decision"],
            verdict["assurance"],
            message.message_id,
            message.channel.value,
        )
        return verdict

    def explain(self, message: InboundMessage) -> dict[str, Any]:
        """What the verdict would be, without recording anything (temperrors shown as such)."""
        findings = self.verify(message)
        with store_errors(), self.sessions() as session:
            body = self._decide(session, message, findings)
            session.rollback()
        return {"message_id": message.message_id, "channel": message.channel.value, **body}

    def verify(self, message: InboundMessage) -> list[Finding]:
        """The mail checks' findings for ``message``."""
        context = CheckContext(resolver=self.resolver, trust=self.trust)
        return run_pipeline(message, context)

    def _decide(
        self, session: Session, message: InboundMessage, findings: list[Finding]
    ) -> dict[str, Any]:
        findings = list(findings)
        instruction = extract(message, self.rules.catalogue)
        sender = next(
            (
                f.evidence["address"]
                for f in findings
                if f.name == "from-mailbox" and f.result == "pass"
            ),
            None,
        )
        match = match_customer(session, sender, instruction)
        if match.finding is not None:
            findings.append(match.finding)
        assurance = assurance_of(findings, self.rules)
        decision = decide(findings, instruction.kinds, assurance, self.rules)
        return {
            "decision": decision.decision,
            "assurance": assurance,
            "customer": match.customer.login if match.customer else None,
            "instruction": {"kinds": list(instruction.kinds), "services": list(match.services)},
            "checks": [f.as_dict() for f in findings],
            "reasons": list(decision.reasons),
            "rules_version": self.rules.version,
        }
