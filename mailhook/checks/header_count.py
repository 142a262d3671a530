"""header-count: every header field RFC 5322 §3.6 or RFC 2045 allows once appears at most once."""

from __future__ import annotations

from collections import Counter

from mailhook.checks._headers import field_names
from mailhook.checks._registry import register
from mailhook.context import CheckContext
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "header-count"
RESULTS: tuple[str, ...] = ("pass", "fail")
# RFC 5322 §3.6, the table of limits: each of these has "max number 1". A mail client
# shows one instance (the first, or the last), a verifier may read another: a second
# Subject prepended above a signed message is read, and shown, in place of the signed one.
SINGLE_FIELDS: tuple[str, ...] = (
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Subject",
    "Date",
)
# RFC 2045 §4, §5, §6: a message's MIME-Version, Content-Type and Content-Transfer-Encoding,
# once each. The standard library reads the topmost Content-Type, dkimpy verifies the
# bottom-most: one put above a signed message decides which part, boundary or charset is
# read, while the signature still verifies.
MIME_FIELDS: tuple[str, ...] = ("MIME-Version", "Content-Type", "Content-Transfer-Encoding")
_CANONICAL = {name.lower(): name for name in SINGLE_FIELDS + MIME_FIELDS}


@register(NAME, "no header field that RFC 5322 or 2045 allows once appears twice", results=RESULTS)
def check_header_count(message: InboundMessage, context: CheckContext) -> Finding:
    counts = Counter(_CANONICAL[name] for name in field_names(message) if name in _CANONICAL)
    repeated = {name: count for name, count in counts.items() if count > 1}
    if not repeated:
        return Finding(
            NAME,
            "pass",
            "No header field that RFC 5322 §3.6 allows once appears more than once.",
            evidence={"repeated": {}},
        )
    listed = ", ".join(f"{count} {name}" for name, count in sorted(repeated.items()))
    rfc = "RFC 5322 §3.6" if repeated.keys().isdisjoint(MIME_FIELDS) else "RFC 5322 and 2045"
    return Finding(
        NAME,
        "fail",
        f"The message has {listed} header fields, where {rfc} allows one of each; "
        "a mail client shows one instance and a reader may act on another.",
        evidence={"repeated": repeated},
    )
