"""The policy and its application: findings, instruction kinds and assurance in, a
decision and reasons out.

``Policy`` is what ``rules/policy.toml`` says (loaded and validated by
app.decision.rules); ``assurance_of`` and ``decide`` apply it to one message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from app.decision.checks import instruction_kind
from app.decision.checks.instruction_kind import described
from app.verdict_types import ASSURANCE_LEVELS, Assurance, Decision
from mailhook.catalogue import InstructionKind
from mailhook.findings import Finding

ACTIONS = ("reject", "review", "ignore")

# Results that mean part of the message was not understood, or is not shown to be the
# sender's: never accepted (issue 13, "fail closed"). Whatever policy.toml says or
# leaves out, each is at least `review`; mapping one to "ignore" is a load error
# giving this reason. `error`, of every check, is one too (CHECK_ERROR).
_NOT_UNDERSTOOD = "what the message asks for was not understood"
_NOT_READ = "part of what a person reads in the message was not read, or disagrees"
_NOT_OWN = "the request is not shown to concern only the sender's own services"
AT_LEAST_REVIEW: dict[str, str] = {
    "instruction-kind.none": _NOT_UNDERSTOOD,
    "instruction-kind.partial": _NOT_UNDERSTOOD,
    "named-addresses.other": "the message names a mail address that is not the customer's, "
    "where the desk may send a customer's documents or mail",
    "named-customer.other": "the message names another registered customer by name, whose "
    "account the desk may act on or disclose",
    "service-scope.none": _NOT_OWN,
    "service-scope.foreign": _NOT_OWN,
    "service-scope.mixed": _NOT_OWN,
    "service-scope.lookalike": _NOT_OWN,
    "instruction-parts.disagree": _NOT_READ,
    "instruction-parts.unreadable": _NOT_READ,
    "instruction-parts.hidden": _NOT_READ,
    "instruction-parts.attachment": _NOT_READ,
    "instruction-text.truncated": _NOT_READ,
    "instruction-text.history-asks": "the quoted or forwarded text asks for more than the "
    "sender's own, and a reader may not tell where the sender's words end",
    "instruction-text.unexplained": "a sentence beside the recognised request names a service, "
    "a reference or another party in words no kind explains",
    "instruction-text.points-elsewhere": "the sender's text points at a request written "
    "elsewhere (the subject, the quoted history, an attachment)",
    "header-count.fail": "a repeated header may show the reader another value than the one checked",
    "auto-submitted.auto": "automatic mail is no person's instruction",
    "signed-headers.uncovered": "a header field the reader sees (From, Subject, Reply-To, "
    "Content-Type…) is not covered by the signature that authenticates the message",
}
CHECK_ERROR = "the check could not complete, so it vouches for nothing"


def at_least_review(name: str, result: str) -> str | None:
    """Why ``name.result`` is never weaker than review; None when the policy decides."""
    if result == "error":
        return CHECK_ERROR
    return AT_LEAST_REVIEW.get(f"{name}.{result}")


# A change of the domain holder: "postal" (signed documents by post), or "confirm_both"
# (e-cesja: the current holder, then the new one, confirm at their panel addresses).
HOLDER_CHANGE = ("postal", "confirm_both")
# The catalogue's kind that "holder_change" of [confirmation] is about.
HOLDER_CHANGE_KIND = "holder_change"
# Both holders confirm within this many days of the request (e-cesja), else it expires.
HOLDER_CHANGE_DAYS = 7


@dataclass(frozen=True, slots=True)
class Confirmation:
    """When the registered owner may confirm a request at the panel address ([confirmation]).

    ``levels``: the requirements a confirmation may stand in for (``authorized`` only when
    written: it never replaces a one-time code by default). ``from_levels``: the assurance
    the message must reach (``none``, mail from another address, only when written).
    ``findings``: the review findings a confirmation may stand in for as well.
    """

    enabled: bool = False
    levels: tuple[str, ...] = ()
    from_levels: tuple[str, ...] = ("asserted",)
    findings: frozenset[str] = frozenset()
    holder_change: str = "postal"

    def covers(self, required: str, assurance: str) -> bool:
        return self.enabled and required in self.levels and assurance in self.from_levels

    @property
    def both_holders(self) -> bool:
        """Whether a holder change may be confirmed by both holders (e-cesja)."""
        return self.enabled and self.holder_change == "confirm_both"


@dataclass(frozen=True, slots=True)
class NewHolder:
    """Whom a holder change names as the new holder, as the registry knows them.

    ``login``: the one registered customer, other than the current holder, the message
    names by login; None with ``problem``, the sentence saying why there is none.
    """

    login: str | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """What findings mean for the decision, and the defaults when none applies."""

    findings: dict[str, str]
    shortfall: str
    confirmation: Confirmation = Confirmation()
    # Its only legal value: a request the catalogue does not recognise is held for
    # review (instruction-kind none); `rules check` shows it.
    unrecognised_requires: str = "review"

    def action_for(self, name: str, result: str) -> str:
        """reject, review or ignore; never weaker than review for at_least_review()."""
        action = self.findings.get(f"{name}.{result}", "ignore")
        if action == "ignore" and at_least_review(name, result):
            return "review"
        return action


# Why a message falls short of a level, by the level it reaches (docs/architecture.md,
# "The verdict").
_SHORT_BECAUSE = {
    "none": "the sender is not the address registered in the Customer Panel for it",
    "asserted": "the sender's domain does not prove that it sent it (no DMARC-aligned SPF "
    "or DKIM pass)",
    "authenticated": "it carries no valid one-time code from the Customer Panel",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decision and the sentences that explain it."""

    decision: Decision
    reasons: tuple[str, ...]


def assurance_of(findings: list[Finding], policy: Policy) -> Assurance:
    """How sure we are that the registered customer sent the message.

    The levels, as docs/architecture.md ("The verdict") draws them. ``asserted``: header
    From is the registered panel address. ``authenticated``: and the From domain
    authenticates it (DMARC-aligned SPF or DKIM, possibly through a trusted upstream
    result or ARC sealer), with no finding that blocks. ``authorized``: authenticated,
    and it carries a valid, unused one-time code of that customer.
    """
    results = {f.name: f.result for f in findings}
    if results.get("customer-match") != "pass":
        return "none"
    blocking = any(policy.action_for(f.name, f.result) == "reject" for f in findings)
    if results.get("dmarc") == "pass" and not blocking:
        if results.get("one-time-code") == "pass":
            return "authorized"
        return "authenticated"
    return "asserted"


@dataclass(frozen=True, slots=True)
class _Case:
    """What the decision is taken on."""

    findings: list[Finding]
    wanted: tuple[InstructionKind, ...]
    assurance: Assurance
    policy: Policy
    # The level the kinds need, and the reasons it was raised (a recent panel change).
    required: str
    raised: tuple[str, ...]
    # Whether the owner can be asked to confirm (a customer, and confirmation mail on).
    confirmable: bool = False
    # A recent change of the panel address, or a recent "this was not me".
    recent: bool = False
    # For a holder change under "confirm_both": the new holder the message names.
    new_holder: NewHolder | None = None

    def action(self, finding: Finding) -> str:
        # Policy.action_for never answers weaker than review for what was not understood
        # or is not the sender's own (AT_LEAST_REVIEW).
        return self.policy.action_for(finding.name, finding.result)

    @property
    def what(self) -> str:
        return described(self.wanted)


def decide(
    findings: list[Finding],
    wanted: tuple[InstructionKind, ...],
    assurance: Assurance,
    policy: Policy,
    panel_email_changed: date | None = None,
    confirmable: bool = False,
    denied: date | None = None,
    new_holder: NewHolder | None = None,
) -> Outcome:
    """Apply the policy: the first of _STEPS that applies decides, else the shortfall.

    ``panel_email_changed`` is the day the customer's panel address was changed, when
    that was recent: the requirement is then one level higher, as an attacker who took
    over a panel account changes the address first. ``denied`` is the day the owner
    answered "this was not me" to a confirmation, when that was recent: the same.
    ``confirmable``: the owner can be asked to confirm at the panel address.
    ``new_holder``: for a holder change when the policy lets both holders confirm it,
    whom the message names as the new holder.
    """
    required, raised = _requirement(wanted, panel_email_changed, denied)
    recent = panel_email_changed is not None or denied is not None
    case = _Case(
        list(findings), wanted, assurance, policy, required, raised, confirmable, recent, new_holder
    )
    for step in _STEPS:
        decision = step(case)
        if decision is not None:
            return decision
    return _shortfall(case)


def _rejecting(case: _Case) -> Outcome | None:
    """A finding the policy rejects wins over everything."""
    reasons = tuple(f.reason for f in case.findings if case.action(f) == "reject")
    return Outcome("rejected", reasons) if reasons else None


def _owner_confirms(case: _Case) -> Outcome | None:
    """Short of the level only by what the owner's answer at the panel address proves
    ([confirmation] of the policy): asked to confirm instead of held for an agent."""
    policy = case.policy.confirmation
    if not case.confirmable or not case.wanted or any(k.postal_only for k in case.wanted):
        return None
    if ASSURANCE_LEVELS.index(case.assurance) >= ASSURANCE_LEVELS.index(case.required):
        return None
    if not policy.covers(case.required, case.assurance):
        return None
    return _asked(
        case,
        f"The message asks for {case.what}, which needs the {case.required} level, but it "
        f"only reaches {case.assurance} because {_SHORT_BECAUSE[case.assurance]}; the "
        "owner is asked to confirm it through a link sent to the address registered in "
        "the Customer Panel, and the desk acts only once it is confirmed.",
    )


def _asked(case: _Case, why: str) -> Outcome | None:
    """confirmation_required for ``why``, when a confirmation may settle every finding held
    for review ([confirmation] findings); None when one needs an agent whatever the owner
    says."""
    held = [f for f in case.findings if case.action(f) == "review"]
    if any(f"{f.name}.{f.result}" not in case.policy.confirmation.findings for f in held):
        return None
    return Outcome("confirmation_required", (why, *(f.reason for f in held), *case.raised))


def _both_holders_confirm(case: _Case) -> Outcome | None:
    """A holder change that the current holder, then the new one, confirm at their panel
    addresses (e-cesja, holder_change = "confirm_both"), instead of documents by post."""
    policy = case.policy.confirmation
    if not policy.both_holders or not case.confirmable or case.new_holder is None:
        return None
    if not case.wanted or any(k.name != HOLDER_CHANGE_KIND for k in case.wanted):
        return None
    if case.recent or case.new_holder.login is None:
        return None  # documents by post (_postal says why)
    # From the panel address: never "none", whatever [confirmation] senders says.
    if case.assurance == "none":
        return None
    if case.assurance == "asserted" and "asserted" not in policy.from_levels:
        return None
    return _asked(
        case,
        f"The message asks for {case.what} to customer {case.new_holder.login}; the "
        "current holder confirms it through a link sent to the address registered in "
        "the Customer Panel, then the new holder through a link to theirs, both within "
        f"{HOLDER_CHANGE_DAYS} days; the desk acts only once both confirmed (signed "
        "documents by post remain possible).",
    )


def _reviewing(case: _Case) -> Outcome | None:
    """Then one it holds for an agent."""
    reasons = tuple(f.reason for f in case.findings if case.action(f) == "review")
    return Outcome("review", reasons) if reasons else None


def _postal(case: _Case) -> Outcome | None:
    """A kind accepted only on paper, whatever the mail proves."""
    postal = [kind for kind in case.wanted if kind.postal_only]
    if not postal:
        return None
    return Outcome(
        "postal_required",
        (
            f"{postal[0].title} is accepted only on signed documents sent by post; "
            "tell the customer which documents to send.",
            *_why_not_by_mail(case),
        ),
    )


def _why_not_by_mail(case: _Case) -> tuple[str, ...]:
    """Why a holder change that both holders could have confirmed needs paper after all."""
    if case.new_holder is None or not case.confirmable:
        return ()
    if case.new_holder.problem is not None:
        return (f"It cannot be confirmed by both holders by e-mail: {case.new_holder.problem}.",)
    if case.recent:
        return (
            "It cannot be confirmed by both holders by e-mail: the panel address was changed, "
            'or the owner answered "this was not me", recently.',
        )
    return ()


def _unrecognised(case: _Case) -> Outcome | None:
    """Nothing recognised is nothing to accept: held, even without the instruction-kind
    finding (the decision is then taken on findings that lack it)."""
    if case.wanted:
        return None
    return Outcome("review", (instruction_kind.instruction_kind(()).reason,))


def _requirement_met(case: _Case) -> Outcome | None:
    if ASSURANCE_LEVELS.index(case.assurance) < ASSURANCE_LEVELS.index(case.required):
        return None
    return Outcome(
        "accepted",
        (
            f"The message asks for {case.what} and carries the {case.required} level it "
            "needs; the desk may act on it.",
            *case.raised,
        ),
    )


def _code_closes_the_gap(case: _Case) -> Outcome | None:
    if (case.required, case.assurance) != ("authorized", "authenticated"):
        return None
    return Outcome(
        "otp_required",
        (
            f"The message asks for {case.what}, which needs a one-time code; ask the customer "
            "to copy one from the Customer Panel into a reply.",
            *case.raised,
        ),
    )


def _shortfall(case: _Case) -> Outcome:
    return Outcome(
        "rejected" if case.policy.shortfall == "reject" else "review",
        (
            f"The message asks for {case.what}, which needs the {case.required} level, but it "
            f"only reaches {case.assurance} because {_SHORT_BECAUSE[case.assurance]}; confirm "
            "with the customer through the Customer Panel before acting.",
            *case.raised,
        ),
    )


# The order of the decision, declared once; the shortfall decides when none applies.
_STEPS: tuple[Callable[[_Case], Outcome | None], ...] = (
    _rejecting,
    _both_holders_confirm,
    _owner_confirms,
    _reviewing,
    _postal,
    _unrecognised,
    _requirement_met,
    _code_closes_the_gap,
)


def _requirement(
    wanted: tuple[InstructionKind, ...], panel_email_changed: date | None, denied: date | None
) -> tuple[str, tuple[str, ...]]:
    """The level the kinds need, raised (once) after a recent change of the panel address
    or a recent "this was not me" from the owner.

    With no kind there is nothing to accept (_unrecognised decides first); the highest
    level stands in, so nothing can be met by accident.
    """
    required = max(
        (kind.requires for kind in wanted), key=ASSURANCE_LEVELS.index, default=ASSURANCE_LEVELS[-1]
    )
    if (panel_email_changed is None and denied is None) or required == ASSURANCE_LEVELS[-1]:
        return required, ()
    raised = ASSURANCE_LEVELS[ASSURANCE_LEVELS.index(required) + 1]
    reasons: list[str] = []
    if panel_email_changed is not None:
        reasons.append(
            f"The panel address was changed recently ({panel_email_changed.isoformat()}), so "
            f"the request needs the {raised} level instead of {required}, as whoever takes "
            "over a panel account changes its address first."
        )
    if denied is not None:
        reasons.append(
            f'The owner answered a confirmation with "this was not me" recently '
            f"({denied.isoformat()}), so the request needs the {raised} level instead of "
            f"{required}: someone else is sending instructions in the customer's name."
        )
    return raised, tuple(reasons)
