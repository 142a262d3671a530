"""arc: the ARC chain (RFC 8617) validates and its latest sealer is a trusted forwarder."""

from __future__ import annotations

import logging
import re
from typing import Any

import dkim

from mailhook.authresults import UpstreamResults, parse_arc_results, upstream_results
from mailhook.checks import _dkim_patches
from mailhook.checks._dkim_keys import ARC
from mailhook.checks._registry import register
from mailhook.checks.dkim import KeyFetcher, split_for_dkimpy
from mailhook.context import CheckContext
from mailhook.dns import DnsTempError
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "arc"
RESULTS: tuple[str, ...] = ("pass", "fail", "untrusted", "temperror", "none")
ARC_HEADERS = frozenset({"arc-seal", "arc-message-signature", "arc-authentication-results"})
# RFC 8301 §3.2: RSA keys under 1024 bits do not verify, for ARC as for DKIM.
MIN_KEY_BITS = 1024

# dkimpy logs every failed signature at error level; a broken chain is a finding here.
_dkimpy_log = logging.getLogger("intakeguard.dkimpy")
_dkimpy_log.addHandler(logging.NullHandler())
_dkimpy_log.propagate = False
# The i= and d= tags of an ARC-Seal (RFC 8617 §4.1.3), for naming a sealer dkimpy rejected.
_SEAL_TAG = re.compile(r"(?:^|;)\s*([id])\s*=\s*([^;\s]+)", re.IGNORECASE)


@register(NAME, "ARC chain valid and sealed by a trusted forwarder", results=RESULTS)
def check_arc(message: InboundMessage, context: CheckContext) -> Finding:
    if not any(key.strip().lower() in ARC_HEADERS for key, _ in message.parsed.raw_items()):
        return Finding(
            name=NAME,
            result="none",
            reason="The message carries no ARC headers, so no forwarder vouches for it.",
            evidence=_evidence(None, None, trusted=False, upstream=None),
        )
    if context.resolver is None:
        return _temperror("no DNS resolver is configured", None)
    head, body = split_for_dkimpy(message.raw, message.crlf_only)
    _dkim_patches.apply()  # before anything reaches dkimpy; once per process (its docstring)
    try:
        arc = ARC(head, logger=_dkimpy_log, minkey=MIN_KEY_BITS)
        if body is not None:
            arc.body = body
        cv, sets, comment = arc.verify(dnsfunc=KeyFetcher(context.resolver))
    except DnsTempError as exc:
        return _temperror(str(exc), _latest_seal_domain(message))
    except dkim.DKIMException as exc:
        return _broken(_latest_seal_domain(message), str(exc), context)
    except Exception as exc:  # noqa: BLE001 - dkimpy raises assorted errors on malformed sets
        reading = f"{type(exc).__name__} while reading the ARC sets"
        return _broken(_latest_seal_domain(message), reading, context)
    sealer = _sealer(sets) or _latest_seal_domain(message)
    if cv != dkim.CV_Pass:
        return _broken(sealer, _text(comment), context)
    trusted = sealer in context.trust.trusted_arc_sealers
    upstream = _recorded_results(sets)
    count = len(sets)
    chain = f"A valid ARC chain of {count} set{'s' if count > 1 else ''}"
    if not trusted:
        return Finding(
            name=NAME,
            result="untrusted",
            reason=f"{chain} was sealed last by {sealer}, which is not a trusted ARC sealer, "
            "so the results it recorded are ignored.",
            evidence=_evidence("pass", sealer, trusted=False, upstream=upstream),
        )
    recorded = upstream.describe() if upstream else "results that cannot be parsed"
    return Finding(
        name=NAME,
        result="pass",
        reason=f"{chain} was sealed last by the trusted forwarder {sealer}, which recorded "
        f"{recorded} on receipt.",
        evidence=_evidence("pass", sealer, trusted=True, upstream=upstream),
    )


def _sealer(sets: list[dict[str, Any]]) -> str | None:
    """The d= of the ARC-Seal with the highest instance (RFC 8617 §5.2): the last sealer."""
    if not sets:
        return None
    domain = sets[0].get("as-domain")
    return _text(domain).lower().rstrip(".") if domain else None


def _latest_seal_domain(message: InboundMessage) -> str | None:
    """The d= of the highest-instance ARC-Seal as written, when dkimpy gave up before."""
    latest: tuple[int, str] | None = None
    for key, value in message.parsed.raw_items():
        if key.strip().lower() != "arc-seal":
            continue
        tags = {name.lower(): data for name, data in _SEAL_TAG.findall(str(value))}
        if tags.get("i", "").isdigit() and "d" in tags:
            instance = int(tags["i"])
            if latest is None or instance > latest[0]:
                latest = (instance, tags["d"].lower().rstrip("."))
    return latest[1] if latest else None


def _recorded_results(sets: list[dict[str, Any]]) -> UpstreamResults | None:
    """What the last sealer recorded in its ARC-Authentication-Results (RFC 8617 §4.1.1)."""
    value = sets[0].get("aar-value") if sets else None
    header = parse_arc_results(_text(value)) if value else None
    return upstream_results([header]) if header is not None else None


def _broken(sealer: str | None, why: str, context: CheckContext) -> Finding:
    by = f" sealed last by {sealer}" if sealer else ""
    return Finding(
        name=NAME,
        result="fail",
        reason=f"The ARC chain{by} does not validate ({why}), so it vouches for nothing.",
        evidence=_evidence(
            "fail", sealer, trusted=sealer in context.trust.trusted_arc_sealers, upstream=None
        ),
    )


def _temperror(why: str, sealer: str | None) -> Finding:
    return Finding(
        name=NAME,
        result="temperror",
        reason=f"The ARC chain cannot be verified now ({why}); the message will be checked "
        "again when the sender retries.",
        evidence=_evidence(None, sealer, trusted=False, upstream=None),
    )


def _evidence(
    cv: str | None, sealer: str | None, *, trusted: bool, upstream: UpstreamResults | None
) -> dict[str, Any]:
    return {
        "cv": cv,
        "sealer": sealer,
        "trusted": trusted,
        "upstream": upstream.as_evidence() if upstream is not None else None,
    }


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
