"""``intakeguard customers import``: a CSV of customers, all rows or none."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.models import Customer, Service
from app.errors import IntakeguardError
from app.registry import CustomerData, ValidCustomer, put_customer, validate

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
        return [], [f"{path}: cannot be read ({exc.strerror})"]
    with handle:
        total = sum(1 for _ in handle) - 1
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
        logins: dict[str, int] = {}
        owners: dict[str, tuple[str, int]] = {}
        try:
            for number, row in enumerate(reader, start=1):
                line = reader.line_num
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
                if number % 1000 == 0:
                    progress("validated", number, total)
        except (csv.Error, UnicodeDecodeError) as exc:
            errors.append(f"line {reader.line_num}: unreadable CSV ({exc}); save the file as UTF-8")
    progress("validated", len(customers), total)
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
    logins = {c.login for c in customers}
    held = [
        row
        for chunk in _chunks(list(file_owner), 500)
        for row in session.execute(
            select(Service.name_unicode, Service.name_ascii, Customer.login)
            .join(Customer)
            .where(Service.name_ascii.in_(chunk))
        ).all()
    ]
    for name_unicode, name_ascii, login in held:
        owner = file_owner.get(name_ascii)
        if owner is not None and owner != login and login not in logins:
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
    for number, customer in enumerate(customers, start=1):
        _, created = put_customer(session, customer, key)
        if created:
            report.created += 1
        else:
            report.updated += 1
        if number % 1000 == 0:
            progress("imported", number, len(customers))
    progress("imported", len(customers), len(customers))
    return report


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
