"""envelope-from: the envelope sender (MAIL FROM) against the header From."""

from __future__ import annotations

from mailhook.addresses import InvalidAddress, parse_path
from mailhook.checks._headers import quoted
from mailhook.checks._registry import register
from mailhook.checks.from_mailbox import from_mailbox
from mailhook.context import CheckContext
from mailhook.domains import organisational_domain
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "envelope-from"
RESULTS: tuple[str, ...] = ("pass", "warn", "bounce", "none")


@register(NAME, "the envelope sender is in the organisational domain of From", results=RESULTS)
def check_envelope_from(message: InboundMessage, context: CheckContext) -> Finding:
    mail_from = message.envelope.mail_from
    if mail_from is None:
        return Finding(NAME, "none", "No envelope sender (MAIL FROM) was given with the message.")
    try:
        path = parse_path(mail_from)
    except InvalidAddress as exc:
        return Finding(
            NAME, "warn", f"The envelope sender {quoted(mail_from)} is not an address ({exc})."
        )
    if path.is_null:
        # RFC 5321 §4.5.5: the null reverse-path is for delivery reports and auto-replies.
        return Finding(
            NAME,
            "bounce",
            "The envelope sender is empty (<>), as for a bounce or an auto-reply; "
            "an instruction is not expected to arrive as one.",
        )
    shown = quoted(path.address)
    mailbox = from_mailbox(message, context)
    if mailbox is None:
        return Finding(
            NAME,
            "none",
            f"The envelope sender {shown} cannot be compared: From has no usable address.",
        )
    if not path.local:
        return Finding(
            NAME,
            "warn",
            f"The envelope sender {quoted(mail_from.strip())} is not an address of the form "
            "local@domain.",
        )
    from_org = organisational_domain(mailbox.domain)
    # RFC 5321 §4.1.2: the domain after a quoted local part, "@" inside it or not.
    envelope_org = organisational_domain(path.domain)
    if envelope_org == from_org:
        return Finding(
            NAME,
            "pass",
            f"The envelope sender {shown} is in the From domain's organisation {from_org}.",
            # Compared with the registry's panel addresses (app.decision, handed-over-by).
            evidence={"address": f"{path.local.lower()}@{path.domain}"},
        )
    # Not a failure on its own: mailing lists and bounce handlers (VERP) use their own
    # envelope domain. DMARC judges whether an SPF pass for it vouches for From.
    return Finding(
        NAME,
        "warn",
        f"The envelope sender {shown} is in {envelope_org or 'no domain'}, not in the From "
        f"domain's organisation {from_org}, as for mail sent through a list or a service.",
        # Compared with the panel addresses too: another customer's mailbox handing over
        # a message in From's name, from any organisation, is that customer's doing.
        evidence={"address": f"{path.local.lower()}@{path.domain}"},
    )
