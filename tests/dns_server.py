"""An authoritative DNS server for the tests, on loopback, serving ``fixtures/dns/*.zone``.

It answers over UDP and TCP, never sets the TC bit (the full answer always goes back),
and can be told to time out or answer SERVFAIL/REFUSED for chosen names.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone


class FixtureDnsServer:
    """Serves every zone file in a directory; ``faults`` maps names to a failure."""

    def __init__(self, zone_dir: Path) -> None:
        self.zones: list[dns.zone.Zone] = []
        for path in sorted(zone_dir.glob("*.zone")):
            origin = path.stem + "."
            self.zones.append(dns.zone.from_file(str(path), origin=origin, relativize=False))
        # name (lower-case, no trailing dot) -> "timeout" | "servfail" | "refused"
        self.faults: dict[str, str] = {}
        self.queries = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind(("127.0.0.1", 0))
        self.port: int = self._udp.getsockname()[1]
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._tcp.bind(("127.0.0.1", self.port))
        self._tcp.listen(64)

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
                reply = server.answer(data)
                if reply is not None:
                    self.transport.sendto(reply, addr)

        await self._loop.create_datagram_endpoint(Udp, sock=self._udp)
        await asyncio.start_server(self._tcp_client, sock=self._tcp)

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self.answer(await reader.readexactly(length))
                if reply is None:
                    continue
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def answer(self, wire: bytes) -> bytes | None:
        """The wire reply to ``wire``, or None to stay silent (a simulated timeout)."""
        self.queries += 1
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        fault = self.faults.get(question.name.to_text(omit_final_dot=True).lower())
        if fault == "timeout":
            return None
        if fault in ("servfail", "refused"):
            response.set_rcode(dns.rcode.SERVFAIL if fault == "servfail" else dns.rcode.REFUSED)
            return response.to_wire()
        self._resolve(question.name, question.rdtype, response)
        # Never truncate: the whole answer goes back whatever its size.
        return response.to_wire(max_size=65535)

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


def _rrset(name: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)
    return rrset
