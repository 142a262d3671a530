"""The hand-off: how a door in ``mailhook`` passes a message on for a recorded verdict.

``mailhook`` defines the protocol and ``app`` provides it: in process when the API and
the receiver share a process, over HTTP when they run apart. Doors only see this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mailhook.message import InboundMessage


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof that a verdict is durably recorded, and what the milter stamps of it."""

    verdict_id: str
    decision: str
    assurance: str
    customer: str | None
    signature: str
    results: tuple[tuple[str, str], ...]
    """(check name, result) of every check the verdict records, in its order."""

    @classmethod
    def of_verdict(cls, verdict: Mapping[str, Any]) -> Receipt:
        """The receipt of a verdict as recorded and served (README "The verdict")."""
        return cls(
            verdict_id=str(verdict["id"]),
            decision=str(verdict["decision"]),
            assurance=str(verdict["assurance"]),
            customer=verdict["customer"],
            signature=str(verdict["signature"]),
            results=tuple(
                (str(check["name"]), str(check["result"])) for check in verdict["checks"]
            ),
        )


class Handoff(Protocol):
    """Records a verdict for a message.

    Raises mailhook.errors.TemporaryFailure when it cannot now (the sender retries),
    UnusableMessage when the input can never be recorded, and RefusedCredentials when
    the decision API refuses our token (a configuration error on our side).
    """

    async def submit(self, message: InboundMessage) -> Receipt: ...
