"""The verdict as JSON: one ``Verdict`` type, and the ``Decision`` and ``Assurance`` literals.

What is recorded, signed, served (``GET /v1/verdicts/{id}``) and sent to webhooks
(docs/architecture.md, "The verdict"). A leaf: every layer may name these types.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, get_args

from mailhook.catalogue import ASSURANCE_LEVELS, Assurance

__all__ = [
    "ASSURANCE_LEVELS",
    "CHANNELS",
    "DECISIONS",
    "Assurance",
    "Channel",
    "CheckJson",
    "Decision",
    "Explanation",
    "InstructionJson",
    "Verdict",
    "VerdictBody",
]

Decision = Literal[
    "accepted",
    "rejected",
    "review",
    "otp_required",
    "postal_required",
    "confirmation_required",
]
DECISIONS: tuple[Decision, ...] = get_args(Decision)
# The doors, as InboundMessage.channel names them.
Channel = Literal["smtp", "pipe", "api", "milter"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)


class CheckJson(TypedDict):
    """One check that ran: its name, its result and one sentence an agent can read."""

    name: str
    result: str
    reason: str


class InstructionJson(TypedDict):
    kinds: list[str]
    services: list[str]


class VerdictBody(TypedDict):
    """What the decision gives: the verdict but the fields its recording adds (id,
    message_id, recorded_at, channel, signature)."""

    decision: Decision
    assurance: Assurance
    customer: str | None
    instruction: InstructionJson
    checks: list[CheckJson]
    reasons: list[str]
    rules_version: str


class Explanation(TypedDict):
    """``intakeguard check``: what the verdict would be, recorded nowhere; ``decision``
    is None when a temporary failure would have the message retried."""

    message_id: str | None
    channel: Channel
    decision: Decision | None
    assurance: Assurance
    customer: str | None
    instruction: InstructionJson
    checks: list[CheckJson]
    reasons: list[str]
    rules_version: str


class Verdict(TypedDict):
    """A recorded verdict; ``signature`` covers every other field."""

    id: str
    message_id: str | None
    recorded_at: str
    channel: Channel
    decision: Decision
    assurance: Assurance
    customer: str | None
    instruction: InstructionJson
    checks: list[CheckJson]
    reasons: list[str]
    rules_version: str
    signature: NotRequired[str]
