"""Relaxed header and body canonicalisation: byte for byte what dkimpy's own gives."""

from __future__ import annotations

from pathlib import Path

import dkim
import dkim.canonicalization
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailhook.checks._dkim_relaxed import (
    _dkimpy_relaxed_body,
    _dkimpy_relaxed_headers,
    relaxed_body,
    relaxed_headers,
)
from tests.support import FIXTURES


def test_dkimpy_verifies_with_it() -> None:
    assert dkim.canonicalization.Relaxed.canonicalize_headers is relaxed_headers
    assert dkim.canonicalization.Relaxed.canonicalize_body is relaxed_body


@pytest.mark.parametrize("path", sorted((FIXTURES / "mail").glob("*.eml")), ids=lambda p: p.name)
def test_every_fixture_header_and_body_as_dkimpy_makes_them(path: Path) -> None:
    try:
        headers, body = dkim.rfc822_parse(path.read_bytes())
    except dkim.MessageFormatError:
        pytest.skip("dkimpy does not read this message's headers")
    pairs = [(name, value) for name, value in headers]
    assert relaxed_headers(pairs) == _dkimpy_relaxed_headers(pairs)
    assert relaxed_body(body) == _dkimpy_relaxed_body(body)


_PIECES = st.sampled_from(
    [b" ", b"  ", b"\t", b" \t ", b"\r", b"\n", b"\r\n", b"\r\r\n", b"\n\r", b"\x0b", b"\x0c",
     b"a", b"Subject", b"x=1;", b"b=", b"\xff", b":", b"\x00"]
)  # fmt: skip
_BYTES = st.lists(_PIECES, max_size=30).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_BYTES, _BYTES), max_size=5))
def test_random_headers_as_dkimpy_makes_them(headers: list[tuple[bytes, bytes]]) -> None:
    assert relaxed_headers(headers) == _dkimpy_relaxed_headers(headers)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_any_bytes_as_dkimpy_makes_them(name: bytes, value: bytes) -> None:
    assert relaxed_headers([(name, value)]) == _dkimpy_relaxed_headers([(name, value)])


_BODY_PIECES = st.sampled_from(
    [b" ", b"  ", b"\t", b" \t", b"\r\n", b"\r\n\r\n", b"\n", b"\r", b" \r\n", b"\t\r\n",
     b"a", b"line", b"\xff", b"\x0b", b"\x00", b"."]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_BODY_PIECES, max_size=40).map(b"".join))
def test_random_bodies_as_dkimpy_makes_them(body: bytes) -> None:
    assert relaxed_body(body) == _dkimpy_relaxed_body(body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_body_bytes_as_dkimpy_makes_them(body: bytes) -> None:
    assert relaxed_body(body) == _dkimpy_relaxed_body(body)
