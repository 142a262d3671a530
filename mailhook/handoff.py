"""The hand-off: how a door in ``mailhook`` passes a message on for a recorded verdict.

``mailhook`` defines the protocol and ``app`` provides it: in process when the API and
the receiver share a process, over HTTP when they run apart. Doors only see this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mailhook.message import InboundMessage


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof that a verdict is durably recorded."""

    verdict_id: str
    decision: str


class Handoff(Protocol):
    """Records a verdict for a message.

    Raises mailhook.errors.TemporaryFailure when it cannot now (the sender retries),
    UnusableMessage when the input can never be recorded, and RefusedCredentials when
    the decision API refuses our token (a configuration error on our side).
    """

    async def submit(self, message: InboundMessage) -> Receipt: ...
