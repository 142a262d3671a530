"""handed-over-by: no other registered customer handed the message over in From's name.

DMARC authenticates a domain, not a mailbox: a colleague on the same domain (or a
server that lets any of its users write any From) passes it with the registered
customer's address in From. When the envelope sender (MAIL FROM, in any organisation:
a customer's own mailbox resending another's signed message is that customer's doing),
or a Sender or Resent- header within the From domain's organisation, is the panel
address of another registered customer, that customer handed the message over in the
From customer's name.
So too when a DKIM signature that verifies names such a mailbox as the user it signed
for (i=, RFC 6376 §3.5): the signer vouches that that customer sent the message; and when
a Reply-To (Mail-Reply-To, Mail-Followup-To) in that organisation is one: the desk's
answer would go to that customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.orm import Session

from app.db.models import Customer
from app.registry.customers import customers_by_panel_email
from app.registry.index import RegistryView
from mailhook.checks import ANSWERED_TO, declare
from mailhook.findings import Finding

NAME = "handed-over-by"
RESULTS: tuple[str, ...] = ("pass", "other-customer")
declare(
    NAME,
    "no other registered customer's panel address handed the message over (MAIL FROM, "
    "Sender, Resent-From, Resent-Sender, a verified DKIM signature's i=) nor is where the "
    "answer goes (Reply-To)",
    results=RESULTS,
)


def handed_over_by(
    session: Session,
    findings: list[Finding],
    customer: Customer | None,
    registry: RegistryView | None = None,
) -> Finding | None:
    """None when no customer matched or nobody but the From address handed it over;
    else ``pass`` or ``other-customer``."""
    if customer is None:
        return None
    panel = customer.panel_email.lower()
    others = [(where, address) for where, address in _handing(findings) if address != panel]
    if not others:
        return None
    for where, address in others:
        holders = (
            registry.customers_by_panel_email(address)
            if registry is not None
            else customers_by_panel_email(session, address)
        )
        logins = sorted({c.login for c in holders} - {customer.login})
        if logins:
            did = (
                f"the answer would go to {address} ({where})"
                if where in ANSWERED_TO
                else f"{address} ({where}) handed it over"
            )
            return Finding(
                NAME,
                "other-customer",
                f"The message is from the address of customer {customer.login}, but {did}, "
                f"the panel address of customer {', '.join(logins)}: one customer wrote in "
                f"another's name. Confirm with {customer.login} before acting on it.",
                {"address": address, "header": where},
            )
    shown = ", ".join(f"{address} ({where})" for where, address in others[:3])
    did = (
        "handed the message over"
        if all(where not in ANSWERED_TO for where, _address in others)
        else "handed the message over or would get the answer"
    )
    return Finding(NAME, "pass", f"{shown} {did}; no other customer registered it.")


def _handing(findings: list[Finding]) -> list[tuple[str, str]]:
    """(where, address) of whoever handed the message over, as the mail checks read them."""
    found: list[tuple[str, str]] = []
    for finding in findings:
        if finding.name == "envelope-from" and finding.evidence.get("address"):
            found.append(("MAIL FROM", str(finding.evidence["address"])))
        if finding.name == "sender-headers":
            for key in ("handed_over_by", "answered_to"):
                for header, addresses in (finding.evidence.get(key) or {}).items():
                    found.extend((str(header), str(address)) for address in addresses)
        if finding.name == "dkim":
            found.extend(("DKIM i=", address) for address in _signed_for(finding))
    return list(dict.fromkeys(found))


# RFC 6376 §2.11: i= is written in DKIM-Quoted-Printable (=40 for "@").
_QUOTED = re.compile(r"=([0-9A-Fa-f]{2})")


def _signed_for(finding: Finding) -> list[str]:
    """The mailboxes verified DKIM signatures name as the user they signed for (i= with a
    local part; "@domain" names no one), lower case."""
    found: list[str] = []
    for signature in finding.evidence.get("signatures") or ():
        if not isinstance(signature, Mapping) or signature.get("result") != "pass":
            continue
        identity = _QUOTED.sub(lambda m: chr(int(m.group(1), 16)), str(signature.get("i") or ""))
        local, at, domain = identity.rpartition("@")
        if at and local and domain:
            found.append(identity.lower())
    return found
