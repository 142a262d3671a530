"""Which registered customer domain, or domain of ours, a sender's or a named domain imitates."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, String, bindparam, case, or_, select
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from app.db.models import Customer, Service
from app.registry.customers import Owned, batches, names_to_try
from mailhook.confusables import display_form, skeleton
from mailhook.domains import normalise_domain, organisational_domain

# Look-alike candidates read at most; a skeleton shared by more services than this is a
# registry curiosity, and the first of them is enough to name in a reason.
_MAX_CANDIDATES = 20

# Built once with a fixed number of parameters (the domain and its organisational domain,
# the skeletons of both; a value repeats when the two are one): the compiled statement is
# then reused from the cache, where an IN list of varying length is compiled anew for
# every message, which cost two thirds of the lookup.
_NAMES = (bindparam("name", type_=String), bindparam("org_name", type_=String))
_SKELETONS = (bindparam("skeleton", type_=String), bindparam("org_skeleton", type_=String))
_CANDIDATES = (
    select(Service.name_ascii, Service.name_unicode)
    .where(or_(Service.name_ascii.in_(_NAMES), Service.skeleton.in_(_SKELETONS)))
    .order_by(case((Service.name_ascii.in_(_NAMES), 0), else_=1), Service.name_ascii)
    .limit(_MAX_CANDIDATES)
)


class DriverLookup:
    """_CANDIDATES compiled once for an engine's dialect, run on a driver connection of its pool.

    Through a SQLAlchemy Connection the one SELECT of a message's look-alike lookup came
    with a BEGIN, a ROLLBACK and SQLAlchemy's execution steps: four fifths of the
    lookup's CPU. Here it runs on a connection from the same pool as a statement of its
    own: SQLite's connections are in autocommit mode (see app.db.engine); on an engine
    whose execution options ask for autocommit (app.db.engine.lookup_engine, PostgreSQL)
    the connection is switched to it for the lookup and back before it returns to the
    pool, as SQLAlchemy's own Connection does for that option. In the driver's implicit
    transaction it cost a BEGIN and the pool's ROLLBACK on return, two round trips to
    PostgreSQL for every message. A driver error is raised as SQLAlchemy raises it
    (DBAPIError.instance), so store_errors and the checks see what they saw; a lost
    connection is dropped.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._compiled = _CANDIDATES.compile(dialect=engine.dialect)
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        isolation = engine.get_execution_options().get("isolation_level")
        self._autocommit = isolation == "AUTOCOMMIT"

    def __call__(self, params: dict[str, str]) -> list[Any]:
        values = self._compiled.construct_params(params)
        arguments: Any = values
        if self._compiled.positional:
            arguments = tuple(values[name] for name in self._compiled.positiontup or ())
        try:
            connection = self._engine.raw_connection()
        except self._driver_error as exc:
            raise self._translated(exc, arguments, lost=False) from exc
        dialect = self._engine.dialect
        driver = connection.dbapi_connection
        try:
            if self._autocommit:
                dialect.set_isolation_level(driver, "AUTOCOMMIT")  # type: ignore[arg-type]
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(self._compiled.string, arguments)
                    return list(cursor.fetchall())
                finally:
                    cursor.close()
            finally:
                if self._autocommit:
                    dialect.reset_isolation_level(driver)  # type: ignore[arg-type]
        except self._driver_error as exc:
            lost = dialect.is_disconnect(exc, driver, None)  # type: ignore[arg-type]
            if lost:
                connection.invalidate(exc)
            raise self._translated(exc, arguments, lost=lost) from exc
        finally:
            connection.close()

    def _translated(self, exc: Exception, arguments: Any, *, lost: bool) -> StatementError:
        return DBAPIError.instance(
            self._compiled.string,
            arguments,
            exc,
            self._driver_error,
            connection_invalidated=lost,
            dialect=self._engine.dialect,
        )


_LOOKUPS: weakref.WeakKeyDictionary[Engine, DriverLookup] = weakref.WeakKeyDictionary()


def driver_lookup(engine: Engine) -> DriverLookup:
    """The DriverLookup of ``engine``, made on first use."""
    lookup = _LOOKUPS.get(engine)
    if lookup is None:
        lookup = _LOOKUPS[engine] = DriverLookup(engine)
    return lookup


def imitated_domain(
    session: Session | Connection | DriverLookup,
    domain: str,
    provider_domains: tuple[str, ...] = (),
) -> str | None:
    """The domain ``domain`` is confusable with but not equal to, or None.

    ``domain`` is the From domain as written. A domain that is registered (itself or its
    organisational domain) or is one of ``provider_domains`` (A-labels) imitates nothing,
    whatever it resembles: ``rn-shop.pl`` may hold a service beside ``m-shop.pl``.
    One indexed query finds both whether the domain is registered and what it resembles.
    """
    written = domain.strip().rstrip(".")
    a_label = normalise_domain(written)
    if not a_label:
        return None
    org = organisational_domain(a_label)
    if any(a_label == p or a_label.endswith("." + p) for p in provider_domains):
        return None
    domain_skeleton = skeleton(written)
    org_skeleton = skeleton(_written_tail(written, a_label, org))
    skeletons = {domain_skeleton, org_skeleton}
    for provider in provider_domains:
        if skeleton(provider) in skeletons:
            return display_form(provider)
    params = {
        "name": a_label,
        "org_name": org,
        "skeleton": domain_skeleton,
        "org_skeleton": org_skeleton,
    }
    if isinstance(session, DriverLookup):
        rows = session(params)
    else:
        rows = list(session.execute(_CANDIDATES, params).all())
    # Rows of (name_ascii, name_unicode), in _CANDIDATES' order.
    if not rows or rows[0][0] in (a_label, org):
        return None
    return str(rows[0][1])


def _written_tail(written: str, a_label: str, org: str) -> str:
    """The organisational domain as the sender wrote it (keeping a capital I), if it can tell."""
    labels = written.split(".")
    if len(labels) != a_label.count(".") + 1:
        # Written with other dots (U+3002…) that IDNA maps to ".": use the A-label.
        return org
    return ".".join(labels[-(org.count(".") + 1) :])


# Registered domains by skeleton, for the domains a message names (imitated_services).
_BY_SKELETON = (
    select(Service.id, Service.name_unicode, Service.skeleton, Customer)
    .join(Customer)
    .where(Service.skeleton.in_(bindparam("skeletons", expanding=True)))
    .order_by(Service.name_ascii)
)


def imitated_services(
    session: Session,
    names: tuple[str, ...],
    by_skeleton: Callable[[tuple[str, ...]], dict[str, Owned]] | None = None,
) -> dict[str, Owned]:
    """The registered domain each of ``names`` looks like, where one does.

    ``names`` are A-labels that are not registered, nor hosts of a registered domain
    (app.decision.named_services tries those first): one whose skeleton (UTS #39), or the
    skeleton of a parent up to its organisational domain, equals a registered domain's
    imitates that domain (``b\u0435ta.pl``, ``www.studi0-web.pl``). The longest such
    parent wins; of several domains with one skeleton, the first by name.
    ``by_skeleton``: services_by_skeleton, or what answers as it (the registry index).
    """
    tried = {name: [skeleton(parent) for parent in names_to_try(name)] for name in names}
    wanted = tuple(dict.fromkeys(s for skeletons in tried.values() for s in skeletons))
    if not wanted:
        return {}
    read = by_skeleton or (lambda skeletons: services_by_skeleton(session, skeletons))
    found = read(wanted)
    imitated = {}
    for name, skeletons in tried.items():
        match = next((found[s] for s in skeletons if s in found), None)
        if match is not None:
            imitated[name] = match
    return imitated


def services_by_skeleton(session: Session, skeletons: tuple[str, ...]) -> dict[str, Owned]:
    """The registered domain of each of ``skeletons`` that is one's: of several, the first
    by name."""
    found: dict[str, Owned] = {}
    for batch in batches(list(skeletons)):
        for id_, unicode, domain_skeleton, customer in session.execute(
            _BY_SKELETON, {"skeletons": batch}
        ):
            # Never None here: the rows were found by their skeleton.
            found.setdefault(str(domain_skeleton), Owned(id_, unicode, customer))
    return found
