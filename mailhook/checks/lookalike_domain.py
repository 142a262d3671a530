"""lookalike-domain: the From domain does not imitate a registered domain or one of ours."""

from __future__ import annotations

from mailhook.checks._headers import quoted
from mailhook.checks._registry import register
from mailhook.checks.from_mailbox import FromMailbox, from_mailbox
from mailhook.confusables import describe_unusual, display_form, mixes_scripts, scripts_of
from mailhook.context import CheckContext
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "lookalike-domain"
RESULTS: tuple[str, ...] = ("pass", "fail", "warn", "none")


@register(
    NAME, "the From domain is not confusable with a registered or provider domain", results=RESULTS
)
def check_lookalike_domain(message: InboundMessage, context: CheckContext) -> Finding:
    mailbox = from_mailbox(message, context)
    if mailbox is None:
        return Finding(
            NAME, "none", "The From domain cannot be judged: From has no usable address."
        )
    # The domain as written, so that a capital I standing in for an l is still seen.
    imitated = context.lookalike_of(mailbox.written_domain)
    if imitated is not None:
        return Finding(
            NAME,
            "fail",
            f"The From domain {_shown(mailbox, describe_unusual(_readable(mailbox)))} "
            f"looks like {imitated} but is a different domain: the message does not come "
            f"from {imitated}.",
        )
    mixed = [label for label in _readable(mailbox).split(".") if mixes_scripts(label)]
    if mixed:
        # UTS #39 §5.2: a label mixing scripts is how a name imitates one in another.
        scripts = " and ".join(script.title() for script in sorted(scripts_of(mixed[0])))
        return Finding(
            NAME,
            "warn",
            f"The From domain {_shown(mailbox, describe_unusual(mixed[0]))} mixes {scripts} "
            "letters in one label, as look-alike domains do.",
        )
    return Finding(
        NAME,
        "pass",
        f"The From domain {_shown(mailbox, [])} does not imitate a registered customer domain "
        "or one of ours.",
    )


def _readable(mailbox: FromMailbox) -> str:
    """The From domain as a mail program shows it: as written, punycode decoded."""
    return display_form(mailbox.written_domain)


def _shown(mailbox: FromMailbox, unusual: list[str]) -> str:
    """The domain as a reader sees it, then what they cannot see: A-label, odd letters."""
    readable = _readable(mailbox)
    notes = [mailbox.domain] if readable != mailbox.domain else []
    details = "; ".join(unusual)
    if notes and details:
        return f"{quoted(readable)} ({notes[0]}: {details})"
    if notes or details:
        return f"{quoted(readable)} ({notes[0] if notes else details})"
    return quoted(readable)
