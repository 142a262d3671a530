"""customer-match: which customer a message is about, and whether its sender is theirs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from app.db.models import Customer
from app.decision.checks.customer_identifier import customer_identifier, identified_customers
from app.decision.named_services import Named, resolve
from app.registry.customers import customers_by_login, customers_by_panel_email, labelled
from app.registry.index import RegistryView
from mailhook.addresses import mask_address
from mailhook.checks import declare
from mailhook.findings import Finding
from mailhook.instructions import Instruction

NAME = "customer-match"
RESULTS: tuple[str, ...] = ("pass", "fail", "ambiguous", "none")
declare(
    NAME, "the sender is the panel address of the customer the message is about", results=RESULTS
)


@dataclass(frozen=True, slots=True)
class Match:
    """The customer a message is about (if any), the services it names, and the finding."""

    customer: Customer | None
    services: tuple[str, ...]
    finding: Finding | None
    # What the PESEL / NIP / REGON the message gives say; None when it gives none.
    identifier_finding: Finding | None = None
    # The registered services the sender's own text names, and those only quoted or
    # forwarded text does (app.decision.checks.service_scope judges both).
    stated: tuple[Named, ...] = ()
    mentioned: tuple[Named, ...] = ()


def match_customer(
    session: Session,
    sender: str | None,
    instruction: Instruction,
    identifier_key: bytes | None = None,
    registry: RegistryView | None = None,
) -> Match:
    """Resolve the customer from services, logins and identifiers named, else the sender.

    ``sender`` is the normalised header From address, or None when there is no usable
    one (the from-mailbox check has then already failed and no finding is added).
    ``identifier_key`` is the key of the registry's identifier hashes (the secret key);
    without it identifiers in the message are recorded as unchecked. ``registry``: the
    in-memory index of this transaction, if any (app.registry.index).
    """
    # A name written without its suffix ("dla domeny beta") stands for every registered
    # domain with that first label: a reader may take it for any of them.
    named = instruction.services + (
        labelled(session, instruction.bare_names) if instruction.bare_names else ()
    )
    resolved = resolve(session, named + instruction.mentioned_services, registry)
    stated = _in_order(resolved, named)
    holders = _unique_customers(named.service.customer for named in stated)
    by_login = sorted(
        registry.customers_by_login(instruction.logins)
        if registry is not None
        else customers_by_login(session, instruction.logins),
        key=lambda c: instruction.logins.index(c.login),
    )
    identified = identified_customers(session, instruction.identifiers, identifier_key)
    logins = [c.login for c in _unique_customers([*holders, *by_login])]
    finding = (
        customer_identifier(instruction, identifier_key, identified, logins)
        if instruction.identifiers
        else None
    )
    if not holders and not by_login and len(identified) == 1:
        # Nothing else names the customer: the identifier does, and the sender must be
        # theirs just as for a named service.
        by_login = [identified[0].customer]
    services = tuple(dict.fromkeys(named.service.name_unicode for named in stated))
    match = _resolve(session, sender, holders, by_login, services, _held(stated), registry)
    return replace(
        match,
        identifier_finding=finding,
        stated=stated,
        mentioned=_in_order(resolved, instruction.mentioned_services),
    )


def _in_order(resolved: dict[str, Named], names: tuple[str, ...]) -> tuple[Named, ...]:
    # In the order the message names them, so the same message always gives the same
    # verdict whatever order the database returns rows in.
    return tuple(resolved[name] for name in dict.fromkeys(names) if name in resolved)


def _unique_customers(customers: Iterable[Customer]) -> list[Customer]:
    return list({customer.login: customer for customer in customers}.values())


def _held(stated: tuple[Named, ...]) -> dict[str, list[str]]:
    """Which of the named services each customer holds (by login), in the order they were
    registered."""
    held: dict[str, list[str]] = {}
    for named in sorted(stated, key=lambda named: named.service.service_id):
        names = held.setdefault(named.service.customer.login, [])
        if named.service.name_unicode not in names:
            names.append(named.service.name_unicode)
    return held


def _resolve(
    session: Session,
    sender: str | None,
    holders: list[Customer],
    by_login: list[Customer],
    services: tuple[str, ...],
    held: dict[str, list[str]],
    registry: RegistryView | None = None,
) -> Match:
    # Whom the request can be about: the holders of the services it names; failing
    # those, the customers whose login it gives.
    about = holders or by_login
    if sender is None:
        only = about[0] if len(_unique_customers([*holders, *by_login])) == 1 else None
        return Match(customer=only, services=services, finding=None)
    if about:
        return _match_named(sender, about, by_login, services, held)
    return _match_sender(session, sender, services, registry)


def _match_named(
    sender: str,
    about: list[Customer],
    by_login: list[Customer],
    services: tuple[str, ...],
    held: dict[str, list[str]],
) -> Match:
    matching = [c for c in about if c.panel_email == sender]
    if not matching:
        # Report the customer whose service is at stake; with several, the first named.
        owner = about[0]
        holds = ", ".join(held.get(owner.login, []))
        about_whom = f", who holds {holds}" if holds else ""
        return Match(
            customer=owner,
            services=services,
            finding=Finding(
                NAME,
                "fail",
                f"The sender {sender} is not the address registered for customer "
                f"{owner.login}{about_whom} (expected {mask_address(owner.panel_email)}); "
                "do not act on this message.",
            ),
        )
    customer = matching[0]
    # Another customer's service beside the sender's own is service-scope's (mixed); two
    # accounts of this address, or another customer's login, leave the account unclear.
    others = sorted({c.login for c in [*matching, *by_login]} - {customer.login})
    if others:
        return Match(
            customer=customer,
            services=services,
            finding=Finding(
                NAME,
                "ambiguous",
                f"The message names services or the login of customer {customer.login} and "
                f"also of {', '.join(others)}; an agent should confirm with the customer which "
                "account is meant.",
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


def _match_sender(
    session: Session, sender: str, services: tuple[str, ...], registry: RegistryView | None
) -> Match:
    candidates = (
        registry.customers_by_panel_email(sender)
        if registry is not None
        else customers_by_panel_email(session, sender)
    )
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
