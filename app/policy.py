"""The decision: findings, instruction kinds and assurance in, a decision and reasons out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.rules import Rules
from mailhook.findings import Finding
from mailhook.instructions import ASSURANCE_LEVELS

DECISIONS = ("accepted", "rejected", "review", "otp_required", "postal_required")


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
    required = max(
        (kind.requires for kind in wanted),
        key=ASSURANCE_LEVELS.index,
        default=policy.unrecognised_requires,
    )
    raised: tuple[str, ...] = ()
    if panel_email_changed is not None and required != ASSURANCE_LEVELS[-1]:
        required = ASSURANCE_LEVELS[ASSURANCE_LEVELS.index(required) + 1]
        raised = (
            f"The panel address was changed recently ({panel_email_changed.isoformat()}), so "
            f"the request needs the {required} level; the customer can confirm it with a "
            "one-time code from the Customer Panel.",
        )
    what = ", ".join(kind.title[:1].lower() + kind.title[1:] for kind in wanted)
    what = what or "an unrecognised request"
    if ASSURANCE_LEVELS.index(assurance) >= ASSURANCE_LEVELS.index(required):
        return Decision(
            "accepted",
            (f"The message asks for {what} and carries the {required} level it needs.", *raised),
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
            f"reaches {assurance}: the sender's domain does not prove that it sent it. "
            "Confirm with the customer through the Customer Panel before acting.",
            *raised,
        ),
    )
