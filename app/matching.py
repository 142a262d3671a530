"""customer-match: which customer a message is about, and whether its sender is theirs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.models import Customer
from app.registry import (
    customers_by_login,
    customers_by_panel_email,
    owners_of,
    parse_service,
)
from mailhook.addresses import mask_address
from mailhook.findings import Finding
from mailhook.instructions import Instruction

NAME = "customer-match"


@dataclass(frozen=True, slots=True)
class Match:
    """The customer a message is about (if any), the services it names, and the finding."""

    customer: Customer | None
    services: tuple[str, ...]
    finding: Finding | None


def match_customer(session: Session, sender: str | None, instruction: Instruction) -> Match:
    """Resolve the customer from services and logins named, else from the sender.

    ``sender`` is the normalised header From address, or None when there is no usable
    one (the from-mailbox check has then already failed and no finding is added).
    """
    owners = owners_of(session, instruction.services)
    # In the order the message names them, so the same message always gives the same
    # verdict whatever order the database returns rows in.
    registered = [name for name in instruction.services if name in owners]
    services = tuple(parse_service(name).unicode for name in registered)
    named: dict[str, Customer] = {}
    for name in registered:
        named.setdefault(owners[name].login, owners[name])
    by_login = customers_by_login(session, instruction.logins)
    for customer in sorted(by_login, key=lambda c: instruction.logins.index(c.login)):
        named.setdefault(customer.login, customer)
    if sender is None:
        only = next(iter(named.values())) if len(named) == 1 else None
        return Match(customer=only, services=services, finding=None)
    if named:
        return _match_named(sender, list(named.values()), services)
    return _match_sender(session, sender, services)


def _match_named(sender: str, named: list[Customer], services: tuple[str, ...]) -> Match:
    matching = [c for c in named if c.panel_email == sender]
    if not matching:
        # Report the customer whose service is at stake; with several, the first named.
        owner = named[0]
        held = ", ".join(s.name_unicode for s in owner.services if s.name_unicode in services)
        about = f", who holds {held}" if held else ""
        return Match(
            customer=owner,
            services=services,
            finding=Finding(
                NAME,
                "fail",
                f"The sender {sender} is not the address registered for customer "
                f"{owner.login}{about} (expected {mask_address(owner.panel_email)}); "
                "do not act on this message.",
            ),
        )
    customer = matching[0]
    if len(named) > 1:
        others = ", ".join(sorted(c.login for c in named if c is not customer))
        return Match(
            customer=customer,
            services=services,
            finding=Finding(
                NAME,
                "ambiguous",
                f"The message names services of customer {customer.login} and also of "
                f"{others}; an agent should confirm with the customer which service is meant.",
            ),
        )
    return Match(
        customer=customer,
        services=services,
        finding=Finding(
            NAME,
            "pass",
            f"The sender is the address registered for customer {customer.login}.",
        ),
    )


def _match_sender(session: Session, sender: str, services: tuple[str, ...]) -> Match:
    candidates = customers_by_panel_email(session, sender)
    if len(candidates) == 1:
        customer = candidates[0]
        return Match(
            customer=customer,
            services=services,
            finding=Finding(
                NAME,
                "pass",
                f"The sender is the address registered for customer {customer.login}.",
            ),
        )
    if candidates:
        return Match(
            customer=None,
            services=services,
            finding=Finding(
                NAME,
                "ambiguous",
                f"Several customers registered {sender}; the customer should name the "
                "service or login the instruction is about.",
            ),
        )
    return Match(
        customer=None,
        services=services,
        finding=Finding(
            NAME,
            "none",
            f"The sender {sender} is not a registered panel address and the message names no "
            "registered service or login; ask the customer to write from the address "
            "registered in the Customer Panel.",
        ),
    )
