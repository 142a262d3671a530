"""dmarc: the From domain authenticated by aligned SPF or DKIM, against real DNS (RFC 7489)."""

from __future__ import annotations

from typing import Any

import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.arc import check_arc
from mailhook.checks.dmarc import check_dmarc
from mailhook.checks.from_mailbox import check_from_mailbox
from mailhook.checks.upstream_results import check_upstream_results
from mailhook.context import CheckContext, TrustConfig
from mailhook.dmarc_records import DmarcRecordError, parse_record
from mailhook.dns import Resolver
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, InboundMessage, parse_message
from tests.dns_server import FixtureDnsServer
from tests.support import FIXTURES, make_message

MAIL = FIXTURES / "mail"
TRUST = TrustConfig(
    trusted_authserv_ids=frozenset({"mx.hosting.example"}),
    trusted_arc_sealers=frozenset({"lists.example"}),
)


@pytest.fixture
def resolver(dns_server: FixtureDnsServer) -> Resolver:
    return Resolver([dns_server.address], timeout=0.5)


def spf(result: str, domain: str, identity: str = "mailfrom") -> Finding:
    """An SPF finding in the shape the spf check hands over."""
    evidence = {"result": result, "domain": domain, "identity": identity}
    return Finding(name="spf", result=result, reason="", evidence=evidence)


def dkim(*pass_domains: str) -> Finding:
    """A DKIM finding in the shape the dkim check hands over."""
    evidence: dict[str, Any] = {"signatures": [], "pass_domains": list(pass_domains)}
    return Finding(
        name="dkim", result="pass" if pass_domains else "fail", reason="", evidence=evidence
    )


def run(
    message: InboundMessage,
    resolver: Resolver | None,
    *earlier: Finding,
    trust: TrustConfig = TRUST,
) -> Finding:
    """The dmarc finding after the from-mailbox check and the ``earlier`` findings given."""
    context = CheckContext(resolver=resolver, trust=trust)
    findings = {"from-mailbox": check_from_mailbox(message, context)}
    findings.update({finding.name: finding for finding in earlier})
    return check_dmarc(message, context.with_earlier(findings))


def dmarc(
    sender: str, resolver: Resolver | None, *earlier: Finding, mail_from: str | None = None
) -> Finding:
    message = parse_message(make_message(sender=sender), Envelope(mail_from=mail_from), Channel.API)
    return run(message, resolver, *earlier)


def forwarded(
    name: str, resolver: Resolver, *earlier: Finding, trusted_hop: bool = True
) -> Finding:
    """A fixture checked the way the pipeline does: ARC and upstream results first.

    ``trusted_hop``: the message came through our relay (the upstream header can be ours).
    """
    envelope = Envelope(trusted_hop=trusted_hop)
    message = parse_message((MAIL / f"{name}.eml").read_bytes(), envelope, Channel.API)
    context = CheckContext(resolver=resolver, trust=TRUST)
    findings = (
        check_arc(message, context),
        check_upstream_results(message, context),
    )
    return run(message, resolver, *earlier, *findings)


def test_is_registered_and_runs_last_of_the_authentication_checks() -> None:
    assert registered()["dmarc"].run is check_dmarc
    for earlier in ("spf", "dkim", "arc", "upstream-results"):
        if earlier in PIPELINE:
            assert PIPELINE.index(earlier) < PIPELINE.index("dmarc")


def test_aligned_pass_via_spf_only(resolver: Resolver) -> None:
    finding = dmarc("jan@acme.pl", resolver, spf("pass", "acme.pl"), dkim())
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for acme.pl: aligned SPF pass for acme.pl (DMARC record at _dmarc.acme.pl)."
    )
    assert finding.evidence == {
        "from_domain": "acme.pl",
        "org_domain": "acme.pl",
        "policy_domain": "acme.pl",
        "p": "reject",
        "sp": None,
        "np": None,
        "pct": 100,
        "adkim": "r",
        "aspf": "r",
        "via": "spf",
        "aligned_domains": ["acme.pl"],
    }


def test_relaxed_spf_alignment_takes_a_bounce_subdomain(resolver: Resolver) -> None:
    finding = dmarc("jan@acme.pl", resolver, spf("pass", "bounce.acme.pl"), dkim())
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for acme.pl: aligned SPF pass for bounce.acme.pl "
        "(DMARC record at _dmarc.acme.pl)."
    )


def test_aligned_pass_via_dkim_only(resolver: Resolver) -> None:
    finding = dmarc("jan@acme.pl", resolver, spf("fail", "acme.pl"), dkim("acme.pl"))
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for acme.pl: aligned DKIM pass for acme.pl (DMARC record at _dmarc.acme.pl)."
    )
    assert finding.evidence["via"] == "dkim"


def test_spf_pass_for_another_domain_does_not_align(resolver: Resolver) -> None:
    finding = dmarc("jan@acme.pl", resolver, spf("pass", "mailer.example"), dkim())
    assert finding.result == "reject"
    assert finding.reason == (
        "DMARC fails for acme.pl: SPF passed for mailer.example, which is not aligned with "
        "acme.pl, and no DKIM signature passed; its policy p=reject at _dmarc.acme.pl asks "
        "receivers to reject such mail."
    )
    assert finding.evidence["via"] is None
    assert finding.evidence["applied"] == "reject"


def test_dkim_pass_for_a_third_party_domain_fails_dmarc(resolver: Resolver) -> None:
    finding = dmarc("jan@acme.pl", resolver, spf("none", "acme.pl"), dkim("mailer.example"))
    assert finding.result == "reject"
    assert finding.reason == (
        "DMARC fails for acme.pl: SPF gave none for acme.pl, and DKIM passed only for "
        "mailer.example, not aligned with acme.pl; its policy p=reject at _dmarc.acme.pl "
        "asks receivers to reject such mail."
    )


def test_a_helo_pass_next_to_a_real_mail_from_does_not_count(resolver: Resolver) -> None:
    # RFC 7208 §2.4: HELO stands in for the MAIL FROM identity only when that is null.
    helo = spf("pass", "acme.pl", identity="helo")
    finding = dmarc("jan@acme.pl", resolver, helo, dkim(), mail_from="x@mailer.example")
    assert finding.result == "reject"
    assert "SPF passed only for the HELO name acme.pl, which DMARC does not use" in finding.reason
    # With a null MAIL FROM it is the identity SPF checked, and it aligns.
    finding = dmarc("jan@acme.pl", resolver, helo, dkim(), mail_from="<>")
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for acme.pl: aligned SPF pass for acme.pl (DMARC record at _dmarc.acme.pl)."
    )


def test_subdomain_falls_back_to_the_organisational_record_and_its_sp(
    resolver: Resolver,
) -> None:
    finding = dmarc("sklep@shop.parent.pl", resolver, spf("fail", "shop.parent.pl"), dkim())
    assert finding.result == "quarantine"
    assert finding.reason == (
        "DMARC fails for shop.parent.pl: SPF gave fail for shop.parent.pl, and no DKIM "
        "signature passed; its subdomain policy sp=quarantine at _dmarc.parent.pl asks "
        "receivers to treat such mail as suspicious."
    )
    assert finding.evidence["policy_domain"] == "parent.pl"
    assert finding.evidence["org_domain"] == "parent.pl"
    assert finding.evidence["policy_tag"] == "sp"


def test_the_organisational_domain_itself_gets_p(resolver: Resolver) -> None:
    finding = dmarc("biuro@parent.pl", resolver, spf("fail", "parent.pl"), dkim())
    assert finding.result == "fail"
    assert finding.reason == (
        "DMARC fails for parent.pl: SPF gave fail for parent.pl, and no DKIM signature "
        "passed; its policy p=none at _dmarc.parent.pl only asks for reports."
    )


def test_np_applies_to_a_subdomain_that_does_not_exist(resolver: Resolver) -> None:
    finding = dmarc("kto@ghost.parent.pl", resolver, spf("none", "ghost.parent.pl"), dkim())
    assert finding.result == "reject"
    assert finding.reason == (
        "DMARC fails for ghost.parent.pl: SPF gave none for ghost.parent.pl, and no DKIM "
        "signature passed; ghost.parent.pl does not exist in DNS, and the policy np=reject "
        "at _dmarc.parent.pl for non-existent subdomains asks receivers to reject such mail."
    )
    assert finding.evidence["policy_tag"] == "np"


def test_pct_zero_never_applies_quarantine(resolver: Resolver) -> None:
    finding = dmarc("jan@sampled.pl", resolver, spf("fail", "sampled.pl"), dkim())
    assert finding.result == "fail"
    assert finding.reason == (
        "DMARC fails for sampled.pl: SPF gave fail for sampled.pl, and no DKIM signature "
        "passed; its policy p=quarantine at _dmarc.sampled.pl covers pct=0% of such mail and "
        "this message fell outside the sample, so it is only reported."
    )
    assert finding.evidence["pct"] == 0
    assert (finding.evidence["requested"], finding.evidence["applied"]) == ("quarantine", "none")


def test_pct_zero_on_reject_still_quarantines(resolver: Resolver) -> None:
    # RFC 7489 §6.6.4: a message left out of a reject sample is treated as quarantine.
    finding = dmarc("jan@rollout.sampled.pl", resolver, spf("fail", "rollout.sampled.pl"), dkim())
    assert finding.result == "quarantine"
    assert finding.reason == (
        "DMARC fails for rollout.sampled.pl: SPF gave fail for rollout.sampled.pl, and no "
        "DKIM signature passed; its policy p=reject at _dmarc.rollout.sampled.pl covers "
        "pct=0% of such mail and this message fell outside the sample, so quarantine applies "
        "instead of reject (RFC 7489 §6.6.4)."
    )


def test_strict_alignment_refuses_a_subdomain(resolver: Resolver) -> None:
    finding = dmarc(
        "jan@strict.pl", resolver, spf("pass", "mail.strict.pl"), dkim("mail.strict.pl")
    )
    assert finding.result == "reject"
    assert finding.reason == (
        "DMARC fails for strict.pl: SPF passed for mail.strict.pl, which is not strictly "
        "aligned with strict.pl, and DKIM passed only for mail.strict.pl, not strictly "
        "aligned with strict.pl; its policy p=reject at _dmarc.strict.pl asks receivers to "
        "reject such mail."
    )
    assert (finding.evidence["adkim"], finding.evidence["aspf"]) == ("s", "s")


def test_strict_alignment_takes_the_very_same_name(resolver: Resolver) -> None:
    finding = dmarc("jan@strict.pl", resolver, spf("none", "strict.pl"), dkim("strict.pl"))
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for strict.pl: aligned DKIM pass for strict.pl "
        "(DMARC record at _dmarc.strict.pl)."
    )


def test_organisational_domain_under_a_multi_label_public_suffix(resolver: Resolver) -> None:
    # com.pl is a public suffix: mail.shop.com.pl belongs to shop.com.pl, not to com.pl.
    finding = dmarc("jan@mail.shop.com.pl", resolver, spf("none", "x"), dkim("shop.com.pl"))
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for mail.shop.com.pl: aligned DKIM pass for shop.com.pl "
        "(DMARC record at _dmarc.shop.com.pl)."
    )
    assert finding.evidence["org_domain"] == "shop.com.pl"
    assert finding.evidence["policy_domain"] == "shop.com.pl"


def test_a_sibling_under_the_same_public_suffix_does_not_align(resolver: Resolver) -> None:
    finding = dmarc("jan@mail.shop.com.pl", resolver, spf("none", "x"), dkim("other.com.pl"))
    assert finding.result == "reject"
    assert finding.reason == (
        "DMARC fails for mail.shop.com.pl: SPF gave none for x, and DKIM passed only for "
        "other.com.pl, not aligned with mail.shop.com.pl; its policy p=reject at "
        "_dmarc.shop.com.pl asks receivers to reject such mail."
    )


def test_two_dmarc_records_are_a_permerror(resolver: Resolver) -> None:
    finding = dmarc("jan@broken-dmarc.pl", resolver, spf("pass", "broken-dmarc.pl"), dkim())
    assert finding.result == "permerror"
    assert finding.reason == (
        "The DMARC policy of broken-dmarc.pl cannot be used: _dmarc.broken-dmarc.pl publishes "
        "2 DMARC records where one is allowed."
    )
    assert finding.evidence["policy_domain"] == "broken-dmarc.pl"


def test_a_malformed_dmarc_record_is_a_permerror(resolver: Resolver) -> None:
    finding = dmarc("jan@typo.broken-dmarc.pl", resolver, spf("none", "x"), dkim())
    assert finding.result == "permerror"
    assert finding.reason == (
        "The DMARC policy of typo.broken-dmarc.pl cannot be used: the DMARC record at "
        "_dmarc.typo.broken-dmarc.pl is malformed: p=rejekt is none of none, quarantine, "
        "reject."
    )


def test_no_record_and_no_aligned_pass_is_none(resolver: Resolver) -> None:
    finding = dmarc("jan@no-dmarc.pl", resolver, spf("fail", "no-dmarc.pl"), dkim())
    assert finding.result == "none"
    assert finding.reason == (
        "No aligned SPF or DKIM pass for no-dmarc.pl: SPF gave fail for no-dmarc.pl, and no "
        "DKIM signature passed; and the domain publishes no DMARC record, so DMARC does not "
        "apply."
    )
    assert finding.evidence["policy_domain"] is None


def test_no_record_but_an_aligned_pass_still_passes(resolver: Resolver) -> None:
    finding = dmarc("jan@no-dmarc.pl", resolver, spf("pass", "no-dmarc.pl"), dkim())
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for no-dmarc.pl: aligned SPF pass for no-dmarc.pl; no-dmarc.pl "
        "publishes no DMARC record, but an aligned pass is all that authentication needs here."
    )


def test_missing_spf_and_dkim_findings_are_no_result(resolver: Resolver) -> None:
    finding = dmarc("jan@acme.pl", resolver)
    assert finding.result == "reject"
    assert finding.reason == (
        "DMARC fails for acme.pl: SPF was not checked, and DKIM was not checked; its policy "
        "p=reject at _dmarc.acme.pl asks receivers to reject such mail."
    )


def test_a_dns_timeout_on_the_dmarc_lookup_is_a_temperror(
    resolver: Resolver, dns_faults: dict[str, str]
) -> None:
    dns_faults["_dmarc.acme.pl"] = "timeout"
    finding = dmarc("jan@acme.pl", resolver, spf("pass", "acme.pl"), dkim("acme.pl"))
    assert finding.result == "temperror"
    assert finding.reason == (
        "DMARC for acme.pl cannot be decided now (DNS query for _dmarc.acme.pl TXT timed out); "
        "the message will be checked again when the sender retries."
    )


def test_a_servfail_on_the_fallback_lookup_is_a_temperror(
    resolver: Resolver, dns_faults: dict[str, str]
) -> None:
    dns_faults["_dmarc.parent.pl"] = "servfail"
    finding = dmarc("sklep@shop.parent.pl", resolver, spf("fail", "shop.parent.pl"), dkim())
    assert finding.result == "temperror"
    assert "DNS query for _dmarc.parent.pl TXT failed" in finding.reason


def test_a_dns_timeout_on_the_existence_check_for_np_is_a_temperror(
    resolver: Resolver, dns_faults: dict[str, str]
) -> None:
    dns_faults["ghost.parent.pl"] = "timeout"
    finding = dmarc("kto@ghost.parent.pl", resolver, spf("none", "ghost.parent.pl"), dkim())
    assert finding.result == "temperror"
    assert finding.reason == (
        "DMARC for ghost.parent.pl cannot be decided now (DNS query for ghost.parent.pl A "
        "timed out); the message will be checked again when the sender retries."
    )


def test_an_spf_temperror_leaves_dmarc_undecided_unless_dkim_aligns(
    resolver: Resolver,
) -> None:
    finding = dmarc("jan@acme.pl", resolver, spf("temperror", "acme.pl"), dkim())
    assert finding.result == "temperror"
    assert finding.reason == (
        "DMARC for acme.pl cannot be decided now (the SPF check met a temporary failure and "
        "nothing else aligned passed); the message will be checked again when the sender "
        "retries."
    )
    finding = dmarc("jan@acme.pl", resolver, spf("temperror", "acme.pl"), dkim("acme.pl"))
    assert finding.result == "pass"


def test_no_usable_from_address_is_none(resolver: Resolver) -> None:
    raw = (MAIL / "two-from-headers.eml").read_bytes()
    finding = run(parse_message(raw, Envelope(), Channel.API), resolver, spf("pass", "acme.pl"))
    assert finding.result == "none"
    assert finding.reason == (
        "The message has no usable From address, so there is no domain for DMARC to authenticate."
    )


def test_forwarded_mail_is_rescued_by_a_trusted_arc_sealer(resolver: Resolver) -> None:
    # The list broke acme.pl's signature and sent from its own address.
    finding = forwarded(
        "forwarded-trusted-arc-sealer", resolver, spf("pass", "lists.example"), dkim()
    )
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for acme.pl, rescued by the trusted ARC sealer lists.example: upstream "
        "DKIM pass for acme.pl (DMARC record at _dmarc.acme.pl)."
    )
    assert finding.evidence["via"] == "arc"


def test_forwarded_mail_of_an_untrusted_sealer_is_not_rescued(resolver: Resolver) -> None:
    finding = forwarded(
        "forwarded-untrusted-arc-sealer", resolver, spf("pass", "forwarder.example"), dkim()
    )
    assert finding.result == "reject"
    assert finding.reason == (
        "DMARC fails for acme.pl: SPF passed for forwarder.example, which is not aligned with "
        "acme.pl, and no DKIM signature passed; its policy p=reject at _dmarc.acme.pl asks "
        "receivers to reject such mail."
    )


def test_a_broken_chain_rescues_nothing(resolver: Resolver) -> None:
    finding = forwarded(
        "forwarded-arc-body-altered-after-sealing", resolver, spf("pass", "lists.example"), dkim()
    )
    assert finding.result == "reject"


def test_a_trusted_upstream_header_vouches_for_the_domain(resolver: Resolver) -> None:
    finding = forwarded("trusted-authentication-results", resolver, spf("none", "x"), dkim())
    assert finding.result == "pass"
    assert finding.reason == (
        "DMARC passes for acme.pl: the trusted Authentication-Results header of "
        "mx.hosting.example reports an aligned DKIM pass for acme.pl "
        "(DMARC record at _dmarc.acme.pl)."
    )
    assert finding.evidence["via"] == "upstream"


def test_a_trusted_header_vouches_for_nothing_without_our_hop(resolver: Resolver) -> None:
    # Straight from the sending client: the header is the sender's own text (class 7).
    finding = forwarded(
        "trusted-authentication-results", resolver, spf("none", "x"), dkim(), trusted_hop=False
    )
    assert finding.result == "reject"
    assert finding.evidence["via"] is None


def test_a_trusted_arc_sealer_still_vouches_without_our_hop(resolver: Resolver) -> None:
    # ARC seals are verified cryptographically (RFC 8617 §5.2): no hop is needed.
    finding = forwarded(
        "forwarded-trusted-arc-sealer", resolver, spf("none", "x"), dkim(), trusted_hop=False
    )
    assert finding.result == "pass"
    assert finding.evidence["via"] == "arc"


def test_forged_authentication_results_vouch_for_nothing(resolver: Resolver) -> None:
    finding = forwarded("forged-authentication-results", resolver, spf("none", "x"), dkim())
    assert finding.result == "reject"
    finding = forwarded("forged-own-authserv-id", resolver, spf("none", "x"), dkim())
    assert finding.result == "reject"


def test_direct_results_come_before_rescues(resolver: Resolver) -> None:
    finding = forwarded("forwarded-trusted-arc-sealer", resolver, spf("none", "x"), dkim("acme.pl"))
    assert finding.result == "pass"
    assert finding.evidence["via"] == "dkim"


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ("v=DMARC1; p=reject; p=none", "the p= tag appears twice"),
        ("v=DMARC1; sp=reject", "it has no p= tag"),
        ("v=DMARC1 p=reject", "it does not start with v=DMARC1 (v=DMARC1 p=reject)"),
        ("v=DMARC1; p=reject; pct=150", "pct=150 is not a whole number from 0 to 100"),
        ("v=DMARC1; p=reject; adkim=x", "adkim=x is none of r, s"),
        ("v=DMARC1; p=reject; broken", "'broken' is not a tag=value pair"),
    ],
)
def test_malformed_records_say_what_is_wrong(record: str, error: str) -> None:
    with pytest.raises(DmarcRecordError) as raised:
        parse_record(record)
    assert str(raised.value) == error


def test_records_are_read_leniently_where_rfc_7489_allows() -> None:
    record = parse_record("v=DMARC1;P=Reject; SP=none ; rua=mailto:x@acme.pl; future=1;")
    assert (record.p, record.sp, record.np, record.pct) == ("reject", "none", None, 100)
    assert (record.adkim, record.aspf) == ("r", "r")


def test_an_unknown_aligned_dkim_key_is_a_temperror_even_if_a_third_party_passes(
    resolver: Resolver,
) -> None:
    # The aligned signature could not be checked; the third-party one proves nothing
    # for acme.pl, so the honest answer is "not yet", never reject.
    signatures = [
        {"d": "mailer.example", "result": "pass"},
        {"d": "acme.pl", "result": "temperror"},
    ]
    evidence: dict[str, Any] = {"signatures": signatures, "pass_domains": ["mailer.example"]}
    finding = dmarc(
        "jan@acme.pl",
        resolver,
        spf("fail", "acme.pl"),
        Finding(name="dkim", result="pass", reason="", evidence=evidence),
    )
    assert finding.result == "temperror"
    assert "a DKIM key lookup met a temporary failure" in finding.reason


def upstream(*values: str, mail_from: str) -> tuple[InboundMessage, Finding]:
    """A message through our relay carrying ``values`` as Authentication-Results."""
    head = "".join(f"Authentication-Results: {value}\r\n" for value in values).encode()
    envelope = Envelope(mail_from=mail_from, trusted_hop=True)
    message = parse_message(head + make_message(sender="jan@acme.pl"), envelope, Channel.API)
    return message, check_upstream_results(message, CheckContext(trust=TRUST))


def test_an_upstream_helo_pass_next_to_a_real_mail_from_does_not_count(
    resolver: Resolver,
) -> None:
    # As for our own SPF check: the HELO name stands in only for a null MAIL FROM.
    header = "mx.hosting.example; spf=pass smtp.helo=acme.pl"
    message, results = upstream(header, mail_from="jan@acme.pl")
    assert run(message, resolver, spf("none", "x"), dkim(), results).result == "reject"
    bounce, results = upstream(header, mail_from="")
    assert run(bounce, resolver, spf("none", "x"), dkim(), results).result == "pass"


def test_a_repeated_trusted_header_vouches_for_nothing(resolver: Resolver) -> None:
    message, results = upstream(
        "mx.hosting.example; spf=fail smtp.mailfrom=jan@acme.pl; dkim=none",
        "mx.hosting.example; dkim=pass header.d=acme.pl",
        mail_from="jan@acme.pl",
    )
    assert results.result == "repeated"
    assert run(message, resolver, spf("fail", "acme.pl"), dkim(), results).result == "reject"


def reported(name: str, **results: Any) -> Finding:
    """A trusted report (our relay's header, or a trusted ARC sealer's) of ``results``."""
    if name == "arc":
        evidence = {"sealer": "lists.example", "upstream": results}
    else:
        evidence = {"authserv_id": "mx.hosting.example", **results}
    return Finding(name=name, result="pass", reason="", evidence=evidence)


@pytest.mark.parametrize("name", ["upstream-results", "arc"])
@pytest.mark.parametrize("with_dmarc", [False, True], ids=["spf", "spf and dmarc"])
def test_a_reported_spf_pass_any_host_gets_authenticates_no_one(
    resolver: Resolver, name: str, with_dmarc: bool
) -> None:
    # all.kowal.pl publishes "v=spf1 +all" (fixtures/dns/kowal.pl.zone).
    results: dict[str, Any] = {
        "spf": "pass",
        "spf_domain": "all.kowal.pl",
        "spf_identity": "mailfrom",
    }
    if with_dmarc:
        results.update(dmarc="pass", header_from="kowal.pl")
    finding = dmarc("jan@kowal.pl", resolver, spf("none", "x"), dkim(), reported(name, **results))
    voucher = "lists.example" if name == "arc" else "mx.hosting.example"
    assert finding.result == "reject"
    assert (
        f"; the SPF pass {voucher} reported for all.kowal.pl counts for nothing: its record "
        "lets any host pass through '+all', which authorises every host on the Internet;"
    ) in finding.reason


@pytest.mark.parametrize("name", ["upstream-results", "arc"])
def test_a_reported_spf_pass_of_a_closed_record_stands(resolver: Resolver, name: str) -> None:
    results = {"spf": "pass", "spf_domain": "kowal.pl", "spf_identity": "mailfrom"}
    finding = dmarc("jan@kowal.pl", resolver, spf("none", "x"), dkim(), reported(name, **results))
    assert finding.result == "pass"
