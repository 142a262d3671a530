"""Organisational domains from the Public Suffix List, and DMARC identifier alignment."""

from __future__ import annotations

from functools import cache, lru_cache

import idna
from publicsuffixlist import PSLFILE, PublicSuffixList


@cache
def _public_suffixes() -> PublicSuffixList:
    # The list bundled with the package, never fetched at run time: it is updated by
    # upgrading the package, so a verdict never depends on a download that may fail.
    # Private suffixes (blogspot.com, …) count too, as in every major DMARC verifier:
    # their owners declare that the names below them belong to different parties.
    return PublicSuffixList()


def normalise_domain(domain: str) -> str:
    """``domain`` as a lower-case A-label without a trailing dot (RFC 5890), as compared."""
    name = domain.strip().rstrip(".").lower()
    if name.isascii():
        return name
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError:
        # Not a valid name: it stays as written and simply matches nothing else.
        return name


def listed_suffix(name: str) -> bool:
    """Whether ``name`` ("pl", "com.pl") is a suffix the Public Suffix List names, not
    merely one its default rule would take for a top-level domain ("beta")."""
    return _public_suffixes().publicsuffix("x." + name, accept_unknown=False) == name


@cache
def suffix_last_labels() -> frozenset[str]:
    """The last label of every rule of the Public Suffix List ("pl"; "za", which has no
    rule of its own but ends "co.za"): whatever ``listed_suffix`` names ends in one."""
    labels = set()
    with open(PSLFILE, encoding="utf-8") as rules:
        for line in rules:
            rule = line.split(maxsplit=1)[0] if line.strip() else ""
            if rule and not rule.startswith("//"):
                labels.add(rule.rsplit(".", 1)[-1].lower())
    return frozenset(labels)


@lru_cache(maxsize=4096)
def organisational_domain(domain: str) -> str:
    """The organisational domain of ``domain`` (RFC 7489 §3.2).

    The longest public suffix that matches, plus one label: ``mail.shop.com.pl`` belongs
    to ``shop.com.pl`` because ``com.pl`` is a public suffix. A name that is itself a
    public suffix has no label to add and stands for itself.
    """
    name = normalise_domain(domain)
    if not name:
        return name
    return _public_suffixes().privatesuffix(name) or name


def aligned(identifier: str, from_domain: str, *, strict: bool) -> bool:
    """Whether an authenticated ``identifier`` is aligned with the From domain.

    RFC 7489 §3.1.1 and §3.1.2: strict mode needs the very same name; relaxed mode the
    same organisational domain. Any other parent/child relation does not align:
    ``shop.com.pl`` and ``other.com.pl`` share only a public suffix.
    """
    identifier, from_domain = normalise_domain(identifier), normalise_domain(from_domain)
    if not identifier or not from_domain:
        return False
    if strict:
        return identifier == from_domain
    return organisational_domain(identifier) == organisational_domain(from_domain)
