"""upstream-results: Authentication-Results trusted only from our servers at the top."""

from __future__ import annotations

from mailhook.authresults import MAX_KEPT_LENGTH, parse_arc_results, parse_results_header
from mailhook.checks import PIPELINE, registered
from mailhook.checks.upstream_results import check_upstream_results
from mailhook.context import CheckContext, TrustConfig
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.support import FIXTURES, make_message

MAIL = FIXTURES / "mail"
# Our MTA writes Authentication-Results as mx.hosting.example.
TRUST = TrustConfig(trusted_authserv_ids=frozenset({"mx.hosting.example"}))


def check(raw: bytes, trust: TrustConfig = TRUST, *, trusted_hop: bool = True) -> Finding:
    """The finding for ``raw``; by default it came through a hop of ours (a relay)."""
    message = parse_message(raw, Envelope(trusted_hop=trusted_hop), Channel.API)
    return check_upstream_results(message, CheckContext(trust=trust))


def scenario(name: str, trust: TrustConfig = TRUST, *, trusted_hop: bool = True) -> Finding:
    return check((MAIL / f"{name}.eml").read_bytes(), trust, trusted_hop=trusted_hop)


def with_results(*values: str) -> bytes:
    """A plain message with ``values`` as Authentication-Results headers, top first."""
    head = "".join(f"Authentication-Results: {value}\r\n" for value in values)
    return head.encode() + make_message()


def test_is_registered_and_runs_after_arc_and_before_dmarc() -> None:
    assert registered()["upstream-results"].run is check_upstream_results
    assert PIPELINE.index("arc") < PIPELINE.index("upstream-results") < PIPELINE.index("dmarc")


def test_the_header_of_our_own_mta_on_top_is_trusted() -> None:
    finding = scenario("trusted-authentication-results")
    assert finding.result == "pass"
    assert finding.reason == (
        "The trusted Authentication-Results header of mx.hosting.example reports "
        "SPF pass for acme.pl, DKIM pass for acme.pl and DMARC pass for acme.pl."
    )
    assert finding.evidence == {
        "authserv_id": "mx.hosting.example",
        "forged": [],
        "spf": "pass",
        "spf_domain": "acme.pl",
        "spf_identity": "mailfrom",
        "dkim_pass_domains": ["acme.pl"],
        "dmarc": "pass",
        "header_from": "acme.pl",
    }


def test_without_our_hop_the_trusted_header_on_top_is_forged() -> None:
    # Class 7: sent straight to the SMTP door (or by a REST caller without the relay
    # scope), a header claiming our MTA's id was written by the sender.
    finding = scenario("trusted-authentication-results", trusted_hop=False)
    assert finding.result == "forged"
    assert finding.reason == (
        "An Authentication-Results header is forged: it claims the trusted authserv-id "
        "mx.hosting.example, but the message came straight from the sending client, not "
        "through one of our relays, so the sender wrote it."
    )
    assert finding.evidence["forged"] == ["mx.hosting.example"]
    assert finding.evidence["authserv_id"] is None
    assert finding.evidence["dmarc"] is None


def test_without_our_hop_our_own_id_is_forged_too() -> None:
    raw = with_results("intakeguard; dmarc=pass header.from=acme.pl")
    finding = check(raw, TrustConfig(), trusted_hop=False)
    assert finding.result == "forged"
    assert "came straight from the sending client" in finding.reason


def test_without_our_hop_other_headers_are_ignored_as_before() -> None:
    finding = check(with_results("mx.gmail.example; spf=pass"), trusted_hop=False)
    assert finding.result == "none"


def test_a_trusted_id_below_an_untrusted_header_is_forged() -> None:
    finding = scenario("forged-authentication-results")
    assert finding.result == "forged"
    assert finding.reason == (
        "An Authentication-Results header is forged: it claims the trusted authserv-id "
        "mx.hosting.example but sits below a header written by the untrusted "
        "relay.attacker.example, so our servers did not write it."
    )
    assert finding.evidence["forged"] == ["mx.hosting.example"]
    # The genuine header on top still says what our MTA found.
    assert finding.evidence["authserv_id"] == "mx.hosting.example"
    assert finding.evidence["spf"] == "fail"


def test_a_header_claiming_our_own_authserv_id_is_forged() -> None:
    finding = scenario("forged-own-authserv-id")
    assert finding.result == "forged"
    assert finding.reason == (
        "An Authentication-Results header is forged: it claims intakeguard's own "
        "authserv-id intakeguard, which no server before us may use."
    )


def test_our_own_id_is_forged_even_on_top_and_with_no_trusted_ids() -> None:
    finding = check(with_results("INTAKEGUARD; dmarc=pass header.from=acme.pl"), TrustConfig())
    assert finding.result == "forged"
    assert "own authserv-id intakeguard" in finding.reason


def test_an_operator_may_run_its_mta_under_our_id_and_trust_it() -> None:
    trust = TrustConfig(
        authserv_id="mx.hosting.example", trusted_authserv_ids=TRUST.trusted_authserv_ids
    )
    finding = check(with_results("mx.hosting.example; dkim=pass header.d=acme.pl"), trust)
    assert finding.result == "pass"
    assert finding.reason == (
        "The trusted Authentication-Results header of mx.hosting.example reports "
        "DKIM pass for acme.pl."
    )


def test_every_forged_header_is_counted() -> None:
    finding = check(
        with_results(
            "mx.other.example; spf=none",
            "mx.hosting.example; dkim=pass header.d=acme.pl",
            "intakeguard; dmarc=pass header.from=acme.pl",
        )
    )
    assert finding.result == "forged"
    assert finding.reason == (
        "An Authentication-Results header is forged: it claims the trusted authserv-id "
        "mx.hosting.example but sits below a header written by the untrusted "
        "mx.other.example, so our servers did not write it (1 more forged header too)."
    )
    assert finding.evidence["forged"] == ["mx.hosting.example", "intakeguard"]


def test_an_unparseable_header_is_treated_as_absent() -> None:
    finding = scenario("unparseable-authentication-results")
    assert finding.result == "pass"
    assert finding.reason == (
        "The trusted Authentication-Results header of mx.hosting.example reports "
        "SPF pass for acme.pl, DKIM pass for acme.pl and DMARC pass for acme.pl; "
        "one header cannot be parsed and is treated as absent."
    )


def test_headers_from_untrusted_servers_are_ignored() -> None:
    finding = check(
        with_results(
            "mx.other.example; spf=pass smtp.mailfrom=acme.pl",
            "relay.example; dkim=pass header.d=acme.pl",
            "garbage ;;; = =",
        )
    )
    assert finding.result == "none"
    assert finding.reason == (
        "No trusted Authentication-Results header: the 2 headers written by mx.other.example "
        "and relay.example are ignored, as no trusted authserv-id wrote them; one header "
        "cannot be parsed and is treated as absent."
    )
    assert finding.evidence["spf"] is None
    assert finding.evidence["dkim_pass_domains"] == []


def test_without_configured_ids_nothing_is_trusted() -> None:
    finding = scenario("trusted-authentication-results", TrustConfig())
    assert finding.result == "none"
    assert finding.reason == (
        "No trusted Authentication-Results header: the 2 headers written by "
        "mx.hosting.example and mx.acme.pl are ignored, as no trusted authserv-id wrote them."
    )


def test_no_header_at_all() -> None:
    finding = check(make_message())
    assert finding.result == "none"
    assert finding.reason == "The message carries no Authentication-Results header."


def test_a_run_of_trusted_headers_is_read_together_topmost_first() -> None:
    trust = TrustConfig(
        trusted_authserv_ids=frozenset({"mx.hosting.example", "mx2.hosting.example"})
    )
    finding = check(
        with_results(
            "MX.Hosting.Example; dkim=pass header.d=acme.pl header.s=rsa2048",
            "mx2.hosting.example;\r\n  spf=pass (sender is authorised)\r\n"
            "  smtp.mailfrom=bounce@Acme.PL;\r\n  dkim=pass header.i=@lists.acme.pl",
        ),
        trust,
    )
    assert finding.result == "pass"
    assert finding.reason == (
        "The trusted Authentication-Results headers of mx.hosting.example and "
        "mx2.hosting.example report SPF pass for acme.pl and DKIM pass for acme.pl, "
        "lists.acme.pl."
    )
    assert finding.evidence["spf_domain"] == "acme.pl"
    assert finding.evidence["dkim_pass_domains"] == ["acme.pl", "lists.acme.pl"]


def test_spf_with_a_null_mail_from_reports_the_helo_name() -> None:
    finding = check(with_results("mx.hosting.example; spf=pass smtp.helo=mx.acme.pl"))
    assert finding.evidence["spf"] == "pass"
    assert finding.evidence["spf_domain"] == "mx.acme.pl"


def test_a_forwarders_results_are_read_once_for_the_arc_and_upstream_checks() -> None:
    value = "relay.example;\r\n spf=pass smtp.mailfrom=jan@acme.pl;\r\n dkim=pass header.d=acme.pl"
    header = parse_results_header(value.replace("\r\n", ""))
    assert header is not None
    assert header.authserv_id == "relay.example"
    assert parse_arc_results("i=1; " + value) is header


def test_a_long_results_text_is_read_each_time_not_kept() -> None:
    value = "relay.example; dkim=pass header.d=" + "a" * MAX_KEPT_LENGTH + ".example"
    first, second = parse_results_header(value), parse_results_header(value)
    assert first is not None
    assert second is not None
    assert str(first.results[0]) == str(second.results[0])
    assert first is not second


def test_the_spf_domain_is_read_by_the_one_address_parser() -> None:
    # RFC 5321 §4.1.2: the domain follows the quoted local part, "@" inside it or not.
    for mailfrom, domain in (
        ('"jan@acme.pl"@evil.example', "evil.example"),
        ("jan@ACME.PL.", "acme.pl"),
        ("@acme.pl", "acme.pl"),
    ):
        finding = check(with_results(f"mx.hosting.example; spf=pass smtp.mailfrom={mailfrom}"))
        assert finding.evidence["spf_domain"] == domain, mailfrom


def test_a_trusted_id_again_below_its_topmost_header_is_repeated_and_vouches_for_nothing() -> None:
    # Our relay's own header on top, the sender's copy of our id below it: the relay did
    # not remove it (RFC 8601 §5), and pooling both would believe the sender's DKIM pass.
    finding = check(
        with_results(
            "mx.hosting.example; spf=fail smtp.mailfrom=jan@acme.pl; dkim=none",
            "mx.hosting.example; dkim=pass header.d=acme.pl; dmarc=pass header.from=acme.pl",
        )
    )
    assert finding.result == "repeated"
    assert finding.reason == (
        "A trusted authserv-id appears again below its topmost Authentication-Results header "
        "(mx.hosting.example once more): our server writes one per pass and removes any "
        "other (RFC 8601 §5), so another was there before it saw the message, written by "
        "the sender or on the way; no trusted header is used, and an agent should look at "
        "the message."
    )
    assert finding.evidence["repeated"] == ["mx.hosting.example"]
    assert finding.evidence["dkim_pass_domains"] == []


def test_a_trusted_id_below_an_untrusted_header_stays_forged_even_if_repeated() -> None:
    finding = check(
        with_results(
            "mx.hosting.example; spf=fail smtp.mailfrom=jan@acme.pl",
            "mx.outside.example; spf=pass",
            "mx.hosting.example; dkim=pass header.d=acme.pl",
        )
    )
    assert finding.result == "forged"


def test_the_spf_identity_says_whether_the_helo_name_was_checked() -> None:
    helo = check(with_results("mx.hosting.example; spf=pass smtp.helo=mx.acme.pl"))
    mailfrom = check(with_results("mx.hosting.example; spf=pass smtp.mailfrom=jan@acme.pl"))
    assert helo.evidence["spf_identity"] == "helo"
    assert mailfrom.evidence["spf_identity"] == "mailfrom"
