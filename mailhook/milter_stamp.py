"""The milter's stamp: the headers that carry a recorded verdict on the passing mail.

RFC 8601 §5: a verifier removes every Authentication-Results header that claims its own
authserv-id before adding its own, or a sender could pre-stamp a result; the same goes
for our X-Intakeguard-* headers. What remains, plus our three headers, is what a
ticketing system's mail rules read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import authres
import authres.arc
import authres.dmarc

from mailhook.handoff import Receipt

RESULTS_HEADER = "Authentication-Results"
VERDICT_HEADER = "X-Intakeguard-Verdict"
SIGNATURE_HEADER = "X-Intakeguard-Signature"
STAMP_PREFIX = "x-intakeguard-"

# The methods the stamp reports, each as the verdict's check of that name decided.
_METHODS = {
    "spf": authres.SPFAuthenticationResult,
    "dkim": authres.DKIMAuthenticationResult,
    "dmarc": authres.dmarc.DMARCAuthenticationResult,
    "arc": authres.arc.ARCAuthenticationResult,
}
# Our checks' results that are not RFC 8601 result names for the method (§2.7, RFC 7489
# §11.2, RFC 8617 §4.4): the registered result, and why, as a comment.
_REGISTERED = {
    ("dmarc", "quarantine"): ("fail", "policy quarantine"),
    ("dmarc", "reject"): ("fail", "policy reject"),
    ("arc", "untrusted"): ("none", "chain not sealed by a trusted forwarder"),
}
# RFC 8601 §2.2: the authserv-id comes first, after optional comments, as a token or
# a quoted string. Read leniently: a header we cannot fully parse may still claim it.
_AUTHSERV_ID = re.compile(r'\A(?:\s|\([^()]*\))*(?:"([^"]*)"|([^\s;()"]+))')
# RFC 2045 §5.1: a token; anything else is sent as a quoted string.
_TOKEN = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+")


def claimed_authserv_id(value: str) -> str | None:
    """The authserv-id an Authentication-Results ``value`` claims, lower-cased."""
    match = _AUTHSERV_ID.match(value)
    if match is None:
        return None
    return (match.group(1) if match.group(1) is not None else match.group(2)).strip().lower()


def headers_to_remove(
    headers: Sequence[tuple[str, str]], authserv_id: str
) -> list[tuple[str, int]]:
    """(name, index) of every header a sender may not bring: ours, and results claiming us.

    The index counts the headers of that name from 1, case-insensitively, as the MTA does
    for CHGHEADER. Listed from the last to the first of each name, so that deleting one
    never shifts the index of another still to be deleted.
    """
    ours = authserv_id.lower()
    seen: dict[str, int] = {}
    doomed: list[tuple[str, int]] = []
    for name, value in headers:
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        if key.startswith(STAMP_PREFIX) or (
            key == RESULTS_HEADER.lower() and claimed_authserv_id(value) == ours
        ):
            doomed.append((name, seen[key]))
    return sorted(doomed, key=lambda item: (item[0].lower(), -item[1]))


def results_value(authserv_id: str, results: Iterable[tuple[str, str]]) -> str:
    """``<authserv-id>; spf=…; dkim=…; dmarc=…; arc=…`` (RFC 8601 §2.2) from the verdict."""
    decided = dict(results)
    reported = []
    for method, result_class in _METHODS.items():
        result = decided.get(method, "none")
        result, comment = _REGISTERED.get((method, result), (result, None))
        reported.append(result_class(result=result, result_comment=comment))
    header = authres.AuthenticationResultsHeader(authserv_id=authserv_id, results=reported)
    return str(header.header_value())


def verdict_value(receipt: Receipt) -> str:
    """``<decision>; assurance=<…>; customer=<login|none>; id=<verdict id>``."""
    customer = receipt.customer if receipt.customer is not None else "none"
    return (
        f"{receipt.decision}; assurance={receipt.assurance}; "
        f"customer={_parameter(customer)}; id={receipt.verdict_id}"
    )


def stamp(receipt: Receipt, authserv_id: str) -> list[tuple[str, str]]:
    """Our headers, top first: results, verdict, and the verdict's signature."""
    return [
        (RESULTS_HEADER, results_value(authserv_id, receipt.results)),
        (VERDICT_HEADER, verdict_value(receipt)),
        (SIGNATURE_HEADER, receipt.signature),
    ]


def _parameter(value: str) -> str:
    if _TOKEN.fullmatch(value):
        return value
    # A login is the registry's, not the sender's; still, nothing in it may end the line.
    escaped = re.sub(r'(["\\])', r"\\\1", re.sub(r"[\x00-\x1f\x7f]", "", value))
    return f'"{escaped}"'
