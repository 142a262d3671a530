"""dmarc: the header From domain is authenticated by an aligned SPF or DKIM pass (RFC 7489)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mailhook.addresses import InvalidAddress, parse_path
from mailhook.checks._registry import register
from mailhook.checks._spf_terms import record_lets_anyone_pass
from mailhook.context import CheckContext
from mailhook.dmarc_records import DmarcRecord, PolicyDiscovery, discover_policy
from mailhook.dns import DnsTempError, Resolver
from mailhook.domains import aligned, normalise_domain, organisational_domain
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "dmarc"
RESULTS: tuple[str, ...] = (
    "pass",
    "fail",
    "quarantine",
    "reject",
    "permerror",
    "temperror",
    "none",
)
# RFC 7489 §6.6.4: a message the pct sample leaves out gets the next policy down.
_NEXT_POLICY_DOWN = {"reject": "quarantine", "quarantine": "none", "none": "none"}
_METHOD_NAMES = {"spf": "SPF", "dkim": "DKIM", "dmarc": "DMARC"}
_CONSEQUENCES = {
    "reject": "asks receivers to reject such mail",
    "quarantine": "asks receivers to treat such mail as suspicious",
    "none": "only asks for reports",
}
_OUTSIDE_SAMPLE = {
    "quarantine": "so quarantine applies instead of reject (RFC 7489 §6.6.4)",
    "none": "so it is only reported",
}
# The earlier checks whose temporary failure leaves DMARC undecided, as agents call them.
_UPSTREAM_CHECKS = {
    "spf": "SPF",
    "dkim": "DKIM",
    "upstream-results": "upstream Authentication-Results",
    "arc": "ARC",
}


@dataclass(frozen=True, slots=True)
class AlignedPass:
    """An authenticated identifier aligned with the From domain, and who vouches for it."""

    via: str  # "dkim" | "spf" (our own checks), "upstream" or "arc" (trusted reports)
    method: str  # "dkim" | "spf" | "dmarc"
    domain: str
    voucher: str | None = None  # the trusted authserv-id or ARC sealer


@dataclass(frozen=True, slots=True)
class Alignment:
    """Whether DKIM and SPF must align strictly (RFC 7489 §6.3 adkim, aspf)."""

    dkim_strict: bool = False
    spf_strict: bool = False

    @classmethod
    def of(cls, record: DmarcRecord | None) -> Alignment:
        if record is None:
            return cls()  # RFC 7489 §6.3: relaxed unless the record says otherwise
        return cls(dkim_strict=record.adkim == "s", spf_strict=record.aspf == "s")


@register(NAME, "header From domain authenticated by aligned SPF or DKIM", results=RESULTS)
def check_dmarc(message: InboundMessage, context: CheckContext) -> Finding:
    from_domain = _from_domain(context)
    if from_domain is None:
        return Finding(
            name=NAME,
            result="none",
            reason="The message has no usable From address, so there is no domain for DMARC "
            "to authenticate.",
            evidence=_evidence(None, None, PolicyDiscovery(), None),
        )
    org_domain = organisational_domain(from_domain)
    if context.resolver is None:
        return _temperror(from_domain, org_domain, "no DNS resolver is configured")
    try:
        discovery = discover_policy(context.resolver, from_domain, org_domain)
    except DnsTempError as exc:
        return _temperror(from_domain, org_domain, str(exc))
    if discovery.error is not None:
        return Finding(
            name=NAME,
            result="permerror",
            reason=f"The DMARC policy of {from_domain} cannot be used: {discovery.error}.",
            evidence=_evidence(from_domain, org_domain, discovery, None),
        )
    alignment = Alignment.of(discovery.record)
    try:
        found = aligned_pass(message, context, from_domain, alignment)
    except DnsTempError as exc:
        return _temperror(from_domain, org_domain, str(exc))
    if found is not None:
        return Finding(
            name=NAME,
            result="pass",
            reason=_pass_reason(from_domain, found, discovery),
            evidence={
                **_evidence(from_domain, org_domain, discovery, found.via),
                # Every identifier that aligns, the first one found first: the decision
                # compares them with the registered services (registered-alignment).
                "aligned_domains": _aligned_domains(message, context, from_domain, found),
            },
        )
    undecided = _temporary_trouble(context)
    if undecided:
        return _temperror(from_domain, org_domain, f"{undecided} and nothing else aligned passed")
    try:
        return _failure(
            message, context, context.resolver, from_domain, org_domain, discovery, alignment
        )
    except DnsTempError as exc:
        return _temperror(from_domain, org_domain, str(exc))


def aligned_pass(
    message: InboundMessage, context: CheckContext, from_domain: str, alignment: Alignment
) -> AlignedPass | None:
    """The first aligned pass: our own DKIM, our own SPF, then trusted upstream reports.

    RFC 7489 §4.2: one aligned pass is enough. Our own results come first because
    they need no one's word; a trusted report (RFC 8601 from our own servers, or an
    ARC chain of a trusted sealer, RFC 8617 §7.2) rescues forwarded mail whose own
    authentication broke on the way.
    """
    dkim = _evidence_of(context, "dkim")
    for domain in dkim.get("pass_domains") or ():
        if aligned(str(domain), from_domain, strict=alignment.dkim_strict):
            return AlignedPass("dkim", "dkim", normalise_domain(str(domain)))
    spf_domain = spf_pass_domain(message, context)
    if spf_domain and aligned(spf_domain, from_domain, strict=alignment.spf_strict):
        return AlignedPass("spf", "spf", spf_domain)
    null_sender = _null_path(message.envelope.mail_from)
    reported = _Reported(from_domain, alignment, null_sender, context.resolver)
    upstream = context.earlier.get("upstream-results")
    if upstream is not None and upstream.result == "pass":
        found = reported.aligned(upstream.evidence)
        if found is not None:
            return AlignedPass("upstream", *found, voucher=upstream.evidence.get("authserv_id"))
    arc = context.earlier.get("arc")
    if arc is not None and arc.result == "pass":
        found = reported.aligned(arc.evidence.get("upstream") or {})
        if found is not None:
            return AlignedPass("arc", *found, voucher=arc.evidence.get("sealer"))
    return None


def _aligned_domains(
    message: InboundMessage, context: CheckContext, from_domain: str, found: AlignedPass
) -> list[str]:
    """``found``'s domain, then every other domain our own DKIM and SPF passed for in the
    From domain's organisation (relaxed alignment, whatever the record asks)."""
    ours = [str(d) for d in _evidence_of(context, "dkim").get("pass_domains") or ()]
    spf_domain = spf_pass_domain(message, context)
    candidates = [found.domain, *ours, *([spf_domain] if spf_domain else [])]
    return list(
        dict.fromkeys(
            normalise_domain(domain)
            for domain in candidates
            if aligned(domain, from_domain, strict=False)
        )
    )


@dataclass(frozen=True, slots=True)
class _Reported:
    """Reads what a trusted upstream verifier reported (our relay, an ARC sealer)."""

    from_domain: str
    alignment: Alignment
    null_sender: bool
    resolver: Resolver | None

    def aligned(self, upstream: Mapping[str, Any]) -> tuple[str, str] | None:
        """(method, domain) of an aligned pass an upstream verifier reported, if any.

        An SPF pass for the HELO name counts only for a null MAIL FROM, as for our own
        SPF check (spf_pass_domain): next to a real MAIL FROM it says nothing of the From
        domain. Nor does an SPF pass for a domain whose record any host passes
        (_spf_terms), nor the verifier's DMARC pass resting on it. May raise DnsTempError.
        """
        from_domain, alignment = self.from_domain, self.alignment
        for domain in upstream.get("dkim_pass_domains") or ():
            if aligned(str(domain), from_domain, strict=alignment.dkim_strict):
                return "dkim", normalise_domain(str(domain))
        spf_domain = str(upstream.get("spf_domain") or "")
        identity_counts = upstream.get("spf_identity") == "mailfrom" or self.null_sender
        spf_passed = upstream.get("spf") == "pass" and bool(spf_domain) and identity_counts
        anyone = self.anyone_passes(spf_domain) if spf_passed else None
        if (
            anyone is None
            and spf_passed
            and aligned(spf_domain, from_domain, strict=alignment.spf_strict)
        ):
            return "spf", normalise_domain(spf_domain)
        # The verifier's own DMARC verdict for the very same From domain stands too, unless
        # the SPF pass it reports beside it, aligned, is one any host gets.
        header_from = upstream.get("header_from")
        rests_on_anyone = anyone is not None and aligned(spf_domain, from_domain, strict=False)
        if upstream.get("dmarc") == "pass" and header_from == from_domain and not rests_on_anyone:
            return "dmarc", from_domain
        return None

    def anyone_passes(self, domain: str) -> str | None:
        if self.resolver is None:
            return None
        return record_lets_anyone_pass(self.resolver.txt, normalise_domain(domain))


def _failure(
    message: InboundMessage,
    context: CheckContext,
    resolver: Resolver,
    from_domain: str,
    org_domain: str,
    discovery: PolicyDiscovery,
    alignment: Alignment,
) -> Finding:
    """The finding for a message without an aligned pass: what the policy asks for."""
    what = _what_failed(message, context, from_domain, alignment)
    record = discovery.record
    if record is None:
        return Finding(
            name=NAME,
            result="none",
            reason=f"No aligned SPF or DKIM pass for {from_domain}: {what}; and the domain "
            "publishes no DMARC record, so DMARC does not apply.",
            evidence=_evidence(from_domain, org_domain, discovery, None),
        )
    tag, requested = _requested_policy(resolver, from_domain, discovery, record)
    applied = requested
    if requested != "none" and record.pct < 100 and not _sampled(message, record.pct):
        applied = _NEXT_POLICY_DOWN[requested]
    policy = _describe_policy(tag, requested, discovery, from_domain)
    if applied != requested:
        consequence = (
            f"covers pct={record.pct}% of such mail and this message fell outside the sample, "
            + _OUTSIDE_SAMPLE[applied]
        )
    else:
        consequence = _CONSEQUENCES[requested]
    return Finding(
        name=NAME,
        result="fail" if applied == "none" else applied,
        reason=f"DMARC fails for {from_domain}: {what}; {policy} {consequence}.",
        evidence={
            **_evidence(from_domain, org_domain, discovery, None),
            "policy_tag": tag,
            "requested": requested,
            "applied": applied,
        },
    )


def _requested_policy(
    resolver: Resolver, from_domain: str, discovery: PolicyDiscovery, record: DmarcRecord
) -> tuple[str, str]:
    """(tag, policy) that applies to ``from_domain``; may raise DnsTempError."""
    if discovery.policy_domain == from_domain:
        return "p", record.p
    # The record is the organisational domain's and the From domain a subdomain of it.
    # RFC 9091 §4.1: np for a subdomain that does not exist, else sp (RFC 7489 §6.3), else p.
    if record.np is not None and not resolver.exists(from_domain):
        return "np", record.np
    if record.sp is not None:
        return "sp", record.sp
    return "p", record.p


def _sampled(message: InboundMessage, pct: int) -> bool:
    """Whether the pct sample (RFC 7489 §6.6.4) covers ``message``, decided by its hash.

    The same message always gets the same answer, so a retry cannot change a verdict.
    """
    return int(message.sha256[:8], 16) % 100 < pct


def _describe_policy(tag: str, value: str, discovery: PolicyDiscovery, from_domain: str) -> str:
    where = f"_dmarc.{discovery.policy_domain}"
    if tag == "np":
        return (
            f"{from_domain} does not exist in DNS, and the policy np={value} at {where} "
            "for non-existent subdomains"
        )
    if tag == "sp":
        return f"its subdomain policy sp={value} at {where}"
    return f"its policy p={value} at {where}"


def _what_failed(
    message: InboundMessage, context: CheckContext, from_domain: str, alignment: Alignment
) -> str:
    """``SPF passed for x, not aligned with y, and no DKIM signature passed``."""
    spf_finding = context.earlier.get("spf")
    spf = _evidence_of(context, "spf")
    spf_result, spf_domain = spf.get("result"), spf.get("domain")
    if spf_finding is None:
        spf_part = "SPF was not checked"
    elif spf_result == "pass" and spf.get("anyone_passes"):
        spf_part = (
            f"SPF passed for {spf_domain} only through {spf['anyone_passes']}, which "
            "authenticates no one"
        )
    elif spf_result == "pass" and spf_domain and spf_pass_domain(message, context):
        strictly = "strictly " if alignment.spf_strict else ""
        spf_part = f"SPF passed for {spf_domain}, which is not {strictly}aligned with {from_domain}"
    elif spf_result == "pass" and spf_domain:
        spf_part = f"SPF passed only for the HELO name {spf_domain}, which DMARC does not use"
    else:
        result = spf_result or spf_finding.result
        spf_part = f"SPF gave {result}" + (f" for {spf_domain}" if spf_domain else "")
    dkim_finding = context.earlier.get("dkim")
    passed = [str(d) for d in _evidence_of(context, "dkim").get("pass_domains") or ()]
    if dkim_finding is None:
        dkim_part = "DKIM was not checked"
    elif passed:
        strictly = "strictly " if alignment.dkim_strict else ""
        dkim_part = (
            f"DKIM passed only for {', '.join(passed)}, not {strictly}aligned with {from_domain}"
        )
    else:
        dkim_part = "no DKIM signature passed"
    return f"{spf_part}, and {dkim_part}" + "".join(_refused_reports(context, from_domain))


def _refused_reports(context: CheckContext, from_domain: str) -> list[str]:
    """ "; the SPF pass x reported …" for each trusted report set aside because any host
    passes the record it passed (_Reported); may raise DnsTempError."""
    notes: list[str] = []
    reports = (("upstream-results", "authserv_id"), ("arc", "sealer"))
    for name, voucher_key in reports:
        finding = context.earlier.get(name)
        if finding is None or finding.result != "pass" or context.resolver is None:
            continue
        evidence = finding.evidence
        results: Mapping[str, Any] = evidence if name != "arc" else evidence.get("upstream") or {}
        domain = str(results.get("spf_domain") or "")
        if results.get("spf") != "pass" or not aligned(domain, from_domain, strict=False):
            continue
        why = record_lets_anyone_pass(context.resolver.txt, normalise_domain(domain))
        if why is not None:
            notes.append(
                f"; the SPF pass {finding.evidence.get(voucher_key)} reported for {domain} "
                f"counts for nothing: its record lets any host pass through {why}"
            )
    return notes


def _pass_reason(from_domain: str, found: AlignedPass, discovery: PolicyDiscovery) -> str:
    method = _METHOD_NAMES[found.method]
    if found.via == "arc":
        how = f", rescued by the trusted ARC sealer {found.voucher}: upstream {method} pass"
    elif found.via == "upstream":
        how = (
            f": the trusted Authentication-Results header of {found.voucher} reports an "
            f"aligned {method} pass"
        )
    else:
        how = f": aligned {method} pass"
    if discovery.record is None:
        note = (
            f"; {from_domain} publishes no DMARC record, but an aligned pass is all that "
            "authentication needs here"
        )
    else:
        note = f" (DMARC record at _dmarc.{discovery.policy_domain})"
    return f"DMARC passes for {from_domain}{how} for {found.domain}{note}."


def spf_pass_domain(message: InboundMessage, context: CheckContext) -> str | None:
    """The domain SPF passed for, when it is the identity DMARC aligns.

    RFC 7489 §4.1 aligns the MAIL FROM identity; RFC 7208 §2.4: with a null MAIL FROM,
    SPF checks postmaster@HELO, so the HELO name stands in. A HELO pass next to a real
    MAIL FROM proves nothing about the From domain, nor does a pass any host gets.
    """
    spf = _evidence_of(context, "spf")
    domain = spf.get("domain")
    if spf.get("result") != "pass" or not domain:
        return None
    if spf.get("anyone_passes"):
        # A record any host passes (+all, a:%{h}, …; see the spf check) vouches for no one.
        return None
    if spf.get("identity") == "helo" and not _null_path(message.envelope.mail_from):
        return None
    return normalise_domain(str(domain))


def _null_path(mail_from: str | None) -> bool:
    """Whether MAIL FROM is the null reverse-path (RFC 5321 §4.5.5); unreadable is not."""
    try:
        return parse_path(mail_from or "").is_null
    except InvalidAddress:
        return False


def _temporary_trouble(context: CheckContext) -> str | None:
    """Which earlier check could not tell yet, as words, or None."""
    for name, label in _UPSTREAM_CHECKS.items():
        finding = context.earlier.get(name)
        if finding is not None and "temperror" in (finding.result, finding.evidence.get("result")):
            return f"the {label} check met a temporary failure"
    # DKIM may pass on a third-party signature while the one that could align is unknown.
    signatures = _evidence_of(context, "dkim").get("signatures") or ()
    if any(isinstance(s, Mapping) and s.get("result") == "temperror" for s in signatures):
        return "a DKIM key lookup met a temporary failure"
    return None


def _from_domain(context: CheckContext) -> str | None:
    finding = context.earlier.get("from-mailbox")
    if finding is None or finding.result != "pass":
        return None
    address = finding.evidence.get("address")
    if not isinstance(address, str) or "@" not in address:
        return None
    return normalise_domain(address.rpartition("@")[2]) or None


def _evidence_of(context: CheckContext, name: str) -> Mapping[str, Any]:
    finding = context.earlier.get(name)
    return finding.evidence if finding is not None else {}


def _temperror(from_domain: str, org_domain: str, why: str) -> Finding:
    return Finding(
        name=NAME,
        result="temperror",
        reason=f"DMARC for {from_domain} cannot be decided now ({why}); the message will be "
        "checked again when the sender retries.",
        evidence=_evidence(from_domain, org_domain, PolicyDiscovery(), None),
    )


def _evidence(
    from_domain: str | None, org_domain: str | None, discovery: PolicyDiscovery, via: str | None
) -> dict[str, Any]:
    record = discovery.record
    return {
        "from_domain": from_domain,
        "org_domain": org_domain,
        "policy_domain": discovery.policy_domain,
        "p": record.p if record else None,
        "sp": record.sp if record else None,
        "np": record.np if record else None,
        "pct": record.pct if record else None,
        "adkim": record.adkim if record else None,
        "aspf": record.aspf if record else None,
        "via": via,
    }
