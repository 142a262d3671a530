"""Customers' names as keys, and the names a text gives as a reader takes them for names."""

from __future__ import annotations

import bisect
import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from mailhook.name_words import Word, words_of
from mailhook.normalise import clean, normalise

# A name is looked for as 1 to this many words; a key of more words is never stored.
MAX_WORDS: Final = 6
# A person's name written in lower case is looked for as this many words at most: a
# first and a last name, and one middle name (customer_name_keys).
PERSON_WORDS: Final = 3
# A company's name of one word is a key only with this many letters ("Beta", "Kwiatex"):
# shorter ones ("AB", "Max") are words and initials in every text.
MIN_SINGLE_LETTERS: Final = 4
# Words that name a kind of business or what the desk's mail is about: a company named
# only that ("Studio sp. z o.o.") gets no one-word key, as every message would name it.
GENERIC_WORDS: Final = frozenset(
    {
        "admin",
        "agencja",
        "biuro",
        "company",
        "domain",
        "domena",
        "firma",
        "faktura",
        "group",
        "grupa",
        "hosting",
        "hotel",
        "info",
        "invoice",
        "klient",
        "kontakt",
        "konto",
        "panel",
        "poczta",
        "polska",
        "poland",
        "serwer",
        "serwis",
        "sklep",
        "spolka",
        "studio",
        "support",
        "test",
    }
)
# Legal forms, folded, each written as its words; the first of each line is the form
# compared (app.decision.checks.named_customer compares the sender's own name with it).
_FORMS: Final = (
    ("sp z o o", "sp z oo", "spzoo", "sp zoo", "spolka z o o", "spolka z oo",
     "spolka z ograniczona odpowiedzialnoscia"),
    ("s a", "sa", "spolka akcyjna"),
    ("p s a", "psa", "prosta spolka akcyjna"),
    ("s k a", "ska", "sp k a", "spolka komandytowo akcyjna"),
    ("sp j", "spj", "spolka jawna"),
    ("sp k", "spk", "spolka komandytowa"),
    ("sp p", "spp", "spolka partnerska"),
    ("s c", "sc", "spolka cywilna"),
    ("ltd", "limited"),
    ("llc", "l l c"),
    ("llp",),
    ("plc",),
    ("inc", "incorporated"),
    ("corp", "corporation"),
    ("co",),
    ("gmbh",),
    ("gmbh co kg",),
    ("ag",),
    ("kg",),
    ("s r o", "sro"),
    ("b v", "bv"),
)  # fmt: skip
# Written form (a tuple of words) -> the form compared.
LEGAL_FORMS: Final[dict[tuple[str, ...], str]] = {
    tuple(written.split()): forms[0] for forms in _FORMS for written in forms
}
# Most words a legal form is written in.
_FORM_WORDS: Final = max(len(written) for written in LEGAL_FORMS)
# Forms that are ordinary words too ("są" folds to "sa", "co" is Polish "what"): only
# written with a dot or in capitals do they mark the words before them as a name.
_PLAIN_WORDS: Final = frozenset({"sa", "co", "ag", "kg", "sc", "ska", "sro", "bv"})
# The first words of legal forms: where none stands, no form is looked for.
_FORM_FIRST: Final = frozenset(written[0] for written in LEGAL_FORMS)
# A word: letters and digits. Everything else (punctuation, quotes, "&", dashes, white
# space and line breaks) only separates words, on both sides of the comparison.
_WORD: Final = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class WrittenName:
    """Words of a text a reader may take for a name: their key, the key with the legal
    form written after them (``exact``), where they stand (word positions), and the
    words as written, legal form included (white space made single spaces)."""

    key: str
    exact: str
    start: int
    end: int
    written: str


def name_words(name: str) -> list[str]:
    """``name`` folded (case, diacritics, look-alike letters) as its words, without
    punctuation, quotes or white space: "„Beta” Sp. z o.o." → beta, sp, z, o, o."""
    return _WORD.findall(normalise(clean(name)))


def legal_form(words: list[str]) -> tuple[list[str], str | None]:
    """``words`` without the legal forms they end with, and the last of those forms."""
    form: str | None = None
    stripped = True
    while stripped and words:
        stripped = False
        for size in range(min(_FORM_WORDS, len(words) - 1), 0, -1):
            found = LEGAL_FORMS.get(tuple(words[-size:]))
            if found is not None:
                form = form or found
                words, stripped = words[:-size], True
                break
    return words, form


def customer_name_keys(kind: str, name: str) -> tuple[str, ...]:
    """The keys a registered customer is found by when a text gives its name.

    A company: its name without the legal form, when that is two words or more, or one
    distinctive word (MIN_SINGLE_LETTERS letters, not in GENERIC_WORDS). A person: first
    and last name, in both orders ("ola nowak", "nowak ola"), and the whole name when
    there are middle names; a single name is no key. Names of more than MAX_WORDS words
    have none: no text is searched for so long a name.
    """
    words, _ = legal_form(name_words(name))
    if not words or len(words) > MAX_WORDS:
        return ()
    if kind == "person":
        if len(words) < 2 or len(words[0]) < 2 or len(words[-1]) < 2:
            return ()
        first, last = words[0], words[-1]
        keys = [" ".join(words), f"{first} {last}", f"{last} {first}"]
        return tuple(dict.fromkeys(keys))
    if len(words) == 1:
        word = words[0]
        letters = sum(char.isalpha() for char in word)
        if letters < MIN_SINGLE_LETTERS or word in GENERIC_WORDS:
            return ()
    elif max(len(word) for word in words) < 3:
        # Initials only ("A B"): a pair of letters in any text.
        return ()
    return (" ".join(words),)


def exact_name_keys(kind: str, name: str) -> tuple[str, ...]:
    """A customer's name as compared with a name as written, legal form included: a
    company's key and form ("beta sp z o o", or "beta" for a name without one); a
    person's keys (a person has no legal form)."""
    if kind == "person":
        return customer_name_keys(kind, name)
    words, form = legal_form(name_words(name))
    key = " ".join(words)
    return (key if form is None else f"{key} {form}",)


# No legal form written from a word on (see NameRuns.forms).
_NO_FORM: Final[tuple[int, str | None, bool]] = (0, None, False)


class NameRuns:
    """The runs of 1 to MAX_WORDS words of a text a reader may take for a name.

    A run of several words is capitalised or quoted word by word ("Ola Nowak", "BETA
    Ltd", „beta software”), or is followed by a legal form ("beta sp. z o.o.", "Zielony
    ogród sp. j."). A single word needs more, as capitals start sentences: quotation
    marks, a legal form after it, or a capital within a sentence and line ("faktura dla
    Kwiatex"). Words run on over line breaks and markup, so a name split over two lines
    is one; punctuation other than quotes ends a run (_ENDS_RUN).

    The runs are walked when asked for, not kept: a long text of capitalised words has
    some six per word, and only the few that are registered names are ever needed. It
    holds the sender's text, PESEL and NIP included, so as mailhook.identifiers'
    Identifier it shows none of it (``repr``, ``asdict`` of an Instruction) and is never
    pickled.
    """

    __slots__ = ("_forms", "_source", "_text", "_words")

    def __init__(self, source: str = "") -> None:
        # The text as given; it is cleaned and split into words only when first asked
        # for: most messages (no customer matched) never are.
        self._source = source
        self._text: str | None = None
        self._words: tuple[Word, ...] = ()
        self._forms: tuple[tuple[int, str | None, bool], ...] = (_NO_FORM,)

    @property
    def text(self) -> str:
        """The text, cleaned (mailhook.normalise.clean), that the words are of."""
        if self._text is None:
            self._read()
        assert self._text is not None
        return self._text

    @property
    def words(self) -> tuple[Word, ...]:
        if self._text is None:
            self._read()
        return self._words

    @property
    def forms(self) -> tuple[tuple[int, str | None, bool], ...]:
        """The legal form written from each word on: (its words, the form compared, whether
        it marks the words before it as a name); one more than there are words."""
        if self._text is None:
            self._read()
        return self._forms

    def _read(self) -> None:
        text = clean(self._source) if self._source else ""
        words = words_of(text)
        forms = [_NO_FORM] * (len(words) + 1)
        for at, word in enumerate(words):
            if word.folded in _FORM_FIRST:
                forms[at] = _form_at(words, at)
        self._forms = tuple(forms)
        self._words, self._text = words, text

    def __repr__(self) -> str:
        return f"NameRuns({len(self.words)} words)"

    def __copy__(self) -> NameRuns:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> NameRuns:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("NameRuns are not pickled: they carry the sender's text")

    def keys(self) -> frozenset[str]:
        """The key of every run."""
        return frozenset(key for key, _, _ in self._runs())

    def named(
        self, keys: Container[str], starts: Container[str] | None = None
    ) -> tuple[WrittenName, ...]:
        """The runs whose key is one of ``keys``, in the order they are written.
        ``starts``: the first word of each of ``keys`` (name_key_starts), when known: a
        run that starts with another word is not walked."""
        return tuple(
            self._written(key, start, end) for key, start, end in self._runs(starts) if key in keys
        )

    def lower_case_keys(self) -> frozenset[str]:
        """The key of every lower-case run of PERSON_WORDS words (see lower_case)."""
        return frozenset(key for key, _, _ in self._lower_case_runs())

    def lower_case(
        self, keys: Container[str], starts: Container[str] | None = None
    ) -> tuple[WrittenName, ...]:
        """Runs of two or three words that no capital marks as a name ("dla ola nowak")
        whose key is one of ``keys``: a person's first and last name written in lower
        case is still that person's (app.decision.named_customers keeps only persons:
        a company's name of ordinary words, "nowy ogród zielony", is no name so).
        ``starts``: as for named."""
        return tuple(
            self._written(key, start, end)
            for key, start, end in self._lower_case_runs(starts)
            if key in keys
        )

    def _lower_case_runs(
        self, starts: Container[str] | None = None
    ) -> Iterator[tuple[str, int, int]]:
        words = self.words
        for start, first in enumerate(words):
            if first.named or len(first.folded) < 2:
                # A capitalised or quoted start is a run _runs gives.
                continue
            if starts is not None and _start_of(first.folded) not in starts:
                continue
            key = first.folded
            for end in range(start + 2, min(start + PERSON_WORDS, len(words)) + 1):
                word = words[end - 1]
                if not word.joined:
                    break
                key = f"{key} {word.folded}"
                yield key, start, end

    def _written(self, key: str, start: int, end: int) -> WrittenName:
        size, form, _ = self.forms[end]
        exact = f"{key} {form}" if form is not None else key
        first, last = self.words[start].start, self.words[end - 1 + size].end
        return WrittenName(key, exact, start, end, " ".join(self.text[first:last].split())[:120])

    def _runs(self, starts: Container[str] | None = None) -> Iterator[tuple[str, int, int]]:
        """(key, first word, word after the last) of each run (whose first word is one of
        ``starts``, if given)."""
        words, forms = self.words, self.forms
        marking = [marks for _, _, marks in forms]
        # Where a legal form that marks a name starts, in order.
        marked_at = [at for at, marks in enumerate(marking) if marks]
        last_word = len(words)
        for start, first in enumerate(words):
            if starts is not None and _start_of(first.folded) not in starts:
                continue
            reach = start + MAX_WORDS if start + MAX_WORDS < last_word else last_word
            # The last end within reach at which a legal form marks the run (0: none).
            before = bisect.bisect_right(marked_at, reach)
            marked = marked_at[before - 1] if before and marked_at[before - 1] > start else 0
            # Whether every word of the run so far is capitalised or quoted.
            named = first.named
            if not named and not marked:
                # Most words of a text: lower case, and no legal form follows within reach.
                continue
            key = first.folded
            for end in range(start + 1, reach + 1):
                if end - 1 > start:
                    word = words[end - 1]
                    named = named and word.named
                    if not word.joined or (not named and end > marked):
                        break
                    key = f"{key} {word.folded}"
                marks = marking[end]
                if not (named or marks):
                    continue
                if end - start == 1 and not (marks or first.quoted or first.within_sentence):
                    continue
                yield key, start, end


# The runs of a text with no words: what a message whose text was not read gives.
NO_NAMES: Final = NameRuns()


def name_runs(text: str) -> NameRuns:
    """The runs of words of ``text`` a reader may take for a name (see NameRuns), read
    when first asked for."""
    return NameRuns(text)


def written_names(text: str) -> tuple[WrittenName, ...]:
    """Every run of ``text`` a reader may take for a name (NameRuns), as written."""
    runs = name_runs(text)
    return runs.named(runs.keys())


def name_key_starts(keys: Iterable[str]) -> frozenset[str]:
    """The first word of each name key: what NameRuns.named and lower_case may be given
    to walk only the runs that can be one of those keys."""
    return frozenset(_start_of(key) for key in keys)


def _start_of(key: str) -> str:
    # A key's words are joined by single spaces: a run's key starts with its first word,
    # or with that word's first part should a folded word ever hold a space.
    return key.partition(" ")[0]


def _form_at(words: tuple[Word, ...], at: int) -> tuple[int, str | None, bool]:
    """The legal form written from word ``at`` on: how many words, the form compared, and
    whether it marks the words before it as a name (see _PLAIN_WORDS)."""
    if at == len(words) or words[at].folded not in _FORM_FIRST:
        return 0, None, False
    for size in range(min(_FORM_WORDS, len(words) - at), 0, -1):
        form = LEGAL_FORMS.get(tuple(word.folded for word in words[at : at + size]))
        if form is None:
            continue
        written = words[at]
        plain = size == 1 and written.folded in _PLAIN_WORDS and not written.raw.isupper()
        return size, form, not plain
    return 0, None, False
