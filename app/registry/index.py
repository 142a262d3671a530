"""The registry's services and names kept in memory, each process's, for one registry version.

Every message asks which of the names it gives are registered services, and whose, which
registered domain a name it gives imitates (app.registry.lookalikes), and which customers
its text names by name: queries per message whose answers change only
when the registry does. The index answers from memory what it read before, as long as
the registry's version (``registry_version``, raised by database triggers in the same
transaction as any change of ``customers``, ``services`` or ``customer_name_keys``,
migrations 0010 and 0015) is the one it read it at.

The version is read in the transaction that uses the answer (RegistryIndex.view), so
what a decision sees is the registry as of that transaction, never older: on SQLite
the verdict's write transaction holds the database's write lock, which every registry
change needs too; on PostgreSQL the version row is read ``FOR SHARE``, which a change
(its trigger updates that row) waits for and which waits for a change under way, so a
panel address changed in another process, replica or by hand is never matched against
the address it had before. A version that moved empties the index; names are read
again as messages ask for them.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Label, bindparam, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from app.db.models import Customer, CustomerNameKey, RegistryVersion, table_of
from app.registry.customers import (
    MAX_LOGINS,
    Owned,
    customers_by_login,
    customers_by_panel_email,
    owned_services,
)
from app.registry.lookalikes import imitated_services, services_by_skeleton
from app.registry.name_keys import name_key_owners
from mailhook.names import name_key_starts

# Names remembered at most (each with its customer's columns, about 2 KB: some 40 MB per
# process when full); past it the index starts afresh, and a larger registry still
# answers, by a query per message for the names not remembered.
MAX_NAMES = 20_000
# Name keys of customers kept as one set at most (mailhook.names; some 100 bytes each):
# a key a text gives that is not among them is nobody's, without a query.
MAX_NAME_KEYS = 200_000
_VERSION = table_of(RegistryVersion)
_READ_VERSION = select(_VERSION.c.version).where(_VERSION.c.id == 1)
# Not read yet: RegistryIndex.view reads it.
_UNREAD = object()
_CUSTOMER_COLUMNS = tuple(column.key for column in table_of(Customer).columns)
# The columns whose every value the index keeps while the registry is small.
_ALL_OF = {
    column: select(table_of(Customer).c[column]).limit(bindparam("limit"))
    for column in ("panel_email", "login")
}
_ALL_OF["name_key"] = select(table_of(CustomerNameKey).c.key).distinct().limit(bindparam("limit"))


@dataclass(frozen=True, slots=True)
class _Remembered:
    """A registered service as read: its id, U-label and its customer's columns."""

    service_id: int
    name_unicode: str
    customer: dict[str, Any]


class RegistryIndex:
    """Registered services by name (None: not registered), for one registry version."""

    def __init__(self, max_names: int = MAX_NAMES, max_keys: int = MAX_NAME_KEYS) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._names: dict[str, _Remembered | None] = {}
        # Customers by panel address (of a sender who names no service) or by login, as
        # read: keyed by (column, value).
        self._customers: dict[tuple[str, str], tuple[dict[str, Any], ...]] = {}
        # Every customer's panel address and login, when there are at most max_names
        # customers: a value not among them is nobody's, without a query. Absent: not
        # read yet at this version; None: too many to keep.
        self._all: dict[str, frozenset[str] | None] = {}
        # The logins each name key belongs to, as read (an empty tuple: nobody's).
        self._owners: dict[str, tuple[str, ...]] = {}
        # Registered domains by skeleton (app.registry.lookalikes), as read (None: none).
        self._skeletons: dict[str, _Remembered | None] = {}
        self._max_names = max_names
        self._max_keys = max_keys

    def view(self, session: Session, writable: bool = True, version: Any = _UNREAD) -> RegistryView:
        """The index as valid in ``session``'s transaction (reads the registry version).

        ``writable``: the transaction may write; a missing version row (the table emptied
        by hand) is then put back with a number never used, else nothing is remembered.
        ``version``: the version as ``version_column`` read it in this same transaction,
        with other things in one statement; not given, it is read here.
        """
        if version is _UNREAD:
            version = session.execute(
                select(version_column(session.get_bind().dialect.name))
            ).scalar()
        if version is None and writable:
            version = secrets.randbits(62)
            session.execute(insert(_VERSION), [{"id": 1, "version": version}])
        with self._lock:
            if version != self._version:
                self._names.clear()
                self._customers.clear()
                self._all.clear()
                self._owners.clear()
                self._skeletons.clear()
                self._version = version
        return RegistryView(self, session, version)

    def _known(
        self, version: int, names: tuple[str, ...], by_skeleton: bool = False
    ) -> dict[str, _Remembered | None]:
        with self._lock:
            if version != self._version:
                return {}
            kept = self._skeletons if by_skeleton else self._names
            return {name: kept[name] for name in names if name in kept}

    def _remember(
        self, version: int, found: dict[str, _Remembered | None], by_skeleton: bool = False
    ) -> None:
        with self._lock:
            if version != self._version:
                # Read at another version than the index holds now: not kept.
                return
            kept = self._skeletons if by_skeleton else self._names
            if len(kept) + len(found) > self._max_names:
                kept.clear()
            kept.update(found)

    def _all_of(self, version: int, session: Session, column: str) -> frozenset[str] | None:
        """Every customer's ``column`` at ``version`` (read once per version, in
        ``session``'s transaction, which is at that version); None when too many."""
        with self._lock:
            if version == self._version and column in self._all:
                return self._all[column]
        limit = (self._max_keys if column == "name_key" else self._max_names) + 1
        read = session.execute(_ALL_OF[column], {"limit": limit}).scalars().all()
        values = frozenset(read) if len(read) < limit else None
        with self._lock:
            if version == self._version:
                self._all[column] = values
        return values

    def _key_starts(self, version: int, session: Session) -> frozenset[str] | None:
        """name_key_starts of every name key at ``version`` (made once per version)."""
        with self._lock:
            if version == self._version and "name_key_start" in self._all:
                return self._all["name_key_start"]
        every = self._all_of(version, session, "name_key")
        starts = None if every is None else name_key_starts(every)
        with self._lock:
            if version == self._version:
                self._all["name_key_start"] = starts
        return starts

    def _customers_of(
        self, version: int, key: tuple[str, str]
    ) -> tuple[dict[str, Any], ...] | None:
        with self._lock:
            return self._customers.get(key) if version == self._version else None

    def _remember_customers(
        self, version: int, key: tuple[str, str], customers: tuple[dict[str, Any], ...]
    ) -> None:
        with self._lock:
            if version != self._version:
                return
            if len(self._customers) >= self._max_names:
                self._customers.clear()
            self._customers[key] = customers

    def _known_owners(self, version: int, keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        with self._lock:
            if version != self._version:
                return {}
            return {key: self._owners[key] for key in keys if key in self._owners}

    def _remember_owners(self, version: int, found: dict[str, tuple[str, ...]]) -> None:
        with self._lock:
            if version != self._version:
                return
            if len(self._owners) + len(found) > self._max_names:
                self._owners.clear()
            self._owners.update(found)


@functools.cache
def version_column(dialect: str) -> Label[Any]:
    """The registry's version as a scalar subquery, for a statement of the transaction
    that uses the index. PostgreSQL reads the row ``FOR SHARE``: a change under way (its
    trigger updates the row) is waited for, and a change waits for this transaction."""
    query = _READ_VERSION
    if dialect == "postgresql":
        query = query.with_for_update(read=True)
    return query.scalar_subquery().label("registry_version")


class RegistryView:
    """The index within one transaction: answers from memory where it can."""

    def __init__(self, index: RegistryIndex, session: Session, version: int | None) -> None:
        self._index = index
        self._session = session
        self._version = version

    def owned_services(self, services: tuple[str, ...]) -> dict[str, Owned]:
        """As app.registry.customers.owned_services, in this view's transaction."""
        if self._version is None:
            return owned_services(self._session, services)
        return self._remembered(
            self._version, tuple(dict.fromkeys(services)), owned_services, by_skeleton=False
        )

    def imitated_services(self, names: tuple[str, ...]) -> dict[str, Owned]:
        """As app.registry.lookalikes.imitated_services, in this view's transaction."""
        version = self._version
        if version is None:
            return imitated_services(self._session, names)
        return imitated_services(
            self._session,
            names,
            lambda skeletons: self._remembered(
                version, skeletons, services_by_skeleton, by_skeleton=True
            ),
        )

    def _remembered(
        self,
        version: int,
        wanted: tuple[str, ...],
        query: Callable[[Session, tuple[str, ...]], dict[str, Owned]],
        by_skeleton: bool,
    ) -> dict[str, Owned]:
        """``query``'s answer for ``wanted`` (service names, or skeletons): what the index
        holds at ``version`` from memory, the rest read and remembered, "none" included."""
        known = self._index._known(version, wanted, by_skeleton)
        missing = tuple(key for key in wanted if key not in known)
        found = query(self._session, missing) if missing else {}
        if missing:
            read: dict[str, _Remembered | None] = dict.fromkeys(missing)
            for key, owned in found.items():
                read[key] = _Remembered(
                    owned.service_id,
                    owned.name_unicode,
                    {column: getattr(owned.customer, column) for column in _CUSTOMER_COLUMNS},
                )
            self._index._remember(version, read, by_skeleton)
        for key, remembered in known.items():
            if remembered is not None:
                found[key] = Owned(
                    remembered.service_id,
                    remembered.name_unicode,
                    self._customer(remembered.customer),
                )
        return found

    def customers_by_panel_email(self, address: str) -> list[Customer]:
        """As app.registry.customers.customers_by_panel_email, in this view's transaction."""
        return self._customers_by("panel_email", address, customers_by_panel_email)

    def customers_by_login(self, logins: tuple[str, ...]) -> list[Customer]:
        """As app.registry.customers.customers_by_login, in this view's transaction."""
        found: list[Customer] = []
        # Logins are unique: one query for one login gives what one for all of them did.
        for login in dict.fromkeys(logins[:MAX_LOGINS]):
            found += self._customers_by("login", login, _by_login)
        return found

    def every_name_key(self) -> frozenset[str] | None:
        """Every customer's name key (read once per registry version); None when there
        are more than the index keeps, or no version to keep them at."""
        if self._version is None:
            return None
        return self._index._all_of(self._version, self._session, "name_key")

    def every_name_key_start(self) -> frozenset[str] | None:
        """The first word of every customer's name key (mailhook.names.name_key_starts),
        with every_name_key and as it; a run of words starting with another word is
        nobody's name."""
        if self._version is None:
            return None
        return self._index._key_starts(self._version, self._session)

    def name_key_owners(self, keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """As app.registry.name_keys.name_key_owners, in this view's transaction: a key
        nobody's name gives is answered from the set of every key, one read before from
        memory, and only the rest by a query."""
        if self._version is None:
            return name_key_owners(self._session, keys)
        every = self._index._all_of(self._version, self._session, "name_key")
        wanted = tuple(dict.fromkeys(k for k in keys if every is None or k in every))
        known = self._index._known_owners(self._version, wanted)
        missing = tuple(key for key in wanted if key not in known)
        if missing:
            read = name_key_owners(self._session, missing)
            fresh = {key: read.get(key, ()) for key in missing}
            self._index._remember_owners(self._version, fresh)
            known.update(fresh)
        return {key: logins for key, logins in known.items() if logins}

    def _customers_by(
        self, column: str, value: str, query: Callable[[Session, str], list[Customer]]
    ) -> list[Customer]:
        """The customers whose ``column`` is ``value``: from memory, or by ``query``."""
        if self._version is None:
            return query(self._session, value)
        every = self._index._all_of(self._version, self._session, column)
        if every is not None and value not in every:
            return []
        key = (column, value)
        known = self._index._customers_of(self._version, key)
        if known is None:
            read = query(self._session, value)
            known = tuple({name: getattr(c, name) for name in _CUSTOMER_COLUMNS} for c in read)
            self._index._remember_customers(self._version, key, known)
        return [self._customer(columns) for columns in known]

    def _customer(self, columns: dict[str, Any]) -> Customer:
        """The customer of these columns as an instance of this session, without a query."""
        customer = Customer(**columns)
        make_transient_to_detached(customer)
        return self._session.merge(customer, load=False)


def _by_login(session: Session, login: str) -> list[Customer]:
    return customers_by_login(session, (login,))
