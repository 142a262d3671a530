"""spf: every SPF result, the processing limits and the time budget, over real DNS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import dns.rdata
import httpx
import pytest
import spf

from mailhook.checks import PIPELINE, registered
from mailhook.checks._spf_terms import Untraceable, _TermCompared, pass_path
from mailhook.checks.spf import _lookup_through_resolver, check_spf, evaluate_spf
from mailhook.context import CheckContext
from mailhook.dns import Resolver
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, parse_message
from tests.dns_server import FixtureDnsServer
from tests.support import make_message

CUSTOMER_SERVER = "192.0.2.10"
STRANGER = "203.0.113.5"


@pytest.fixture
def resolver(dns_server: FixtureDnsServer) -> Resolver:
    return Resolver([dns_server.address], timeout=0.5)


def check(
    resolver: Resolver | None, mail_from: str | None, client_ip: str | None, helo: str = "mx.test"
) -> Finding:
    envelope = Envelope(client_ip=client_ip, helo=helo, mail_from=mail_from)
    message = parse_message(make_message(), envelope, Channel.SMTP)
    return check_spf(message, CheckContext(resolver=resolver))


def test_is_registered_and_runs_before_dkim_and_dmarc() -> None:
    assert registered()["spf"].run is check_spf
    assert PIPELINE.index("spf") < PIPELINE.index("dkim")
    if "dmarc" in PIPELINE:
        assert PIPELINE.index("spf") < PIPELINE.index("dmarc")


def test_pass_names_the_domain_the_client_and_the_mechanism(resolver: Resolver) -> None:
    finding = check(resolver, "jan@acme.pl", CUSTOMER_SERVER)
    assert finding.name == "spf"
    assert finding.result == "pass"
    assert finding.reason == (
        "SPF pass: the MAIL FROM domain acme.pl (jan@acme.pl) authorises 192.0.2.10 to send "
        "its mail (matched mechanism 'ip4:192.0.2.10')."
    )
    assert finding.evidence == {"result": "pass", "domain": "acme.pl", "identity": "mailfrom"}


def test_angle_brackets_and_case_do_not_matter(resolver: Resolver) -> None:
    finding = check(resolver, "<Jan@ACME.PL>", CUSTOMER_SERVER)
    assert finding.result == "pass"
    assert finding.evidence["domain"] == "acme.pl"


def test_fail(resolver: Resolver) -> None:
    finding = check(resolver, "jan@acme.pl", STRANGER)
    assert finding.result == "fail"
    assert finding.reason == (
        "SPF fail: the MAIL FROM domain acme.pl (jan@acme.pl) does not allow 203.0.113.5 to "
        "send its mail (matched mechanism '-all'); the envelope sender is forged, or the "
        "message was forwarded."
    )
    assert finding.evidence == {"result": "fail", "domain": "acme.pl", "identity": "mailfrom"}


def test_softfail(resolver: Resolver) -> None:
    finding = check(resolver, "jan@softfail.spf-cases.example", STRANGER)
    assert finding.result == "softfail"
    assert finding.reason == (
        "SPF softfail: the MAIL FROM domain softfail.spf-cases.example "
        "(jan@softfail.spf-cases.example) says 203.0.113.5 is probably not allowed to send its "
        "mail (matched mechanism '~all'), without asking receivers to refuse it."
    )


def test_neutral(resolver: Resolver) -> None:
    finding = check(resolver, "jan@neutral.spf-cases.example", STRANGER)
    assert finding.result == "neutral"
    assert finding.reason == (
        "SPF neutral: the MAIL FROM domain neutral.spf-cases.example "
        "(jan@neutral.spf-cases.example) states nothing about whether 203.0.113.5 may send its "
        "mail (matched mechanism '?all')."
    )


@pytest.mark.parametrize("domain", ["nospf.spf-cases.example", "ghost.spf-cases.example"])
def test_none_when_the_domain_publishes_no_record_or_does_not_exist(
    resolver: Resolver, domain: str
) -> None:
    finding = check(resolver, f"jan@{domain}", STRANGER)
    assert finding.result == "none"
    assert finding.reason == (
        f"SPF none: the MAIL FROM domain {domain} (jan@{domain}) publishes no SPF record, so "
        "nothing says whether 203.0.113.5 may send its mail."
    )
    assert finding.evidence == {"result": "none", "domain": domain, "identity": "mailfrom"}


@pytest.mark.parametrize(
    ("subdomain", "client", "problem"),
    [
        ("syntax", STRANGER, "Invalid IP4 address: ip4:192.0.2.300"),
        ("two-records", STRANGER, "Two or more type TXT spf records found"),
        # RFC 7208 §4.6.4: more than two lookups that find nothing.
        ("void", CUSTOMER_SERVER, "Void lookup limit of 2 exceeded"),
        # RFC 7208 §4.6.4: more than ten terms that query DNS.
        ("lookups", CUSTOMER_SERVER, "Too many DNS lookups"),
    ],
)
def test_permerror_for_a_broken_record_and_for_each_processing_limit(
    resolver: Resolver, subdomain: str, client: str, problem: str
) -> None:
    domain = f"{subdomain}.spf-cases.example"
    finding = check(resolver, f"jan@{domain}", client)
    assert finding.result == "permerror"
    assert finding.reason == (
        f"SPF permerror: the SPF record of the MAIL FROM domain {domain} (jan@{domain}) is "
        f"broken ({problem}), so it cannot say whether {client} may send its mail."
    )
    assert finding.evidence == {"result": "permerror", "domain": domain, "identity": "mailfrom"}


@pytest.mark.parametrize(("fault", "kind"), [("timeout", "timed out"), ("servfail", "failed")])
def test_temperror_when_an_included_domain_does_not_answer(
    resolver: Resolver, dns_faults: dict[str, str], fault: str, kind: str
) -> None:
    dns_faults["unreachable.spf-cases.example"] = fault
    finding = check(resolver, "jan@flaky.spf-cases.example", CUSTOMER_SERVER)
    assert finding.result == "temperror"
    assert finding.reason == (
        "SPF temperror: checking the MAIL FROM domain flaky.spf-cases.example "
        "(jan@flaky.spf-cases.example) for 192.0.2.10 needs DNS answers that are not available "
        f"now (DNS query for unreachable.spf-cases.example TXT {kind}); the message will be "
        "checked again when the sender retries."
    )
    assert finding.evidence["result"] == "temperror"


@pytest.mark.parametrize("fault", ["timeout", "servfail", "refused"])
def test_temperror_when_the_sender_domain_itself_does_not_answer(
    resolver: Resolver, dns_faults: dict[str, str], fault: str
) -> None:
    dns_faults["acme.pl/TXT"] = fault
    finding = check(resolver, "jan@acme.pl", CUSTOMER_SERVER)
    assert finding.result == "temperror"
    assert "DNS query for acme.pl TXT" in finding.reason
    assert finding.reason.endswith("the message will be checked again when the sender retries.")


def test_the_whole_evaluation_has_a_time_budget(
    resolver: Resolver, dns_faults: dict[str, str]
) -> None:
    # Each include answers, but late: 3 x 0.3 s do not fit in a 0.5 s budget.
    for name in ("slow1", "slow2", "slow3"):
        dns_faults[f"{name}.spf-cases.example"] = "delay:0.3"
    envelope = Envelope(
        client_ip=CUSTOMER_SERVER, helo="mx.test", mail_from="a@slow.spf-cases.example"
    )
    # The result says the budget ran out; how long that took is the benchmark's business.
    finding = evaluate_spf(envelope, resolver, budget=0.5)
    assert finding.result == "temperror"
    assert finding.reason == (
        "SPF temperror: checking the MAIL FROM domain slow.spf-cases.example "
        "(a@slow.spf-cases.example) for 192.0.2.10 ran out of its 0.5-second time budget "
        "(RFC 7208 §4.6.4); the message will be checked again when the sender retries."
    )


def test_the_same_slow_record_passes_within_the_default_budget(
    resolver: Resolver, dns_faults: dict[str, str]
) -> None:
    for name in ("slow1", "slow2", "slow3"):
        dns_faults[f"{name}.spf-cases.example"] = "delay:0.1"
    finding = check(resolver, "a@slow.spf-cases.example", CUSTOMER_SERVER)
    assert finding.result == "pass"


@pytest.mark.parametrize("mail_from", ["", "<>", None])
def test_an_empty_mail_from_checks_postmaster_at_the_helo_name(
    resolver: Resolver, mail_from: str | None
) -> None:
    # RFC 7208 §2.4: the null reverse-path is checked as postmaster@HELO.
    finding = check(resolver, mail_from, "192.0.2.25", helo="mta.spf-cases.example")
    assert finding.result == "pass"
    assert finding.reason == (
        "SPF pass: the HELO name mta.spf-cases.example (the MAIL FROM was empty) authorises "
        "192.0.2.25 to send its mail (matched mechanism 'a')."
    )
    assert finding.evidence == {
        "result": "pass",
        "domain": "mta.spf-cases.example",
        "identity": "helo",
    }


def test_an_empty_mail_from_from_another_host_fails_the_helo_check(resolver: Resolver) -> None:
    finding = check(resolver, "", STRANGER, helo="mta.spf-cases.example")
    assert finding.result == "fail"
    assert finding.evidence["identity"] == "helo"
    assert "the HELO name mta.spf-cases.example (the MAIL FROM was empty)" in finding.reason


def test_mx_and_ipv6_a_mechanisms_go_through_our_resolver(resolver: Resolver) -> None:
    assert check(resolver, "a@by-mx.spf-cases.example", "192.0.2.30").result == "pass"
    finding = check(resolver, "a@by-a6.spf-cases.example", "2001:db8::25")
    assert finding.result == "pass"
    assert "authorises 2001:db8::25" in finding.reason
    assert resolver.stats.queries > 0


def test_without_a_client_ip_spf_cannot_be_evaluated(resolver: Resolver) -> None:
    finding = check(resolver, "jan@acme.pl", None)
    assert finding.result == "none"
    assert finding.reason == (
        "SPF could not be evaluated: the address of the client that handed the message over "
        "is unknown."
    )
    assert finding.evidence == {"result": "none", "domain": "acme.pl", "identity": "mailfrom"}
    assert resolver.stats.queries == 0


def test_without_mail_from_and_helo_spf_cannot_be_evaluated(resolver: Resolver) -> None:
    finding = check(resolver, "", CUSTOMER_SERVER, helo="")
    assert finding.result == "none"
    assert finding.reason == (
        "SPF could not be evaluated: the message came with neither a MAIL FROM address nor a "
        "HELO name to check."
    )


def test_a_client_ip_that_is_no_address_cannot_be_evaluated(resolver: Resolver) -> None:
    finding = check(resolver, "jan@acme.pl", "mx.acme.pl")
    assert finding.result == "none"
    assert finding.reason == (
        "SPF could not be evaluated: the client address 'mx.acme.pl' is not an IP address."
    )


def test_without_a_resolver_spf_cannot_be_evaluated() -> None:
    finding = check(None, "jan@acme.pl", CUSTOMER_SERVER)
    assert finding.result == "none"
    assert finding.reason == "SPF could not be evaluated: no DNS resolver is configured."


def test_a_domain_that_cannot_be_a_dns_name_is_none_not_temperror(resolver: Resolver) -> None:
    # RFC 7208 §4.3: a malformed domain gives "none"; it is no DNS failure.
    for mail_from in ("jan@" + "a" * 64 + ".pl", "jan@acme..pl", "jan@\udcff.pl"):
        assert check(resolver, mail_from, CUSTOMER_SERVER).result == "none", mail_from


def test_pyspf_looks_names_up_through_our_adapter() -> None:
    assert spf.DNSLookup is _lookup_through_resolver


def test_parallel_checks_each_use_their_own_resolver(dns_server: FixtureDnsServer) -> None:
    # A second server where acme.pl authorises nobody: every check must see its own.
    other = FixtureDnsServer.from_records(
        {"acme.pl": [dns.rdata.from_text("IN", "TXT", '"v=spf1 -all"')]}
    ).start()
    try:
        resolvers = {
            "pass": Resolver([dns_server.address], timeout=0.5),
            "fail": Resolver([other.address], timeout=0.5),
        }
        expected = ["pass", "fail"] * 20

        def run(result: str) -> str:
            envelope = Envelope(client_ip=CUSTOMER_SERVER, helo="mx", mail_from="jan@acme.pl")
            resolvers[result].clear_cache()
            return evaluate_spf(envelope, resolvers[result]).result

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(run, expected)) == expected
    finally:
        other.stop()


def test_a_dns_timeout_on_spf_makes_intake_a_temporary_failure(
    api: httpx.Client, dns_faults: dict[str, str]
) -> None:
    dns_faults["acme.pl/TXT"] = "timeout"
    response = api.post(
        "/v1/messages",
        content=make_message(),
        headers={"Content-Type": "message/rfc822"},
        params={"client_ip": CUSTOMER_SERVER, "helo": "mx.acme.pl", "mail_from": "jan@acme.pl"},
    )
    assert response.status_code == 503, response.text
    assert "Retry-After" in response.headers
    assert api.get("/v1/verdicts").json()["items"] == []


@pytest.mark.parametrize(
    ("mail_from", "client_ip", "result", "domain"),
    [
        # RFC 5321 §4.1.2: the domain follows the quoted local part, "@" and all.
        pytest.param(
            '"jan@acme.pl"@lists.example',
            "203.0.113.50",
            "pass",
            "lists.example",
            id="quoted @: the list's own server passes for the list",
        ),
        pytest.param(
            '<"jan@acme.pl"@lists.example>',
            CUSTOMER_SERVER,
            "fail",
            "lists.example",
            id="quoted @: acme's server is not the list's",
        ),
        pytest.param(
            r'"jan\"@acme.pl"@lists.example',
            "203.0.113.50",
            "pass",
            "lists.example",
            id="escaped quote inside the quoted local part",
        ),
        pytest.param(
            "<@relay.example:jan@acme.pl>",
            CUSTOMER_SERVER,
            "pass",
            "acme.pl",
            id="source route dropped",
        ),
        pytest.param(
            "jan@ACME.PL.", CUSTOMER_SERVER, "pass", "acme.pl", id="case and trailing dot"
        ),
    ],
)
def test_the_mail_from_domain_is_the_one_parse_path_gives(
    resolver: Resolver, mail_from: str, client_ip: str, result: str, domain: str
) -> None:
    finding = check(resolver, mail_from, client_ip)
    assert (finding.result, finding.evidence["domain"]) == (result, domain), finding.reason
    assert finding.evidence["identity"] == "mailfrom"


def test_a_quoted_local_part_is_named_as_written_in_the_reason(resolver: Resolver) -> None:
    finding = check(resolver, '"jan@acme.pl"@lists.example', CUSTOMER_SERVER)
    assert finding.reason == (
        'SPF fail: the MAIL FROM domain lists.example ("jan@acme.pl"@lists.example) does not '
        "allow 192.0.2.10 to send its mail (matched mechanism '-all'); the envelope sender is "
        "forged, or the message was forwarded."
    )


def test_a_mail_from_that_cannot_be_read_has_no_domain_to_check(resolver: Resolver) -> None:
    finding = check(resolver, '"jan@acme.pl@lists.example', CUSTOMER_SERVER)
    assert finding.result == "none"
    assert finding.evidence["domain"] is None
    assert finding.reason.startswith(
        'SPF none: the MAIL FROM "jan@acme.pl@lists.example has no domain that can be checked'
    )


# kowal.pl's subdomains publish records any host passes (fixtures/dns/kowal.pl.zone).
ANYONE_PASSES = {
    "jan@all.kowal.pl": "'+all', which authorises every host on the Internet",
    "jan@wide.kowal.pl": "'ip4:128.0.0.0/1', which authorises the whole /1 network, far more "
    "of the Internet than any mail operator holds",
    "jan@helo.kowal.pl": "'a:%{h}', which names a host through the HELO name the client "
    "gives (RFC 7208 §7.3): the sender picks a name of its own that passes",
    "mx.spf-abuser.example@local.kowal.pl": "'a:%{l}', which names a host through the local "
    "part of MAIL FROM (RFC 7208 §7.3): the sender picks a name of its own that passes",
    "jan@exists.kowal.pl": "'exists:kowal.pl', which does not depend on the client's "
    "address, so every host matches it alike",
    "jan@include.kowal.pl": "'include:all.kowal.pl' → '+all', which authorises every host on "
    "the Internet",
    "jan@redirect.kowal.pl": "'+all', which authorises every host on the Internet",
    "jan@nested.kowal.pl": "'include:include.kowal.pl' → 'include:all.kowal.pl' → '+all', "
    "which authorises every host on the Internet",
    "jan@viaredirect.kowal.pl": "'include:redirect.kowal.pl' → '+all', which authorises "
    "every host on the Internet",
    "jan@second.kowal.pl": "'include:all.kowal.pl' → '+all', which authorises every host on "
    "the Internet",
}


@pytest.mark.parametrize("mail_from", sorted(ANYONE_PASSES))
def test_a_pass_any_host_gets_says_what_lets_it_pass(resolver: Resolver, mail_from: str) -> None:
    finding = check(resolver, mail_from, "203.0.113.66", helo="mx.spf-abuser.example")
    assert finding.result == "pass"
    assert finding.evidence["anyone_passes"] == ANYONE_PASSES[mail_from]
    assert finding.reason.startswith("SPF pass that proves nothing: the MAIL FROM domain ")
    assert finding.reason.endswith(
        f"lets 203.0.113.66 send its mail only through {ANYONE_PASSES[mail_from]}. Any host "
        "passes it, so the pass does not authenticate the sender."
    )


@pytest.mark.parametrize(
    ("mail_from", "client", "records"),
    [
        pytest.param("jan@include.kowal.pl", "203.0.113.66", 2, id="an include"),
        pytest.param("jan@nested.kowal.pl", "203.0.113.66", 3, id="an include in an include"),
        pytest.param("jan@viaredirect.kowal.pl", "203.0.113.66", 3, id="an include redirected"),
        pytest.param("jan@second.kowal.pl", "203.0.113.66", 3, id="the second include"),
        pytest.param("jan@own.kowal.pl", "192.0.2.44", 2, id="an include for the client"),
    ],
)
def test_each_record_of_a_pass_through_includes_is_evaluated_once(
    resolver: Resolver,
    monkeypatch: pytest.MonkeyPatch,
    mail_from: str,
    client: str,
    records: int,
) -> None:
    """What matched inside an include is noted as pyspf evaluates it, not asked again."""
    evaluated: list[str] = []
    check1 = spf.query.check1

    def counting(query: spf.query, record: str, domain: str, recursion: int) -> object:
        evaluated.append(domain)
        return check1(query, record, domain, recursion)

    monkeypatch.setattr(spf.query, "check1", counting)
    finding = check(resolver, mail_from, client, helo="mx.spf-abuser.example")
    assert finding.result == "pass", finding.reason
    assert len(evaluated) == records == len(set(evaluated)), evaluated


@pytest.mark.parametrize(
    ("mail_from", "client"),
    [("jan@include.kowal.pl", "203.0.113.66"), ("jan@own.kowal.pl", "192.0.2.44")],
    ids=["through +all", "through the client's own address"],
)
def test_an_include_pass_whose_match_is_not_noted_proves_nothing(
    resolver: Resolver, monkeypatch: pytest.MonkeyPatch, mail_from: str, client: str
) -> None:
    """A pyspf that compared terms otherwise would leave the include's match unknown:
    not taken on trust."""
    monkeypatch.setattr(_TermCompared, "__eq__", str.__eq__)
    finding = check(resolver, mail_from, client, helo="mx.spf-abuser.example")
    assert finding.result == "pass"
    term = mail_from.split("@")[1].split(".")[0]
    included = "all.kowal.pl" if term == "include" else "kowal.pl"
    assert finding.evidence["anyone_passes"] == (
        f"'include:{included}', whose match cannot be traced "
        f"(no record behind 'include:{included}' shows what passed)"
    )
    assert finding.reason.startswith("SPF pass that proves nothing: ")


@pytest.mark.parametrize(
    ("mail_from", "client"),
    [
        ("jan@kowal.pl", "192.0.2.44"),
        ("jan@perclient.kowal.pl", "192.0.2.44"),
        ("jan@own.kowal.pl", "192.0.2.44"),
        ("jan@second.kowal.pl", "192.0.2.44"),
    ],
    ids=["ip4", "exists:%{i}", "include of ip4", "the first of two includes"],
)
def test_a_pass_for_the_client_alone_is_a_plain_pass(
    resolver: Resolver, mail_from: str, client: str
) -> None:
    finding = check(resolver, mail_from, client, helo="mx.kowal.pl")
    assert finding.result == "pass"
    assert "anyone_passes" not in finding.evidence
    assert finding.reason.startswith("SPF pass: ")


@pytest.mark.parametrize("term", ["ip4:192.0.2.0/24", "redirect=_spf.provider.example", "-all"])
def test_a_pass_whose_evaluation_was_not_noted_is_untraceable(term: str) -> None:
    """Whose record authorised the host comes from the evaluation noted while pyspf ran;
    a pass with none noted (a pyspf evaluating otherwise) proves nothing, whatever the
    term: not taken for the checked domain's own host."""

    class Ran:
        mechanism = term

    with pytest.raises(Untraceable):
        pass_path(Ran())
