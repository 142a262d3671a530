"""The decision: findings, instruction kinds and assurance in, a decision and reasons out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.rules import Rules
from mailhook.findings import Finding
from mailhook.instructions import ASSURANCE_LEVELS, InstructionKind

DECISIONS = ("accepted", "rejected", "review", "otp_required", "postal_required")
# Why a message falls short of a level, by the level it reaches (DESIGN.md, Verdict).
_SHORT_BECAUSE = {
    "none": "the sender is not the address registered in the Customer Panel for it",
    "asserted": "the sender's domain does not prove that it sent it (no DMARC-aligned SPF "
    "or DKIM pass)",
    "authenticated": "it carries no valid one-time code from the Customer Panel",
}


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    reasons: tuple[str, ...]


def assurance_of(findings: list[Finding], rules: Rules) -> str:
    """How sure we are that the registered customer sent the message (DESIGN.md).

    ``asserted``: header From is the registered panel address. ``authenticated``:
    and the From domain authenticates it (DMARC-aligned SPF or DKIM, possibly through a
    trusted upstream result or ARC sealer), with no finding that blocks. ``authorized``:
    authenticated, and it carries a valid, unused one-time code of that customer.
    """
    results = {f.name: f.result for f in findings}
    if results.get("customer-match") != "pass":
        return "none"
    blocking = any(rules.policy.action_for(f.name, f.result) == "reject" for f in findings)
    if results.get("dmarc") == "pass" and not blocking:
        if results.get("one-time-code") == "pass":
            return "authorized"
        return "authenticated"
    return "asserted"


def decide(
    findings: list[Finding],
    kinds: tuple[str, ...],
    assurance: str,
    rules: Rules,
    panel_email_changed: date | None = None,
) -> Decision:
    """Apply the policy: a rejecting finding wins, then review, then the requirement.

    ``panel_email_changed`` is the day the customer's panel address was changed, when
    that was recent: the requirement is then one level higher, as an attacker who took
    over a panel account changes the address first.
    """
    policy = rules.policy
    rejecting = [f.reason for f in findings if policy.action_for(f.name, f.result) == "reject"]
    if rejecting:
        return Decision("rejected", tuple(rejecting))
    reviewing = [f.reason for f in findings if policy.action_for(f.name, f.result) == "review"]
    if reviewing:
        return Decision("review", tuple(reviewing))
    wanted = [rules.kind(name) for name in kinds]
    postal = [kind for kind in wanted if kind.postal_only]
    if postal:
        return Decision(
            "postal_required",
            (
                f"{postal[0].title} is accepted only on signed documents sent by post; "
                "tell the customer which documents to send.",
            ),
        )
    if not wanted:
        # Interim, until the decision reads the instruction-kind finding (issue 13): a
        # request the catalogue does not recognise is held, never accepted.
        return Decision(
            "review",
            (
                "The message asks for nothing the catalogue recognises; an agent should "
                "read it, as what is not understood is never accepted.",
            ),
        )
    required, raised = _requirement(wanted, ASSURANCE_LEVELS[0], panel_email_changed)
    what = ", ".join(kind.title[:1].lower() + kind.title[1:] for kind in wanted)
    what = what or "an unrecognised request"
    if ASSURANCE_LEVELS.index(assurance) >= ASSURANCE_LEVELS.index(required):
        return Decision(
            "accepted",
            (
                f"The message asks for {what} and carries the {required} level it needs; "
                "the desk may act on it.",
                *raised,
            ),
        )
    if required == "authorized" and assurance == "authenticated":
        return Decision(
            "otp_required",
            (
                f"The message asks for {what}, which needs a one-time code; ask the customer "
                "to copy one from the Customer Panel into a reply.",
                *raised,
            ),
        )
    return Decision(
        "rejected" if policy.shortfall == "reject" else "review",
        (
            f"The message asks for {what}, which needs the {required} level, but it only "
            f"reaches {assurance} because {_SHORT_BECAUSE[assurance]}; confirm with the "
            "customer through the Customer Panel before acting.",
            *raised,
        ),
    )


def _requirement(
    wanted: list[InstructionKind], default: str, panel_email_changed: date | None
) -> tuple[str, tuple[str, ...]]:
    """The level the kinds need (the policy default for none), raised after a recent change."""
    required = max((kind.requires for kind in wanted), key=ASSURANCE_LEVELS.index, default=default)
    if panel_email_changed is None or required == ASSURANCE_LEVELS[-1]:
        return required, ()
    raised = ASSURANCE_LEVELS[ASSURANCE_LEVELS.index(required) + 1]
    return raised, (
        f"The panel address was changed recently ({panel_email_changed.isoformat()}), so the "
        f"request needs the {raised} level instead of {required}, as whoever takes over a "
        "panel account changes its address first.",
    )
