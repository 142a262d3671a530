"""Fuzzing the parser, every check and instruction extraction with generated messages.

Derandomized (the same examples on every run, so CI is reproducible) and sized to run in
well under 20 seconds; raise ``max_examples`` locally to search longer.
"""

from __future__ import annotations

import base64

import idna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.decision.checks.replay import fingerprints
from app.decision.rules import load_rules
from mailhook.checks import PIPELINE, run_pipeline
from mailhook.confusables import skeleton
from mailhook.context import CheckContext
from mailhook.dns import Resolver
from mailhook.errors import UnusableMessage
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from tests.dns_server import FixtureDnsServer
from tests.mailhook.checks.header_support import NOW, lookalike_of
from tests.support import RULES

CATALOGUE = load_rules(RULES).catalogue
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Characters that mean something to a mail parser, and look-alikes of them.
SPECIALS = [*'@<>",;:()[]\\=?.-_ \t/', "\r\n", "\r\n ", "\n", "\r", "\x00", "\x7f"]
LOOKALIKES = ["＠", "﹫", "ⓐ", "а", "о", "е", "ρ", "ο", "\u200b", "\u202e", "ł", "ż", "I", "rn"]
WORDS = ["jan", "acme", "pl", "xn--cme-5cd", "at", "dot", "utf-8", "b", "q", "=?", "?=", "--"]
# Pieces of valid Date, Message-ID and signature values.
WORDS += ["Sat, 28 Nov 2026 10:00:00 +0000", "<a.b@c.example>", "b=", "d=acme.pl", "i=1"]
PIECES = st.sampled_from(SPECIALS + LOOKALIKES + WORDS) | st.text(max_size=4)
HEADER_NAMES = st.sampled_from(
    [
        "From",
        "Sender",
        "Reply-To",
        "To",
        "Date",
        "Message-ID",
        "Subject",
        "DKIM-Signature",
        "Authentication-Results",
        "ARC-Seal",
        "ARC-Message-Signature",
        "ARC-Authentication-Results",
        "Received",
        "Content-Type",
        "Content-Transfer-Encoding",
        "MIME-Version",
        "X-Filler",
    ]
)


def _encoded_word(charset: str, encoding: str, payload: bytes) -> str:
    text = base64.b64encode(payload).decode() if encoding == "b" else payload.hex("=")
    return f"=?{charset}?{encoding}?{text}?="


encoded_words = st.builds(
    _encoded_word,
    st.sampled_from(["utf-8", "iso-8859-2", "x-unknown", "base64", ""]),
    st.sampled_from(["b", "q", "x"]),
    st.binary(max_size=30),
)
mailboxes = st.builds(
    lambda name, local, domain: f'"{name}" <{local}@{domain}>',
    st.text(max_size=20) | encoded_words,
    st.text(max_size=10),
    st.text(max_size=20) | st.sampled_from(["acme.pl", "аcme.pl", "acrne.pl", "xn--cme-5cd.pl"]),
)
text_values = st.lists(PIECES, max_size=25).map("".join) | mailboxes | encoded_words
header_values = text_values.map(lambda text: text.encode("utf-8", "surrogatepass")) | st.binary(
    max_size=60
)
headers = st.lists(st.tuples(HEADER_NAMES, header_values), min_size=1, max_size=12)
bodies = st.binary(max_size=300) | st.lists(PIECES, max_size=40).map(
    lambda pieces: "".join(pieces).encode("utf-8", "surrogatepass")
)


# A From that the from-mailbox check accepts, so the checks that build on it get a say.
DOMAINS = ["acme.pl", "аcme.pl", "acrne.pl", "xn--cme-5cd.pl", "Iokal.pl", "mail.acme.pl"]
valid_from = st.builds(
    lambda name, local, domain: f"From: {name} <{local}@{domain}>\r\n".encode(),
    st.lists(PIECES, max_size=8).map("".join).map(lambda name: '"' + name.replace('"', "") + '"')
    | encoded_words,
    st.from_regex(r"[a-z][a-z0-9.]{0,8}[a-z]", fullmatch=True),
    st.sampled_from(DOMAINS),
)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    fields = draw(headers)
    raw = draw(st.sampled_from([b""]) | valid_from)
    raw += b"".join(name.encode() + b": " + value + b"\r\n" for name, value in fields)
    if draw(st.booleans()):
        boundary = draw(st.sampled_from([b"b", b"", b"--", b"\xff"]))
        part = b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\n" + draw(bodies)
        raw += b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n" + part
        if draw(st.booleans()):
            raw += b"\r\n--" + boundary + b"--\r\n"
        return raw
    return raw + b"\r\n" + draw(bodies)


@pytest.fixture(scope="module")
def context(dns_server: FixtureDnsServer) -> CheckContext:
    return CheckContext(
        resolver=Resolver([dns_server.address], timeout=0.3), now=NOW, lookalike_of=lookalike_of
    )


@FUZZ
@given(raw=messages(), mail_from=st.none() | st.sampled_from(["", "<>", "a@b.example", "x"]))
def test_no_message_crashes_a_check(
    context: CheckContext, raw: bytes, mail_from: str | None
) -> None:
    try:
        message = parse_message(
            raw, Envelope(client_ip="192.0.2.10", mail_from=mail_from), Channel.PIPE
        )
    except UnusableMessage:
        return
    findings = run_pipeline(message, context)
    assert [f.name for f in findings] == list(PIPELINE)
    crashed = [f"{f.name}: {f.reason}" for f in findings if f.result == "error"]
    assert not crashed, crashed
    assert all(f.reason for f in findings)
    extract(message, CATALOGUE)
    fingerprints(message, "jan@acme.pl")


@FUZZ
@given(domain=st.lists(PIECES, max_size=12).map("".join))
def test_a_domain_and_its_a_label_have_one_skeleton(domain: str) -> None:
    # Services store the skeleton of their A-label; a look-up computes it from the From
    # domain as written. A capital I is the one letter case matters for (it looks like l).
    written = domain.replace("I", "i")
    try:
        a_label = idna.encode(written, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        skeleton(written)  # no valid name: no A-label to agree with, but no crash either
        return
    assert skeleton(a_label) == skeleton(written)
