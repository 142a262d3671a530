"""dkim against RFC 8463 Appendix A: one message signed with ed25519-sha256 and rsa-sha256.

The message (fixtures/mail/rfc8463-appendix-a.eml, Appendix A.3) and the two key records
(fixtures/dns/football.example.com.zone, Appendix A.2) are the RFC's, not ours.
"""

from __future__ import annotations

from mailhook.checks.dkim import check_dkim
from mailhook.context import CheckContext
from mailhook.dns import Resolver
from mailhook.message import Channel, Envelope, parse_message
from tests.dns_server import FixtureDnsServer
from tests.support import FIXTURES

MESSAGE = FIXTURES / "mail" / "rfc8463-appendix-a.eml"


def test_both_signatures_of_the_rfc_example_pass(dns_server: FixtureDnsServer) -> None:
    message = parse_message(MESSAGE.read_bytes(), Envelope(), Channel.PIPE)
    context = CheckContext(resolver=Resolver([dns_server.address], timeout=0.5))
    finding = check_dkim(message, context)
    assert finding.result == "pass"
    assert finding.reason == (
        "2 signatures: football.example.com (ed25519-sha256, 256 bits) passes; "
        "football.example.com (rsa-sha256, 1024 bits) passes."
    )
    signatures = finding.evidence["signatures"]
    assert [(s["s"], s["a"], s["bits"], s["result"]) for s in signatures] == [
        ("brisbane", "ed25519-sha256", 256, "pass"),
        ("test", "rsa-sha256", 1024, "pass"),
    ]
    assert signatures[0]["b"] == (
        "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw=="
    )
    assert finding.evidence["pass_domains"] == ["football.example.com"]


def test_the_rfc_example_fails_once_its_body_is_changed(dns_server: FixtureDnsServer) -> None:
    raw = MESSAGE.read_bytes().replace(b"We lost the game.", b"We won the game.")
    message = parse_message(raw, Envelope(), Channel.PIPE)
    context = CheckContext(resolver=Resolver([dns_server.address], timeout=0.5))
    finding = check_dkim(message, context)
    assert finding.result == "fail"
    assert [s["result"] for s in finding.evidence["signatures"]] == ["fail", "fail"]
    assert finding.reason.count("body hash mismatch (the body was changed after signing)") == 2
