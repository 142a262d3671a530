"""spf against the RFC 7208 test suite (fixtures/spf/rfc7208-tests.yml), over real DNS.

Each scenario's zone data is served by a DNS server on loopback, and every test case
goes through our spf check, so the suite exercises our pyspf DNS adapter and Resolver
as well as pyspf. The loader follows the suite's own driver (testspf.py in pyspf):
an SPF record stands for a TXT record too unless the name lists TXT records itself
("TXT: NONE" lists none); TIMEOUT makes every query of the name time out except
those for a type the name holds records of; names not in the zone data do not exist.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
import yaml

from mailhook.checks.spf import check_spf
from mailhook.context import CheckContext
from mailhook.dns import Resolver
from mailhook.message import Channel, Envelope, parse_message
from tests.dns_server import FixtureDnsServer
from tests.support import FIXTURES

SUITE = FIXTURES / "spf" / "rfc7208-tests.yml"
# Every type pyspf asks for: what a TIMEOUT name does not hold times out.
QUERIED_TYPES = ("A", "AAAA", "MX", "PTR", "TXT", "SPF", "CNAME")
# The suite's times out are real ones here: keep them short.
RESOLVER_TIMEOUT = 0.3


@dataclass(frozen=True)
class Scenario:
    index: int
    description: str
    zonedata: dict[str, list[Any]]


@dataclass(frozen=True)
class Case:
    scenario: Scenario
    name: str
    host: str
    helo: str
    mailfrom: str
    results: tuple[str, ...]


def load_cases() -> list[Case]:
    cases: list[Case] = []
    with SUITE.open("rb") as stream:
        for index, document in enumerate(yaml.safe_load_all(stream)):
            scenario = Scenario(index, document["description"], document["zonedata"])
            for name, test in document["tests"].items():
                expected = test["result"]
                cases.append(
                    Case(
                        scenario=scenario,
                        name=name,
                        host=str(test["host"]),
                        helo=str(test["helo"]),
                        mailfrom=str(test["mailfrom"]),
                        results=tuple(expected) if isinstance(expected, list) else (expected,),
                    )
                )
    return cases


CASES = load_cases()


def records_and_faults(
    zonedata: dict[str, list[Any]],
) -> tuple[dict[str, list[dns.rdata.Rdata]], dict[str, str]]:
    """The records to serve and the faults to simulate for one scenario's zone data."""
    records: dict[str, list[dns.rdata.Rdata]] = {}
    faults: dict[str, str] = {}
    for raw_name, entries in zonedata.items():
        name = raw_name.lower().rstrip(".")
        held: list[dns.rdata.Rdata] = []
        spf_strings: list[list[bytes]] = []
        lists_txt = False
        times_out = False
        for entry in entries:
            if entry == "TIMEOUT":
                times_out = True
                continue
            ((rdtype, value),) = entry.items()
            if rdtype == "TXT":
                lists_txt = True
                if value == "NONE":
                    continue
            if rdtype in ("TXT", "SPF"):
                strings = character_strings(value)
                if not strings:
                    # A record without strings cannot be written on the wire; the
                    # suite's driver drops it too.
                    continue
                if rdtype == "SPF":
                    spf_strings.append(strings)
                held.append(text_rdata(rdtype, strings))
            else:
                held.append(rdata(rdtype, value))
        if not lists_txt:
            held.extend(text_rdata("TXT", strings) for strings in spf_strings)
        records[name] = held
        if times_out:
            answered = {dns.rdatatype.to_text(r.rdtype) for r in held}
            for rdtype in QUERIED_TYPES:
                if rdtype not in answered:
                    faults[f"{name}/{rdtype}"] = "timeout"
    return records, faults


def character_strings(value: str | list[str]) -> list[bytes]:
    """TXT character-strings of at most 255 bytes; SPF joins them back (RFC 7208 §3.3)."""
    texts = [value] if isinstance(value, str) else list(value)
    strings: list[bytes] = []
    for text in texts:
        data = text.encode("utf-8")
        strings.extend(data[i : i + 255] for i in range(0, len(data), 255))
        if not data:
            strings.append(b"")
    return strings


def text_rdata(rdtype: str, strings: list[bytes]) -> dns.rdata.Rdata:
    cls = dns.rdata.get_rdata_class(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype))
    return cls(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), strings)


def rdata(rdtype: str, value: Any) -> dns.rdata.Rdata:
    if rdtype == "MX":
        preference, exchange = value
        text = f"{preference} {absolute(exchange)}"
    elif rdtype in ("PTR", "CNAME"):
        text = absolute(value)
    elif rdtype == "AAAA":
        text = str(ipaddress.IPv6Address(value))
    else:
        text = str(value)
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, text)


def absolute(name: str) -> str:
    return dns.name.from_text(name, origin=dns.name.root).to_text()


@pytest.fixture(scope="module")
def suite_servers() -> Iterator[dict[int, FixtureDnsServer]]:
    """One DNS server per scenario, started when a case of it first runs."""
    servers: dict[int, FixtureDnsServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


def server_for(scenario: Scenario, servers: dict[int, FixtureDnsServer]) -> FixtureDnsServer:
    if scenario.index not in servers:
        records, faults = records_and_faults(scenario.zonedata)
        server = FixtureDnsServer.from_records(records)
        server.faults.update(faults)
        servers[scenario.index] = server.start()
    return servers[scenario.index]


def case_id(case: Case) -> str:
    return f"{case.scenario.index:02d}-{case.name}"


# Every case passes: none is marked as an expected failure.
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rfc7208_case(case: Case, suite_servers: dict[int, FixtureDnsServer]) -> None:
    server = server_for(case.scenario, suite_servers)
    envelope = Envelope(client_ip=case.host, helo=case.helo, mail_from=case.mailfrom)
    message = parse_message(b"Subject: RFC 7208 test suite\r\n\r\n", envelope, Channel.PIPE)
    context = CheckContext(resolver=Resolver([server.address], timeout=RESOLVER_TIMEOUT))
    finding = check_spf(message, context)
    assert finding.result in case.results, (
        f"{case.name} ({case.scenario.description}): expected {' or '.join(case.results)}, "
        f"got {finding.result}: {finding.reason}"
    )
    assert finding.reason.startswith(f"SPF {finding.result}"), finding.reason


def test_the_whole_suite_is_loaded() -> None:
    assert len(CASES) == 203
    assert len({case.scenario.index for case in CASES}) == 16
