"""The DNS layer against the fixture DNS server: answers, caching, failures."""

from __future__ import annotations

import asyncio

import pytest

from mailhook.dns import DnsTempError, Resolver
from tests.dns_server import FixtureDnsServer


@pytest.fixture
def resolver(dns_server: FixtureDnsServer) -> Resolver:
    return Resolver([dns_server.address], timeout=0.5)


def test_txt_records_come_back_joined(resolver: Resolver) -> None:
    assert resolver.txt("acme.pl") == [b"v=spf1 ip4:192.0.2.10 -all"]
    assert resolver.txt("_dmarc.acme.pl") == [b"v=DMARC1; p=reject"]


def test_cname_is_followed(resolver: Resolver) -> None:
    assert resolver.addresses("www.acme.pl") == ["192.0.2.10"]


def test_nxdomain_and_nodata_are_no_record(resolver: Resolver) -> None:
    missing = resolver.resolve("nothing-here.acme.pl", "TXT")
    assert missing.records == () and missing.nxdomain
    nodata = resolver.resolve("mx.acme.pl", "TXT")
    assert nodata.records == () and not nodata.nxdomain


def test_answers_are_cached_including_negative_ones(
    resolver: Resolver, dns_server: FixtureDnsServer
) -> None:
    resolver.txt("acme.pl")
    resolver.resolve("cached-nx.acme.pl", "TXT")
    before = dns_server.queries
    assert resolver.txt("ACME.PL.") == [b"v=spf1 ip4:192.0.2.10 -all"]
    assert resolver.resolve("cached-nx.acme.pl", "TXT").nxdomain
    assert dns_server.queries == before
    assert resolver.stats.cache_hits == 2


@pytest.mark.parametrize("fault", ["timeout", "servfail", "refused"])
def test_server_trouble_is_a_temperror_never_an_answer(
    resolver: Resolver, dns_faults: dict[str, str], fault: str
) -> None:
    name = f"{fault}-test.acme.pl"
    dns_faults[name] = fault
    with pytest.raises(DnsTempError, match=name):
        resolver.txt(name)
    assert resolver.stats.temperrors == 1


def test_a_name_outside_the_served_zones_is_a_temperror(resolver: Resolver) -> None:
    # The fixture server refuses names it is not authoritative for.
    with pytest.raises(DnsTempError):
        resolver.txt("example.invalid")


def test_async_face_shares_the_cache(resolver: Resolver, dns_server: FixtureDnsServer) -> None:
    answer = asyncio.run(resolver.aresolve("mx.acme.pl", "A"))
    before = dns_server.queries
    assert [r.address for r in answer.records] == ["192.0.2.10"]
    assert resolver.addresses("mx.acme.pl") == ["192.0.2.10"]
    assert dns_server.queries == before


@pytest.mark.parametrize(
    "name", ["a" * 64 + ".acme.pl", "bad\\999escape.acme.pl", "\udcff.acme.pl"]
)
def test_a_name_that_cannot_be_written_in_a_query_has_no_records(
    resolver: Resolver, dns_server: FixtureDnsServer, name: str
) -> None:
    # Names built from message data (SPF macros, DKIM d= and s=) are no DNS failure.
    before = dns_server.queries
    assert resolver.resolve(name, "TXT").records == ()
    assert dns_server.queries == before


def test_a_caller_may_shorten_the_wait_for_one_query(
    resolver: Resolver, dns_faults: dict[str, str]
) -> None:
    dns_faults["slow-answer.acme.pl"] = "delay:0.3"
    with pytest.raises(DnsTempError, match="timed out"):
        resolver.resolve("slow-answer.acme.pl", "TXT", timeout=0.1)
    assert resolver.resolve("slow-answer.acme.pl", "TXT").nxdomain
