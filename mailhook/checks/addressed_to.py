"""addressed-to: mail only a signature authenticates was written to the desk (RFC 6376 §8.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailhook.addresses import InvalidAddress, parse_path
from mailhook.checks._headers import parse_addresses, quoted, raw_fields
from mailhook.checks._registry import register
from mailhook.checks.dmarc import spf_pass_domain
from mailhook.checks.signed_headers import aligned_passes
from mailhook.context import CheckContext
from mailhook.domains import aligned, organisational_domain
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "addressed-to"
RESULTS: tuple[str, ...] = ("pass", "elsewhere", "unsigned", "unknown-desk", "none")
# The headers that say whom the author wrote to (RFC 5322 §3.6.3).
RECIPIENT_HEADERS = ("To", "Cc")
# More addresses than this are not read one by one (a header of 8 KB holds ~200).
MAX_ADDRESSES = 200


@register(
    NAME,
    "mail authenticated only by its DKIM signature names the desk among its recipients",
    results=RESULTS,
)
def check_addressed_to(message: InboundMessage, context: CheckContext) -> Finding:
    dmarc = context.earlier.get("dmarc")
    if dmarc is None or dmarc.result != "pass":
        return Finding(NAME, "none", "The From domain does not authenticate the message.")
    from_domain = str(dmarc.evidence.get("from_domain") or "")
    spf_domain = spf_pass_domain(message, context)
    if spf_domain and aligned(spf_domain, from_domain, strict=dmarc.evidence.get("aspf") == "s"):
        # Handed over by a server the From domain authorises: a Bcc to the desk is the
        # author's own choice, not a copy someone else sent on.
        return Finding(
            NAME, "pass", f"SPF authenticates the sending server for {from_domain} itself."
        )
    desk = _organisations(message.envelope.rcpt) | {
        organisational_domain(domain) for domain in context.trust.desk_domains
    }
    if not desk:
        # A REST caller that gives no rcpt, where neither PROVIDER_DOMAINS nor
        # INTAKE_RECIPIENTS is set: a signed message written to anyone would pass unasked.
        return Finding(
            NAME,
            "unknown-desk",
            "Only a signature authenticates the message (no aligned SPF), and no envelope "
            "recipient was given and no desk domain is configured (PROVIDER_DOMAINS, "
            "INTAKE_RECIPIENTS), so whether it was written to the desk cannot be told.",
        )
    written_to, added = _recipients(message, _signed_counts(context, from_domain, dmarc.evidence))
    if not written_to & desk:
        shown = _join(written_to) if written_to else "nobody"
        return Finding(
            NAME,
            "elsewhere",
            f"Only a signature authenticates the message (no aligned SPF), and the To and Cc "
            f"it covers name {shown}, not the desk ({_join(desk)}): the author may have "
            "written it to someone else, who sent the signed message on to us (RFC 6376 §8.6).",
        )
    others = added - written_to - desk - {organisational_domain(from_domain)}
    if others:
        return Finding(
            NAME,
            "unsigned",
            f"A To or Cc the authenticating signature does not cover names {_join(others)}: "
            "whoever sent the message on may have added it, and a reply to all would reach "
            "them (RFC 6376 §5.4.2).",
        )
    return Finding(
        NAME, "pass", f"The message names the desk's organisation {_join(desk)} as recipient."
    )


def _organisations(paths: tuple[str, ...]) -> set[str]:
    """The organisational domains of the envelope recipients that can be read."""
    found: set[str] = set()
    for text in paths:
        try:
            domain = parse_path(text).domain
        except InvalidAddress:
            continue
        if domain:
            found.add(organisational_domain(domain))
    return found


def _signed_counts(
    context: CheckContext, from_domain: str, dmarc: Mapping[str, Any]
) -> dict[str, int] | None:
    """How many of the bottom To and Cc instances the aligned DKIM signature signs (RFC
    6376 §5.4.2), the most of any such signature; None when DMARC passed on a trusted
    party's word (ARC, our relay's results), which vouches for the message as it came."""
    if dmarc.get("via") in ("arc", "upstream"):
        return None
    counts = {header: 0 for header in RECIPIENT_HEADERS}
    for signature in aligned_passes(context, from_domain):
        listed = [str(name).lower() for name in signature.get("h") or ()]
        for header in RECIPIENT_HEADERS:
            counts[header] = max(counts[header], listed.count(header.lower()))
    return counts


def _recipients(
    message: InboundMessage, signed: dict[str, int] | None
) -> tuple[set[str], set[str]]:
    """The organisational domains of the To and Cc addresses: those of the instances the
    signature signs (of all when ``signed`` is None), and those of the others, which
    anyone on the way may have added."""
    covered: set[str] = set()
    added: set[str] = set()
    for header in RECIPIENT_HEADERS:
        values = raw_fields(message, header)
        count = len(values) if signed is None else min(signed[header], len(values))
        for index, value in enumerate(values):
            # RFC 6376 §5.4.2: h= signs the bottom instances, one per listing.
            found = covered if index >= len(values) - count else added
            for address in (parse_addresses(message, header, value) or [])[:MAX_ADDRESSES]:
                if address.domain:
                    found.add(organisational_domain(address.domain))
    return covered, added


def _join(domains: set[str]) -> str:
    return ", ".join(quoted(domain) for domain in sorted(domains))
