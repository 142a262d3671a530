"""Which registered customers the sender's text names by their name, as a reader finds them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.registry.customers import customers_by_login
from app.registry.index import RegistryView
from app.registry.name_keys import name_key_owners
from mailhook.names import NameRuns, WrittenName


@dataclass(frozen=True, slots=True)
class NamedCustomer:
    """A name as written in the message and the customers (logins) whose name it is."""

    written: WrittenName
    logins: tuple[str, ...]


def named_customers(
    session: Session, runs: NameRuns, registry: RegistryView | None = None
) -> tuple[NamedCustomer, ...]:
    """The registered customers the runs of words of a text (mailhook.names) name, in order.

    A name within a longer one found ("Beta" within "Beta Software") is part of that
    one, not a name of its own: of names that overlap in the text, the longest counts.
    ``registry``: the in-memory index of this transaction, if any (app.registry.index):
    with every key in memory, only runs that are someone's name are looked at further.
    """
    every = registry.every_name_key() if registry is not None else None
    # Their first words: only runs starting with one of them are walked.
    starts = registry.every_name_key_start() if registry is not None else None
    if every is not None:
        written = runs.named(every, starts)
        keys = tuple(dict.fromkeys(name.key for name in written))
    else:
        written, keys = (), tuple(sorted(runs.keys()))
    found: list[NamedCustomer] = []
    if keys:
        found = _owned(session, runs, registry, every, written, keys)
    found += _persons_in_lower_case(session, runs, registry, every, starts)
    chosen: list[NamedCustomer] = []
    for named in sorted(found, key=lambda n: (n.written.start - n.written.end, n.written.start)):
        if not any(_overlap(named.written, other.written) for other in chosen):
            chosen.append(named)
    return tuple(sorted(chosen, key=lambda n: n.written.start))


def _owned(
    session: Session,
    runs: NameRuns,
    registry: RegistryView | None,
    every: frozenset[str] | None,
    written: tuple[WrittenName, ...],
    keys: tuple[str, ...],
) -> list[NamedCustomer]:
    """The runs (capitalised, quoted or with a legal form) that are customers' names."""
    owners = (
        registry.name_key_owners(keys) if registry is not None else name_key_owners(session, keys)
    )
    if every is None:
        written = runs.named(owners)
    return [NamedCustomer(name, owners[name.key]) for name in written if name.key in owners]


def _persons_in_lower_case(
    session: Session,
    runs: NameRuns,
    registry: RegistryView | None,
    every: frozenset[str] | None,
    starts: frozenset[str] | None,
) -> list[NamedCustomer]:
    """Persons' names written in lower case ("faktura dla ola nowak"), which no capital
    marks: only a person's first and last name counts so, as a company's name may be
    ordinary words (mailhook.names.NameRuns.lower_case)."""
    if every is not None:
        written = runs.lower_case(every, starts)
        if not written:
            return []
        keys = tuple(dict.fromkeys(name.key for name in written))
    else:
        keys = tuple(sorted(runs.lower_case_keys()))
        if not keys:
            return []
    owners = (
        registry.name_key_owners(keys) if registry is not None else name_key_owners(session, keys)
    )
    if not owners:
        return []
    logins = tuple(dict.fromkeys(login for found in owners.values() for login in found))
    customers = (
        registry.customers_by_login(logins)
        if registry is not None
        else customers_by_login(session, logins)
    )
    persons = {customer.login for customer in customers if customer.kind == "person"}
    if every is None:
        written = runs.lower_case(owners)
    found = []
    for name in written:
        people = tuple(login for login in owners.get(name.key, ()) if login in persons)
        if people:
            found.append(NamedCustomer(name, people))
    return found


def _overlap(one: WrittenName, other: WrittenName) -> bool:
    return one.start < other.end and other.start < one.end
