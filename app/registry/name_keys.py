"""The keys customers are found by when a text gives their name, written with each customer.

They are derived from the name (mailhook.names), which registry entries commit to;
``audit verify`` holds the stored keys to that derivation, so a change of how keys are
made needs a migration that computes them again (as 0015 first did).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from app.db.models import Customer, CustomerNameKey, table_of
from mailhook.names import customer_name_keys

_KEYS = table_of(CustomerNameKey)
# Keys asked for in one query (each a bound parameter; a long text gives many).
_BATCH = 200
_CUSTOMERS = table_of(Customer)
# Asked for every message whose text gives a name the index does not hold.
_OWNERS = (
    select(_KEYS.c.key, _CUSTOMERS.c.login)
    .join(_CUSTOMERS, _CUSTOMERS.c.id == _KEYS.c.customer_id)
    .where(_KEYS.c.key.in_(bindparam("keys", expanding=True)))
    .order_by(_KEYS.c.key, _CUSTOMERS.c.login)
)


def write_name_keys(session: Session, customer_id: int, kind: str, name: str) -> None:
    """Make customer ``customer_id``'s stored keys those of ``kind`` and ``name``.

    Only what differs is written, so a customer stored again unchanged changes nothing
    here; a rename, or keys computed differently since, replaces what is stored.
    """
    wanted = set(customer_name_keys(kind, name))
    stored = set(session.scalars(select(_KEYS.c.key).where(_KEYS.c.customer_id == customer_id)))
    gone = stored - wanted
    if gone:
        session.execute(
            delete(_KEYS).where(_KEYS.c.customer_id == customer_id, _KEYS.c.key.in_(gone))
        )
    new = sorted(wanted - stored)
    if new:
        session.execute(insert(_KEYS), [{"customer_id": customer_id, "key": key} for key in new])


def insert_name_keys(session: Session, customers: Iterable[tuple[int, str, str]]) -> None:
    """The keys of customers just inserted, each given as (id, kind, name)."""
    rows = [
        {"customer_id": customer_id, "key": key}
        for customer_id, kind, name in customers
        for key in customer_name_keys(kind, name)
    ]
    if rows:
        session.execute(insert(_KEYS), rows)


def keys_of_customers(session: Session, customer_ids: list[int]) -> dict[int, frozenset[str]]:
    """The stored keys of each of ``customer_ids`` that has any (``audit verify`` compares
    them with the keys of the name its entry commits to)."""
    found: dict[int, set[str]] = {}
    rows = session.execute(
        select(_KEYS.c.customer_id, _KEYS.c.key).where(_KEYS.c.customer_id.in_(customer_ids))
    )
    for customer_id, key in rows:
        found.setdefault(customer_id, set()).add(key)
    return {customer_id: frozenset(keys) for customer_id, keys in found.items()}


def name_key_owners(session: Session, keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The logins of the customers each of ``keys`` belongs to, for the keys that belong
    to any. Every key is looked up, a batch per query."""
    found: dict[str, list[str]] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _BATCH):
        for key, login in session.execute(_OWNERS, {"keys": unique[start : start + _BATCH]}):
            found.setdefault(key, []).append(login)
    return {key: tuple(logins) for key, logins in found.items()}
