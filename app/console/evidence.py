"""What the verdict page shows: the signed verdict, its checks in the order that matters,
the envelope, the headers an agent reads, the text as read, and its history: reviews,
actions, postal documents and the owner's confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup
from sqlalchemy.orm import Session

from app.console.marking import marked
from app.db.types import iso_z
from app.decision.policy import Policy
from app.records.documents import documents_expected, receipts_of
from app.records.message_view import MessageView, stored_message
from app.records.reviews import REVIEWABLE, list_actions, review_state
from app.records.verdicts import find_verdict, get_verdict
from app.signing import VerdictSigner
from app.verdict_types import CheckJson
from mailhook.catalogue import Catalogue

# The headers that say who wrote a message, to whom, and what about (the REST API's
# message view has every one the checks read: app.records.message_view).
HEADERS: Final = ("From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID")
# What the page shows of the text read at most: the verdict's evidence, not an archive.
MAX_TEXT: Final = 20_000
# The policy's actions, most serious first (app.decision.policy.ACTIONS).
_SERIOUS: Final = {"reject": 0, "review": 1}


@dataclass(frozen=True, slots=True)
class CheckRow:
    name: str
    result: str
    reason: str
    # What the policy does with this result: reject, review, or "" when nothing.
    action: str


@dataclass(frozen=True, slots=True)
class Evidence:
    verdict: dict[str, Any]
    checks: list[CheckRow]
    envelope: dict[str, Any]
    headers: list[tuple[str, str]]
    # The text as read, its recognised phrases and services marked (escaped Markup).
    text: str | None
    text_cut: bool
    state: dict[str, Any]
    # Whether an agent may record the first review now.
    reviewable: bool
    # Whether the stored verdict's signature verifies with the service's key.
    signature_valid: bool
    # What agents did for the customer under this verdict, oldest first.
    actions: list[dict[str, Any]]
    # Postal documents received for it, oldest first.
    receipts: list[dict[str, Any]]
    # Whether an action may be recorded now: the verdict stands accepted for a customer.
    actionable: bool
    # Whether postal documents may be recorded now (asked for, none complete yet).
    documents_wanted: bool


def evidence(
    session: Session,
    verdict_id: str,
    policy: Policy,
    signer: VerdictSigner,
    catalogue: Catalogue | None = None,
) -> Evidence:
    """Everything the verdict page shows; NotFound when there is no such verdict. With
    ``catalogue``, the text marks the phrases of the kinds asked for and the services
    named (app.console.marking)."""
    signed = get_verdict(session, verdict_id)
    verdict: dict[str, Any] = dict(signed)
    row = find_verdict(session, verdict_id)
    state = review_state(session, row.id)
    view = stored_message(session, row.message_sha256)
    headers = [(name, value) for name in HEADERS for value in _values(view, name)]
    read = view.own_text()
    cut = view.truncated or len(read) > MAX_TEXT
    text = read[:MAX_TEXT] if view.raw_kept and not view.problem else None
    if text is not None and catalogue is not None:
        text = _marked(text, verdict.get("instruction") or {}, catalogue)
    return Evidence(
        verdict=verdict,
        checks=ordered_checks(signed["checks"], policy),
        envelope=dict(row.envelope),
        headers=headers,
        text=text,
        text_cut=cut,
        state=state,
        reviewable=(
            state["current_decision"] in REVIEWABLE
            and state["current_decision"] == row.decision
            and not state["reviews"]
        ),
        signature_valid=signer.verifies_verdict(signed),
        actions=list_actions(session, row.id),
        receipts=[
            {
                "recorded_at": iso_z(r.recorded_at),
                "agent": r.agent,
                "name": r.name_checked,
                "address": r.address_checked,
                "signature_or_stamp": r.signature_or_stamp_checked,
                "complete": r.complete,
                "note": r.note,
            }
            for r in receipts_of(session, row.id)
        ],
        actionable=state["current_decision"] == "accepted" and row.customer is not None,
        documents_wanted=documents_expected(session, row.id),
    )


def _values(view: MessageView, name: str) -> list[str]:
    return [value for each, value in view.headers if each == name]


def ordered_checks(checks: list[CheckJson], policy: Policy) -> list[CheckRow]:
    """Failures first: what the policy rejects on, then what it holds for review, then
    every other result but a pass, then the passes; the recorded order within each."""
    rows = [
        CheckRow(c["name"], c["result"], c["reason"], _action(policy, c["name"], c["result"]))
        for c in checks
    ]

    def weight(row: CheckRow) -> int:
        return _SERIOUS.get(row.action, 2 if row.result != "pass" else 3)

    return sorted(rows, key=weight)


def _action(policy: Policy, name: str, result: str) -> str:
    action = policy.action_for(name, result)
    return action if action in _SERIOUS else ""


def _marked(text: str, instruction: dict[str, Any], catalogue: Catalogue) -> Markup:
    asked = set(instruction.get("kinds") or ())
    phrases = [phrase for kind in catalogue.kinds if kind.name in asked for phrase in kind.phrases]
    return marked(text, phrases, instruction.get("services") or ())
