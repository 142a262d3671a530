"""instruction-kind: whether the catalogue recognised what the message asks for."""

from __future__ import annotations

from mailhook.catalogue import InstructionKind
from mailhook.checks import declare
from mailhook.findings import Finding

NAME = "instruction-kind"
RESULTS: tuple[str, ...] = ("pass", "none", "partial")
declare(NAME, "the instruction catalogue recognises what the message asks for", results=RESULTS)


def instruction_kind(
    kinds: tuple[InstructionKind, ...], unrecognised: tuple[str, ...] = ()
) -> Finding:
    """``pass`` naming the kinds recognised, ``none`` when the catalogue matched nothing,
    ``partial`` when the sender's text also asks for something it does not recognise
    (the clauses, from mailhook.requests)."""
    if not kinds:
        return Finding(
            NAME,
            "none",
            "The instruction catalogue does not recognise what the message asks for; an agent "
            "must read it and decide.",
        )
    if unrecognised:
        quoted = "; ".join(f"«{clause}»" for clause in unrecognised[:5])
        return Finding(
            NAME,
            "partial",
            f"The message asks for {described(kinds)}, and also for something the catalogue "
            f"does not recognise ({quoted}); an agent must read it and decide, as the desk "
            "would act on all of it.",
            {"unrecognised": list(unrecognised)},
        )
    return Finding(
        NAME,
        "pass",
        f"The message asks for {described(kinds)} ({', '.join(kind.name for kind in kinds)}).",
    )


def described(kinds: tuple[InstructionKind, ...]) -> str:
    """The kinds as a sentence names them: their titles, lower-case first."""
    return ", ".join(kind.title[:1].lower() + kind.title[1:] for kind in kinds)
