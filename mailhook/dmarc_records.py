"""DMARC policy records (RFC 7489 §6.3): discovery in DNS and parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailhook.dns import Resolver

POLICIES = ("none", "quarantine", "reject")
ALIGNMENT_MODES = ("r", "s")
# RFC 7489 §6.6.3 step 3: only records that start with the version tag are DMARC records.
# The rest of the tag-list is judged by the parser, so "v=DMARC1 p=reject" is a broken
# DMARC record, not some other TXT record.
_VERSION = re.compile(r"\Av\s*=\s*DMARC1(?![0-9A-Za-z])")


class DmarcRecordError(ValueError):
    """A DMARC record that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class DmarcRecord:
    """The tags of one DMARC record that a receiver acts on, defaults filled in."""

    p: str
    sp: str | None = None
    np: str | None = None
    adkim: str = "r"
    aspf: str = "r"
    pct: int = 100


@dataclass(frozen=True, slots=True)
class PolicyDiscovery:
    """The outcome of looking for a From domain's policy.

    ``policy_domain`` is the domain whose ``_dmarc`` name held the record (or the broken
    records); ``error`` says what is wrong when the records there cannot be used.
    """

    record: DmarcRecord | None = None
    policy_domain: str | None = None
    error: str | None = None


def discover_policy(resolver: Resolver, from_domain: str, org_domain: str) -> PolicyDiscovery:
    """The DMARC policy for ``from_domain`` (RFC 7489 §6.6.3).

    First ``_dmarc.<from domain>``, then, when that holds no DMARC record, the
    organisational domain's. Raises DnsTempError when DNS cannot answer for now.
    """
    for domain in dict.fromkeys((from_domain, org_domain)):
        name = f"_dmarc.{domain}"
        records = [
            text
            for text in (raw.decode("utf-8", "replace").strip() for raw in resolver.txt(name))
            if _VERSION.match(text)
        ]
        if not records:
            continue
        if len(records) > 1:
            # RFC 7489 §6.6.3 step 5: more than one record ends policy discovery.
            return PolicyDiscovery(
                policy_domain=domain,
                error=f"{name} publishes {len(records)} DMARC records where one is allowed",
            )
        try:
            return PolicyDiscovery(record=parse_record(records[0]), policy_domain=domain)
        except DmarcRecordError as exc:
            return PolicyDiscovery(
                policy_domain=domain, error=f"the DMARC record at {name} is malformed: {exc}"
            )
    return PolicyDiscovery()


def parse_record(text: str) -> DmarcRecord:
    """The DMARC record ``text`` (RFC 7489 §6.4); DmarcRecordError names what is wrong.

    Unknown tags are ignored (RFC 7489 §6.3). A known tag with a value outside its
    grammar is an error rather than a silent default: the domain owner meant something,
    and an agent should see that we could not tell what.
    """
    tags: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue  # RFC 7489 §6.4: a trailing ";" is allowed
        name, equals, value = part.partition("=")
        name = name.strip().lower()
        if not equals or not name:
            raise DmarcRecordError(f"{part!r} is not a tag=value pair")
        if name in tags:
            raise DmarcRecordError(f"the {name}= tag appears twice")
        tags[name] = value.strip()
    # RFC 7489 §6.4: the version is case-sensitive and the first tag.
    if next(iter(tags), None) != "v" or tags["v"] != "DMARC1":
        raise DmarcRecordError(f"it does not start with v=DMARC1 (v={tags.get('v', '')})")
    if "p" not in tags:
        raise DmarcRecordError("it has no p= tag")
    return DmarcRecord(
        p=_choice(tags, "p", POLICIES) or "none",
        sp=_choice(tags, "sp", POLICIES),
        # RFC 9091 §4.2: np, the policy for non-existent subdomains.
        np=_choice(tags, "np", POLICIES),
        adkim=_choice(tags, "adkim", ALIGNMENT_MODES) or "r",
        aspf=_choice(tags, "aspf", ALIGNMENT_MODES) or "r",
        pct=_percent(tags),
    )


def _choice(tags: dict[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    if name not in tags:
        return None
    # ABNF literals are case-insensitive (RFC 5234 §2.3): p=Reject means reject.
    value = tags[name].lower()
    if value not in allowed:
        raise DmarcRecordError(f"{name}={tags[name]} is none of {', '.join(allowed)}")
    return value


def _percent(tags: dict[str, str]) -> int:
    if "pct" not in tags:
        return 100
    value = tags["pct"]
    if not value.isascii() or not value.isdigit() or int(value) > 100:
        raise DmarcRecordError(f"pct={value} is not a whole number from 0 to 100")
    return int(value)
