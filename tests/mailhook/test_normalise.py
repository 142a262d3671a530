"""The one normaliser: what clean() and normalise() make of each class of character."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mailhook.normalise as normalise_module
from mailhook._confusables_data import PROTOTYPES
from mailhook.normalise import (
    LATIN_PROTOTYPES,
    clean,
    fold_letters,
    is_dash,
    is_invisible,
    normalise,
)
from mailhook.text import fold

# Characters that render as nothing, one of each kind the module names.
INVISIBLE = [
    "\u200b",  # ZERO WIDTH SPACE
    "\u200c",  # ZERO WIDTH NON-JOINER
    "\u200d",  # ZERO WIDTH JOINER
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u2060",  # WORD JOINER
    "\u2061",  # FUNCTION APPLICATION
    "\u2062",  # INVISIBLE TIMES
    "\u2063",  # INVISIBLE SEPARATOR
    "\u2064",  # INVISIBLE PLUS
    "\ufeff",  # ZERO WIDTH NO-BREAK SPACE (BOM)
    "\u00ad",  # SOFT HYPHEN
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u202b",  # RIGHT-TO-LEFT EMBEDDING
    "\u202c",  # POP DIRECTIONAL FORMATTING
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\u2068",  # FIRST STRONG ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
    "\u180e",  # MONGOLIAN VOWEL SEPARATOR
    "\u034f",  # COMBINING GRAPHEME JOINER
    "\u061c",  # ARABIC LETTER MARK
    "\ufe0f",  # VARIATION SELECTOR-16
    "\U000e0100",  # VARIATION SELECTOR-17
    "\u180b",  # MONGOLIAN FREE VARIATION SELECTOR ONE
    "\U000e0001",  # LANGUAGE TAG
    "\U000e0041",  # TAG LATIN CAPITAL LETTER A
    "\U000e007f",  # CANCEL TAG
    "\u3164",  # HANGUL FILLER
    "\u115f",  # HANGUL CHOSEONG FILLER
    "\U0001d173",  # MUSICAL SYMBOL BEGIN BEAM
]
DASHES = [
    "\u2010",  # HYPHEN
    "\u2011",  # NON-BREAKING HYPHEN
    "\u2012",  # FIGURE DASH
    "\u2013",  # EN DASH
    "\u2014",  # EM DASH
    "\u2015",  # HORIZONTAL BAR
    "\u2212",  # MINUS SIGN
    "\u02d7",  # MODIFIER LETTER MINUS SIGN
    "\u2796",  # HEAVY MINUS SIGN
    "\u207b",  # SUPERSCRIPT MINUS (NFKC: MINUS SIGN)
    "\ufe58",  # SMALL EM DASH
    "\ufe63",  # SMALL HYPHEN-MINUS
    "\uff0d",  # FULLWIDTH HYPHEN-MINUS
    "\u058a",  # ARMENIAN HYPHEN
    "\u2e3a",  # TWO-EM DASH
]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: unicodedata.name(c, f"U+{ord(c):04X}"))
def test_an_invisible_character_is_removed(char: str) -> None:
    assert is_invisible(char)
    assert clean(f"trans{char}fer") == "transfer"
    assert normalise(f"Trans{char}fer") == "transfer"


@pytest.mark.parametrize(
    ("written", "drawn"),
    [
        pytest.param("dla \u202elp.ateb\u202c.", "dla beta.pl.", id="up to the pop"),
        pytest.param("dla \u202elp.ateb\ni tak", "dla beta.pl\ni tak", id="up to the line end"),
        pytest.param("\u202erefsnart", "transfer", id="to the end of the text"),
    ],
)
def test_a_right_to_left_override_is_read_in_the_order_drawn(written: str, drawn: str) -> None:
    # UAX #9 rule X4: a reader sees the run after U+202E right to left.
    assert is_invisible("\u202e")
    assert clean(written) == drawn
    assert normalise(written) == normalise(drawn)


@pytest.mark.parametrize("char", DASHES, ids=lambda c: unicodedata.name(c))
def test_a_dash_is_a_hyphen_minus(char: str) -> None:
    assert clean(f"1234{char}5678") == "1234-5678"
    assert normalise(f"auth{char}info") == "auth-info"


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        pytest.param("ＡＣＭＥ．ＰＬ", "ACME.PL", id="fullwidth-letters-and-full-stop"),
        pytest.param("acme\u3002pl", "acme.pl", id="ideographic-full-stop"),
        pytest.param("acme\uff61pl", "acme.pl", id="halfwidth-ideographic-full-stop"),
        pytest.param("\U0001d400\U0001d41c\U0001d426\U0001d41e", "Acme", id="mathematical-bold"),
        pytest.param("１２３４ ５６７８", "1234 5678", id="fullwidth-digits"),
        pytest.param("ﬁrma", "firma", id="ligature"),
        pytest.param("Zażółć", "Zażółć", id="letters-and-case-kept"),
        pytest.param("e\u200b\u0301", "é", id="accent-composed-once-the-invisible-is-gone"),
        pytest.param("a\u00a0b", "a b", id="no-break-space"),
        pytest.param("\u0430cme", "\u0430cme", id="no-skeleton-cyrillic-kept"),
        pytest.param("plain ascii - 1l0O", "plain ascii - 1l0O", id="ascii-unchanged"),
    ],
)
def test_clean(text: str, cleaned: str) -> None:
    assert clean(text) == cleaned


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        pytest.param("Zażółć GĘŚLĄ jaźń", "zazolc gesla jazn", id="polish-diacritics"),
        pytest.param("Łódź, Straße, Øre, đak, ħ", "lodz, strasse, ore, dak, h", id="strokes"),
        pytest.param("  kod\t\n AuthInfo  ", "kod authinfo", id="white-space-collapsed"),
        pytest.param("k\u043ed \u0430uthinf\u043e", "kod authinfo", id="cyrillic-o-and-a"),
        pytest.param("\u0456nvoice", "invoice", id="cyrillic-byelorussian-i"),
        pytest.param("\u0422RANSFER", "transfer", id="cyrillic-capital-te"),
        pytest.param("\u0442ransfer", "transfer", id="cyrillic-te-as-small-capital"),
        pytest.param("tr\u03b1nsf\u0435r", "transfer", id="greek-alpha-cyrillic-ie"),
        pytest.param("\u03bf\u03c1", "op", id="greek-omicron-rho"),
        pytest.param("d\u0585main", "domain", id="armenian-oh"),
        pytest.param("\u13a0\u13ac", "de", id="cherokee-capitals"),
        pytest.param("ＴＲＡＮＳＦＥＲ", "transfer", id="fullwidth"),
        pytest.param("\U0001d42d\U0001d42b\U0001d41a\U0001d427\U0001d42c", "trans", id="math-bold"),
        pytest.param("\u0451", "e", id="cyrillic-io-loses-its-diaeresis-then-is-e"),
        pytest.param("don\u2019t renew", "don't renew", id="typographic-apostrophe"),
        pytest.param("1l0O rn m I", "1l0o rn m i", id="ascii-confusions-never-applied"),
        pytest.param("\u0434\u043e\u043c", "\u0434o\u043c", id="cyrillic-without-latin-look-kept"),
        pytest.param("\u4e2d\u6587", "\u4e2d\u6587", id="han-kept"),
    ],
)
def test_normalise(text: str, normalised: str) -> None:
    assert normalise(text) == normalised


def test_fold_is_normalise() -> None:
    # Catalogue phrases (app/decision/rules.py) and message text both go through fold.
    assert fold("Kod\u00adtrans\u200bferowy \u2013 \u0430uthinfo") == "kodtransferowy - authinfo"


# --- properties ------------------------------------------------------------------------

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",)),
    max_size=40,
)
WORDS = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)
# RIGHT-TO-LEFT OVERRIDE is invisible too, but it reverses what follows it (see
# test_a_right_to_left_override_is_read_in_the_order_drawn).
INVISIBLES = st.sampled_from(INVISIBLE) | st.characters(
    whitelist_categories=("Cf",), blacklist_characters="\u202e"
)
# Confusables the table maps directly: not compatibility characters, which NFKC maps
# first (fullwidth Ｉ is the letter I, whatever it resembles).
CONFUSABLE_OF: dict[str, list[str]] = {}
for _char, _form in LATIN_PROTOTYPES.items():
    if not _char.isascii() and len(_form) == 1 and unicodedata.normalize("NFKC", _char) == _char:
        CONFUSABLE_OF.setdefault(_form, []).append(_char)


@settings(max_examples=300)
@given(text=TEXT)
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@settings(max_examples=300)
@given(text=TEXT)
def test_clean_is_idempotent(text: str) -> None:
    once = clean(text)
    assert clean(once) == once


@settings(max_examples=300)
@given(text=TEXT | WORDS, invisible=INVISIBLES, where=st.integers(min_value=0))
def test_an_invisible_character_anywhere_changes_nothing(
    text: str, invisible: str, where: int
) -> None:
    at = where % (len(text) + 1)
    assert normalise(text[:at] + invisible + text[at:]) == normalise(text)


@settings(max_examples=300)
@given(text=WORDS, data=st.data())
def test_a_confusable_in_place_of_a_latin_letter_changes_nothing(
    text: str, data: st.DataObject
) -> None:
    letters = [i for i, char in enumerate(text) if char.lower() in CONFUSABLE_OF]
    assume(letters)
    at = data.draw(st.sampled_from(letters))
    confusable = data.draw(st.sampled_from(CONFUSABLE_OF[text[at].lower()]))
    assert normalise(text[:at] + confusable + text[at + 1 :]) == normalise(text)


def test_every_dash_of_the_confusable_table_is_a_dash() -> None:
    symbols = [c for c, p in PROTOTYPES.items() if p == "-" and not c.isalpha()]
    assert symbols
    assert all(is_dash(char) for char in symbols)


@settings(max_examples=500)
@given(char=st.characters(blacklist_categories=("Cs",)))
def test_a_character_the_quick_path_keeps_is_its_own_normal_form(char: str) -> None:
    # Most characters are answered without the steps: the answer must be theirs.
    if normalise_module._unchanged(char):
        assert clean(char) == char
        assert fold_letters(char) == char
        assert char.isascii() or char not in LATIN_PROTOTYPES  # text maps no ASCII
        assert not char.isspace()


def test_one_reading_remembers_within_and_forgets_after() -> None:
    calls: list[str] = []
    real = normalise_module._normalised

    def counted(text: str) -> str:
        calls.append(text)
        return real(text)

    normalise_module._normalised = counted  # type: ignore[assignment]
    try:
        with normalise_module.one_reading():
            assert normalise_module.normalise("Zmiana DNS") == "zmiana dns"
            with normalise_module.one_reading():  # nested: the outer one's memory goes on
                assert normalise_module.normalise("Zmiana DNS") == "zmiana dns"
            assert normalise_module.normalise("Zmiana DNS") == "zmiana dns"
        assert calls == ["Zmiana DNS"]
        assert normalise_module.normalise("Zmiana DNS") == "zmiana dns"
        assert calls == ["Zmiana DNS", "Zmiana DNS"]
    finally:
        normalise_module._normalised = real  # type: ignore[assignment]
