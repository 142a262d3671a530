"""Which registered customer domain, or domain of ours, a sender's domain imitates."""

from __future__ import annotations

from sqlalchemy import Connection, String, bindparam, case, or_, select
from sqlalchemy.orm import Session

from app.db.models import Service
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


def imitated_domain(
    session: Session | Connection, domain: str, provider_domains: tuple[str, ...] = ()
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
    rows = session.execute(
        _CANDIDATES,
        {
            "name": a_label,
            "org_name": org,
            "skeleton": domain_skeleton,
            "org_skeleton": org_skeleton,
        },
    ).all()
    if not rows or rows[0].name_ascii in (a_label, org):
        return None
    return str(rows[0].name_unicode)


def _written_tail(written: str, a_label: str, org: str) -> str:
    """The organisational domain as the sender wrote it (keeping a capital I), if it can tell."""
    labels = written.split(".")
    if len(labels) != a_label.count(".") + 1:
        # Written with other dots (U+3002…) that IDNA maps to ".": use the A-label.
        return org
    return ".".join(labels[-(org.count(".") + 1) :])
