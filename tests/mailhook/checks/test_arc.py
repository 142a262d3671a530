"""arc: an ARC chain (RFC 8617) counts only when valid and sealed last by a trusted sealer."""

from __future__ import annotations

import pytest

from mailhook.checks import PIPELINE, registered
from mailhook.checks.arc import check_arc
from mailhook.context import CheckContext, TrustConfig
from mailhook.dns import Resolver
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.dns_server import FixtureDnsServer
from tests.support import FIXTURES, make_message

MAIL = FIXTURES / "mail"
LISTS = TrustConfig(trusted_arc_sealers=frozenset({"lists.example"}))
ACME_PASSED = {
    "spf": "pass",
    "spf_domain": "acme.pl",
    "spf_identity": "mailfrom",
    "dkim_pass_domains": ["acme.pl"],
    "dmarc": "pass",
    "header_from": "acme.pl",
}


@pytest.fixture
def resolver(dns_server: FixtureDnsServer) -> Resolver:
    return Resolver([dns_server.address], timeout=0.5)


def check(raw: bytes, resolver: Resolver | None, trust: TrustConfig = LISTS) -> Finding:
    message = parse_message(raw, Envelope(), Channel.API)
    return check_arc(message, CheckContext(resolver=resolver, trust=trust))


def scenario(name: str, resolver: Resolver | None, trust: TrustConfig = LISTS) -> Finding:
    return check((MAIL / f"{name}.eml").read_bytes(), resolver, trust)


def test_is_registered_and_runs_before_dmarc() -> None:
    assert registered()["arc"].run is check_arc
    assert PIPELINE.index("arc") < PIPELINE.index("dmarc")


def test_a_valid_chain_of_a_trusted_sealer_passes_with_what_it_recorded(
    resolver: Resolver,
) -> None:
    finding = scenario("forwarded-trusted-arc-sealer", resolver)
    assert finding.result == "pass"
    assert finding.reason == (
        "A valid ARC chain of 1 set was sealed last by the trusted forwarder lists.example, "
        "which recorded SPF pass for acme.pl, DKIM pass for acme.pl and DMARC pass for "
        "acme.pl on receipt."
    )
    assert finding.evidence == {
        "cv": "pass",
        "sealer": "lists.example",
        "trusted": True,
        "upstream": ACME_PASSED,
    }


def test_a_valid_chain_of_an_untrusted_sealer_is_recorded_and_ignored(
    resolver: Resolver,
) -> None:
    finding = scenario("forwarded-untrusted-arc-sealer", resolver)
    assert finding.result == "untrusted"
    assert finding.reason == (
        "A valid ARC chain of 1 set was sealed last by forwarder.example, which is not a "
        "trusted ARC sealer, so the results it recorded are ignored."
    )
    assert finding.evidence["cv"] == "pass"
    assert finding.evidence["sealer"] == "forwarder.example"
    assert finding.evidence["trusted"] is False


def test_without_configured_sealers_no_chain_is_trusted(resolver: Resolver) -> None:
    finding = scenario("forwarded-trusted-arc-sealer", resolver, TrustConfig())
    assert finding.result == "untrusted"
    assert "sealed last by lists.example, which is not a trusted ARC sealer" in finding.reason


def test_the_last_sealer_decides_not_a_trusted_one_deeper_in_the_chain(
    resolver: Resolver,
) -> None:
    # lists.example sealed i=1, forwarder.example i=2: only the last sealer counts.
    finding = scenario("forwarded-two-arc-hops", resolver)
    assert finding.result == "untrusted"
    assert finding.reason == (
        "A valid ARC chain of 2 sets was sealed last by forwarder.example, which is not a "
        "trusted ARC sealer, so the results it recorded are ignored."
    )


def test_a_trusted_last_sealer_of_two_reports_what_it_saw(resolver: Resolver) -> None:
    trust = TrustConfig(trusted_arc_sealers=frozenset({"forwarder.example"}))
    finding = scenario("forwarded-two-arc-hops", resolver, trust)
    assert finding.result == "pass"
    assert finding.reason == (
        "A valid ARC chain of 2 sets was sealed last by the trusted forwarder "
        "forwarder.example, which recorded SPF pass for lists.example on receipt."
    )
    # It saw acme.pl's signature broken by the list: nothing here vouches for acme.pl.
    assert finding.evidence["upstream"]["dkim_pass_domains"] == []


def test_a_message_altered_after_sealing_breaks_the_chain(resolver: Resolver) -> None:
    finding = scenario("forwarded-arc-body-altered-after-sealing", resolver)
    assert finding.result == "fail"
    assert finding.reason == (
        "The ARC chain sealed last by lists.example does not validate (Most recent "
        "ARC-Message-Signature did not validate), so it vouches for nothing."
    )
    assert finding.evidence["cv"] == "fail"
    assert finding.evidence["upstream"] is None


def test_no_arc_headers(resolver: Resolver) -> None:
    finding = check(make_message(), resolver)
    assert finding.result == "none"
    assert finding.reason == "The message carries no ARC headers, so no forwarder vouches for it."
    assert finding.evidence == {"cv": None, "sealer": None, "trusted": False, "upstream": None}


@pytest.mark.parametrize("fault", ["timeout", "servfail"])
def test_dns_trouble_fetching_the_sealing_key_is_a_temperror(
    resolver: Resolver, dns_faults: dict[str, str], fault: str
) -> None:
    dns_faults["rsa2048._domainkey.lists.example"] = fault
    finding = scenario("forwarded-trusted-arc-sealer", resolver)
    assert finding.result == "temperror"
    kind = "timed out" if fault == "timeout" else "failed"
    assert finding.reason == (
        f"The ARC chain cannot be verified now (DNS query for rsa2048._domainkey.lists.example "
        f"TXT {kind}); the message will be checked again when the sender retries."
    )
    assert finding.evidence["sealer"] == "lists.example"


def test_no_resolver_is_a_temperror_not_a_verdict() -> None:
    finding = scenario("forwarded-trusted-arc-sealer", None)
    assert finding.result == "temperror"
    assert finding.reason.startswith("The ARC chain cannot be verified now (no DNS resolver")


def test_an_incomplete_set_fails_naming_what_is_missing(resolver: Resolver) -> None:
    raw = (
        b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=lists.example; s=rsa2048; b=AAAA\r\n"
        + make_message()
    )
    finding = check(raw, resolver)
    assert finding.result == "fail"
    assert finding.reason == (
        "The ARC chain sealed last by lists.example does not validate (Incomplete ARC set "
        "for instance 1), so it vouches for nothing."
    )
    assert finding.evidence["trusted"] is True


def test_garbage_in_arc_headers_is_a_broken_chain_not_a_crash(resolver: Resolver) -> None:
    raw = (
        b"ARC-Seal: \xff\xfe garbage\r\n"
        b"ARC-Message-Signature: i=; ===\r\n"
        b"ARC-Authentication-Results: i=1\r\n" + make_message()
    )
    finding = check(raw, resolver)
    assert finding.result == "fail"
    assert finding.reason.startswith("The ARC chain does not validate (")
