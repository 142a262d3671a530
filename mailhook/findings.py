"""The result of one check: a machine-readable outcome and a sentence an agent can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Finding:
    """What one named check found.

    ``result`` is a short token (``pass``, ``fail``, ``none``, ``error``…) that the
    policy in ``rules/`` maps to a consequence; the check itself never decides.
    ``evidence`` carries values later stages need but that are not part of the verdict.
    """

    name: str
    result: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "result": self.result, "reason": self.reason}
