"""Whom a holder change names as the new holder, for the e-cesja of [confirmation].

The new holder must be a registered customer, named by login in the sender's own text
(the catalogue's ``login_pattern``), and not the current holder. Anything else, and the
change needs signed documents by post: whom to ask at which address must never be a
guess.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import Customer
from app.decision.policy import NewHolder
from app.registry.customers import customers_by_login


def named_new_holder(
    session: Session, logins: tuple[str, ...], holder: Customer
) -> tuple[NewHolder, Customer | None]:
    """The new holder ``logins`` name beside ``holder``'s own login, and their registry row."""
    others = [login for login in logins if login != holder.login]
    if not others:
        problem = (
            "the only login it names is the current holder's own"
            if logins
            else "it names no new holder by login (login: …)"
        )
        return NewHolder(None, problem), None
    if len(others) > 1:
        return NewHolder(
            None,
            f"it names {len(others)} logins besides the current holder's, so which one "
            "is the new holder is ambiguous",
        ), None
    found = customers_by_login(session, (others[0],))
    if not found:
        return NewHolder(
            None, "the login named as the new holder is not a registered customer"
        ), None
    return NewHolder(found[0].login), found[0]
