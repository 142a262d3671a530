"""Clients that would tie the receiver up: many sessions from one address, idle, NOOPing,
trickling DATA; and what an envelope may hold (control characters, a repeated RCPT)."""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from mailhook import smtp_limits
from mailhook.smtp_config import SmtpConfig
from mailhook.smtp_limits import client_key
from tests.mailhook.test_smtp import DESK, RecordingHandoff, proxied_session, receiver
from tests.mailhook.test_smtp_hostile import RawClient, open_transaction
from tests.smtp_server import SmtpThread


@pytest.fixture
def handoff() -> RecordingHandoff:
    return RecordingHandoff()


def limit_hits(limit: str) -> float:
    value = REGISTRY.get_sample_value("intakeguard_smtp_limit_hits_total", {"limit": limit})
    return value or 0.0


def connect_from(source: str, port: int) -> socket.socket:
    """A connection from ``source``: Linux routes all of 127/8 to the loopback interface."""
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


class RawClientFrom(RawClient):
    def __init__(self, port: int, source: str) -> None:
        self.socket = connect_from(source, port)
        self.buffer = b""
        self.greeting = self.reply()


def until_closed(client: RawClient) -> tuple[bytes, float]:
    """What the server says until it hangs up, and how long that took."""
    started = time.monotonic()
    received = client.buffer
    while chunk := client.socket.recv(100):
        received += chunk
    return received, time.monotonic() - started


def test_idle_and_trickling_clients_from_several_addresses_leave_room_for_a_sender(
    handoff: RecordingHandoff,
) -> None:
    options = {"max_sessions": 10, "max_sessions_per_client": 3, "idle_timeout": 5.0}
    with receiver(handoff, **options) as server:
        held: list[RawClientFrom] = []
        refused: list[bytes] = []
        trickle = threading.Event()
        try:
            for source in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
                for index in range(5):
                    client = RawClientFrom(server.port, source)
                    if not client.greeting.startswith(b"220"):
                        refused.append(client.greeting)
                        client.close()
                        continue
                    held.append(client)
                    if index == 0:
                        # One of each address trickles a message, a byte at a time.
                        open_transaction(client)
            assert len(held) == 9
            assert len(refused) == 6
            assert all(
                reply.startswith(b"421 4.7.0 Too many connections from your address")
                for reply in refused
            )

            def trickler() -> None:
                while not trickle.wait(0.05):
                    for client in held[::3]:
                        client.socket.sendall(b"x")

            threading.Thread(target=trickler, daemon=True).start()
            with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as sender:
                sender.ehlo("mx.acme.pl")
                # sendmail raises on anything but 250 for the message.
                refusals = sender.sendmail(
                    "jan@acme.pl", [DESK], b"From: jan@acme.pl\r\nSubject: hi\r\n\r\nhi\r\n"
                )
            assert refusals == {}
        finally:
            trickle.set()
            for client in held:
                client.close()
    assert [message.parsed["Subject"] for message in handoff.messages] == ["hi"]


def test_the_per_address_cap_is_counted_in_metrics(handoff: RecordingHandoff) -> None:
    before = limit_hits("sessions_per_client")
    with receiver(handoff, max_sessions_per_client=1) as server:
        first = RawClientFrom(server.port, "127.0.0.2")
        second = RawClientFrom(server.port, "127.0.0.2")
        assert second.greeting.startswith(b"421 4.7.0")
        first.close()
        second.close()
    assert limit_hits("sessions_per_client") == before + 1


def test_a_session_slot_is_given_back_when_its_client_leaves(handoff: RecordingHandoff) -> None:
    with receiver(handoff, max_sessions_per_client=1) as server:
        RawClientFrom(server.port, "127.0.0.2").close()
        time.sleep(0.2)
        client = RawClientFrom(server.port, "127.0.0.2")
        assert client.greeting.startswith(b"220")
        client.close()


def test_trusted_relays_are_not_capped_per_address(handoff: RecordingHandoff) -> None:
    relay = (ipaddress.ip_network("127.0.0.5/32"),)
    with receiver(handoff, max_sessions_per_client=1, trusted_relays=relay) as server:
        clients = [RawClientFrom(server.port, "127.0.0.5") for _ in range(3)]
        assert all(client.greeting.startswith(b"220") for client in clients)
        for client in clients:
            client.close()


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        pytest.param("192.0.2.1", "192.0.2.1", True, id="an IPv4 address is itself"),
        pytest.param("192.0.2.1", "192.0.2.2", False, id="IPv4 neighbours are apart"),
        pytest.param("2001:db8::1", "2001:db8::ffff:2", True, id="one IPv6 /64 is one client"),
        pytest.param("2001:db8::1", "2001:db8:0:1::1", False, id="another /64 is another"),
        pytest.param("::ffff:192.0.2.1", "192.0.2.1", True, id="a mapped IPv4 is the IPv4"),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_by_slash_64(
    one: str, other: str, same: bool
) -> None:
    assert (client_key(one) == client_key(other)) is same


def test_an_idle_client_is_told_421_and_closed_after_the_idle_timeout(
    handoff: RecordingHandoff,
) -> None:
    before = limit_hits("idle")
    with receiver(handoff, idle_timeout=0.5) as server:
        client = RawClient(server.port)
        assert client.send(b"EHLO mx.acme.pl\r\n").startswith(b"250")
        received, elapsed = until_closed(client)
        client.close()
    assert received.startswith(b"421 4.4.2")
    assert 0.3 < elapsed < 3
    assert limit_hits("idle") == before + 1


def test_noop_does_not_hold_a_session_past_the_session_limit(handoff: RecordingHandoff) -> None:
    before = limit_hits("session_time")
    with receiver(handoff, idle_timeout=0.5, session_timeout=1.5) as server:
        client = RawClient(server.port)
        started = time.monotonic()
        replies = []
        while (reply := client.send(b"NOOP\r\n")).startswith(b"250"):
            replies.append(reply)
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        client.close()
    assert reply.startswith(b"421 4.4.2")
    assert len(replies) >= 3  # NOOP did keep the idle timeout away
    assert 1.2 < elapsed < 4
    assert limit_hits("session_time") == before + 1


def test_trickled_data_is_cut_with_a_421_and_nothing_is_recorded(
    handoff: RecordingHandoff,
) -> None:
    before = limit_hits("data_rate")
    with receiver(handoff, idle_timeout=5.0, data_timeout=0.5, data_min_rate=1000) as server:
        client = RawClient(server.port)
        open_transaction(client)
        client.socket.settimeout(0.1)
        started = time.monotonic()
        received = b""
        while time.monotonic() - started < 5:
            try:
                client.socket.sendall(b"x")
                chunk = client.socket.recv(100)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            received += chunk
        elapsed = time.monotonic() - started
        client.close()
    assert received.startswith(b"421 4.4.2")
    assert elapsed < 3
    assert handoff.messages == []
    assert limit_hits("data_rate") == before + 1


def test_data_at_a_sound_rate_is_taken_whatever_its_length(handoff: RecordingHandoff) -> None:
    with receiver(handoff, data_timeout=0.3, data_min_rate=20_000) as server:
        client = RawClient(server.port)
        open_transaction(client)
        client.socket.sendall(b"From: jan@acme.pl\r\n\r\n")
        for _ in range(8):
            # 0.1 s apart: longer than the data timeout in all, but fast enough for its size.
            client.socket.sendall((b"y" * 900 + b"\r\n") * 10)
            time.sleep(0.1)
        assert client.send(b".\r\n").startswith(b"250")
        client.close()
    assert len(handoff.messages) == 1


@pytest.fixture
def smtp(handoff: RecordingHandoff) -> Iterator[SmtpThread]:
    with receiver(handoff, max_recipients=2) as server:
        yield server


@pytest.mark.parametrize(
    ("command", "code"),
    [
        pytest.param(b"EHLO mx\x00.acme.pl", b"501", id="NUL in EHLO"),
        pytest.param(b"HELO mx.acme.pl\x01", b"501", id="SOH in HELO"),
        pytest.param(b"EHLO mx\x7f.acme.pl", b"501", id="DEL in EHLO"),
        pytest.param(b"EHLO mx\xc2\x85.acme.pl", b"501", id="a C1 control in EHLO"),
    ],
)
def test_control_characters_in_helo_are_refused(
    smtp: SmtpThread, command: bytes, code: bytes
) -> None:
    client = RawClient(smtp.port)
    assert client.send(command + b"\r\n").startswith(code + b" 5.5.2")
    client.close()


@pytest.mark.parametrize(
    "mail_from",
    [
        pytest.param(b"<ja\x00n@acme.pl>", id="NUL"),
        pytest.param(b"<jan@acme\x1b.pl>", id="ESC"),
        pytest.param(b'<"ja\x7fn"@acme.pl>', id="DEL quoted"),
    ],
)
def test_control_characters_in_mail_from_are_refused(
    smtp: SmtpThread, handoff: RecordingHandoff, mail_from: bytes
) -> None:
    client = RawClient(smtp.port)
    assert client.send(b"EHLO mx.acme.pl\r\n").startswith(b"250")
    assert client.send(b"MAIL FROM:" + mail_from + b"\r\n").startswith(b"553 5.1.7")
    client.close()


def test_control_characters_in_rcpt_to_are_refused(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    client = RawClient(smtp.port)
    assert client.send(b"EHLO mx.acme.pl\r\n").startswith(b"250")
    assert client.send(b"MAIL FROM:<jan@acme.pl>\r\n").startswith(b"250")
    assert client.send(b"RCPT TO:<support\x00@hosting.example>\r\n").startswith(b"553 5.1.3")
    assert client.send(b"RCPT TO:<d\x08@desk.example>\r\n").startswith(b"553 5.1.3")
    # No recipient was taken: there is nothing to send data to.
    assert client.send(b"DATA\r\n").startswith(b"503")
    client.close()
    assert handoff.messages == []


def test_a_repeated_recipient_counts_once(smtp: SmtpThread, handoff: RecordingHandoff) -> None:
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client:
        client.ehlo("mx.acme.pl")
        client.mail("jan@acme.pl")
        codes = [
            client.rcpt(address)[0]
            for address in (DESK, DESK, "Support@Hosting.Example", "d1@desk.example")
        ]
        client.data(b"From: jan@acme.pl\r\n\r\nhi\r\n")
    # max_recipients=2: the repeats took no place of the second address.
    assert codes == [250, 250, 250, 250]
    assert handoff.messages[0].envelope.rcpt == (DESK, "d1@desk.example")


def test_control_characters_forwarded_in_xforward_are_refused(handoff: RecordingHandoff) -> None:
    # RFC 3461 §4 xtext: "+00" is a NUL; a relay's client gets no more than a client.
    relay = (ipaddress.ip_network("127.0.0.1/32"),)
    with receiver(handoff, trusted_relays=relay) as server:
        client = RawClient(server.port)
        assert client.send(b"EHLO relay.hosting.example\r\n").startswith(b"250")
        reply = client.send(b"XFORWARD ADDR=192.0.2.9 HELO=mx+00.acme.pl\r\n")
        assert reply.startswith(b"501 5.5.4")
        assert client.send(b"XFORWARD NAME=mx+0A.acme.pl\r\n").startswith(b"501 5.5.4")
        assert client.send(b"XFORWARD HELO=mx.acme.pl\r\n").startswith(b"250")
        client.close()


def test_behind_a_trusted_proxy_the_client_it_names_is_capped(handoff: RecordingHandoff) -> None:
    # The proxy itself is a trusted relay; the clients its PROXY headers name are not.
    proxy = (ipaddress.ip_network("127.0.0.1/32"),)
    options = {"proxy_protocol": True, "trusted_relays": proxy, "max_sessions_per_client": 1}
    with receiver(handoff, **options) as server:
        sessions = []
        for client in ("203.0.113.7", "203.0.113.7", "203.0.113.8"):
            header = f"PROXY TCP4 {client} 127.0.0.1 5555 25\r\n".encode()
            sessions.append(proxied_session(server.port, header))
            time.sleep(0.05)
        greetings = [connection.recv(200) for connection in sessions]
        for connection in sessions:
            connection.close()
    assert greetings[0].startswith(b"220")
    assert greetings[1].startswith(b"421 4.7.0 Too many connections from your address")
    assert greetings[2].startswith(b"220")


def test_clients_that_stopped_connecting_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every address ever seen stayed in the per-minute windows: memory grew with each new
    # client for as long as the receiver ran.
    clock = [1000.0]
    monkeypatch.setattr(smtp_limits.time, "monotonic", lambda: clock[0])
    config = SmtpConfig(
        recipients=(DESK,), max_sessions_per_client=5, max_connections_per_minute=30
    )
    admission = smtp_limits.Admission()
    for number in range(smtp_limits.SWEEP_EVERY - 1):
        client = f"198.51.{number // 250}.{number % 250}"
        assert admission.charge(config, client) is None
    clock[0] += 61
    admission.charge(config, "203.0.113.9")
    assert set(admission.recent) == {"203.0.113.9"}
