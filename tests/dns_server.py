"""An authoritative DNS server for the tests, on loopback, serving ``fixtures/dns/*.zone``.

It answers over UDP and TCP, never sets the TC bit (the full answer always goes back),
and can be told to time out, answer SERVFAIL/REFUSED or answer late for chosen names
(or for one record type of a name). ``FixtureDnsServer.from_records`` serves records
given in code instead of zone files (the RFC 7208 test suite's zone data).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.node
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset
import dns.zone


class FixtureDnsServer:
    """Serves every zone file in a directory; ``faults`` maps names to a failure.

    A key of ``faults`` is a name (lower-case, no trailing dot), or ``name/TYPE`` for
    queries of one type only; its value is ``timeout``, ``servfail``, ``refused`` or
    ``delay:SECONDS`` (the right answer, sent that much later).
    """

    def __init__(
        self, zone_dir: Path | None = None, zones: Iterable[dns.zone.Zone] = (), port: int = 0
    ) -> None:
        self.zones: list[dns.zone.Zone] = list(zones)
        for path in sorted(zone_dir.glob("*.zone")) if zone_dir is not None else ():
            origin = path.stem + "."
            self.zones.append(dns.zone.from_file(str(path), origin=origin, relativize=False))
        self.faults: dict[str, str] = {}
        self.queries = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._udp, self._tcp = _bind_udp_and_tcp(port)
        self.port: int = self._udp.getsockname()[1]

    @classmethod
    def from_records(cls, records: Mapping[str, Iterable[dns.rdata.Rdata]]) -> FixtureDnsServer:
        """A server authoritative for every name, holding ``records`` (name -> rdata).

        Every name not given is NXDOMAIN, as the RFC 7208 test suite expects of names
        its zone data leaves out.
        """
        zone = dns.zone.Zone(dns.name.root, relativize=False)
        soa = dns.rdtypes.ANY.SOA.SOA(
            dns.rdataclass.IN, dns.rdatatype.SOA, dns.name.from_text("ns.test."),
            dns.name.from_text("hostmaster.test."), 1, 3600, 600, 86400, 60,
        )  # fmt: skip
        zone.find_rdataset(dns.name.root, dns.rdatatype.SOA, create=True).add(soa, 300)
        for name, rdatas in records.items():
            owner = dns.name.from_text(name, origin=dns.name.root)
            for rdata in rdatas:
                zone.find_rdataset(owner, rdata.rdtype, create=True).add(rdata, 300)
        return cls(zones=[zone])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FixtureDnsServer:
        self._thread.start()
        ready = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
        ready.result(timeout=5)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._udp.close()
        self._tcp.close()

    async def _serve(self) -> None:
        server = self

        class Udp(asyncio.DatagramProtocol):
            transport: asyncio.DatagramTransport

            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport  # type: ignore[assignment]

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                reply, delay = server.respond(data)
                if reply is None:
                    return
                if delay:
                    server._loop.call_later(delay, self.transport.sendto, reply, addr)
                else:
                    self.transport.sendto(reply, addr)

        await self._loop.create_datagram_endpoint(Udp, sock=self._udp)
        await asyncio.start_server(self._tcp_client, sock=self._tcp)

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply, delay = self.respond(await reader.readexactly(length))
                if reply is None:
                    continue
                if delay:
                    await asyncio.sleep(delay)
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def answer(self, wire: bytes) -> bytes | None:
        """The wire reply to ``wire``, or None to stay silent (a simulated timeout)."""
        return self.respond(wire)[0]

    def respond(self, wire: bytes) -> tuple[bytes | None, float]:
        """The wire reply to ``wire`` (None: stay silent) and how long to wait before it."""
        self.queries += 1
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None, 0.0
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire(), 0.0
        question = query.question[0]
        fault = self.fault_for(question.name, question.rdtype)
        if fault == "timeout":
            return None, 0.0
        if fault in ("servfail", "refused"):
            response.set_rcode(dns.rcode.SERVFAIL if fault == "servfail" else dns.rcode.REFUSED)
            return response.to_wire(), 0.0
        delay = float(fault.removeprefix("delay:")) if fault.startswith("delay:") else 0.0
        self._resolve(question.name, question.rdtype, response)
        # Never truncate: the whole answer goes back whatever its size.
        return response.to_wire(max_size=65535), delay

    def fault_for(self, name: dns.name.Name, rdtype: int) -> str:
        """The fault set for ``name`` queried for ``rdtype``, or "" when it answers normally."""
        key = name.to_text(omit_final_dot=True).lower()
        typed = f"{key}/{dns.rdatatype.to_text(rdtype)}"
        return self.faults.get(typed) or self.faults.get(key) or ""

    def _resolve(self, name: dns.name.Name, rdtype: int, response: dns.message.Message) -> None:
        zone = self._zone_for(name)
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)
            return
        for _ in range(8):  # follow CNAMEs within our zones
            node = zone.get_node(name) or self._wildcard(zone, name)
            if node is None:
                response.set_rcode(dns.rcode.NXDOMAIN if not self._has_below(zone, name) else 0)
                self._add_soa(zone, response)
                return
            rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if rdataset is not None:
                response.answer.append(_rrset(name, rdataset))
                return
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                self._add_soa(zone, response)
                return
            response.answer.append(_rrset(name, cname))
            name = cname[0].target
            next_zone = self._zone_for(name)
            if next_zone is None:
                return
            zone = next_zone

    def _zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        matches = [z for z in self.zones if name.is_subdomain(z.origin)]
        return max(matches, key=lambda z: len(z.origin), default=None)

    def _wildcard(self, zone: dns.zone.Zone, name: dns.name.Name) -> dns.node.Node | None:
        parent = name.parent()
        while parent.is_subdomain(zone.origin):
            node = zone.get_node(dns.name.Name(("*", *parent.labels)))
            if node is not None:
                return node
            if parent == zone.origin:
                break
            parent = parent.parent()
        return None

    def _has_below(self, zone: dns.zone.Zone, name: dns.name.Name) -> bool:
        # An empty non-terminal exists (NODATA, not NXDOMAIN), RFC 8020.
        return any(n != name and n.is_subdomain(name) for n in zone.nodes)

    def _add_soa(self, zone: dns.zone.Zone, response: dns.message.Message) -> None:
        soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        if soa is not None:
            response.authority.append(_rrset(zone.origin, soa))


def _bind_udp_and_tcp(port: int = 0, attempts: int = 50) -> tuple[socket.socket, socket.socket]:
    """A UDP and a listening TCP socket on the same free loopback port.

    The port the system picks for UDP may be taken for TCP (by another test run on the
    same machine, say): then try another.
    """
    for _ in range(attempts):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(64)
        return udp, tcp
    raise OSError(f"no loopback port free for both UDP and TCP after {attempts} attempts")


def _rrset(name: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)
    return rrset


def main() -> None:
    """Serve the fixture zones on a fixed loopback port until interrupted (demo, benchmark)."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=5353)
    parser.add_argument("zones", type=Path, nargs="?", default=Path("fixtures/dns"))
    args = parser.parse_args()
    server = FixtureDnsServer(args.zones, port=args.port).start()
    print(f"serving {len(server.zones)} zones from {args.zones} on {server.address}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
