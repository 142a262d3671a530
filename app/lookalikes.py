"""Which registered customer domain, or domain of ours, a sender's domain imitates."""

from __future__ import annotations

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from app.db.models import Service
from mailhook.confusables import display_form, skeleton
from mailhook.domains import normalise_domain, organisational_domain

# Look-alike candidates read at most; a skeleton shared by more services than this is a
# registry curiosity, and the first of them is enough to name in a reason.
_MAX_CANDIDATES = 20


def imitated_domain(
    session: Session, domain: str, provider_domains: tuple[str, ...] = ()
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
    skeletons = {skeleton(written), skeleton(_written_tail(written, a_label, org))}
    for provider in provider_domains:
        if skeleton(provider) in skeletons:
            return display_form(provider)
    names = sorted({a_label, org})
    rows = session.execute(
        select(Service.name_ascii, Service.name_unicode)
        .where(or_(Service.name_ascii.in_(names), Service.skeleton.in_(sorted(skeletons))))
        .order_by(case((Service.name_ascii.in_(names), 0), else_=1), Service.name_ascii)
        .limit(_MAX_CANDIDATES)
    ).all()
    if not rows or rows[0].name_ascii in names:
        return None
    return str(rows[0].name_unicode)


def _written_tail(written: str, a_label: str, org: str) -> str:
    """The organisational domain as the sender wrote it (keeping a capital I), if it can tell."""
    labels = written.split(".")
    if len(labels) != a_label.count(".") + 1:
        # Written with other dots (U+3002…) that IDNA maps to ".": use the A-label.
        return org
    return ".".join(labels[-(org.count(".") + 1) :])
