"""replay: the same signed message, or Message-ID, seen again; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db.models import MessageFingerprint, Verdict
from app.decision.checks.replay import body_sha256, dkim_signature_values
from app.decision.service import DecisionService
from app.registry.customers import CustomerData, put_customer, validate
from mailhook.message import Channel, Envelope, InboundMessage, parse_message
from tests.support import SECRET_KEY, make_message, signed_by_acme

ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
INSTRUCTION = "Prosze o zmiane serwerow DNS dla acme.pl na ns1.example.net.\n"


signed = signed_by_acme


def with_message_id(raw: bytes, message_id: str) -> bytes:
    header = b"Message-ID: " + message_id.encode()
    return re.sub(rb"(?m)^Message-ID: [^\r\n]*", header, raw, count=1)


def message(raw: bytes) -> InboundMessage:
    return parse_message(raw, ENVELOPE, Channel.API)


def replay_of(verdict: dict[str, Any]) -> dict[str, str]:
    return next(c for c in verdict["checks"] if c["name"] == "replay")


@pytest.fixture
def desk(service: DecisionService) -> DecisionService:
    customer = validate(
        "acme",
        CustomerData(panel_email="jan@acme.pl", kind="company", name="ACME", services=("acme.pl",)),
    )
    with service.sessions.begin() as session:
        put_customer(session, customer, SECRET_KEY.encode())
    return service


def first_seen(verdict: dict[str, Any]) -> str:
    """How a replay reason names the first verdict: its time and id."""
    when = verdict["recorded_at"][:19].replace("T", " ")
    return f"first seen {when} UTC (verdict {verdict['id']})"


def test_a_new_message_passes_and_is_remembered(desk: DecisionService) -> None:
    verdict = desk.submit(message(signed(make_message(body=INSTRUCTION))))
    assert replay_of(verdict) == {
        "name": "replay",
        "result": "pass",
        "reason": "No earlier message has this message's DKIM signature or Message-ID.",
    }
    with desk.sessions() as session:
        kinds = session.scalars(
            select(MessageFingerprint.kind).where(MessageFingerprint.verdict_id == verdict["id"])
        ).all()
    assert sorted(kinds) == ["dkim-b", "message-id"]


def test_the_same_signature_over_another_body_is_a_replay(desk: DecisionService) -> None:
    original = signed(make_message(body=INSTRUCTION))
    first = desk.submit(message(original))
    # The signed message with its body changed: same b=, different bytes.
    altered = original.replace(b"ns1.example.net", b"ns1.attacker.example")
    assert dkim_signature_values(message(altered)) == dkim_signature_values(message(original))
    second = desk.submit(message(altered))
    assert replay_of(second) == {
        "name": "replay",
        "result": "fail",
        "reason": f"A message with the same DKIM signature was {first_seen(first)} with other "
        "bytes: a signed message sent again is a replay; act only on the original.",
    }
    assert second["decision"] == "rejected"
    assert replay_of(second)["reason"] in second["reasons"]


def test_the_same_signed_message_with_headers_added_on_the_way_is_a_replay(
    desk: DecisionService,
) -> None:
    original = signed(make_message(body=INSTRUCTION))
    first = desk.submit(message(original))
    resent = b"Received: from mx.attacker.example by mx.hosting.example\r\n" + original
    second = desk.submit(message(resent))
    assert replay_of(second)["result"] == "fail"
    assert first_seen(first) in replay_of(second)["reason"]
    assert second["decision"] == "rejected"


def test_the_same_message_id_with_another_body_is_a_replay(desk: DecisionService) -> None:
    original = make_message(body=INSTRUCTION)
    first = desk.submit(message(original))
    altered = original.replace(b"ns1.example.net", b"ns1.attacker.example")
    second = desk.submit(message(altered))
    assert replay_of(second) == {
        "name": "replay",
        "result": "fail",
        "reason": f"A message with the same Message-ID was {first_seen(first)} with a different "
        "body: the same message sent again with its text changed.",
    }
    assert second["decision"] == "rejected"


def test_a_message_id_counts_per_sender(desk: DecisionService) -> None:
    # Some mail programs give every message the same Message-ID; another sender's message
    # with it is no replay of this one.
    first = with_message_id(make_message(body=INSTRUCTION), "<1@localhost>")
    assert replay_of(desk.submit(message(first)))["result"] == "pass"
    other = make_message(sender="anna@kowalska.example", body="Inna sprawa.\n")
    assert replay_of(desk.submit(message(with_message_id(other, "<1@localhost>"))))["result"] == (
        "pass"
    )
    again = first.replace(b"ns1.example.net", b"ns1.attacker.example")
    assert replay_of(desk.submit(message(again)))["result"] == "fail"


def test_identical_bytes_again_get_the_first_verdict_not_a_second_one(
    desk: DecisionService,
) -> None:
    # A retry after a lost 250 (or a re-run pipe) is the same delivery: one record.
    raw = signed(make_message(body=INSTRUCTION))
    first = desk.submit(message(raw))
    assert desk.submit(message(raw)) == first
    with desk.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Verdict)) == 1


def test_explaining_recorded_bytes_calls_them_a_retransmission(desk: DecisionService) -> None:
    raw = signed(make_message(body=INSTRUCTION))
    first = desk.submit(message(raw))
    assert replay_of(desk.explain(message(raw))) == {
        "name": "replay",
        "result": "retransmission",
        "reason": f"These exact bytes were first recorded {first_seen(first)[11:]}: the sending "
        "server delivered the message again (a retry), which is not a replay.",
    }


def test_the_same_unsigned_message_by_another_route_is_a_duplicate(desk: DecisionService) -> None:
    original = make_message(body=INSTRUCTION)
    first = desk.submit(message(original))
    # Handed over as a pipe would: LF line ends, a Delivered-To added. Same body.
    copy = b"Delivered-To: support@hosting.example\n" + original.replace(b"\r\n", b"\n")
    assert body_sha256(copy) == body_sha256(original)
    second = desk.submit(message(copy))
    assert replay_of(second) == {
        "name": "replay",
        "result": "duplicate",
        "reason": f"The same message (Message-ID and body) was {first_seen(first)} with other "
        "headers: a copy delivered again; check that the first copy was dealt with.",
    }
    assert second["decision"] == "review"


def test_a_message_without_signature_or_message_id_cannot_be_recognised(
    desk: DecisionService,
) -> None:
    raw = b"From: jan@acme.pl\r\nSubject: DNS acme.pl\r\n\r\n" + INSTRUCTION.encode()
    desk.submit(message(raw))
    verdict = desk.submit(message(raw))
    assert replay_of(verdict) == {
        "name": "replay",
        "result": "none",
        "reason": "The message has neither a DKIM signature nor a Message-ID, so a copy sent "
        "again could not be recognised.",
    }


def test_explaining_a_message_records_no_fingerprint(desk: DecisionService) -> None:
    raw = signed(make_message(body=INSTRUCTION))
    assert replay_of(desk.explain(message(raw)))["result"] == "pass"
    assert replay_of(desk.explain(message(raw)))["result"] == "pass"
    with desk.sessions() as session:
        assert session.scalar(select(func.count()).select_from(MessageFingerprint)) == 0
    assert replay_of(desk.submit(message(raw)))["result"] == "pass"


def test_b_values_are_read_without_whitespace_bottom_most_first() -> None:
    raw = (
        b"DKIM-Signature: v=1; a=rsa-sha256; d=lists.example; s=x;\r\n"
        b"\tb=AAAA BBBB\r\n\tCCCC; bh=xyz=\r\n"
        b"DKIM-Signature: v=1; d=acme.pl; s=y; bh=abc=; b=\r\n"
        b"\t DDDD\r\n"
        b"DKIM-Signature: garbage without tags\r\n"
        b"From: jan@acme.pl\r\n\r\nbody\r\n"
    )
    assert dkim_signature_values(message(raw)) == ["DDDD", "AAAABBBBCCCC"]


def test_the_body_hash_ignores_line_ends_and_trailing_empty_lines() -> None:
    assert body_sha256(b"A: b\r\n\r\nline\r\n\r\n\r\n") == body_sha256(b"A: b\n\nline\n")
    assert body_sha256(b"A: b\r\n\r\nline\r\n") != body_sha256(b"A: b\r\n\r\nline 2\r\n")
    assert body_sha256(b"A: b\r\n") == body_sha256(b"A: c\r\n\r\n")


@pytest.mark.parametrize(
    "raw",
    [
        b"A: b\r\n\r\nline\r\n\r\n\r\n",
        b"A: b\r\n\r\n\r\n",
        b"A: b\r\n\r\n",
        b"A: b\r\n\r\n.\r\n..\r\nlast",
        b"A: b\r\n\r\n" + b"base64 line\r\n" * 5000,
    ],
)
def test_the_body_hash_of_crlf_only_messages_is_the_same_either_way(raw: bytes) -> None:
    assert message(raw).crlf_only
    assert body_sha256(raw, crlf_only=True) == body_sha256(raw)


@pytest.mark.parametrize(
    "raw", [b"A: b\r\n\r\nbare\rCR\r\n", b"A: b\r\n\r\nbare\nLF\r\n", b"A: b\n\nline\n"]
)
def test_a_message_with_a_bare_cr_or_lf_is_not_crlf_only(raw: bytes) -> None:
    assert not message(raw).crlf_only


def _body_sha256_by_copies(raw: bytes) -> str:
    """body_sha256 as it was written first: the body sliced, its CRLFs replaced, stripped."""
    end = re.search(rb"\r?\n\r?\n", raw)
    body = raw[end.end() :] if end else b""
    return hashlib.sha256(body.replace(b"\r\n", b"\n").rstrip(b"\n")).hexdigest()


@pytest.mark.parametrize(
    "raw",
    [
        b"no header end",
        b"A: b\r\n\r\n",
        b"A: b\r\n\r\n" + b"\r\n" * 5000,  # only empty lines, more than the tail looked at
        b"A: b\r\n\r\nline\r\n" + b"\r\n" * 5000,
        b"A: b\r\n\r\n" + b"x" * 5000 + b"\r\n" * 2047,
        b"A: b\r\nC: d\r\n\r\nline\r\n\r\nlast",
        b"A: b\n\n" + b"\n" * 4096,
        b"A: b\n\nline\r\nbare\rCR\n" + b"\n" * 4097,
    ],
)
def test_the_body_hash_is_what_slicing_replacing_and_stripping_gives(raw: bytes) -> None:
    crlf = message(raw).crlf_only if raw.startswith(b"A") else False
    assert body_sha256(raw, crlf_only=crlf) == _body_sha256_by_copies(raw)
