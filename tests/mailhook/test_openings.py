"""Scanning at a pattern's openings: the same matches as re's finditer, found faster."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules import load_rules
from mailhook.openings import caseless, opening_scan
from tests.support import FIXTURES, RULES

CATALOGUE = load_rules(RULES).catalogue
SHIPPED = [CATALOGUE.server_id_pattern, CATALOGUE.login_pattern, CATALOGUE.code_pattern]
# Other shapes an operator may write: flags, groups, alternatives shared in part.
OTHERS = [
    re.compile(r"\b(?:srv|vps)-?\d{3,10}\b"),
    re.compile(r"(?i)(?:ab|abc)\d+"),
    re.compile(r"(?i)(?P<word>kod|kodu)\s*(\d+)"),
    re.compile(r"(?i)\bid[:=](\w+)"),
    re.compile(r"\bK\w*"),
    re.compile(r"(?i)\bab|\bcd"),
]
# Patterns with no literal opening on every branch are scanned as before.
NO_OPENINGS = [r"\w+", r"(?:ab|\d)x", r"(?i:ab)c", r"(?:a|b)c", r"ab|\bcd", r"[ab]c"]


def _matches(found: object) -> list[tuple[object, ...]]:
    return [(m.span(), m.group(0), m.groups()) for m in found]  # type: ignore[attr-defined]


def test_the_shipped_patterns_have_openings() -> None:
    assert opening_scan(CATALOGUE.server_id_pattern).openings == ("srv", "vps", "ded", "hosting")
    assert opening_scan(CATALOGUE.code_pattern).openings == ("kod", "code")  # type: ignore[arg-type]
    assert "klient" in (opening_scan(CATALOGUE.login_pattern).openings or ())


@pytest.mark.parametrize("source", NO_OPENINGS)
def test_a_pattern_without_literal_openings_is_scanned_whole(source: str) -> None:
    pattern = re.compile(source)
    assert opening_scan(pattern).openings is None
    assert _matches(opening_scan(pattern).finditer("ab abc cd x 12")) == _matches(
        pattern.finditer("ab abc cd x 12")
    )


def test_caseless_equates_what_ignorecase_equates_with_ascii() -> None:
    # Every code point that re's IGNORECASE takes for an ASCII character becomes it,
    # and every one stays one character, so places found in it are places in the text.
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert all(len(caseless(char)) == 1 for char in everything)
    assert len(caseless(everything)) == len(everything)
    for char in string.printable:
        for match in re.finditer(re.escape(char), everything, re.IGNORECASE):
            assert caseless(match.group(0)) == char.lower(), hex(ord(match.group(0)))


def test_a_match_needs_its_word_boundary_as_before() -> None:
    scan = opening_scan(CATALOGUE.server_id_pattern)
    text = "xsrv1234 srv1234 SRV-5678 _vps999 hosting-0001x ded0001"
    assert [m.group(0) for m in scan.finditer(text)] == ["srv1234", "SRV-5678", "ded0001"]


def test_a_match_inside_an_earlier_one_is_not_found_again() -> None:
    pattern = re.compile(r"(?i)\bid[:=](\w+)")
    found = _matches(opening_scan(pattern).finditer("id:id=x ID=y"))
    assert found == _matches(pattern.finditer("id:id=x ID=y"))
    assert [groups for _, _, groups in found] == [("id",), ("y",)]


_PIECES = st.sampled_from(
    [
        "srv", "SRV", "vps", "ded", "hosting", "Hosting", "login", "LOGIN", "klient",
        "KLIENT", "customer", "username", "nazwa u\u017cytkownika", "kod", "KOD", "kodu",
        "code", "CODE", "Code", "jednorazowy", "sms", "ab", "abc", "id", "K", "\u212a",
        "\u017f", "\u0131", "\u0130", "log\u0131n", "\u017frv", "-", "_", ":", "=", " ",
        "\n", "\t", "1234", "5678", "1234-5678", "12", "999", "0001", "jan_k", "x", "\u0105",
        "\u00e9", ".", "@",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_the_same_matches_as_finditer(text: str) -> None:
    for pattern in SHIPPED + OTHERS:
        assert pattern is not None
        assert _matches(opening_scan(pattern).finditer(text)) == _matches(pattern.finditer(text))


@pytest.mark.parametrize("path", sorted((FIXTURES / "mail").glob("*.eml")), ids=lambda p: p.name)
def test_the_same_matches_over_the_fixtures(path: object) -> None:
    text = path.read_bytes().decode("utf-8", "replace")  # type: ignore[attr-defined]
    for pattern in SHIPPED + OTHERS:
        assert pattern is not None
        assert _matches(opening_scan(pattern).finditer(text)) == _matches(pattern.finditer(text))
