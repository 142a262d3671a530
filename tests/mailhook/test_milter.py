"""The milter door over a real loopback socket, packet by packet, against a recording hand-off.

What Postfix sends (tests/app/server/test_postfix_milter.py has Postfix itself) written
out as packets: the conversation of a message, the answers it gets, and input that is
not the protocol, which closes the connection and never ends the server.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest

from mailhook import milter_protocol as wire
from mailhook.errors import RefusedCredentials, TemporaryFailure, UnusableMessage
from mailhook.handoff import Receipt
from mailhook.message import Channel, InboundMessage
from mailhook.milter import MilterConfig, RejectedMail
from mailhook.milter_stamp import claimed_authserv_id
from tests.milter_server import MilterThread

AUTHSERV_ID = "intakeguard.desk.example"
# What Postfix 3 offers: protocol 6, every action, every step and "no reply" flag.
POSTFIX_ACTIONS = 0x1FF
POSTFIX_STEPS = 0x1FFFFF


class RecordingHandoff:
    """Keeps what it is given and answers with ``decision``, or raises ``failure``."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.decision = "accepted"
        self.failure: Exception | None = None

    async def submit(self, message: InboundMessage) -> Receipt:
        if self.failure is not None:
            raise self.failure
        self.messages.append(message)
        return Receipt(
            verdict_id=f"verdict-{len(self.messages)}",
            decision=self.decision,
            assurance="authenticated" if self.decision == "accepted" else "none",
            customer="acme" if self.decision == "accepted" else None,
            signature="ed25519:key.signature",
            results=(("spf", "pass"), ("dkim", "pass"), ("dmarc", "pass"), ("arc", "none")),
        )


@pytest.fixture
def handoff() -> RecordingHandoff:
    return RecordingHandoff()


def milter(handoff: RecordingHandoff, **options: object) -> MilterThread:
    config = MilterConfig(
        authserv_id=AUTHSERV_ID, max_message_bytes=10_000, idle_timeout=5, **options
    )  # type: ignore[arg-type]
    return MilterThread(lambda: handoff, config)


@pytest.fixture
def server(handoff: RecordingHandoff) -> Iterator[MilterThread]:
    with milter(handoff) as running:
        yield running


class Mta:
    """The MTA's end of one milter connection."""

    def __init__(self, server: MilterThread) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)

    def send(self, command: bytes, data: bytes = b"") -> None:
        self.sock.sendall(wire.packet(command, data))

    def read(self) -> tuple[bytes, bytes]:
        """One packet: (command, data)."""
        length = struct.unpack(">I", self._exactly(4))[0]
        payload = self._exactly(length)
        return payload[:1], payload[1:]

    def closed(self) -> bool:
        """Whether the milter closed the connection (without sending anything more)."""
        return self.sock.recv(1) == b""

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError(f"closed after {len(data)} of {size} bytes")
            data += chunk
        return data

    def negotiate(self, steps: int = POSTFIX_STEPS) -> tuple[int, int, int]:
        self.send(wire.NEGOTIATE, struct.pack(">III", 6, POSTFIX_ACTIONS, steps))
        command, data = self.read()
        assert command == wire.NEGOTIATE
        version, actions, answered = struct.unpack(">III", data)
        return version, actions, answered

    def envelope(self, *rcpt: bytes) -> None:
        """CONNECT, HELO, MAIL and RCPT as Postfix sends them (no replies negotiated)."""
        self.send(wire.CONNECT, b"mx.acme.pl\x004" + struct.pack(">H", 40000) + b"192.0.2.10\0")
        self.send(wire.MACRO, b"Cj\0postfix.desk.example\0{daemon_name}\0smtpd\0")
        self.send(wire.HELO, b"mx.acme.pl\0")
        self.send(wire.MAIL, b"<jan@acme.pl>\0SIZE=100\0")
        for address in rcpt or (b"support@desk.example",):
            self.send(wire.RCPT, b"<" + address + b">\0")

    def message(self, headers: list[tuple[bytes, bytes]], body: bytes) -> list[tuple[bytes, bytes]]:
        """Headers, end of headers, the body and the end of message; the answer to it."""
        for name, value in headers:
            self.send(wire.HEADER, name + b"\0" + value + b"\0")
        self.send(wire.END_OF_HEADERS)
        self.send(wire.BODY, body)
        self.send(wire.END_OF_MESSAGE)
        answer = [self.read()]
        while answer[-1][0] not in (wire.CONTINUE, wire.REPLY_CODE, wire.ACCEPT):
            answer.append(self.read())
        return answer

    def close(self) -> None:
        self.sock.close()


HEADERS = [
    (b"From", b" Jan Kowalski <jan@acme.pl>"),
    (b"Subject", b" Pytanie\n\to domene acme.pl"),
    (b"Message-ID", b" <1@acme.pl>"),
]
BODY = b"Dzien dobry.\r\n"


def test_negotiation_takes_the_actions_and_steps_the_milter_needs(server: MilterThread) -> None:
    mta = Mta(server)
    version, actions, steps = mta.negotiate()
    assert version == 6
    assert actions == wire.ACTION_ADD_HEADERS | wire.ACTION_CHANGE_HEADERS | wire.ACTION_QUARANTINE
    # No UNKNOWN or DATA callbacks, header values with their leading space, and no
    # reply to any step but the end of the message.
    assert steps == wire.STEPS_WANTED
    assert steps & wire.HEADER_LEADING_SPACE and steps & wire.NO_REPLY_BODY
    mta.close()


def test_a_message_is_handed_over_with_its_envelope_and_bytes_and_stamped(
    server: MilterThread, handoff: RecordingHandoff
) -> None:
    mta = Mta(server)
    mta.negotiate()
    mta.envelope()
    answer = mta.message(HEADERS, BODY)
    [message] = handoff.messages
    assert message.channel is Channel.MILTER
    assert message.raw == (
        b"From: Jan Kowalski <jan@acme.pl>\r\nSubject: Pytanie\r\n\to domene acme.pl\r\n"
        b"Message-ID: <1@acme.pl>\r\n\r\nDzien dobry.\r\n"
    )
    envelope = message.envelope
    assert (envelope.client_ip, envelope.helo, envelope.mail_from, envelope.rcpt) == (
        "192.0.2.10",
        "mx.acme.pl",
        "jan@acme.pl",
        ("support@desk.example",),
    )
    assert envelope.trusted_hop is False
    # Inserted at the top from the last, so that they read in this order; then continue.
    assert answer == [
        insert(b"X-Intakeguard-Signature", b" ed25519:key.signature"),
        insert(
            b"X-Intakeguard-Verdict",
            b" accepted; assurance=authenticated; customer=acme; id=verdict-1",
        ),
        insert(
            b"Authentication-Results",
            b" intakeguard.desk.example; spf=pass; dkim=pass; dmarc=pass; arc=none",
        ),
        (wire.CONTINUE, b""),
    ]
    mta.close()


def insert(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    return wire.INSERT_HEADER, struct.pack(">I", 0) + name + b"\0" + value + b"\0"


def delete(name: bytes, index: int) -> tuple[bytes, bytes]:
    return wire.CHANGE_HEADER, struct.pack(">I", index) + name + b"\0\0"


def test_a_pre_stamped_verdict_is_removed_last_index_first(
    server: MilterThread, handoff: RecordingHandoff
) -> None:
    mta = Mta(server)
    mta.negotiate()
    mta.envelope()
    headers = [
        (b"Authentication-Results", b" mx.other.example; spf=pass"),
        (b"Authentication-Results", b" INTAKEGUARD.desk.example; dmarc=pass"),
        (b"X-Intakeguard-Verdict", b" accepted; id=forged"),
        (b"Authentication-Results", b' (c) "intakeguard.desk.example"; dkim=pass'),
        (b"x-intakeguard-verdict", b" accepted; id=forged-again"),
        *HEADERS,
    ]
    answer = mta.message(headers, BODY)
    assert answer[:4] == [
        # Postfix counts each name's headers from 1, whatever their case.
        delete(b"Authentication-Results", 3),
        delete(b"Authentication-Results", 2),
        delete(b"x-intakeguard-verdict", 2),
        delete(b"X-Intakeguard-Verdict", 1),
    ]
    assert [command for command, _ in answer[4:]] == [wire.INSERT_HEADER] * 3 + [wire.CONTINUE]
    mta.close()


@pytest.mark.parametrize(
    ("failure", "reply"),
    [
        pytest.param(
            TemporaryFailure("DNS timeout for acme.pl"),
            b"451 4.3.0 DNS timeout for acme.pl Please retry later.\0",
            id="a temporary failure is a 451: the client retries",
        ),
        pytest.param(
            RefusedCredentials("token refused"),
            b"451 4.3.0 The service is misconfigured. Please retry later.\0",
            id="refused credentials are a 451 too: our configuration, not the mail",
        ),
        pytest.param(
            RuntimeError("bug"),
            b"451 4.3.0 An internal error occurred. Please retry later.\0",
            id="any other error leaves the message with the client: a 451",
        ),
        pytest.param(
            UnusableMessage("not a message at 100%"),
            b"554 5.6.0 not a message at 100\0",
            id="an unusable message is refused for good, a percent sign left out",
        ),
    ],
)
def test_what_the_hand_off_raises_is_the_reply_code(
    server: MilterThread, handoff: RecordingHandoff, failure: Exception, reply: bytes
) -> None:
    handoff.failure = failure
    mta = Mta(server)
    mta.negotiate()
    mta.envelope()
    assert mta.message(HEADERS, BODY) == [(wire.REPLY_CODE, reply)]
    mta.close()


@pytest.mark.parametrize(
    ("rejected", "expected"),
    [
        pytest.param(RejectedMail.TAG, [wire.INSERT_HEADER] * 3 + [wire.CONTINUE], id="tag"),
        pytest.param(
            RejectedMail.QUARANTINE,
            [wire.INSERT_HEADER] * 3 + [wire.QUARANTINE, wire.CONTINUE],
            id="quarantine: stamped and held",
        ),
        pytest.param(RejectedMail.REJECT, [wire.REPLY_CODE], id="reject: a 550 and no stamp"),
    ],
)
def test_rejected_mail_is_handled_as_milter_rejected_says(
    handoff: RecordingHandoff, rejected: RejectedMail, expected: list[bytes]
) -> None:
    handoff.decision = "rejected"
    with milter(handoff, rejected=rejected) as server:
        mta = Mta(server)
        mta.negotiate()
        mta.envelope()
        answer = mta.message(HEADERS, BODY)
        mta.close()
    assert [command for command, _ in answer] == expected
    if rejected is RejectedMail.REJECT:
        assert answer[0][1].startswith(b"550 5.7.1 ") and b"verdict-1" in answer[0][1]


def test_each_message_of_a_session_is_its_own_and_an_abort_drops_one(
    server: MilterThread, handoff: RecordingHandoff
) -> None:
    mta = Mta(server)
    mta.negotiate()
    mta.envelope()
    mta.send(wire.HEADER, b"Subject\0 dropped\0")
    mta.send(wire.ABORT)
    mta.send(wire.MAIL, b"<>\0")
    mta.send(wire.RCPT, b"<support@desk.example>\0")
    mta.message(HEADERS, BODY)
    mta.send(wire.MAIL, b"<jan@acme.pl>\0")
    mta.send(wire.RCPT, b"<other@desk.example>\0")
    mta.message(HEADERS, b"Second.\r\n")
    first, second = handoff.messages
    assert b"dropped" not in first.raw
    assert first.envelope.mail_from == "" and second.envelope.rcpt == ("other@desk.example",)
    assert second.raw.endswith(b"\r\n\r\nSecond.\r\n")
    mta.close()


def test_without_no_reply_steps_every_step_is_answered_continue(server: MilterThread) -> None:
    mta = Mta(server)
    mta.negotiate(steps=wire.NO_UNKNOWN | wire.NO_DATA)
    for command, data in (
        (wire.CONNECT, b"host\0U"),
        (wire.HELO, b"mx.acme.pl\0"),
        (wire.MAIL, b"<jan@acme.pl>\0"),
        (wire.RCPT, b"<support@desk.example>\0"),
        (wire.HEADER, b"From\0jan@acme.pl\0"),
        (wire.END_OF_HEADERS, b""),
        (wire.BODY, b"text\r\n"),
    ):
        mta.send(command, data)
        assert mta.read() == (wire.CONTINUE, b""), command
    mta.close()


def test_a_message_over_the_limit_is_refused_without_being_handed_over(
    server: MilterThread, handoff: RecordingHandoff
) -> None:
    mta = Mta(server)
    mta.negotiate()
    mta.envelope()
    assert mta.message(HEADERS, b"x" * 10_001) == [
        (wire.REPLY_CODE, b"552 5.3.4 Message larger than 10000 bytes\0")
    ]
    assert handoff.messages == []
    mta.close()


FORGED_STAMP = [
    (b"Authentication-Results", b" intakeguard.desk.example; dmarc=pass"),
    (b"X-Intakeguard-Verdict", b" accepted; id=forged"),
]


@pytest.mark.parametrize(
    ("rcpt", "checked"),
    [
        pytest.param((b"support@desk.example",), True, id="the desk's address"),
        pytest.param((b"Support@DESK.example.",), True, id="in other case, with a trailing dot"),
        pytest.param(
            (b"ola@beta.example", b"sales@desk.example"), True, id="the desk among others"
        ),
        pytest.param((b"ola@beta.example",), False, id="none of the desk's"),
        pytest.param((b'"support@desk.example"@beta.example',), False, id="a quoted look-alike"),
        pytest.param((b"support@desk.example.beta.example",), False, id="a longer domain"),
    ],
)
def test_milter_recipients_choose_the_mail_checked_and_others_lose_a_forged_stamp(
    handoff: RecordingHandoff, rcpt: tuple[bytes, ...], checked: bool
) -> None:
    with milter(handoff, recipients=("@desk.example",)) as server:
        mta = Mta(server)
        mta.negotiate()
        mta.envelope(*rcpt)
        answer = mta.message([*FORGED_STAMP, *HEADERS], BODY)
        mta.close()
    # Either way the forged stamp goes; only the desk's mail is handed over and stamped.
    assert sorted(answer[:2]) == [
        delete(b"Authentication-Results", 1),
        delete(b"X-Intakeguard-Verdict", 1),
    ]
    inserted = [command for command, _ in answer if command == wire.INSERT_HEADER]
    assert (len(handoff.messages), bool(inserted)) == ((1, True) if checked else (0, False))
    assert answer[-1] == (wire.CONTINUE, b"")


def test_mail_not_for_the_desk_over_the_size_limit_goes_on_unchecked(
    handoff: RecordingHandoff,
) -> None:
    with milter(handoff, recipients=("support@desk.example",)) as server:
        mta = Mta(server)
        mta.negotiate()
        mta.envelope(b"ola@beta.example")
        assert mta.message(HEADERS, b"x" * 10_001) == [(wire.CONTINUE, b"")]
        mta.envelope(b"support@desk.example")
        assert mta.message(HEADERS, b"x" * 10_001)[0][0] == wire.REPLY_CODE
        mta.close()
    assert handoff.messages == []


NEGOTIATED = wire.packet(wire.NEGOTIATE, struct.pack(">III", 6, POSTFIX_ACTIONS, POSTFIX_STEPS))


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"\x00\x00\x00\x00", id="a packet of length 0"),
        pytest.param(b"\x7f\xff\xff\xff" + b"O", id="a packet of 2 GiB announced"),
        pytest.param(struct.pack(">I", wire.MAX_PACKET + 1), id="one byte over the limit"),
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="HTTP"),
        pytest.param(wire.packet(wire.MAIL, b"<a@b>\0"), id="a command before negotiation"),
        pytest.param(wire.packet(wire.NEGOTIATE, b"\0\0\0\6"), id="a short negotiation"),
        pytest.param(
            wire.packet(wire.NEGOTIATE, struct.pack(">III", 2, POSTFIX_ACTIONS, 0)),
            id="protocol version 2",
        ),
        pytest.param(
            wire.packet(wire.NEGOTIATE, struct.pack(">III", 6, 0x01, POSTFIX_STEPS)),
            id="an MTA that does not allow changing headers",
        ),
        pytest.param(NEGOTIATED + wire.packet(b"Z"), id="an unknown command"),
        pytest.param(NEGOTIATED + wire.packet(wire.END_OF_MESSAGE), id="an end with no MAIL"),
        pytest.param(NEGOTIATED + wire.packet(wire.HEADER, b"From\0x\0"), id="a header, no MAIL"),
        pytest.param(NEGOTIATED + wire.packet(wire.CONNECT, b"host\x009"), id="family 9"),
        pytest.param(NEGOTIATED + wire.packet(wire.CONNECT, b"host"), id="a CONNECT cut short"),
        pytest.param(NEGOTIATED + wire.packet(wire.HELO, b"no NUL"), id="a string without NUL"),
        pytest.param(
            NEGOTIATED + wire.packet(wire.MAIL, b"<a@b>\0") + wire.packet(wire.HEADER, b"From\0"),
            id="a header without its value",
        ),
        pytest.param(NEGOTIATED + wire.packet(wire.MACRO, b"Cj\0"), id="a macro without value"),
        pytest.param(NEGOTIATED + wire.packet(wire.MACRO), id="a macro without its stage"),
        pytest.param(NEGOTIATED[:7], id="a negotiation cut short, then silence"),
    ],
)
def test_what_is_not_the_protocol_closes_the_connection_and_the_milter_goes_on(
    server: MilterThread, handoff: RecordingHandoff, garbage: bytes
) -> None:
    mta = Mta(server)
    mta.sock.sendall(garbage)
    if garbage.startswith(NEGOTIATED):
        assert mta.read()[0] == wire.NEGOTIATE
    if garbage == NEGOTIATED[:7]:
        mta.sock.shutdown(socket.SHUT_WR)
    # Closed, with nothing said that an MTA could take as an answer: it applies its
    # milter_default_action (tempfail), and nothing passes unchecked.
    assert mta.closed()
    mta.close()
    # The milter serves the next connection.
    healthy = Mta(server)
    healthy.negotiate()
    healthy.envelope()
    assert healthy.message(HEADERS, BODY)[-1] == (wire.CONTINUE, b"")
    healthy.close()
    assert len(handoff.messages) == 1


@pytest.mark.parametrize(
    ("value", "claimed"),
    [
        ("intakeguard.desk.example; spf=pass", "intakeguard.desk.example"),
        ("  INTAKEGUARD.Desk.Example ; dkim=pass", "intakeguard.desk.example"),
        ('"intakeguard.desk.example"; dmarc=pass', "intakeguard.desk.example"),
        ("(our server) intakeguard.desk.example 1; none", "intakeguard.desk.example"),
        ("intakeguard.desk.example;garbage(((", "intakeguard.desk.example"),
        ("mx.other.example; spf=pass", "mx.other.example"),
        ("", None),
        ("; spf=pass", None),
    ],
)
def test_the_authserv_id_a_results_header_claims(value: str, claimed: str | None) -> None:
    assert claimed_authserv_id(value) == claimed


def test_a_header_name_that_is_not_utf8_is_refused_cleanly(
    server: MilterThread, handoff: RecordingHandoff
) -> None:
    mta = Mta(server)
    mta.negotiate()
    mta.envelope()
    [(command, reply)] = mta.message([(b"X-Intakeguard-\xff", b" forged"), *HEADERS], BODY)
    # Not a message we can read, so not one we can record: refused for good (554).
    assert command == wire.REPLY_CODE and reply.startswith(b"554 5.6.0 "), reply
    assert handoff.messages == []
    mta.close()


def test_a_name_read_from_the_mta_goes_back_as_the_same_bytes() -> None:
    (name,) = wire.strings(b"X-Intakeguard-\xff\0")
    assert wire.header_action(wire.CHANGE_HEADER, 1, name, "") == wire.packet(
        wire.CHANGE_HEADER, b"\0\0\0\x01X-Intakeguard-\xff\0\0"
    )
