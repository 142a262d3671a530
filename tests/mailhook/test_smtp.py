"""The SMTP door with real smtplib sessions on loopback, against a recording hand-off."""

from __future__ import annotations

import asyncio
import ipaddress
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mailhook.errors import RefusedCredentials, TemporaryFailure
from mailhook.handoff import Receipt
from mailhook.message import Channel, InboundMessage
from mailhook.smtp_config import SmtpConfig
from tests.smtp_server import SmtpThread
from tests.support import make_message

DESK = "support@hosting.example"


class RecordingHandoff:
    """A real hand-off that keeps what it is given; it can be told to fail or to wait."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.failure: Exception | None = None
        self.gate: asyncio.Event | None = None
        self.entered = 0

    async def submit(self, message: InboundMessage) -> Receipt:
        self.entered += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        self.messages.append(message)
        return Receipt(
            verdict_id=f"v{len(self.messages)}",
            decision="review",
            assurance="none",
            customer=None,
            signature="unsigned",
            results=(),
        )


@pytest.fixture
def handoff() -> RecordingHandoff:
    return RecordingHandoff()


def receiver(handoff: RecordingHandoff, **options: object) -> SmtpThread:
    values: dict[str, object] = {
        "recipients": (DESK, "@desk.example"),
        "max_message_bytes": 100_000,
        "trusted_relays": (),
    }
    values.update(options)
    return SmtpThread(lambda: handoff, SmtpConfig(**values))  # type: ignore[arg-type]


@pytest.fixture
def smtp(handoff: RecordingHandoff) -> Iterator[SmtpThread]:
    with receiver(handoff) as server:
        yield server


def session(server: SmtpThread) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", server.port, timeout=10)
    client.ehlo("mx.acme.pl")
    return client


def test_a_message_is_acknowledged_with_its_verdict_id(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    raw = make_message()
    with session(smtp) as client:
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        code, reply = client.data(raw)
    assert code == 250
    assert reply == b"2.0.0 Ok: recorded v1"
    [message] = handoff.messages
    assert message.raw == raw
    assert message.channel is Channel.SMTP
    assert message.envelope.client_ip == "127.0.0.1"
    assert message.envelope.helo == "mx.acme.pl"
    assert message.envelope.mail_from == "jan@acme.pl"
    assert message.envelope.rcpt == (DESK,)


def test_mail_for_other_addresses_is_refused_at_rcpt(smtp: SmtpThread) -> None:
    with session(smtp) as client:
        client.mail("jan@acme.pl")
        code, reply = client.rcpt("someone@elsewhere.example")
        assert code == 550
        assert reply.startswith(b"5.1.1 <someone@elsewhere.example>")
        # A whole domain may be accepted.
        assert client.rcpt("anyone@desk.example")[0] == 250


def test_the_recipient_check_reads_trailing_dots_and_u_labels() -> None:
    config = SmtpConfig(recipients=("desk@żółw.pl", "@desk.example"))
    assert config.accepts("DESK@xn--w-uga1v8h.pl.")
    assert config.accepts("anyone@DESK.example.")
    assert not config.accepts('"desk@żółw.pl"@elsewhere.example')
    assert not config.accepts("<>")


@pytest.mark.parametrize(
    ("recipient", "code"),
    [
        # RFC 5321 §4.1.2: the domain follows the quoted local part, "@" inside it or not.
        pytest.param('"support@hosting.example"@elsewhere.example', 550, id="quoted @ elsewhere"),
        pytest.param('"anyone@elsewhere.example"@desk.example', 250, id="quoted @ at our domain"),
        pytest.param('"support"@hosting.example', 250, id="quoted desk address"),
        pytest.param("SUPPORT@Hosting.Example", 250, id="case"),
        pytest.param("<@relay.example:support@hosting.example>", 250, id="source route"),
        # aiosmtpd refuses the syntax itself (553) before our check.
        pytest.param("support@hosting.example@elsewhere.example", 553, id="two @ unquoted"),
    ],
)
def test_recipients_are_read_by_the_one_address_parser(
    smtp: SmtpThread, recipient: str, code: int
) -> None:
    with session(smtp) as client:
        client.mail("jan@acme.pl")
        assert (
            client.docmd("RCPT TO:", f"<{recipient}>" if recipient[0] != "<" else recipient)[0]
            == code
        )


def test_the_size_limit_is_advertised_and_enforced(smtp: SmtpThread) -> None:
    with session(smtp) as client:
        assert client.esmtp_features["size"] == "100000"
        assert "smtputf8" in client.esmtp_features
        assert "8bitmime" in client.esmtp_features
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        code, reply = client.data(make_message(body=("x" * 70 + "\n") * 1500))
    assert code == 552
    # aiosmtpd answers this one itself (RFC 1870 §6.3), before any hook runs.
    assert reply == b"Error: Too much mail data"


@pytest.mark.parametrize(
    ("failure", "code", "text"),
    [
        (TemporaryFailure("DNS query for acme.pl TXT timed out."), 451, b"4.3.0 DNS query"),
        (RefusedCredentials("no"), 451, b"4.3.0 The service is misconfigured."),
        (RuntimeError("bug"), 451, b"4.3.0 An internal error occurred."),
    ],
)
def test_trouble_is_a_temporary_failure_so_the_sender_retries(
    smtp: SmtpThread, handoff: RecordingHandoff, failure: Exception, code: int, text: bytes
) -> None:
    handoff.failure = failure
    with session(smtp) as client:
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        reply = client.data(make_message())
    assert reply[0] == code
    assert reply[1].startswith(text)
    assert handoff.messages == []


def test_input_that_is_no_message_is_refused_permanently(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    with session(smtp) as client:
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        code, reply = client.data(b'{"not": "a message"}\r\n')
    assert code == 554
    assert b"no RFC 5322 header section" in reply
    assert handoff.messages == []


def test_xforward_is_refused_from_an_untrusted_peer(smtp: SmtpThread) -> None:
    with session(smtp) as client:
        assert "xforward" not in client.esmtp_features
        code, reply = client.docmd("XFORWARD", "ADDR=203.0.113.9 HELO=evil.example")
    assert code == 550
    assert b"trusted relays" in reply


def test_xforward_from_a_trusted_relay_supplies_client_ip_and_helo(
    handoff: RecordingHandoff,
) -> None:
    trusted = (ipaddress.ip_network("127.0.0.0/8"),)
    with receiver(handoff, trusted_relays=trusted) as server, session(server) as client:
        assert "xforward" in client.esmtp_features
        assert client.docmd("XFORWARD", "NAME=mx.acme.pl ADDR=192.0.2.10")[0] == 250
        assert client.docmd("XFORWARD", "HELO=mx.acme.pl PROTO=ESMTP")[0] == 250
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        assert client.data(make_message())[0] == 250
        # The attributes held for that transaction only.
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        assert client.data(make_message())[0] == 250
        assert client.docmd("XFORWARD", "ADDR=not-an-ip")[0] == 501
    first, second = handoff.messages
    assert (first.envelope.client_ip, first.envelope.helo) == ("192.0.2.10", "mx.acme.pl")
    assert (second.envelope.client_ip, second.envelope.helo) == ("127.0.0.1", "mx.acme.pl")
    # Both came through our relay, with or without XFORWARD: a hop declared ours.
    assert first.envelope.trusted_hop and second.envelope.trusted_hop


def test_mail_straight_from_a_client_is_no_trusted_hop(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    # Class 7 of issue 13: the sending client itself connected, so whatever
    # Authentication-Results it carries, no server of ours wrote them.
    with session(smtp) as client:
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        assert client.data(make_message())[0] == 250
    assert handoff.messages[0].envelope.trusted_hop is False


def test_what_xforward_leaves_out_is_unknown_not_the_relays_own(
    handoff: RecordingHandoff,
) -> None:
    trusted = (ipaddress.ip_network("127.0.0.0/8"),)
    with receiver(handoff, trusted_relays=trusted) as server, session(server) as client:
        # Postfix omits HELO when the client gave none: it must not become the relay's.
        assert client.docmd("XFORWARD", "ADDR=192.0.2.10 PROTO=SMTP")[0] == 250
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        assert client.data(make_message())[0] == 250
        # An aborted transaction's XFORWARD does not carry over to the next one.
        assert client.docmd("XFORWARD", "ADDR=192.0.2.99 HELO=other.example")[0] == 250
        client.rset()
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        assert client.data(make_message())[0] == 250
    first, second = handoff.messages
    assert (first.envelope.client_ip, first.envelope.helo) == ("192.0.2.10", None)
    assert (second.envelope.client_ip, second.envelope.helo) == ("127.0.0.1", "mx.acme.pl")


def test_a_slow_verification_does_not_stall_other_sessions(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    gate = asyncio.Event()
    handoff.gate = gate
    results: list[tuple[int, bytes]] = []

    def slow_client() -> None:
        with session(smtp) as client:
            client.mail("jan@acme.pl")
            client.rcpt(DESK)
            results.append(client.data(make_message()))

    thread = threading.Thread(target=slow_client)
    thread.start()
    try:
        # While the first message waits for its verdict, a second session is served.
        with session(smtp) as other:
            assert other.noop()[0] == 250
            other.mail("ola@acme.pl")
            assert other.rcpt(DESK)[0] == 250
    finally:
        smtp.loop.call_soon_threadsafe(gate.set)
        thread.join(timeout=10)
    assert results and results[0][0] == 250


def test_big_messages_are_checked_a_few_at_a_time_and_the_rest_wait(
    handoff: RecordingHandoff,
) -> None:
    gate = asyncio.Event()
    handoff.gate = gate
    results: list[tuple[int, bytes]] = []

    def sender(server: SmtpThread, subject: str) -> None:
        with session(server) as client:
            client.mail("jan@acme.pl")
            client.rcpt(DESK)
            results.append(client.data(make_message(subject=subject, body="x\n" * 2000)))

    # Each message is bigger than the budget: one is checked at a time.
    with receiver(handoff, max_checking_bytes=1000) as server:
        threads = [threading.Thread(target=sender, args=(server, s)) for s in ("one", "two")]
        for thread in threads:
            thread.start()
        try:
            time.sleep(0.5)
            assert handoff.entered == 1  # the other one waits with its raw bytes only
            # Waiting messages hold up no other session's commands.
            with session(server) as other:
                assert other.noop()[0] == 250
                other.mail("ola@acme.pl")
                assert other.rcpt(DESK)[0] == 250
        finally:
            server.loop.call_soon_threadsafe(gate.set)
            for thread in threads:
                thread.join(timeout=10)
    assert [code for code, _ in results] == [250, 250]
    assert handoff.entered == 2
    assert {message.parsed["Subject"] for message in handoff.messages} == {"one", "two"}


def test_too_many_sessions_get_a_421(handoff: RecordingHandoff) -> None:
    with receiver(handoff, max_sessions=1) as server, session(server):
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", server.port, timeout=10)
        assert refused.value.smtp_code == 421


def test_a_client_connecting_too_often_gets_a_421(handoff: RecordingHandoff) -> None:
    with receiver(handoff, max_connections_per_minute=2) as server:
        for _ in range(2):
            session(server).quit()
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", server.port, timeout=10)
        assert refused.value.smtp_code == 421
        assert b"Too many connections from 127.0.0.1" in refused.value.smtp_error


def test_too_many_recipients_get_a_452(handoff: RecordingHandoff) -> None:
    with receiver(handoff, max_recipients=3) as server, session(server) as client:
        client.mail("jan@acme.pl")
        codes = [client.rcpt(f"d{i}@desk.example")[0] for i in range(5)]
    assert codes == [250, 250, 250, 452, 452]


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def test_starttls_is_offered_when_a_certificate_is_configured(
    handoff: RecordingHandoff, tmp_path: Path
) -> None:
    context = self_signed_context(tmp_path)
    with receiver(handoff, tls_context=context) as server, session(server) as client:
        assert "starttls" in client.esmtp_features
        client_context = ssl.create_default_context()
        client_context.check_hostname = False
        client_context.verify_mode = ssl.CERT_NONE
        assert client.starttls(context=client_context)[0] == 220
        client.ehlo("mx.acme.pl")
        client.mail("jan@acme.pl")
        client.rcpt(DESK)
        assert client.data(make_message())[0] == 250
    assert len(handoff.messages) == 1


def proxied_session(port: int, header: bytes) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(header)
    return connection


def test_a_proxy_header_from_a_trusted_proxy_names_the_client(
    handoff: RecordingHandoff,
) -> None:
    trusted = (ipaddress.ip_network("127.0.0.1/32"),)
    with receiver(handoff, proxy_protocol=True, trusted_relays=trusted) as server:
        connection = proxied_session(server.port, b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 25\r\n")
        with smtplib.SMTP() as client:
            client.sock = connection
            client.file = None
            assert client.getreply()[0] == 220
            client.ehlo("mx.acme.pl")
            client.mail("jan@acme.pl")
            client.rcpt(DESK)
            assert client.data(make_message())[0] == 250
    assert handoff.messages[0].envelope.client_ip == "203.0.113.7"
    # The proxy passes the client's own SMTP session through: that client is the hop.
    assert handoff.messages[0].envelope.trusted_hop is False


def test_a_proxy_header_from_anyone_else_closes_the_connection(
    handoff: RecordingHandoff,
) -> None:
    with receiver(handoff, proxy_protocol=True) as server:
        connection = proxied_session(server.port, b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 25\r\n")
        with connection:
            assert connection.recv(100) == b""
    assert handoff.messages == []
