"""The receiver's reading of MAIL FROM / RCPT TO paths gives aiosmtpd's answer to the byte."""

from __future__ import annotations

import random
import smtplib

import pytest
from aiosmtpd.smtp import SMTP

from mailhook.smtp import IntakeSMTP
from tests.mailhook.test_smtp import RecordingHandoff, receiver

PATHS = [
    "<desk@hosting.example>",
    "<desk@hosting.example> SIZE=1234 BODY=8BITMIME",
    "<first.last+tag@sub.hosting.example>",
    "<o'brien!#$%&*/=?^_`{|}~-@x-y.example>",
    "<>",
    "< desk@hosting.example>",
    " <desk@hosting.example>",
    "<desk@hosting.example >",
    "<desk@[192.0.2.1]>",
    '<"quoted local"@hosting.example>',
    "<a..b@hosting.example>",
    "<.a@hosting.example>",
    "<a.@hosting.example>",
    "<a@hosting..example>",
    "<a@.hosting.example>",
    "<a@hosting.example.>",
    "<@relay.example:desk@hosting.example>",
    "<desk@hosting.example",
    "desk@hosting.example",
    "<desk>",
    "<dęsk@hosting.example>",
    "<a@b>x",
    "<a@b>  \x0b\u3000 SIZE=1",
    "<a@b>\tSIZE=1",
    "<a@b> (comment) SIZE=1",
    "<a@b>(comment)",
    "<a@b>x (comment)",
    "<a@b>>",
    "<a(comment)@b>",
    "<" + "l" * 64 + "@hosting.example>",
    "<" + "l" * 65 + "@hosting.example>",
]


def _reader(limit: int = 64) -> tuple[IntakeSMTP, SMTP]:
    # Only _getaddr is called: it reads nothing of the session but the local-part limit.
    ours, theirs = IntakeSMTP.__new__(IntakeSMTP), SMTP.__new__(SMTP)
    ours.local_part_limit = theirs.local_part_limit = limit
    return ours, theirs


def _answer(reader: SMTP, path: str) -> object:
    # email's parser raises on some garbage (IndexError); then both must raise alike.
    try:
        return reader._getaddr(path)
    except Exception as exc:  # noqa: BLE001
        return type(exc)


@pytest.mark.parametrize("path", PATHS)
def test_each_path_is_read_as_aiosmtpd_reads_it(path: str) -> None:
    ours, theirs = _reader()
    assert ours._getaddr(path) == theirs._getaddr(path)


def test_random_paths_are_read_as_aiosmtpd_reads_them() -> None:
    # Near-plain paths (the fast path's and its edges) and garbage (aiosmtpd's alone).
    atext = "ab-+'!#$%&*/=?^_`{|}~" * 3 + '.@ "()[]ę\t\x0b\u3000\\'
    tails = ["", " ", " SIZE=10", "\tBODY=8BITMIME", " (c)", "x", ">", "  \x0b=1", "\u3000"]
    generator = random.Random(8)

    def piece() -> str:
        return "".join(generator.choice(atext) for _ in range(generator.randint(0, 6)))

    for limit in (0, 3, 64):
        ours, theirs = _reader(limit)
        for _ in range(3000):
            tail = generator.choice(tails)
            path = f"<{piece()}@{piece()}>{tail}" if generator.random() < 0.8 else piece() + tail
            assert _answer(ours, path) == _answer(theirs, path), path


def test_plain_paths_reach_the_envelope_over_smtp() -> None:
    handoff = RecordingHandoff()
    with (
        receiver(handoff, recipients=("@hosting.example",)) as smtp,
        smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client,
    ):
        client.ehlo("client.example")
        assert client.mail("first.last+tag@sender.example")[0] == 250
        assert client.rcpt("support@hosting.example")[0] == 250
        code, reply = client.rcpt("o'brien@hosting.example")
        assert code == 250, reply
        assert client.data(b"Subject: x\r\n\r\nbody\r\n")[0] == 250
    envelope = handoff.messages[-1].envelope
    assert envelope.mail_from == "first.last+tag@sender.example"
    assert envelope.rcpt == ("support@hosting.example", "o'brien@hosting.example")
