"""signed-headers: the aligned DKIM signature covers every From and Subject instance."""

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


@register(NAME, "the aligned DKIM signature covers every From and Subject", results=RESULTS)
def check_signed_headers(message: InboundMessage, context: CheckContext) -> Finding:
    mailbox = from_mailbox(message, context)
    signatures = aligned_passes(context, mailbox.domain if mailbox else None)
    if not signatures:
        return Finding(
            NAME,
            "none",
            "No DKIM signature of the From domain's organisation verifies, so there is no "
            "signed header to compare the message's From and Subject with.",
            evidence={"uncovered": {}},
        )
    names = field_names(message)
    present = {field: names.count(field.lower()) for field in COVERED_FIELDS}
    gaps = [(signature, _uncovered(signature, present)) for signature in signatures]
    covering = next((signature for signature, gap in gaps if not gap), None)
    if covering is not None:
        return Finding(
            NAME,
            "pass",
            f"The DKIM signature of {covering.get('d')} covers every From and Subject header "
            "field of the message.",
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


def _uncovered(signature: Mapping[str, Any], present: dict[str, int]) -> dict[str, int]:
    """Instances of each field above those h= signs, by field name.

    RFC 6376 §5.4.2: a name listed n times signs the last n instances, from the bottom up;
    the instances above them are not signed. A Subject present but not listed at all is
    wholly unsigned.
    """
    listed = [str(name).lower() for name in signature.get("h") or ()]
    gap: dict[str, int] = {}
    for field in COVERED_FIELDS:
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
