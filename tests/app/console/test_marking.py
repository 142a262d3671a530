"""The text as read with what was recognised marked (app.console.marking): table-driven,
and a property: the marks only ever add tags, the text itself comes back unchanged."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.console.marking import marked


@pytest.mark.parametrize(
    ("text", "phrases", "services", "expected"),
    [
        (
            "Proszę o Zmianę rekordu DNS dla acme.pl.",
            ["zmian rekord"],
            ["acme.pl"],
            "Proszę o <mark>Zmianę rekordu</mark> DNS dla <mark>acme.pl</mark>.",
        ),
        (
            "Kod AuthInfo\ndla ACME.PL",
            ["kod authinfo"],
            ["acme.pl"],
            "<mark>Kod AuthInfo</mark>\ndla <mark>ACME.PL</mark>",
        ),
        (
            "żółw.pl i łąka.pl",
            [],
            ["łąka.pl"],
            "żółw.pl i <mark>łąka.pl</mark>",
        ),
        (
            '<script>alert(1)</script> duplikat faktury <img src=x onerror="x()">',
            ["duplikat faktur"],
            [],
            "&lt;script&gt;alert(1)&lt;/script&gt; <mark>duplikat faktury</mark> "
            "&lt;img src=x onerror=&#34;x()&#34;&gt;",
        ),
        (
            "duplikat faktury, duplikat faktury",
            ["duplikat faktur", "faktur"],
            [],
            "<mark>duplikat faktury</mark>, <mark>duplikat faktury</mark>",
        ),
        ("Nothing here.", ["zmian rekord"], ["acme.pl"], "Nothing here."),
    ],
    ids=["stems and diacritics", "case and line break", "an IDN", "hostile", "overlap", "none"],
)
def test_marks(text: str, phrases: list[str], services: list[str], expected: str) -> None:
    assert str(marked(text, phrases, services)) == expected


_TAG = re.compile(r"</?mark>")


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    text=st.text(),
    phrases=st.lists(st.sampled_from(["zmian rekord", "faktur", "kod authinfo", "a"]), max_size=3),
    services=st.lists(st.sampled_from(["acme.pl", "<b>", "&"]), max_size=2),
)
def test_marks_only_add_tags(text: str, phrases: list[str], services: list[str]) -> None:
    shown = str(marked(text, phrases, services))
    assert "<" not in _TAG.sub("", shown)
    assert html.unescape(_TAG.sub("", shown)) == text
