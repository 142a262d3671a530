"""The reader's shortcuts: a cheap search for what a costly pattern's match must hold
is made first, and the pattern is tried only when it finds it. A shortcut must never
say "no match" where the pattern would match: that would let a sentence through
unread. Each is held to its pattern on generated text of the characters that matter
(case folding's odd ones included: "İ", "ı", "K", "ſ") and on written examples."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailhook import requests, services, text, unexplained
from mailhook.domains import listed_suffix, suffix_last_labels

# Characters the patterns turn on, and those re.IGNORECASE folds oddly.
_ALPHABET = st.sampled_from(
    [*"abcilmotwxyzACILMOTWX019 \t\n.@[](){}:/-*_,;!?ąłżİıKſ", "www", "://", "mailto"]
)
_TEXT = st.lists(_ALPHABET, max_size=40).map("".join)


def _place(sentence: str) -> bool:
    return unexplained._PLACE_ONLY.search(unexplained._MAIL_ADDRESS.sub(" ", sentence)) is not None


@settings(max_examples=3000, deadline=None)
@given(_TEXT)
def test_place_shortcut_agrees_with_the_pattern(sentence: str) -> None:
    assert unexplained._names_place(sentence) == _place(sentence)


@settings(max_examples=3000, deadline=None)
@given(_TEXT)
def test_without_names_shortcut_agrees_with_the_pattern(sentence: str) -> None:
    assert unexplained._without_names(sentence) == unexplained._NAMED_PLACE.sub(" ", sentence)


@settings(max_examples=3000, deadline=None)
@given(_TEXT)
def test_spelt_out_shortcut_agrees_with_the_pattern(written: str) -> None:
    joined = text._SPELT_OUT.sub(lambda run: text._SPACES.sub("", run.group(0)), written)
    assert text.spelt_out_joined(written) == (joined if joined != written else None)


@settings(max_examples=3000, deadline=None)
@given(_TEXT)
def test_lettered_shortcut_agrees_with_the_pattern(written: str) -> None:
    if text._LETTERED.search(written) is not None:
        assert text._LETTERED_MAY.search(written) is not None


_OLD_DIGIT_BESIDE = re.compile(r"[^\W\d_]\d|\d[^\W\d_]")


@settings(max_examples=3000, deadline=None)
@given(_TEXT)
def test_digits_read_as_before(written: str) -> None:
    """The digit-first pattern finds the same words as the pair pattern it replaced."""
    assert text._read_digits(written) == _read_digits_by_pairs(written)


def _read_digits_by_pairs(written: str) -> str:
    pieces, copied = [], 0
    for pair in _OLD_DIGIT_BESIDE.finditer(written):
        if pair.start() < copied:
            continue
        start = pair.start()
        while start > copied and re.match(r"\w", written[start - 1]):
            start -= 1
        end = re.compile(r"\w*").match(written, pair.end()).end()  # type: ignore[union-attr]
        pieces += [written[copied:start], text._LEET_WORD.sub(text._as_letters, written[start:end])]
        copied = end
    return "".join([*pieces, written[copied:]]) if pieces else written


@pytest.mark.parametrize(
    "sentence",
    [
        "Przenieście na MAİLTO:kod",  # dotted capital I: re.IGNORECASE reads it as "i"
        "pisz na jan(AT)beta.pl",
        "https://x",
        "WWW.123",
        "idzie do beta.pl.",
        "jan@beta.pl i ola@beta.pl",
        "numer 77777 do beta.pl",
        "Domena: acme.pl",
    ],
)
def test_place_shortcut_on_examples(sentence: str) -> None:
    assert unexplained._names_place(sentence) == _place(sentence)
    assert unexplained._without_names(sentence) == unexplained._NAMED_PLACE.sub(" ", sentence)


@pytest.mark.parametrize(
    "written",
    ["t r a n s f e r", "b e t a . p l", "x y z", "a\tb\tc.", "w sprawie i w razie", "a-u-t-h"],
)
def test_spelt_out_on_examples(written: str) -> None:
    joined = text._SPELT_OUT.sub(lambda run: text._SPACES.sub("", run.group(0)), written)
    assert text.spelt_out_joined(written) == (joined if joined != written else None)


_CAPITALISED_AS_WRITTEN = re.compile(r"(?<![\w.@/-])[A-ZĄĆĘŁŃÓŚŹŻ][\w-]*")


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from([*"aAbBZŻżĄ1 .@/-_,", "Jan", "Ola-Nowak"]), max_size=30).map("".join)
)
def test_capitalised_words_as_before(sentence: str) -> None:
    """The pattern with its look-behind after the capital finds the words it did before."""
    assert unexplained._CAPITALISED.findall(sentence) == _CAPITALISED_AS_WRITTEN.findall(sentence)


_ACCOUNT_TEXT = st.lists(
    st.sampled_from([*"pl0123456789 x", "٦", "١", "۱", "1234 ", "pl61 ", "\u0966"]), max_size=45
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_ACCOUNT_TEXT)
def test_account_gate_says_maybe_wherever_an_account_number_is(folded: str) -> None:
    if requests._ACCOUNT_NUMBER.search(folded):
        assert requests._MAY_HOLD_ACCOUNT.search(folded) is not None


@pytest.mark.parametrize(
    "folded",
    [
        "zwrot na pl61 1090 1014 0000 0712 1981 2874 prosze",
        "61109010140000071219812874",
        "٦١١٠٩٠١٠١٤٠٠٠٠٠٧١٢١٩٨١٢٨٧٤",  # Arabic-Indic digits: Python's \d, not RE2's
        "de89370400440532013000",
    ],
)
def test_account_gate_on_examples(folded: str) -> None:
    assert requests._ACCOUNT_NUMBER.search(folded) is not None
    assert requests._MAY_HOLD_ACCOUNT.search(folded) is not None


# Words that end listed suffixes ("pl", "za" of "co.za" only, "ck" of "*.ck"), words that
# do not, and the gaps a reader takes for a dot.
_NAME_PIECES = st.sampled_from(
    [
        *["beta", "com", "co", "pl", "za", "ck", "waw", "konto", "plum", "Pl", "zażółć", "x9"],
        *[" ", ".", ". ", ".\n", "-", "-\n", " (", ") ", "'", '"', "*", "_", "`", "„", "  ", ","],
    ]
)


def _joined_names_everywhere(written: str) -> list[str]:
    """joined_names without its first look at each window."""
    found: list[str] = []
    last_end = -1
    for suspect in services._SUSPECT_GAP.finditer(written):
        if suspect.start() < last_end:
            continue
        start, last_end = max(0, suspect.start() - 200), suspect.end() + 80
        found.extend(services._joined_names(written[start:last_end]))
    return list(dict.fromkeys(found))


@settings(max_examples=3000, deadline=None)
@given(st.lists(_NAME_PIECES, max_size=30).map("".join), st.integers(0, 300))
def test_joined_names_look_first_as_before(written: str, padding: int) -> None:
    # Padding moves the windows' edges, which may cut a word ("plum" to "pl").
    written = "x " * padding + written
    assert services.joined_names(written) == _joined_names_everywhere(written)


@pytest.mark.parametrize("suffix", ["pl", "com.pl", "co.za", "co.ck", "waw.pl", "blogspot.com"])
def test_every_listed_suffix_ends_in_a_label_the_look_knows(suffix: str) -> None:
    assert listed_suffix(suffix)
    assert suffix.rsplit(".", 1)[-1] in suffix_last_labels()
    assert services.joined_names(f"napisz na beta. {suffix.replace('.', '. ')} prosze") != []
