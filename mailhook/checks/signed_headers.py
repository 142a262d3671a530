"""signed-headers: the aligned DKIM signature covers every header field a reader is shown.

From and Subject are always compared. The fields that say when the message was written
(Date: an old message sent again is told by it), where an answer goes or who handed it
over (Reply-To, Mail-Reply-To, Mail-Followup-To, Sender) and how its body is read
(MIME-Version, Content-Type, Content-Transfer-Encoding) are compared too,
unless the From domain's own server handed the message over (an SPF pass of a MAIL FROM
domain within From's, or the other way round): then the server, not only the signature,
vouches for every header. Without that, an old signed message can be sent again with a
Reply-To of the sender's choosing added, or with its unsigned Content-Type rewritten so
another part, boundary or charset is shown (RFC 6376 §8.15: the signature vouches only
for what h= lists). To and Cc are addressed-to's: who else a signed message may name is
its policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailhook.checks._headers import field_names
from mailhook.checks._registry import register
from mailhook.checks.from_mailbox import from_mailbox
from mailhook.context import CheckContext
from mailhook.domains import organisational_domain
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "signed-headers"
RESULTS: tuple[str, ...] = ("pass", "none", "uncovered")
# Evidence for the reader of the instruction: "present" counts each field's instances,
# "uncovered" how many of the topmost are unsigned, "d" the signing domain compared. The
# signed instances are the bottom present - uncovered ones (RFC 6376 §5.4.2).
# The fields an instruction is read from and whose instances a reader sees.
COVERED_FIELDS: tuple[str, ...] = ("From", "Subject")
# The fields whose instances a reader is shown or the body is read by, compared when the
# signature alone vouches for the message (see the module's docstring).
SHOWN_FIELDS: tuple[str, ...] = (
    "Date",
    "Reply-To",
    "Mail-Reply-To",
    "Mail-Followup-To",
    "Sender",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
)


@register(
    NAME, "the aligned DKIM signature covers every header field a reader is shown", results=RESULTS
)
def check_signed_headers(message: InboundMessage, context: CheckContext) -> Finding:
    mailbox = from_mailbox(message, context)
    from_domain = mailbox.domain if mailbox else None
    signatures = aligned_passes(context, from_domain)
    if not signatures:
        return Finding(
            NAME,
            "none",
            "No DKIM signature of the From domain's organisation verifies, so there is no "
            "signed header to compare the message's From and Subject with.",
            evidence={"uncovered": {}},
        )
    names = field_names(message)
    fields = COVERED_FIELDS
    if not own_server_handed_over(context, from_domain):
        fields += SHOWN_FIELDS
    # A field the message does not have is nothing to cover (From and Subject are
    # counted even then, as before).
    counts = {field: names.count(field.lower()) for field in fields}
    present = {field: n for field, n in counts.items() if n or field in COVERED_FIELDS}
    gaps = [(signature, _uncovered(signature, present)) for signature in signatures]
    covering = next((signature for signature, gap in gaps if not gap), None)
    if covering is not None:
        return Finding(
            NAME,
            "pass",
            f"The DKIM signature of {covering.get('d')} covers every {_listed(present)} "
            "header field of the message.",
            evidence={"uncovered": {}, "d": covering.get("d"), "present": present},
        )
    signature, gap = gaps[0]
    return Finding(
        NAME,
        "uncovered",
        f"The DKIM signature of {signature.get('d')} does not cover "
        + " or ".join(_describe(name, count, present[name]) for name, count in gap.items())
        + ": anyone on the way may have added what it does not sign (RFC 6376 §5.4.2), "
        "and a mail client may show that instead of the signed one.",
        evidence={"uncovered": gap, "d": signature.get("d"), "present": present},
    )


def aligned_passes(context: CheckContext, from_domain: str | None) -> list[Mapping[str, Any]]:
    """The verified signatures whose d= is in the From domain's organisation (RFC 7489 §3.1.1)."""
    if from_domain is None:
        return []
    finding = context.earlier.get("dkim")
    signatures = finding.evidence.get("signatures") if finding is not None else None
    wanted = organisational_domain(from_domain)
    return [
        signature
        for signature in signatures or ()
        if isinstance(signature, Mapping)
        and signature.get("result") == "pass"
        and organisational_domain(str(signature.get("d") or "")) == wanted
    ]


def own_server_handed_over(context: CheckContext, from_domain: str | None) -> bool:
    """Whether SPF passed for a MAIL FROM domain within From's domain, or From's within it.

    Not merely in the same organisation: two customers on subdomains of one platform share
    it (identity class 9). Nor an SPF pass any host gets (the spf finding says so).
    """
    finding = context.earlier.get("spf")
    if from_domain is None or finding is None or finding.result != "pass":
        return False
    evidence = finding.evidence
    if evidence.get("identity") != "mailfrom" or evidence.get("anyone_passes"):
        return False
    spf_domain = str(evidence.get("domain") or "").lower().rstrip(".")
    from_domain = from_domain.lower().rstrip(".")
    return (
        bool(spf_domain)
        and (
            spf_domain == from_domain
            or spf_domain.endswith("." + from_domain)
            or from_domain.endswith("." + spf_domain)
        )
        and organisational_domain(spf_domain) == organisational_domain(from_domain)
    )


def _listed(present: Mapping[str, int]) -> str:
    names = list(present)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _uncovered(signature: Mapping[str, Any], present: dict[str, int]) -> dict[str, int]:
    """Instances of each field above those h= signs, by field name.

    RFC 6376 §5.4.2: a name listed n times signs the last n instances, from the bottom up;
    the instances above them are not signed. A Subject present but not listed at all is
    wholly unsigned.
    """
    listed = [str(name).lower() for name in signature.get("h") or ()]
    gap: dict[str, int] = {}
    for field in present:
        unsigned = present[field] - listed.count(field.lower())
        if unsigned > 0:
            gap[field] = unsigned
    return gap


def _describe(field: str, unsigned: int, present: int) -> str:
    if unsigned == present:
        return (
            f"the {field} header field (it is not in h=)"
            if present == 1
            else (f"any of the {present} {field} header fields (it is not in h=)")
        )
    return (
        f"the topmost {unsigned} of the {present} {field} header fields"
        if unsigned > 1
        else f"the topmost of the {present} {field} header fields"
    )
