"""``intakeguard customers import``: a CSV of customers, all rows or none."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.audit import chain
from app.db.models import Customer, Service
from app.db.types import utcnow
from app.errors import IntakeguardError
from app.registry.customers import (
    CustomerData,
    ValidCustomer,
    customer_entry,
    customer_fields,
    put_customer,
    service_skeleton,
    validate,
)
from app.registry.name_keys import insert_name_keys
from app.registry.state import registry_digests

COLUMNS = ("login", "kind", "name", "panel_email", "pesel", "nip", "regon", "services")
REQUIRED = ("login", "kind", "name", "panel_email")
_SERVICE_SEPARATORS = re.compile(r"[;\s]+")

Progress = Callable[[str, int, int], None]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def read_customers(path: Path, progress: Progress) -> tuple[list[ValidCustomer], list[str]]:
    """Validate every row; return the customers and the errors ("line N: …")."""
    errors: list[str] = []
    customers: list[ValidCustomer] = []
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        return [], [f"cannot be read ({exc.strerror})"]
    with handle:
        try:
            total = sum(1 for _ in handle) - 1
        except UnicodeDecodeError as exc:
            return [], [f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"]
        handle.seek(0)
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown:
            problem = (
                f"missing column {missing[0]!r}" if missing else f"unknown column {unknown[0]!r}"
            )
            return [], [f"line 1: {problem}; the columns are: " + ",".join(COLUMNS)]
        rows = 0
        logins: dict[str, int] = {}
        owners: dict[str, tuple[str, int]] = {}
        try:
            for rows, row in enumerate(reader, start=1):
                line = reader.line_num
                if rows % 1000 == 0 and rows < total:
                    progress("validated", rows, total)
                try:
                    customer = _customer(row)
                except IntakeguardError as exc:
                    errors.append(f"line {line}: {exc}")
                    continue
                if customer.login in logins:
                    errors.append(
                        f"line {line}: login {customer.login!r} already on line "
                        f"{logins[customer.login]}"
                    )
                logins.setdefault(customer.login, line)
                for service in customer.services:
                    owner, owner_line = owners.setdefault(service.ascii, (customer.login, line))
                    if owner != customer.login:
                        errors.append(
                            f"line {line}: service {service.unicode} already given to "
                            f"{owner!r} on line {owner_line}"
                        )
                customers.append(customer)
        except (csv.Error, UnicodeDecodeError) as exc:
            errors.append(f"line {reader.line_num}: unreadable CSV ({exc}); save the file as UTF-8")
    # The line count is an estimate (quoted fields may span lines); the end is the end.
    progress("validated", rows, rows)
    return customers, errors


def _customer(row: dict[str | None, str | list[str] | None]) -> ValidCustomer:
    if None in row:
        raise IntakeguardError("more fields than columns")
    values = {key: (value or "").strip() for key, value in row.items() if isinstance(value, str)}
    for column in REQUIRED:
        if not values.get(column):
            raise IntakeguardError(f"{column}: must not be empty")
    kind = values["kind"]
    if kind not in ("person", "company"):
        raise IntakeguardError(f"kind: {kind!r} is not person or company")
    services = tuple(s for s in _SERVICE_SEPARATORS.split(values.get("services", "")) if s)
    return validate(
        values["login"],
        CustomerData(
            panel_email=values["panel_email"],
            kind="person" if kind == "person" else "company",
            name=values["name"],
            services=services,
            pesel=values.get("pesel") or None,
            nip=values.get("nip") or None,
            regon=values.get("regon") or None,
        ),
    )


def import_customers(
    session: Session, customers: list[ValidCustomer], key: bytes, progress: Progress
) -> ImportReport:
    """Store validated customers in the caller's transaction, or report conflicts."""
    report = ImportReport()
    file_owner = {s.ascii: c.login for c in customers for s in c.services}
    logins = [c.login for c in customers]
    held = [
        row
        for chunk in _chunks(list(file_owner), 500)
        for row in session.execute(
            select(Service.name_unicode, Service.name_ascii, Customer.login)
            .join(Customer)
            .where(Service.name_ascii.in_(chunk))
        ).all()
    ]
    in_file = set(logins)
    for name_unicode, name_ascii, login in held:
        owner = file_owner.get(name_ascii)
        if owner is not None and owner != login and login not in in_file:
            report.errors.append(
                f"service {name_unicode} (for {owner!r}) already belongs to customer {login!r}, "
                "who is not in this file; remove it there first"
            )
    if report.errors:
        return report
    # Services moving between customers of this file are released before anyone takes them.
    moving = [name for _, name, login in held if file_owner[name] != login]
    for chunk in _chunks(moving, 500):
        session.execute(delete(Service).where(Service.name_ascii.in_(chunk)))
    existing = {
        login
        for chunk in _chunks(logins, 500)
        for login in session.scalars(select(Customer.login).where(Customer.login.in_(chunk)))
    }
    now = utcnow()
    new = [c for c in customers if c.login not in existing]
    new_ids: dict[str, int] = {}
    for customer in customers:
        if customer.login in existing:
            put_customer(session, customer, key)
            report.updated += 1
            if report.updated % 1000 == 0:
                progress("imported", report.updated, len(customers))
    # New customers go in as bulk INSERTs: one put_customer per row costs several round
    # trips, and the checks above leave nothing for it to refuse.
    for start in range(0, len(new), 1000):
        batch = new[start : start + 1000]
        session.execute(insert(Customer), [_customer_values(c, key, now) for c in batch])
        stored = session.execute(
            select(Customer.login, Customer.id).where(Customer.login.in_([c.login for c in batch]))
        )
        ids = {login: customer_id for login, customer_id in stored}
        new_ids.update(ids)
        services = [
            {
                "customer_id": ids[c.login],
                "kind": s.kind,
                "name_ascii": s.ascii,
                "name_unicode": s.unicode,
                "skeleton": service_skeleton(s),
            }
            for c in batch
            for s in c.services
        ]
        if services:
            session.execute(insert(Service), services)
        insert_name_keys(session, ((ids[c.login], c.kind, c.name) for c in batch))
        report.created += len(batch)
        done = report.updated + report.created
        if done < len(customers):
            progress("imported", done, len(customers))
    # One lock and one pass for the new rows; put_customer appended the updated ones.
    session.flush()
    states: dict[int, str] = {}
    for start in range(0, len(new), 1000):
        states.update(
            registry_digests(session, [new_ids[c.login] for c in new[start : start + 1000]])
        )
    chain.append_many(session, [customer_entry(c, True, states.get(new_ids[c.login])) for c in new])
    progress("imported", len(customers), len(customers))
    return report


def _customer_values(customer: ValidCustomer, key: bytes, now: datetime) -> dict[str, Any]:
    """The row ``put_customer`` would create for a login that is not stored yet."""
    return {
        "login": customer.login,
        **customer_fields(customer, key),
        "panel_email_changed_at": now,
        "created_at": now,
        "updated_at": now,
    }


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
