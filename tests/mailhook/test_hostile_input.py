"""Hostile input: however broken a message, every check yields a finding and none crashes."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator

import pytest

from app.decision.rules import load_rules
from app.decision.service import DecisionService
from mailhook.checks import PIPELINE, run_pipeline
from mailhook.context import CheckContext
from mailhook.dns import Resolver
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, InboundMessage, parse_message
from tests.dns_server import FixtureDnsServer
from tests.mailhook.checks.header_support import lookalike_of
from tests.support import RULES

CATALOGUE = load_rules(RULES).catalogue
# A hang guard, not a benchmark: each input takes well under a second.
TIME_LIMIT = 10.0
KB = 1024
ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
TOP = b"From: Jan <jan@acme.pl>\r\nTo: support@hosting.example\r\n"
END = b"Subject: Zmiana DNS acme.pl\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
BODY = b"\r\nProsze o zmiane DNS dla acme.pl.\r\n"


def headers(*lines: bytes) -> bytes:
    return TOP + b"".join(line + b"\r\n" for line in lines) + END + BODY


def nested_multipart(depth: int, text: bytes = b"Prosze o zmiane DNS acme.pl.\r\n") -> bytes:
    """``depth`` multiparts, each holding the next, a text part in the innermost."""
    inner = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
    for level in reversed(range(depth)):
        boundary = f"b{level}".encode()
        inner = (
            b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n"
            b"--" + boundary + b"\r\n" + inner + b"\r\n--" + boundary + b"--\r\n"
        )
    return TOP + END + b"MIME-Version: 1.0\r\n" + inner


def nested_messages(depth: int) -> bytes:
    """``depth`` forwarded messages (message/rfc822), each holding the next."""
    inner = TOP + END + BODY
    for _ in range(depth):
        inner = TOP + END + b"Content-Type: message/rfc822\r\n\r\n" + inner
    return inner


def cases() -> Iterator[tuple[str, bytes]]:
    yield "10,000 headers", headers(*(f"X-Filler-{i}: {i}".encode() for i in range(10_000)))
    yield (
        "10,000 Received headers",
        headers(
            *(
                f"Received: from h{i}.example by mx.example; Sat, 28 Nov 2026".encode()
                for i in range(10_000)
            )
        ),
    )
    yield "1,000 DKIM signatures", headers(
        *(f"DKIM-Signature: v=1; a=rsa-sha256; d=acme.pl; s=s{i}; bh=x; b=y{i}".encode()
          for i in range(1_000))
    )  # fmt: skip
    yield (
        "1,000 Authentication-Results",
        headers(
            *(
                b"Authentication-Results: intakeguard; dmarc=pass header.from=acme.pl"
                for _ in range(1_000)
            )
        ),
    )
    yield "1,000 ARC sets", headers(
        *(f"ARC-Seal: i={i}; a=rsa-sha256; cv=pass; d=lists.example; s=rsa2048; b=x".encode()
          for i in range(1, 1_001))
    )  # fmt: skip
    yield "1,000 From headers", b"From: a@acme.pl\r\n" * 1_000 + END + BODY
    big = b"x" * (200 * KB)
    yield "200 KB Subject", headers(b"Subject: " + big)
    yield "200 KB folded header", headers(b"X-Long: " + b"\r\n ".join([b"word"] * 40_000))
    yield "200 KB display name", b'From: "' + big + b'" <jan@acme.pl>\r\n' + END + BODY
    yield "200 KB display name of @", b'From: "' + b"@" * (200 * KB) + b'" <a@acme.pl>\r\n' + END
    yield "200 KB domain", b"From: jan@" + b"a." * (100 * KB) + b"pl\r\n" + END + BODY
    yield "200 KB Reply-To", headers(b"Reply-To: " + b", ".join([b"a@x.example"] * 18_000))
    yield "200 KB Message-ID", headers(b"Message-ID: <" + big + b"@acme.pl>")
    yield "200 KB Date", headers(b"Date: " + b"1 " * (100 * KB))
    yield "200 KB DKIM signature", headers(b"DKIM-Signature: v=1; d=acme.pl; s=x; b=" + big)
    yield "200 KB Authentication-Results", headers(b"Authentication-Results: x; " + big)
    yield (
        "200 KB encoded-word",
        headers(b"Subject: =?utf-8?b?" + base64.b64encode(b"\xc5\xbc" * (70 * KB)) + b"?="),
    )
    yield "200 KB line without end", TOP + END + b"\r\n" + big
    yield "nested multiparts 100 deep", nested_multipart(100)
    yield "nested multiparts 1,000 deep", nested_multipart(1_000)
    yield "nested multiparts 90 deep, 50,000 lines", nested_multipart(90, b"x\r\n" * 50_000)
    yield "messages in messages 1,000 deep", nested_messages(1_000)
    yield (
        "200 KB From address list",
        b"From: " + b", ".join([b"a@acme.pl"] * 20_000) + b"\r\n" + END,
    )
    yield "8-bit garbage headers", headers(bytes(range(128, 256)) + b": " + bytes(range(256)))
    yield "8-bit garbage From", b"From: \xff\xfe\x00\x80 <\xc3(@\xe2\x82.pl>\r\n" + END + BODY
    yield "8-bit garbage body", TOP + END + b"\r\n" + bytes(range(256)) * 400
    yield (
        "unknown charset",
        headers(
            b"Subject: =?x-unknown?q?abc?=",
            b"Content-Type: text/plain; charset=x-no-such-charset",
        ),
    )
    yield "codec that is not text", headers(b"Content-Type: text/plain; charset=base64")
    yield (
        "broken base64 body",
        headers(
            b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: base64"
        ).replace(BODY, b"\r\n!!!not base64===\r\n"),
    )
    yield (
        "broken quoted-printable",
        headers(b"Content-Transfer-Encoding: quoted-printable").replace(
            BODY, b"\r\n=ZZ=\r\n=E\r\n"
        ),
    )
    yield (
        "broken encoded words",
        headers(
            b"Subject: =?utf-8?b?////?= =?utf-8?q?=ZZ?= =?utf-8?x?abc?=",
            b"Reply-To: =?utf-8?b?amFu77ygYWNtZS5wbA?= <x@y.example>",
        ),
    )
    yield "NUL bytes", headers(b"X-Nul: a\x00b", b"Message-ID: <a\x00@b>").replace(b"DNS", b"\x00")
    yield "bare CR and LF mix", TOP.replace(b"\r\n", b"\r") + END.replace(b"\r\n", b"\n") + BODY
    yield "header without a colon", headers(b"This is no header", b" continued")
    yield "only headers", TOP + END
    yield "multipart without boundary", headers(b"Content-Type: multipart/mixed")
    yield (
        "message/rfc822 inside itself",
        headers(b"Content-Type: message/rfc822").replace(
            BODY, b"\r\n" + TOP + END + b"Content-Type: message/rfc822\r\n\r\n" + TOP + END
        ),
    )
    yield "Date overflow", headers(b"Date: Fri, 31 Dec 9999 23:59:59 -2359")
    yield "Date year zero", headers(b"Date: 1 Jan 0000 00:00:00 +0000")
    yield "Date with a huge number", headers(b"Date: " + b"9" * 5_000 + b" Jan 2026 00:00:00 +0000")
    yield (
        "lookalike letters everywhere",
        (
            'From: "ja\u043d\uff20\u0430cme.pl" <j@\u0430\u0441\u043c\u0435.pl>\r\n'
            "Reply-To: x@\u0440\u0430\u0443\u0440\u0430l.com\r\n"
        ).encode()
        + END
        + BODY,
    )


CASES = dict(cases())


@pytest.fixture(scope="module")
def context(dns_server: FixtureDnsServer) -> CheckContext:
    return CheckContext(
        resolver=Resolver([dns_server.address], timeout=0.3), lookalike_of=lookalike_of
    )


def timed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


@pytest.mark.parametrize("case", list(CASES))
def test_every_check_yields_a_finding_and_none_crashes(case: str, context: CheckContext) -> None:
    started = time.monotonic()
    message = parse_message(CASES[case], ENVELOPE, Channel.SMTP)
    findings = run_pipeline(message, context)
    extract(message, CATALOGUE)
    elapsed = time.monotonic() - started
    assert [f.name for f in findings] == list(PIPELINE)
    crashed = [f"{f.name}: {f.reason}" for f in findings if f.result == "error"]
    assert not crashed, crashed
    assert all(f.reason.strip() for f in findings)
    assert elapsed < TIME_LIMIT, f"{case} took {elapsed:.1f} s"


# The largest inputs once more, through the decision service to a recorded verdict.
RECORDED = ("10,000 headers", "200 KB display name", "nested multiparts 100 deep", "NUL bytes")


@pytest.mark.parametrize("case", RECORDED)
def test_a_verdict_is_recorded(case: str, service: DecisionService) -> None:
    message: InboundMessage = parse_message(CASES[case], ENVELOPE, Channel.SMTP)
    verdict: dict[str, object] = {}
    elapsed = timed(lambda: verdict.update(service.submit(message)))
    assert verdict["decision"] in ("accepted", "rejected", "review", "otp_required")
    assert elapsed < TIME_LIMIT, f"{case} took {elapsed:.1f} s"
