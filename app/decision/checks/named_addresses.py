"""named-addresses: every mail address the sender's own text names is the customer's.

"Please send the invoice to ksiegowa@other.example", "set up forwarding to …": the desk
would send a customer's documents, or a customer's mail, where the message says. Only
the registered panel address, an address at one of the customer's registered domains,
and the desk's own domains (PROVIDER_DOMAINS) are the customer's, or ours; any other
address holds the message for an agent, who confirms it with the customer.
"""

from __future__ import annotations

from app.db.models import Customer
from mailhook.checks import declare
from mailhook.findings import Finding

NAME = "named-addresses"
RESULTS: tuple[str, ...] = ("pass", "other")
declare(
    NAME,
    "the mail addresses the sender's text names are the customer's own",
    results=RESULTS,
)


def named_addresses(
    addresses: tuple[str, ...], customer: Customer | None, provider_domains: tuple[str, ...]
) -> Finding | None:
    """None when the text names no address or no customer matched (customer-match then
    decides); else ``pass``, or ``other`` naming the addresses that are not the
    customer's."""
    if not addresses or customer is None:
        return None
    own = {service.name_ascii for service in customer.services} | set(provider_domains)
    panel = customer.panel_email.lower()
    others = [
        address
        for address in addresses
        if address != panel and not _at_one_of(address.rpartition("@")[2], own)
    ]
    if not others:
        return Finding(NAME, "pass", "The mail addresses the message names are the customer's own.")
    return Finding(
        NAME,
        "other",
        f"The message names {', '.join(others[:5])}, which is neither the panel address "
        f"of {customer.login} nor at one of its domains; confirm with the customer before "
        "sending anything there.",
        {"addresses": others},
    )


def _at_one_of(domain: str, domains: set[str]) -> bool:
    """``domain`` is one of ``domains`` or a host under one."""
    return any(domain == own or domain.endswith("." + own) for own in domains)
