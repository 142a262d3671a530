"""Refusals of the records layer in the agent's language: a sentence for each reason.

The records layer refuses in English, for the REST API (its message names API paths and
ids); a refusal an agent can meet on a console page also names its ``reason``, and the
page shows the sentence below in the agent's language instead. A refusal without one of
these reasons is shown as the records layer wrote it.
"""

from __future__ import annotations

from typing import Final

from app.console import rendering
from app.console.i18n import N_
from app.errors import IntakeguardError

# The reason of a refusal, and what the agent reads; %(name)s are the refusal's values.
SENTENCES: Final[dict[str, str]] = {
    "review-of-final": N_(
        "This verdict is %(decision)s, which is final: only verdicts held for review, for a "
        "one-time code or for the owner's confirmation are decided by an agent."
    ),
    "review-of-postal": N_(
        "This verdict waits for signed documents by post: record the documents below, not a review."
    ),
    "decided-by-owner": N_(
        "The registered owner already decided this verdict: they answered %(answer)s to the "
        "confirmation."
    ),
    "nothing-to-supersede": N_("This verdict has no review yet, so there is none to correct."),
    "already-reviewed": N_(
        "This verdict was already reviewed: %(decision)s by %(agent)s. To change it, correct "
        "that review and give the reason."
    ),
    "not-the-current-review": N_(
        "Another review was recorded in the meantime; only the current one can be "
        "corrected: see it below."
    ),
    "act-on-rejected": N_("This verdict was rejected: nothing may be done on its instruction."),
    "act-before-documents": N_(
        "This verdict waits for signed documents by post: record them before acting."
    ),
    "act-before-confirmation": N_(
        "This verdict waits for the registered owner to confirm it through the link sent to "
        "the panel address: act once it is confirmed, or review it."
    ),
    "act-before-review": N_(
        "This verdict is %(decision)s and has not been accepted on review: review it before acting."
    ),
    "no-customer": N_(
        "This verdict names no customer, so it cannot authorise anything done for one: "
        "record the action under a verdict about that customer."
    ),
    "another-customer": N_(
        "This verdict is about customer %(customer)s, not %(login)s: record the action under "
        "the verdict that concerns them."
    ),
    "code-ref-not-an-id": N_(
        "The one-time code field takes the id of the verdict or verification where the "
        "customer's code was used."
    ),
    "code-not-used-there": N_(
        "No one-time code of customer %(login)s was used by that verdict or verification."
    ),
    "documents-not-asked": N_(
        "This verdict is %(decision)s: documents by post complete only a verdict that asked "
        "for them."
    ),
    "documents-already-complete": N_(
        "Documents recorded by %(agent)s already complete this verdict; nothing more is needed."
    ),
    "not-a-service": N_("%(service)s is neither a domain name nor a server id."),
    "not-a-domain": N_("%(service)s is not a valid domain name."),
}


def refusal(error: IntakeguardError) -> str:
    """What the agent reads of ``error``: its sentence in the page's language, if it has one."""
    sentence = SENTENCES.get(error.reason or "")
    if sentence is None:
        return str(error)
    values = dict(error.values)
    # gettext("") is the catalogue's header: a decision without a name stays as written.
    name = DECISION_NAMES.get(values.get("decision", ""))
    if name is not None:
        values["decision"] = rendering.gettext(name)
    return rendering.gettext(sentence) % values


# A decision as a sentence names it (the verdict's decision itself stays the API's word).
DECISION_NAMES: Final[dict[str, str]] = {
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "review": N_("held for review"),
    "otp_required": N_("waiting for a one-time code"),
    "postal_required": N_("waiting for documents by post"),
    "confirmation_required": N_("waiting for the owner's confirmation"),
}
