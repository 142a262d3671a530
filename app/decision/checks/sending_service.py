"""sending-service: DMARC does not pass only through a service that sends for many.

DMARC authenticates a domain through whatever aligns (RFC 7489 §4.2), and two common
ways of aligning are a service's rather than the customer's:

- ``shared``: the From domain's SPF record includes a hosted mail service's or a shared
  outbound relay's record (``include:spf.provider.example``; or redirects to it, or
  names its hosts with ``a:``/``mx:``). The service's hosts then
  pass SPF for it, and for every other domain that includes the same record: any of the
  service's customers can hand a message over with MAIL FROM and From at the customer's
  domain, and SPF, aligned, makes DMARC pass. Such a pass shows which service handed the
  message over, not which of its customers wrote it.
- ``subdomain``: a bulk sender or sending platform signs with a subdomain the customer
  delegated to it (``news.acme.pl``), which relaxed alignment joins to the From domain,
  and hands the message over from its own hosts. Whoever uses the platform's account (an
  agency, a marketing tool) passes it, and nothing of the customer's own mail system
  vouches for the message.

A DKIM signature of the From domain itself, or a host the From organisation's own record
names, is what shows the customer's own mail system sent it; either one and there is no
finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailhook.checks import declare
from mailhook.domains import normalise_domain, organisational_domain
from mailhook.findings import Finding

NAME = "sending-service"
RESULTS: tuple[str, ...] = ("shared", "subdomain")
declare(
    NAME,
    "DMARC does not pass only through a host another organisation's SPF record authorises, "
    "nor only through a subdomain's signature on mail a host outside the From "
    "organisation handed over",
    results=RESULTS,
)


def sending_service(findings: list[Finding]) -> Finding | None:
    """``shared`` or ``subdomain`` when DMARC passes only through a sending service's
    means, as the module says; else None."""
    dmarc = _passed(findings, "dmarc")
    if dmarc is None or dmarc.evidence.get("via") not in ("spf", "dkim"):
        return None  # failed, or vouched for by our own relay or a trusted ARC sealer
    from_domain = normalise_domain(str(dmarc.evidence.get("from_domain") or ""))
    spf = _evidence(findings, "spf")
    signers = [
        normalise_domain(str(d)) for d in _evidence(findings, "dkim").get("pass_domains") or ()
    ]
    organisation = organisational_domain(from_domain)
    own_signature = any(
        organisational_domain(d) == organisation and not _below(d, from_domain) for d in signers
    )
    if not from_domain or own_signature or _own_host(spf, from_domain):
        return None
    authorised_by = spf.get("authorised_by")
    if dmarc.evidence.get("via") == "spf" and authorised_by:
        domain = spf.get("domain")
        return Finding(
            NAME,
            "shared",
            f"DMARC passes for {from_domain} only through SPF for {domain}, whose record "
            f"passes the host through {authorised_by}, another organisation's name (an "
            "include, a redirect or a host it names): that service sends for all its "
            "customers alike, so the pass shows which service handed the message over, not "
            f"that the customer wrote it. No DKIM signature of {from_domain} vouches for it; "
            "an agent should confirm who sent it.",
            {"domain": domain, "authorised_by": authorised_by},
        )
    delegated = [d for d in signers if _below(d, from_domain)]
    if not delegated:
        return None
    return Finding(
        NAME,
        "subdomain",
        f"DMARC passes for {from_domain} only through {delegated[0]}, a subdomain that relaxed "
        f"alignment joins to it, and a host outside {organisation}'s own mail system handed "
        "the message over: a sending platform the subdomain is delegated to signs for whoever "
        "uses its account. An agent should confirm who sent it.",
        {"signers": delegated},
    )


def _passed(findings: list[Finding], name: str) -> Finding | None:
    return next((f for f in findings if f.name == name and f.result == "pass"), None)


def _evidence(findings: list[Finding], name: str) -> Mapping[str, Any]:
    finding = _passed(findings, name)
    return finding.evidence if finding is not None else {}


def _below(name: str, domain: str) -> bool:
    return name.endswith("." + domain)


def _own_host(spf: Mapping[str, Any], from_domain: str) -> bool:
    """Whether SPF passed for a MAIL FROM in the From organisation, through its own record
    (a pass any host gets is no host's: dmarc never aligns it)."""
    domain = normalise_domain(str(spf.get("domain") or ""))
    same_organisation = organisational_domain(domain) == organisational_domain(from_domain)
    passed_alone = not spf.get("authorised_by") and not spf.get("anyone_passes")
    return bool(domain) and same_organisation and passed_alone and spf.get("identity") == "mailfrom"
