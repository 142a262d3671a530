"""Which registered customers the sender's text names by their name, as a reader finds them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

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
    if every is not None:
        written = runs.named(every)
        keys = tuple(dict.fromkeys(name.key for name in written))
    else:
        written, keys = (), tuple(sorted(runs.keys()))
    if not keys:
        return ()
    owners = (
        registry.name_key_owners(keys) if registry is not None else name_key_owners(session, keys)
    )
    if every is None:
        written = runs.named(owners)
    found = [NamedCustomer(name, owners[name.key]) for name in written if name.key in owners]
    chosen: list[NamedCustomer] = []
    for named in sorted(found, key=lambda n: (n.written.start - n.written.end, n.written.start)):
        if not any(_overlap(named.written, other.written) for other in chosen):
            chosen.append(named)
    return tuple(sorted(chosen, key=lambda n: n.written.start))


def _overlap(one: WrittenName, other: WrittenName) -> bool:
    return one.start < other.end and other.start < one.end
