"""The decision service: one canonical message in, one recorded, signed verdict out."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import store_errors
from app.matching import match_customer
from app.policy import assurance_of, decide
from app.rules import Rules
from app.signing import VerdictSigner
from app.verdicts import record_verdict
from mailhook.checks import run_pipeline
from mailhook.findings import Finding
from mailhook.instructions import extract
from mailhook.message import InboundMessage

log = logging.getLogger(__name__)


class DecisionService:
    """Verifies, decides and records; every door hands its message here."""

    def __init__(
        self, sessions: sessionmaker[Session], rules: Rules, signer: VerdictSigner
    ) -> None:
        self.sessions = sessions
        self.rules = rules
        self.signer = signer

    def submit(self, message: InboundMessage) -> dict[str, Any]:
        """Decide on ``message`` and record the verdict; raises StoreUnavailable if it cannot."""
        with store_errors(), self.sessions.begin() as session:
            verdict = record_verdict(
                session, message, self._evaluate(session, message), self.signer
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
        """What the verdict would be, without recording anything."""
        with store_errors(), self.sessions() as session:
            body = self._evaluate(session, message)
            session.rollback()
        return {"message_id": message.message_id, "channel": message.channel.value, **body}

    def _evaluate(self, session: Session, message: InboundMessage) -> dict[str, Any]:
        findings: list[Finding] = run_pipeline(message)
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
        assurance = assurance_of(findings)
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
