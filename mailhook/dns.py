"""The one DNS resolver every check uses: dnspython with a shared TTL cache.

NXDOMAIN and NODATA mean "no record" (an empty answer). Timeouts, SERVFAIL and
REFUSED mean the answer is unknown for now: they raise DnsTempError, which checks
report as ``temperror`` and which never turns into a pass or a fail.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
import dns.reversename

from mailhook import metrics
from mailhook.errors import TemporaryFailure

MAX_TTL = 86400
# RFC 2308 §5: negative answers are cached for the SOA minimum; without one, briefly.
DEFAULT_NEGATIVE_TTL = 60
MAX_NEGATIVE_TTL = 3600


class DnsTempError(TemporaryFailure):
    """A DNS query timed out or the server failed (SERVFAIL, REFUSED)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """Record data for one (name, type) as text; empty for NXDOMAIN or NODATA."""

    records: tuple[Any, ...]
    nxdomain: bool = False


@dataclass
class DnsStats:
    queries: int = 0
    cache_hits: int = 0
    temperrors: int = 0


def parse_nameservers(values: list[str]) -> list[dns.nameserver.Nameserver]:
    """``ip`` or ``ip:port`` (IPv6 without a port, or ``[v6]:port``) to nameserver objects."""
    servers: list[dns.nameserver.Nameserver] = []
    for value in values:
        host, port = value, 53
        if value.startswith("["):
            host, _, rest = value[1:].partition("]")
            port = int(rest.lstrip(":") or 53)
        elif value.count(":") == 1:
            host, _, port_text = value.partition(":")
            port = int(port_text)
        servers.append(dns.nameserver.Do53Nameserver(host, port))
    return servers


class Resolver:
    """A caching stub resolver; thread-safe, with a synchronous and an async face."""

    def __init__(
        self, nameservers: list[str] | None = None, timeout: float = 5.0, max_entries: int = 50_000
    ) -> None:
        configure = not nameservers
        self._sync = dns.resolver.Resolver(configure=configure)
        self._async = dns.asyncresolver.Resolver(configure=configure)
        for resolver in (self._sync, self._async):
            if nameservers:
                resolver.nameservers = parse_nameservers(nameservers)
            resolver.lifetime = timeout
            resolver.timeout = timeout
            # One try per server: a dead server is a temperror, not a long wait.
            resolver.retry_servfail = False
        self.timeout = timeout
        self._cache: OrderedDict[tuple[str, str], tuple[float, Answer]] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self.stats = DnsStats()

    def resolve(self, name: str, rdtype: str, timeout: float | None = None) -> Answer:
        """Answer for ``name``/``rdtype``, from the cache when fresh; DnsTempError if unknown.

        ``timeout`` shortens the wait for this one query (a caller's remaining time
        budget); it never lengthens it beyond the resolver's own timeout.
        """
        key = (name.lower().rstrip("."), rdtype.upper())
        cached = self._cached(key)
        if cached is not None:
            return cached
        qname = _query_name(key[0])
        if qname is None:
            return Answer(())
        lifetime = self.timeout if timeout is None else max(0.0, min(self.timeout, timeout))
        try:
            response = self._sync.resolve(
                qname, key[1], raise_on_no_answer=False, search=False, lifetime=lifetime
            )
        except dns.exception.DNSException as exc:
            return self._failure(key, exc)
        return self._from_response(key, response)

    async def aresolve(self, name: str, rdtype: str) -> Answer:
        """The same as ``resolve`` for async callers, sharing the cache."""
        key = (name.lower().rstrip("."), rdtype.upper())
        cached = self._cached(key)
        if cached is not None:
            return cached
        qname = _query_name(key[0])
        if qname is None:
            return Answer(())
        try:
            response = await self._async.resolve(
                qname, key[1], raise_on_no_answer=False, search=False
            )
        except dns.exception.DNSException as exc:
            return self._failure(key, exc)
        return self._from_response(key, response)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def answering(self, timeout: float | None = None) -> bool:
        """Whether any configured nameserver answers at all (the readiness probe).

        Asks each server for the root SOA, bypassing the cache. Any response counts,
        even REFUSED: the server is reachable, and what it refuses shows up per message
        as temperror. Only silence (timeout, no route) means DNS is down.
        """
        request = dns.message.make_query(".", dns.rdatatype.SOA)
        for server in self._sync.nameservers:
            if isinstance(server, str):
                server = dns.nameserver.Do53Nameserver(server, self._sync.port)
            try:
                server.query(request, timeout or self.timeout, None, 0, False)
            except (dns.exception.DNSException, OSError):
                continue
            return True
        return False

    # Conveniences in the shapes the checks need.

    def txt(self, name: str) -> list[bytes]:
        """Each TXT record with its strings concatenated (RFC 7208 §3.3, RFC 6376 §3.6.2.2)."""
        return [b"".join(rdata.strings) for rdata in self.resolve(name, "TXT").records]

    def addresses(self, name: str, rdtype: str = "A") -> list[str]:
        return [rdata.address for rdata in self.resolve(name, rdtype).records]

    def exists(self, name: str) -> bool:
        """Whether ``name`` exists at all in DNS (for DMARC ``np``, RFC 9091)."""
        for rdtype in ("A", "AAAA", "MX"):
            answer = self.resolve(name, rdtype)
            if answer.nxdomain:
                return False
            if answer.records:
                return True
        return True

    def _failure(self, key: tuple[str, str], exc: dns.exception.DNSException) -> Answer:
        """The answer a failed query stands for, or DnsTempError when it is unknown."""
        if isinstance(exc, dns.resolver.NXDOMAIN):
            return self._store(key, Answer((), nxdomain=True), _negative_ttl(exc))
        if isinstance(exc, dns.name.NameTooLong | dns.name.EmptyLabel | dns.name.LabelTooLong):
            # A name that cannot even be written in a query has no records.
            return Answer(())
        # Timeout, NoNameservers (SERVFAIL, REFUSED), malformed responses: unknown for now.
        self.stats.temperrors += 1
        metrics.DNS_TEMPERRORS.inc()
        raise DnsTempError(_describe(exc, key)) from None

    def _cached(self, key: tuple[str, str]) -> Answer | None:
        with self._lock:
            self.stats.queries += 1
            metrics.DNS_QUERIES.inc()
            entry = self._cache.get(key)
            if entry is None:
                return None
            expires, answer = entry
            if expires < time.monotonic():
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            self.stats.cache_hits += 1
            metrics.DNS_CACHE_HITS.inc()
            return answer

    def _store(self, key: tuple[str, str], answer: Answer, ttl: float) -> Answer:
        with self._lock:
            self._cache[key] = (time.monotonic() + ttl, answer)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return answer

    def _from_response(self, key: tuple[str, str], response: dns.resolver.Answer) -> Answer:
        if response.rrset is None:
            return self._store(key, Answer(()), _soa_minimum(response.response))
        ttl = min(response.rrset.ttl, MAX_TTL)
        return self._store(key, Answer(tuple(response.rrset)), ttl)


def _query_name(name: str) -> dns.name.Name | None:
    """``name`` as an absolute DNS name, or None when it cannot be written in a query.

    Names built from message data (an SPF macro, a DKIM d= or s=) may hold an empty or
    over-long label (RFC 1035 §2.3.4), a bad escape or text IDNA refuses: such a name has
    no records, which is not the same as a DNS server failing to answer.
    """
    try:
        return dns.name.from_text(name + ".")
    except dns.exception.DNSException:
        return None


def reverse_name(ip: str) -> str:
    return dns.reversename.from_address(ip).to_text(omit_final_dot=True)


def _negative_ttl(exc: dns.resolver.NXDOMAIN) -> float:
    responses: dict[Any, dns.message.Message] = exc.kwargs.get("responses") or {}
    for response in responses.values():
        return _soa_minimum(response)
    return DEFAULT_NEGATIVE_TTL


def _soa_minimum(response: dns.message.Message | None) -> float:
    if response is None:
        return DEFAULT_NEGATIVE_TTL
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return float(min(rrset.ttl, rrset[0].minimum, MAX_NEGATIVE_TTL))
    return DEFAULT_NEGATIVE_TTL


def _describe(exc: dns.exception.DNSException, key: tuple[str, str]) -> str:
    kind = "timed out" if isinstance(exc, dns.exception.Timeout) else "failed"
    return f"DNS query for {key[0]} {key[1]} {kind}"
