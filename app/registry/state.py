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
    customer = (
        session.execute(select(_CUSTOMERS).where(_CUSTOMERS.c.id == customer_id)).mappings().first()
    )
    if customer is None:
        return None
    services = session.execute(
        select(_SERVICES).where(_SERVICES.c.customer_id == customer_id).order_by(_SERVICES.c.id)
    ).mappings()
    codes = session.execute(
        select(_CODES).where(_CODES.c.customer_id == customer_id).order_by(_CODES.c.id)
    ).mappings()
    return record_digest(state_record(customer, list(services), list(codes)))


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
