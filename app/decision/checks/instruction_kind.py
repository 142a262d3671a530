"""instruction-kind: whether the catalogue recognised what the message asks for."""

from __future__ import annotations

from mailhook.checks import declare
from mailhook.findings import Finding
from mailhook.instructions import InstructionKind

NAME = "instruction-kind"
RESULTS: tuple[str, ...] = ("pass", "none")
declare(NAME, "the instruction catalogue recognises what the message asks for", results=RESULTS)


def instruction_kind(kinds: tuple[InstructionKind, ...]) -> Finding:
    """``pass`` naming the kinds recognised, or ``none`` when the catalogue matched nothing."""
    if not kinds:
        return Finding(
            NAME,
            "none",
            "The instruction catalogue does not recognise what the message asks for; an agent "
            "must read it and decide.",
        )
    return Finding(
        NAME,
        "pass",
        f"The message asks for {described(kinds)} ({', '.join(kind.name for kind in kinds)}).",
    )


def described(kinds: tuple[InstructionKind, ...]) -> str:
    """The kinds as a sentence names them: their titles, lower-case first."""
    return ", ".join(kind.title[:1].lower() + kind.title[1:] for kind in kinds)
