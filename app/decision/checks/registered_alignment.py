"""registered-alignment: the domain that authenticates the From domain is within its service.

DMARC's relaxed alignment (RFC 7489 §3.1) joins two names by their organisational
domain, read from the Public Suffix List. A platform that hands its customers
subdomains (``acme.platform.pl``, ``evil.platform.pl``) without listing itself there is
one organisation to DMARC: a signature of ``evil.platform.pl`` aligns with mail from
``jan@acme.platform.pl``. So does a signature or an SPF pass of ``platform.pl`` itself,
the name above, which the platform uses for every customer's mail alike. The registry
knows better: when the From domain lies within a registered service, only a domain
within that service (or a name above it that the same customer registered)
authenticates it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db.models import Customer
from app.registry.customers import owners_of
from mailhook.checks import declare
from mailhook.domains import normalise_domain, organisational_domain
from mailhook.findings import Finding

NAME = "registered-alignment"
RESULTS: tuple[str, ...] = ("pass", "crossed")
declare(
    NAME,
    "the domain that authenticates the From domain lies within the From domain's "
    "registered service",
    results=RESULTS,
)


def registered_alignment(session: Session, findings: list[Finding]) -> Finding | None:
    """None when DMARC did not pass or passed for the From domain itself (or a name above
    it in its service, or the same customer's); else ``pass`` or ``crossed``."""
    dmarc = next((f for f in findings if f.name == "dmarc" and f.result == "pass"), None)
    if dmarc is None:
        return None
    from_domain = normalise_domain(str(dmarc.evidence.get("from_domain") or ""))
    aligned = [normalise_domain(str(d)) for d in dmarc.evidence.get("aligned_domains") or ()]
    if not from_domain or not aligned or from_domain in aligned:
        return None  # the From domain's own name
    owners = owners_of(session, _names_up(from_domain, *aligned))
    service = next((name for name in _ancestors(from_domain) if name in owners), None)
    if service is None:
        return None  # not a registered domain: the Public Suffix List is all there is
    if any(_answers_for(domain, from_domain, service, owners) for domain in aligned):
        # A parent within the service, or one the same customer registered.
        return None
    within = [domain for domain in aligned if _within(domain, service)]
    if within:
        return Finding(
            NAME,
            "pass",
            f"DMARC passes for {from_domain} through {within[0]}, within the registered "
            f"service {service}.",
        )
    return _crossed(from_domain, service, aligned, owners)


def _crossed(
    from_domain: str, service: str, aligned: list[str], owners: dict[str, Customer]
) -> Finding:
    """``crossed``: DMARC passes for ``from_domain``, within ``service``, only through
    ``aligned`` names outside it (a neighbour, or the platform's own name above)."""
    shown = aligned[0]
    if _within(from_domain, shown):
        # A name above the service: the platform's own, which vouches for all its
        # customers' subdomains alike (its shared key, its bounce domain).
        return Finding(
            NAME,
            "crossed",
            f"DMARC passes for {from_domain} only through {shown}, a name above it that "
            f"relaxed alignment lets vouch for it; but {from_domain} is within the registered "
            f"service {service}, and {shown} lies above that service and is not registered to "
            "the same customer: it signs or sends for every name below it alike, so it does "
            "not show which customer sent the message. An agent should confirm who sent it.",
            {"service": service, "aligned_domains": aligned},
        )
    other = next((name for name in _ancestors(shown) if name in owners), None)
    whose = _whose(other, owners, owners[service]) if other is not None else ""
    return Finding(
        NAME,
        "crossed",
        f"DMARC passes for {from_domain} only through {shown}, which relaxed alignment joins "
        f"to it by their common organisational domain {organisational_domain(from_domain)}; "
        f"but {from_domain} is within the registered service {service}, and {shown} is "
        f"not{whose}: its signature or server need not be the customer's. An agent should "
        "confirm who sent the message.",
        {"service": service, "aligned_domains": aligned},
    )


def _answers_for(domain: str, from_domain: str, service: str, owners: dict[str, Customer]) -> bool:
    """``domain`` is a name above ``from_domain`` within ``service``, or one registered to
    the customer holding ``service``."""
    if not _within(from_domain, domain):
        return False
    if _within(domain, service):
        return True
    holder = next((name for name in _ancestors(domain) if name in owners), None)
    return holder is not None and owners[holder].login == owners[service].login


def _whose(other: str, owners: dict[str, Customer], holder: Customer) -> str:
    if owners[other].login == holder.login:
        return f" (it is within {other}, another service of the same customer)"
    return f" (it is within {other}, registered to another customer)"


def _within(name: str, domain: str) -> bool:
    """``name`` is ``domain`` or a name below it."""
    return name == domain or name.endswith("." + domain)


def _ancestors(name: str) -> list[str]:
    """``name`` and the names above it, up to its organisational domain, longest first."""
    org = organisational_domain(name)
    labels = name.split(".")
    names = [".".join(labels[i:]) for i in range(len(labels))]
    return [n for n in names if _within(n, org)]


def _names_up(*names: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ancestor for name in names for ancestor in _ancestors(name)))
