"""The registry: customers, their panel address, identifiers and services."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

import idna
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session, selectinload

from app.audit import chain
from app.db.models import Customer, Service
from app.db.types import iso_z, utcnow
from app.delivery.outbox import enqueue
from app.errors import Conflict, InvalidInput, NotFound
from app.registry.identifiers import IdentifierKind, keyed_hash, mask, normalise
from app.registry.name_keys import write_name_keys
from app.registry.state import registry_sha256
from mailhook.addresses import InvalidAddress, normalise_address
from mailhook.confusables import skeleton
from mailhook.domains import organisational_domain

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_SERVER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True, slots=True)
class CustomerData:
    """A customer as the panel sends it, before validation."""

    panel_email: str
    kind: Literal["person", "company"]
    name: str
    services: tuple[str, ...] = ()
    pesel: str | None = None
    nip: str | None = None
    regon: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceName:
    kind: Literal["domain", "server"]
    ascii: str
    unicode: str


# Cached: every message's named services are parsed, and IDNA is slow; a name always
# parses the same way (ServiceName is immutable).
@functools.lru_cache(maxsize=4096)
def parse_service(value: str) -> ServiceName:
    """A domain (stored as A-label and U-label, RFC 5891) or a server id."""
    text = value.strip().rstrip(".").lower()
    if "." not in text:
        if not _SERVER_ID.match(text):
            raise InvalidInput(
                f"services: {value!r} is neither a domain name nor a server id",
                reason="not-a-service",
                values={"service": value[:100]},
            )
        return ServiceName("server", text, text)
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
        unicode_name = idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidInput(
            f"services: {value!r} is not a valid domain name ({exc})",
            reason="not-a-domain",
            values={"service": value[:100]},
        ) from None
    return ServiceName("domain", ascii_name, unicode_name)


def service_skeleton(service: ServiceName) -> str | None:
    """What a domain looks like (UTS #39 skeleton) for the look-alike lookup; None for servers."""
    return skeleton(service.ascii) if service.kind == "domain" else None


def check_login(login: str) -> str:
    if not LOGIN.match(login):
        raise InvalidInput(
            "login: 2-64 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return login


@dataclass(frozen=True, slots=True)
class ValidCustomer:
    """A customer whose every field has been checked; what put_customer stores."""

    login: str
    kind: str
    name: str
    panel_email: str
    services: tuple[ServiceName, ...]
    identifiers: dict[IdentifierKind, str]


def validate(login: str, data: CustomerData) -> ValidCustomer:
    """Check every field; InvalidInput names the first wrong one."""
    check_login(login)
    if not data.name.strip():
        raise InvalidInput("name: must not be empty")
    if any(unicodedata.category(char) == "Cc" for char in data.name):
        # NUL cannot be stored in PostgreSQL; line breaks and escapes would forge lines
        # in what agents read.
        raise InvalidInput("name: must be one line without control characters")
    try:
        panel_email = normalise_address(data.panel_email)
    except InvalidAddress as exc:
        raise InvalidInput(f"panel_email: {exc}") from None
    identifiers: dict[IdentifierKind, str] = {}
    for kind in IdentifierKind:
        value = getattr(data, kind.value)
        if value:
            identifiers[kind] = normalise(kind, value)
    if data.kind == "company" and IdentifierKind.PESEL in identifiers:
        raise InvalidInput("pesel: a company is identified by NIP or REGON, not PESEL")
    services = tuple({s.ascii: s for s in map(parse_service, data.services)}.values())
    return ValidCustomer(
        login=login,
        kind=data.kind,
        name=data.name.strip(),
        panel_email=panel_email,
        services=services,
        identifiers=identifiers,
    )


def customer_fields(customer: ValidCustomer, key: bytes) -> dict[str, Any]:
    """The stored columns of a customer's own data; identifiers only hashed and masked."""
    fields: dict[str, Any] = {
        "kind": customer.kind,
        "name": customer.name,
        "panel_email": customer.panel_email,
    }
    for kind in IdentifierKind:
        digits = customer.identifiers.get(kind)
        fields[f"{kind.value}_hash"] = keyed_hash(key, kind, digits) if digits else None
        fields[f"{kind.value}_masked"] = mask(digits) if digits else None
    return fields


def put_customer(session: Session, customer: ValidCustomer, key: bytes) -> tuple[Customer, bool]:
    """Create or replace a customer; Conflict if a service belongs to someone else.

    Returns the stored row and whether it was created.
    """
    row = session.scalar(
        select(Customer)
        .where(Customer.login == customer.login)
        .options(selectinload(Customer.services))
    )
    _refuse_held_services(session, customer, row)
    now = utcnow()
    created = row is None
    if row is None:
        row = Customer(login=customer.login, created_at=now, panel_email_changed_at=now)
        session.add(row)
    elif row.panel_email != customer.panel_email:
        row.panel_email_changed_at = now
        # A notice with a "this was not me" link goes to the address being replaced
        # (app.delivery.confirmations), when confirmation mail is on: whoever takes over
        # a panel account changes its address first.
        enqueue(
            session,
            "customer.panel_email_changed",
            {"customer": row.login, "old_address": row.panel_email, "changed_at": iso_z(now)},
        )
    for field, value in customer_fields(customer, key).items():
        setattr(row, field, value)
    row.updated_at = now
    kept = {s.ascii for s in customer.services}
    row.services = [s for s in row.services if s.name_ascii in kept]
    session.flush()
    present = {s.name_ascii for s in row.services}
    for service in customer.services:
        if service.ascii not in present:
            row.services.append(
                Service(
                    kind=service.kind,
                    name_ascii=service.ascii,
                    name_unicode=service.unicode,
                    skeleton=service_skeleton(service),
                )
            )
    session.flush()
    # The keys its name is found by in a message's text (a rename replaces them).
    write_name_keys(session, row.id, customer.kind, customer.name)
    chain.append_many(
        session, [customer_entry(customer, created, registry_sha256(session, row.id))]
    )
    return row, created


def customer_entry(customer: ValidCustomer, created: bool, state: str | None) -> chain.Draft:
    """The audit entry of a registry change; personal fields go to the erasable side row."""
    return chain.Draft(
        kind="customer_put",
        subject=customer.login,
        payload={
            "login": customer.login,
            "created": created,
            "kind": customer.kind,
            "services": [s.ascii for s in customer.services],
            "identifiers": sorted(kind.value for kind in customer.identifiers),
        },
        personal={
            "registry_sha256": state,
            "panel_email": customer.panel_email,
            "name": customer.name,
            **{
                f"{kind.value}_masked": mask(digits)
                for kind, digits in customer.identifiers.items()
            },
        },
    )


def _refuse_held_services(session: Session, customer: ValidCustomer, row: Customer | None) -> None:
    names = [s.ascii for s in customer.services]
    if not names:
        return
    held = session.execute(
        select(Service.name_unicode, Customer.login)
        .join(Customer)
        .where(Service.name_ascii.in_(names), Customer.login != customer.login)
        .limit(1)
    ).first()
    if held is not None:
        raise Conflict(
            f"service {held.name_unicode} already belongs to customer {held.login!r}; "
            "remove it there first"
        )


def get_customer(session: Session, login: str) -> Customer:
    row = session.scalar(
        select(Customer).where(Customer.login == login).options(selectinload(Customer.services))
    )
    if row is None:
        raise NotFound(f"no customer with login {login!r}")
    return row


def delete_customer(session: Session, login: str) -> None:
    result = session.execute(delete(Customer).where(Customer.login == login))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"no customer with login {login!r}")
    chain.append(session, "customer_delete", login, {"login": login})


@dataclass(frozen=True, slots=True)
class Owned:
    """A registered service and the customer who holds it."""

    service_id: int
    name_unicode: str
    customer: Customer


# Asked for every message, so built once with parameters and their compiled forms reused
# (building the query anew cost as much as running it).
_OWNED = (
    select(Service.id, Service.name_ascii, Service.name_unicode, Customer)
    .join(Customer)
    .where(Service.name_ascii.in_(bindparam("names", expanding=True)))
)
_BY_LOGIN = select(Customer).where(Customer.login.in_(bindparam("logins", expanding=True)))
_BY_PANEL_EMAIL = select(Customer).where(Customer.panel_email == bindparam("address")).limit(2)


# Names asked for in one query: a message may name thousands (each costs a bound
# parameter, and the drivers cap those); every one is looked up, in batches of this many.
LOOKUP_BATCH = 200


def batches(names: list[str]) -> list[list[str]]:
    """``names`` in lists of at most LOOKUP_BATCH, each asked for in one query."""
    return [names[start : start + LOOKUP_BATCH] for start in range(0, len(names), LOOKUP_BATCH)]


def owned_services(session: Session, services: tuple[str, ...]) -> dict[str, Owned]:
    """Registered services among ``services`` (A-labels or server ids) → id, name, holder.

    Every name is looked up: one left out would be a service nobody checked the holder of.
    """
    rows = [
        row
        for batch in batches(list(dict.fromkeys(services)))
        for row in session.execute(_OWNED, {"names": batch}).all()
    ]
    return {name: Owned(id_, unicode, customer) for id_, name, unicode, customer in rows}


def labelled(session: Session, labels: tuple[str, ...]) -> tuple[str, ...]:
    """Registered domains whose first label is one of ``labels`` ("beta" → beta.pl,
    beta.com.pl), by ranges of the name's index (at most LOOKUP_BATCH labels)."""
    names: list[str] = []
    for label in labels[:LOOKUP_BATCH]:
        try:
            a_label = idna.encode(label, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            continue
        if "." in a_label:
            continue
        # Every name starting "beta." sorts from "beta." to just before "beta/".
        query = select(Service.name_ascii).where(
            Service.name_ascii >= a_label + ".", Service.name_ascii < a_label + "/"
        )
        names.extend(
            name
            for name in session.scalars(query.limit(LOOKUP_BATCH))
            if name.split(".", 1)[0] == a_label
        )
    return tuple(names)


def names_to_try(name: str) -> tuple[str, ...]:
    """``name`` and the parents it may be a host of, longest first: ``www.acme.pl`` →
    (``www.acme.pl``, ``acme.pl``).

    Up to the organisational domain (RFC 7489 §3.2, the Public Suffix List) and no
    further: above it are public suffixes (``com.pl``), which nobody holds. A server id
    is itself and its spelling with or without the dash (``vps77777``, ``vps-77777``):
    a reader takes both for the same server.
    """
    if "." not in name:
        return _server_id_spellings(name)
    organisational = organisational_domain(name)
    if name != organisational and not name.endswith("." + organisational):
        # Not a name the list can place (not a valid domain): only itself.
        return (name,)
    labels = name.split(".")
    hosts = len(labels) - organisational.count(".")
    return tuple(".".join(labels[start:]) for start in range(hosts))


def _server_id_spellings(name: str) -> tuple[str, ...]:
    letters = name.rstrip("0123456789")
    digits = name[len(letters) :]
    if not digits or not letters:
        return (name,)
    other = letters[:-1] if letters.endswith("-") else letters + "-"
    return (name, other + digits)


def owners_of(session: Session, services: tuple[str, ...]) -> dict[str, Customer]:
    """Registered services among ``services`` (A-labels or server ids) → their customer."""
    return {name: owned.customer for name, owned in owned_services(session, services).items()}


# Logins looked up per message at most.
MAX_LOGINS = 50


def customers_by_login(session: Session, logins: tuple[str, ...]) -> list[Customer]:
    if not logins:
        return []
    return list(session.scalars(_BY_LOGIN, {"logins": list(logins[:MAX_LOGINS])}))


def customers_by_panel_email(session: Session, address: str) -> list[Customer]:
    return list(session.scalars(_BY_PANEL_EMAIL, {"address": address}))
