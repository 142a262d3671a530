"""The RE2 phrase set finds exactly the kinds the phrase-by-phrase search finds."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.decision.phrase_index import Re2PhraseIndex, ascii_words, phrase_source
from app.decision.rules import load_rules
from app.errors import ConfigError
from mailhook.catalogue import InstructionKind, kinds_named
from mailhook.text import fold
from tests.support import RULES

CATALOGUE = load_rules(RULES).catalogue
ONE_BY_ONE = dataclasses.replace(CATALOGUE, phrase_index=None)
# Pieces of text near every phrase: their words, their stems cut short, word joiners.
WORDS = sorted({word for kind in CATALOGUE.kinds for p in kind.phrases for word in p.split()})
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).map(lambda word: word[: max(1, len(word) - 2)]),
    st.sampled_from(["", "y", "ow", "ami", "_", "1", "ą", "ß", "é", "x", "а", "²", "кот"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyząęłóżźćńś0123456789_", max_size=6),
)
ONE_PHRASE_EACH = [p for kind in CATALOGUE.kinds for p in kind.phrases]
GLUE = st.sampled_from([" ", "  ", "", ".", ", ", "-", "\n", "(", ")", "/", "'", "\u0301"])


def kinds_one_by_one(text: str) -> tuple[str, ...]:
    return kinds_named(fold(text), ONE_BY_ONE)


def kinds_at_once(text: str) -> tuple[str, ...]:
    return kinds_named(fold(text), CATALOGUE)


def test_the_shipped_catalogue_builds_an_index() -> None:
    assert isinstance(CATALOGUE.phrase_index, Re2PhraseIndex)
    phrases = sum(len(kind.phrases) for kind in CATALOGUE.kinds)
    assert len(CATALOGUE.phrase_index.kind_of) == phrases


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        pytest.param("Proszę o kod AuthInfo dla acme.pl", ("transfer_out",), id="a phrase"),
        pytest.param("Proszę o zmianę adresu", ("contact_change",), id="a stem inflected"),
        pytest.param("przetransferowanie domeny", (), id="a stem inside a word is no match"),
        pytest.param("nie_authinfo", (), id="an underscore joins words as in Python"),
        pytest.param("kod\u0301 authinfo", ("transfer_out",), id="a combining mark is no letter"),
        pytest.param("", (), id="nothing"),
    ],
)
def test_each_way_finds_the_same_kinds(text: str, kinds: tuple[str, ...]) -> None:
    assert kinds_at_once(text) == kinds_one_by_one(text) == kinds


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(PIECES, GLUE), max_size=12))
def test_the_set_finds_what_the_searches_find(pieces: list[tuple[str, str]]) -> None:
    text = "".join(piece + glue for piece, glue in pieces)
    assert kinds_at_once(text) == kinds_one_by_one(text)


def test_a_phrase_source_escapes_what_it_quotes() -> None:
    assert phrase_source("a.b c+d") == r"(?:^|[^\p{L}\p{N}_])a\.b[\p{L}\p{N}_]*\s+c\+d"
    assert phrase_source("a.b c+d", ascii_classes=True) == (
        r"(?:^|[^A-Za-z0-9_])a\.b[A-Za-z0-9_]*\s+c\+d"
    )


def test_text_beyond_ascii_is_searched_with_its_word_characters_as_underscores() -> None:
    assert ascii_words("zażółć gęślą, ² ½ кот") == "za____ g__l_, _ _ ___"
    assert ascii_words("plain ascii") == "plain ascii"
    # Unfolded, a letter from another script is a word character, never the letter it
    # looks like (folding reads look-alikes first: both ways then find the phrase).
    assert CATALOGUE.phrase_index is not None
    assert CATALOGUE.phrase_index.kinds_in("kod \u0430uthinfo") == frozenset()
    assert CATALOGUE.phrase_index.kinds_in("kod authinfo") == {"transfer_out"}
    assert kinds_at_once("kod \u0430uthinfo") == kinds_one_by_one("kod \u0430uthinfo")


def kinds_with(phrases: list[str]) -> list[InstructionKind]:
    return [InstructionKind("k", "K", tuple(phrases), requires="authenticated")]


def test_a_catalogue_several_times_the_shipped_one_builds() -> None:
    """Operators add phrases: the ASCII set has room for thousands (the Unicode one did
    not compile past about 440)."""
    phrases = [f"{p} dodatek{i}" for i, p in enumerate(5 * [*ONE_PHRASE_EACH])]
    index = Re2PhraseIndex.of(kinds_with(phrases))
    assert index.ascii_classes
    assert index.kinds_in(f"tekst {phrases[-1]} tekst") == {"k"}


def test_a_phrase_beyond_ascii_keeps_unicode_classes() -> None:
    index = Re2PhraseIndex.of(kinds_with(["übertragung", "kod authinfo"]))
    assert not index.ascii_classes
    assert index.kinds_in("die übertragungen bitte") == {"k"}
    assert index.kinds_in("kod_authinfo") == frozenset()


def test_a_set_too_large_for_re2_is_a_configuration_error() -> None:
    phrases = [f"słowo{i} i coś jeszcze" for i in range(1500)]
    with pytest.raises(ConfigError, match="do not fit in one search set"):
        Re2PhraseIndex.of(kinds_with(phrases))
