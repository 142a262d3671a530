"""The registry state an audit entry commits to: a customer's row, services and codes.

Every change of a customer (put, import), of its services or of its one-time codes
(issued, used) appends an entry whose personal side row holds ``registry_sha256``, the
digest of the customer's whole state after the change. ``audit verify`` recomputes it
for every stored customer and compares it with the newest such entry, so an edit of any
column (the panel address everything is trusted against above all) shows. The digest
sits in the erasable side row, salted by it: a guessed panel address cannot be
confirmed against it, and erasure (which deletes the customer too) leaves nothing to
compare.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import chain
from app.audit.hashing import record_digest, row_record
from app.db.models import Customer, OneTimeCode, Service, table_of

REGISTRY_KINDS = ("customer_put", "codes")
_CUSTOMERS = table_of(Customer)
_SERVICES = table_of(Service)
_CODES = table_of(OneTimeCode)


def registry_sha256(session: Session, customer_id: int) -> str | None:
    """The digest of customer ``customer_id``'s stored state, or None if it is gone."""
    return registry_digests(session, [customer_id]).get(customer_id)


def registry_digests(session: Session, customer_ids: list[int]) -> dict[int, str]:
    """``registry_sha256`` of many customers in three queries (customers gone: absent)."""
    if not customer_ids:
        return {}
    wanted = set(customer_ids)
    services: dict[int, list[Any]] = {key: [] for key in wanted}
    codes: dict[int, list[Any]] = {key: [] for key in wanted}
    for table, into in ((_SERVICES, services), (_CODES, codes)):
        rows = session.execute(
            select(table).where(table.c.customer_id.in_(wanted)).order_by(table.c.id)
        ).mappings()
        for row in rows:
            into[row["customer_id"]].append(row)
    return {
        row["id"]: record_digest(state_record(row, services[row["id"]], codes[row["id"]]))
        for row in session.execute(select(_CUSTOMERS).where(_CUSTOMERS.c.id.in_(wanted))).mappings()
    }


def state_record(customer: Any, services: list[Any], codes: list[Any]) -> dict[str, Any]:
    return {
        "customer": row_record("customers", customer),
        "services": [row_record("services", row) for row in services],
        "codes": [row_record("one_time_codes", row) for row in codes],
    }


def record_codes(session: Session, customer_id: int, what: str) -> None:
    """Append the entry of a change to a customer's codes (issued, used, linked)."""
    session.flush()
    login = session.scalar(select(Customer.login).where(Customer.id == customer_id))
    digest = registry_sha256(session, customer_id)
    if login is None or digest is None:
        return
    chain.append(
        session, "codes", login, {"login": login, "change": what}, {"registry_sha256": digest}
    )
