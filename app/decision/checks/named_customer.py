"""named-customer: every customer the sender's own text names by name is the sender.

"Proszę o duplikat faktury dla Beta sp. z o.o.", "change the address of BETA Ltd": the
desk would act on, or disclose, another customer's account, named by its company or
person name rather than by a service. A name that is the sender's own is fine. A name
that two customers share, the sender one of them, is fine only as the sender's own
name written exactly, legal form included ("Beta sp. z o.o." from Beta sp. z o.o.
beside a Beta S.A.): written without the form, or with another, it may mean either.
"""

from __future__ import annotations

from app.db.models import Customer
from app.decision.named_customers import NamedCustomer
from mailhook.checks import declare
from mailhook.findings import Finding
from mailhook.names import exact_name_keys

NAME = "named-customer"
RESULTS: tuple[str, ...] = ("pass", "other")
declare(NAME, "the customers the sender's text names by name are the sender", results=RESULTS)


def named_customer(named: tuple[NamedCustomer, ...], customer: Customer | None) -> Finding | None:
    """None when the text names no registered customer or no customer matched
    (customer-match then decides); else ``pass``, or ``other`` naming the names and the
    logins of the other customers they belong to (never their data: the agent looks
    those up)."""
    if not named or customer is None:
        return None
    own = set(exact_name_keys(customer.kind, customer.name))
    others: dict[str, list[str]] = {}
    for name in named:
        strangers = [login for login in name.logins if login != customer.login]
        if not strangers or (len(strangers) < len(name.logins) and name.written.exact in own):
            continue
        for login in strangers:
            others.setdefault(login, []).append(name.written.written)
    if not others:
        written = ", ".join(dict.fromkeys(f"«{name.written.written}»" for name in named))
        return Finding(NAME, "pass", f"The names the message gives are the customer's: {written}.")
    described = "; ".join(
        f"«{'», «'.join(dict.fromkeys(names))}» is the name of customer {login}"
        for login, names in list(others.items())[:5]
    )
    return Finding(
        NAME,
        "other",
        f"The message names another registered customer than {customer.login}: {described}. "
        "An agent should confirm that the request is not about that customer's account "
        "before acting, and tell the sender nothing about it.",
        {"customers": list(others)},
    )
