"""Long runs of body text set aside while parsing: the same parsed message as without.

Every case is parsed twice, with each run of text lines (of any length here, not only
the long ones parse_message sets aside) fed as a placeholder and put back, and whole as
the standard library reads it; both must give the same tree to the byte.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailhook import _bodies
from mailhook.message import (
    Channel,
    Envelope,
    _feed,
    _parse_bytes,
    crlf_only,
    parse_message,
)
from tests.bench.corpus import sized_message, sized_text_message
from tests.support import REPO

PIECE = 8192


def shape(msg: Any) -> list[tuple[Any, ...]]:
    """Everything the parser decided, part by part."""
    return [
        (
            part.get_unixfrom(),
            list(part.raw_items()),
            part._payload if isinstance(part._payload, str) else len(part._payload),
            part.preamble,
            part.epilogue,
            [type(defect).__name__ for defect in part.defects],
            part.get_content_type(),
        )
        for part in msg.walk()
    ]


def both(raw: bytes, headers_only: bool = False) -> tuple[Any, Any, bool]:
    """(parsed as parse_message does, with every run set aside however short; parsed
    whole, as the standard library does; whether the runs came back from the first)."""
    runs = _bodies.runs_by_pattern(raw, min_bytes=1)
    only_crlf = crlf_only(raw)
    # The quick search finds the runs the pattern defines.
    assert _bodies.collapsed_runs(raw, 1, only_crlf) == runs
    restored = _bodies.restore(_feed(_bodies.pieces(raw, runs, PIECE), headers_only), raw, runs)
    parsed = _parse_bytes(raw, headers_only, min_run_bytes=1, crlf_only=only_crlf)
    whole = _feed(_bodies.pieces(raw, [], PIECE), headers_only)
    return parsed, whole, restored


FIXTURES = sorted(
    path for folder in ("fixtures", "tests") for path in (REPO / folder).rglob("*.eml")
)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(Path(p).relative_to(REPO)))
def test_every_fixture_parses_the_same(path: Path) -> None:
    collapsed, whole, restored = both(path.read_bytes())
    assert restored
    assert shape(collapsed) == shape(whole)


B64 = base64.encodebytes(bytes(range(256)) * 40).replace(b"\n", b"\r\n")
TEXT = b"".join(b"line %d of the text, plain.\r\n" % n for n in range(200))
HEAD = b"From: a@b.example\r\nSubject: runs\r\nMIME-Version: 1.0\r\n"


def multipart(*parts: bytes, boundary: bytes = b"b1", preamble: bytes = b"") -> bytes:
    body = preamble + b"".join(b"--" + boundary + b"\r\n" + part for part in parts)
    return body + b"--" + boundary + b"--\r\n"


CASES = {
    "base64 attachment": HEAD
    + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    + multipart(
        b"Content-Type: text/plain\r\n\r\n" + TEXT,
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + B64,
    ),
    "a run where a part's headers would be": HEAD
    + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    + multipart(TEXT, B64),
    "runs in preamble and epilogue": HEAD
    + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    + multipart(b"\r\n" + TEXT, preamble=TEXT)
    + TEXT,
    "a run ending the message without a line break": HEAD + b"\r\n" + TEXT + b"no end",
    "LF line ends": (HEAD + b"\r\n" + TEXT).replace(b"\r\n", b"\n"),
    "a run straight after the header fields": HEAD + TEXT,
    "an attached message made of a run": HEAD
    + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    + multipart(b"Content-Type: message/rfc822\r\n\r\n" + TEXT),
    "a delivery report of runs": HEAD
    + b'Content-Type: multipart/report; boundary="b1"\r\n\r\n'
    + multipart(b"Content-Type: message/delivery-status\r\n\r\n" + TEXT + b"\r\n" + TEXT),
    # On a line beginning with a dash, so in no run: the message's own text.
    "the placeholder written in the message": HEAD
    + b"\r\n"
    + TEXT
    + b"- "
    + _bodies.placeholder(0).encode()
    + b"\r\n",
    "a boundary without its dashes in a run": HEAD
    + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    + multipart(b"\r\n" + TEXT + b"b1\r\n" + TEXT),
    "bare CR and form feeds in a run": HEAD + b"\r\n" + TEXT + b"a\rb\r\n\x0c\r\nc\x0bd\r\n" + TEXT,
    "nested multiparts": HEAD
    + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    + multipart(
        b'Content-Type: multipart/alternative; boundary="b2"\r\n\r\n'
        + multipart(b"\r\n" + TEXT, b"Content-Type: text/html\r\n\r\n" + TEXT, boundary=b"b2"),
        b"Content-Transfer-Encoding: base64\r\n\r\n" + B64,
    ),
    "8-bit text": HEAD + b"\r\n" + TEXT.replace(b"plain", b"za\xc5\xbc\xc3\xb3\xc5\x82\xff"),
}


@pytest.mark.parametrize("raw", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("headers_only", [False, True], ids=["parsed", "headers-only"])
def test_each_shape_parses_the_same(raw: bytes, headers_only: bool) -> None:
    collapsed, whole, restored = both(raw, headers_only)
    if raw is CASES["the placeholder written in the message"]:
        # Found twice: parse_message parses such a message whole.
        assert not restored
    else:
        assert restored
    assert shape(collapsed) == shape(whole)


def test_the_cases_hold_runs() -> None:
    # Else the comparison above would prove nothing.
    for raw in CASES.values():
        assert _bodies.runs_by_pattern(raw, min_bytes=1)
    # And most of them take the quick search.
    assert sum(crlf_only(raw) for raw in CASES.values()) >= len(CASES) - 3


def test_large_messages_are_parsed_with_runs_set_aside_and_the_same() -> None:
    for raw in (sized_message(300_000), sized_text_message(300_000)):
        runs = _bodies.collapsed_runs(raw, crlf_only=True)
        assert runs
        assert runs == _bodies.runs_by_pattern(raw)
        assert sum(run.end - run.start for run in runs) > 0.9 * len(raw)
        whole = _feed(_bodies.pieces(raw, [], PIECE), headers_only=False)
        assert shape(parse_message(raw, Envelope(), Channel.API).parsed) == shape(whole)


LINES = st.sampled_from(
    [
        b"--b1",
        b"--b1--",
        b"--b2",
        b"",
        b"Content-Type: multipart/mixed; boundary=b2",
        b"Content-Type: text/plain",
        b"Content-Type: message/rfc822",
        b"Content-Transfer-Encoding: base64",
        b" folded",
        b"From here",
        b"x: y",
        b"QUJDREVGR0g=",
        b"plain text, with words",
        b"- a dash",
        b"\x0c",
        b"a\rb",
        b"\xc5\xbc",
        _bodies.placeholder(1).encode(),
    ]
)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(LINES, max_size=60), st.sampled_from([b"\r\n", b"\n"]))
def test_generated_messages_parse_the_same(lines: list[bytes], line_break: bytes) -> None:
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="b1"' + line_break + line_break
    ).replace(b"\r\n", line_break) + line_break.join(lines)
    parsed, whole, _ = both(raw)
    assert shape(parsed) == shape(whole)


def lines_before_breaks(raw: bytes) -> list[int]:
    """Where the line before each line beginning with "-" or empty ends (its LF), byte by
    byte: what _bodies._breaking_lines finds with searches."""
    return [
        at
        for at in range(1, len(raw))
        if raw[at - 1 : at + 1] == b"\r\n"
        and (raw[at + 1 : at + 2] == b"-" or raw[at + 1 : at + 3] == b"\r\n")
    ]


DASHES = {
    "no hyphen": b"From: a\r\n\r\nQUJD\r\nREVG\r\n",
    "a hyphen first": b"-x\r\n-\r\n",
    "a hyphen line last": b"a\r\n-",
    "hyphens within lines only": b"a-b\r\nc - d\r\n--\r\n",
    "empty lines and hyphen lines together": b"a\r\n\r\n-\r\n\r\n\r\n--b\r\n",
    "thick with stray hyphens, then hyphen lines": b"x" + b"-y" * 5000 + b"\r\n--b\r\n-\r\n",
    "stray hyphens after a long dashless start": b"QUJD\r\n" * 40_000
    + b"a-b\r\n" * 3000
    + b"--b--\r\n",
}


@pytest.mark.parametrize("raw", DASHES.values(), ids=DASHES.keys())
@pytest.mark.parametrize("switch", ["as configured", "at the first stray hyphen"])
def test_breaking_lines_are_found_as_a_byte_by_byte_look_finds_them(
    raw: bytes, switch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if switch != "as configured":
        monkeypatch.setattr(_bodies, "_STRAY_HYPHENS_ALLOWED", 0)
    assert crlf_only(raw)
    assert _bodies._breaking_lines(raw) == lines_before_breaks(raw)


def test_the_dashes_cover_both_ways_of_finding_hyphen_lines() -> None:
    # Stray hyphens beyond the allowance (sixty-four, then one in 2 KB) switch to the
    # three-byte search; the comparison above must see that happen, and not happen.
    def switches(raw: bytes) -> bool:
        strays, at = 0, raw.find(b"-")
        while at >= 0:
            if raw[at - 1 : at] != b"\n":
                strays += 1
                if strays * _bodies._BYTES_PER_STRAY_HYPHEN > at + _bodies._STRAY_HYPHENS_ALLOWED:
                    return True
            at = raw.find(b"-", at + 1)
        return False

    assert switches(DASHES["thick with stray hyphens, then hyphen lines"])
    assert switches(DASHES["stray hyphens after a long dashless start"])
    assert not switches(DASHES["hyphens within lines only"])


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.sampled_from([b"", b"-", b"--b1", b"a-b", b"-" * 40, b"x - y -", b"QUJD", b"- -"]),
        max_size=80,
    ),
    st.booleans(),
)
def test_generated_hyphens_and_empty_lines_are_found_alike(
    lines: list[bytes], switch_at_once: bool
) -> None:
    raw = b"\r\n".join(lines)
    allowed = _bodies._STRAY_HYPHENS_ALLOWED
    try:
        if switch_at_once:
            _bodies._STRAY_HYPHENS_ALLOWED = 0  # type: ignore[misc]
        assert _bodies._breaking_lines(raw) == lines_before_breaks(raw)
    finally:
        _bodies._STRAY_HYPHENS_ALLOWED = allowed  # type: ignore[misc]
