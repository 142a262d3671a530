"""Hostile SMTP clients: smuggling, long lines, NULs, broken sessions, slow clients."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.mailhook.test_smtp import DESK, RecordingHandoff, receiver
from tests.smtp_server import SmtpThread


@pytest.fixture
def handoff() -> RecordingHandoff:
    return RecordingHandoff()


@pytest.fixture
def smtp(handoff: RecordingHandoff) -> Iterator[SmtpThread]:
    with receiver(handoff, idle_timeout=1.0) as server:
        yield server


class RawClient:
    """A byte-level SMTP client, for what smtplib would refuse to send."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        assert self.reply().startswith(b"220")

    def reply(self) -> bytes:
        """One complete (possibly multi-line) reply."""
        while True:
            lines = self.buffer.split(b"\r\n")
            for index, line in enumerate(lines[:-1]):
                if len(line) >= 4 and line[3:4] == b" ":
                    reply = b"\r\n".join(lines[: index + 1])
                    self.buffer = b"\r\n".join(lines[index + 1 :])
                    return reply
            chunk = self.socket.recv(65536)
            if not chunk:
                return b""
            self.buffer += chunk

    def send(self, data: bytes) -> bytes:
        self.socket.sendall(data)
        return self.reply()

    def close(self) -> None:
        self.socket.close()


def open_transaction(client: RawClient) -> None:
    assert client.send(b"EHLO mx.acme.pl\r\n").startswith(b"250")
    assert client.send(b"MAIL FROM:<jan@acme.pl>\r\n").startswith(b"250")
    assert client.send(b"RCPT TO:<" + DESK.encode() + b">\r\n").startswith(b"250")
    assert client.send(b"DATA\r\n").startswith(b"354")


def test_bare_lf_dot_does_not_end_the_message(smtp: SmtpThread, handoff: RecordingHandoff) -> None:
    # SMTP smuggling: only <CR><LF>.<CR><LF> ends DATA (RFC 5321 §4.1.1.4), so a
    # second message hidden behind <LF>.<LF> stays part of the first.
    client = RawClient(smtp.port)
    open_transaction(client)
    reply = client.send(
        b"From: jan@acme.pl\nSubject: one\n\nhello\n.\nMAIL FROM:<evil@x.example>\r\n.\r\n"
    )
    assert reply.startswith(b"250 2.0.0 Ok: recorded")
    client.close()
    [message] = handoff.messages
    assert b"MAIL FROM:<evil@x.example>" in message.raw


def test_pipelined_commands_are_answered_in_order(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    client = RawClient(smtp.port)
    client.send(b"EHLO mx.acme.pl\r\n")
    client.socket.sendall(
        b"MAIL FROM:<jan@acme.pl>\r\nRCPT TO:<nobody@elsewhere.example>\r\n"
        b"RCPT TO:<" + DESK.encode() + b">\r\nDATA\r\n"
    )
    assert client.reply().startswith(b"250")
    assert client.reply().startswith(b"550 5.1.1")
    assert client.reply().startswith(b"250")
    assert client.reply().startswith(b"354")
    assert client.send(b"From: jan@acme.pl\r\n\r\nhi\r\n.\r\n").startswith(b"250")
    client.close()
    assert handoff.messages[0].envelope.rcpt == (DESK,)


def test_a_line_over_998_bytes_is_refused_and_nothing_is_recorded(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    client = RawClient(smtp.port)
    open_transaction(client)
    reply = client.send(b"From: jan@acme.pl\r\n\r\n" + b"y" * 5000 + b"\r\n.\r\n")
    # RFC 5321 §4.5.3.1.6: 998 octets plus CRLF at most.
    assert reply.startswith(b"500")
    client.close()
    assert handoff.messages == []


def test_nul_bytes_reach_the_checks_unchanged(smtp: SmtpThread, handoff: RecordingHandoff) -> None:
    client = RawClient(smtp.port)
    open_transaction(client)
    assert client.send(b"From: jan@acme.pl\r\n\r\nnul\x00here\r\n.\r\n").startswith(b"250")
    client.close()
    assert b"nul\x00here" in handoff.messages[0].raw


def test_a_client_that_disconnects_mid_data_leaves_no_record(
    smtp: SmtpThread, handoff: RecordingHandoff
) -> None:
    client = RawClient(smtp.port)
    open_transaction(client)
    client.socket.sendall(b"From: jan@acme.pl\r\n\r\nhalf a mess")
    client.close()
    time.sleep(0.3)
    assert handoff.messages == []
    # The receiver is still serving.
    RawClient(smtp.port).close()


def test_a_slow_client_is_disconnected_after_the_idle_timeout(smtp: SmtpThread) -> None:
    client = RawClient(smtp.port)
    client.socket.settimeout(5)
    started = time.monotonic()
    # Say nothing: the server must hang up by itself (slowloris).
    received = b""
    while chunk := client.socket.recv(100):
        received += chunk
    elapsed = time.monotonic() - started
    client.close()
    # RFC 5321 §3.8: a 421 first, so that the sender's server knows to retry.
    assert received.startswith(b"421 4.4.2")
    assert 0.5 < elapsed < 5


def test_sessions_are_released_when_clients_go_away(handoff: RecordingHandoff) -> None:
    with receiver(handoff, max_sessions=2) as server:
        for _ in range(5):
            client = RawClient(server.port)
            client.close()
        time.sleep(0.3)
        # Had the slots leaked, this third-at-once session would get a 421.
        first, second = RawClient(server.port), RawClient(server.port)
        first.close()
        second.close()
