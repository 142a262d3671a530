"""handed-over-by: no other registered customer handed the message over in From's name.

DMARC authenticates a domain, not a mailbox: a colleague on the same domain (or a
server that lets any of its users write any From) passes it with the registered
customer's address in From. When the envelope sender (MAIL FROM), or a Sender or
Resent- header within the From domain's organisation, is the panel address of another
registered customer, that customer handed the message over in the From customer's name.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import Customer
from app.registry.customers import customers_by_panel_email
from app.registry.index import RegistryView
from mailhook.checks import declare
from mailhook.findings import Finding

NAME = "handed-over-by"
RESULTS: tuple[str, ...] = ("pass", "other-customer")
declare(
    NAME,
    "no other registered customer's panel address handed the message over (MAIL FROM, "
    "Sender, Resent-From, Resent-Sender)",
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
            return Finding(
                NAME,
                "other-customer",
                f"The message is from the address of customer {customer.login}, but "
                f"{address} ({where}) handed it over, the panel address of customer "
                f"{', '.join(logins)}: one customer wrote in another's name. Confirm with "
                f"{customer.login} before acting on it.",
                {"address": address, "header": where},
            )
    shown = ", ".join(f"{address} ({where})" for where, address in others[:3])
    return Finding(
        NAME, "pass", f"{shown} handed the message over; no other customer registered it."
    )


def _handing(findings: list[Finding]) -> list[tuple[str, str]]:
    """(where, address) of whoever handed the message over, as the mail checks read them."""
    found: list[tuple[str, str]] = []
    for finding in findings:
        if finding.name == "envelope-from" and finding.evidence.get("address"):
            found.append(("MAIL FROM", str(finding.evidence["address"])))
        if finding.name == "sender-headers":
            for header, addresses in (finding.evidence.get("handed_over_by") or {}).items():
                found.extend((str(header), str(address)) for address in addresses)
    return list(dict.fromkeys(found))
