"""customer-identifier: a PESEL, NIP or REGON the message gives, against the registry.

Compared with the registry's keyed hashes (app.registry.identifiers), never in clear;
app.decision.checks.customer_match uses the customers found to resolve whom a message
is about.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Customer
from app.registry.identifiers import identifier_hash
from mailhook.checks import declare
from mailhook.findings import Finding
from mailhook.identifiers import Identifier
from mailhook.instructions import Instruction

NAME = "customer-identifier"
RESULTS: tuple[str, ...] = ("pass", "mismatch", "none", "unchecked")
declare(
    NAME,
    "a PESEL, NIP or REGON given belongs to the customer the message names",
    results=RESULTS,
)
# Each identifier costs one indexed lookup; a message listing more is not a customer's.
MAX_IDENTIFIERS = 10


@dataclass(frozen=True, slots=True)
class Identified:
    """A customer an identifier in the message belongs to, and the kinds that say so."""

    customer: Customer
    kinds: list[str]


def identified_customers(
    session: Session, identifiers: tuple[Identifier, ...], key: bytes | None
) -> list[Identified]:
    """Customers identifiers in the message belong to (each to exactly one), in order."""
    if key is None:
        return []
    found: dict[str, Identified] = {}
    for identifier in identifiers[:MAX_IDENTIFIERS]:
        column = getattr(Customer, f"{identifier.kind.value}_hash")
        rows = list(
            session.scalars(
                select(Customer).where(column == identifier_hash(key, identifier)).limit(2)
            )
        )
        # A NIP or REGON registered on several accounts of one company tells nothing.
        if len(rows) == 1:
            entry = found.setdefault(rows[0].login, Identified(rows[0], []))
            if identifier.kind.value not in entry.kinds:
                entry.kinds.append(identifier.kind.value)
    return list(found.values())


def _kinds(kinds: list[str]) -> str:
    """The kinds as a reason names them ("NIP, PESEL and REGON"); never the numbers."""
    names = [kind.upper() for kind in kinds]
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


def customer_identifier(
    instruction: Instruction,
    key: bytes | None,
    identified: list[Identified],
    named: list[str],
) -> Finding:
    """What the identifiers say about the customer; ``named``: logins services/logins name."""
    given = _kinds(instruction.identifier_kinds())
    if key is None:
        return Finding(
            NAME,
            "unchecked",
            f"The message gives a {given}, but no secret key is configured to compare it "
            "with the registry; it was not used to find the customer.",
        )
    if not identified:
        return Finding(
            NAME,
            "none",
            f"The message gives a {given} that belongs to no single registered customer; "
            "it was not used to find the customer.",
        )
    strangers = [entry for entry in identified if entry.customer.login not in named]
    if named and strangers:
        stranger = strangers[0]
        return Finding(
            NAME,
            "mismatch",
            f"The message gives a {_kinds(stranger.kinds)} registered for customer "
            f"{stranger.customer.login}, but names services or the login of customer "
            f"{', '.join(named)}; an agent should confirm with the customer which account "
            "the instruction is about.",
        )
    if len(identified) > 1:
        return Finding(
            NAME,
            "mismatch",
            "The message gives identifiers of several customers ("
            + ", ".join(entry.customer.login for entry in identified)
            + "); an agent should confirm with the customer which account the instruction "
            "is about.",
        )
    only = identified[0]
    return Finding(
        NAME,
        "pass",
        f"The message gives the {_kinds(only.kinds)} registered for customer "
        f"{only.customer.login}.",
    )
