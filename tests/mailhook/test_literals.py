"""The whole-text gates of the word lists (mailhook.literals): reading a text with them
finds exactly what reading every sentence finds, and a gate never says no to a text a
list's pattern matches."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.decision.rules import load_rules
from mailhook import literals, unexplained
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from mailhook.text import fold
from tests.adversarial_mail import Mail, build
from tests.support import RULES

CATALOGUE = load_rules(RULES).catalogue
FORMS = CATALOGUE.forms
assert FORMS is not None and CATALOGUE.requests is not None
LISTS = {
    "parties": FORMS.parties,
    "demands": FORMS.demands,
    "courtesies": FORMS.courtesies,
    "markers": CATALOGUE.requests.markers,
}
# Words of every list, near misses (a word inside another, a list word's first part,
# another case), names, services and the characters between them.
_PIECES = sorted(
    {word for words in LISTS.values() for word in words}
    | {"xfirma", "firmax", "ma", "byc", "PROSZE", "Marek", "acme.pl", "77777", "->", "ż", "ł"}
    # What cleaning and folding change: a right-to-left override and its end, invisible
    # and unusual spaces, letters case folding reads oddly, a fullwidth word.
    | {"\u202e", "\u202c", "\u200b", "\u00ad", "\u00a0", "\u3000", "İ", "ı", "ＦＩＲＭＡ"}
)
_TEXT = st.lists(
    st.one_of(st.sampled_from(_PIECES), st.sampled_from([" ", ", ", ". ", "\n", "-", ""])),
    max_size=12,
).map("".join)


@pytest.mark.parametrize("name", sorted(LISTS))
@settings(max_examples=500, deadline=None)
@given(text=_TEXT)
def test_a_gate_says_maybe_wherever_the_lists_pattern_matches(name: str, text: str) -> None:
    words = LISTS[name]
    folded = fold(text)
    patterns = [unexplained._words_pattern(words)]
    if name == "markers":
        patterns.append(re.compile(r"(?:^|[^\w])(" + "|".join(map(re.escape, words)) + ")"))
    if any(pattern.search(folded) for pattern in patterns):
        assert literals.literal_gate(words)(folded)


def test_an_empty_list_holds_nothing() -> None:
    assert literals.literal_gate(())("anything") is False


ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(extra=_TEXT)
def test_the_reading_with_gates_is_the_reading_without(
    extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Metamorphic: the same message read with the gates and with every gate open."""
    raw = build(Mail(subject="Faktura", plain=f"Proszę o duplikat faktury za acme.pl.\n{extra}\n"))
    gated = extract(parse_message(raw, ENVELOPE, Channel.API), CATALOGUE)
    with monkeypatch.context() as patch:
        patch.setattr(unexplained, "literal_gate", lambda words: literals._always)
        open_ = extract(parse_message(raw, ENVELOPE, Channel.API), CATALOGUE)
    assert gated.findings == open_.findings
