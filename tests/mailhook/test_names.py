"""Customers' names as keys, and the runs of words of a text a reader takes for names."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailhook import name_words, names
from mailhook.names import customer_name_keys, exact_name_keys, name_runs, written_names
from mailhook.normalise import clean, normalise
from tests.support import FIXTURES


@pytest.mark.parametrize(
    ("kind", "name", "keys"),
    [
        pytest.param("company", "Beta sp. z o.o.", ("beta",), id="the legal form is stripped"),
        pytest.param(
            "company",
            "„Kwiatex” Spółka z ograniczoną odpowiedzialnością",
            ("kwiatex",),
            id="quotes, diacritics and a written-out form",
        ),
        pytest.param("company", "BETA Ltd", ("beta",), id="an English form, capitals"),
        pytest.param(
            "company",
            "Beta Software GmbH & Co. KG",
            ("beta software",),
            id="a form of several parts, and the ampersand",
        ),
        pytest.param("company", "Zielony Ogród sp.j.", ("zielony ogrod",), id="two words"),
        pytest.param("company", "AB S.A.", (), id="a one-word name of under four letters"),
        pytest.param("company", "MAX S.A.", (), id="three letters"),
        pytest.param("company", "Studio sp. z o.o.", (), id="a generic word"),
        pytest.param("company", "A B sp. z o.o.", (), id="initials only"),
        pytest.param(
            "company", "Jeden Dwa Trzy Cztery Pięć Sześć Siedem", (), id="longer than looked for"
        ),
        pytest.param("person", "Ola Nowak", ("ola nowak", "nowak ola"), id="a person, both orders"),
        pytest.param(
            "person",
            "Anna Maria Kowalska",
            ("anna maria kowalska", "anna kowalska", "kowalska anna"),
            id="a middle name",
        ),
        pytest.param("person", "Łucja Wójcik", ("lucja wojcik", "wojcik lucja"), id="diacritics"),
        pytest.param("person", "Jan", (), id="a first name alone"),
        pytest.param("person", "Jan K.", (), id="an initial for the last name"),
    ],
)
def test_the_keys_of_a_customer_s_name(kind: str, name: str, keys: tuple[str, ...]) -> None:
    assert customer_name_keys(kind, name) == keys


@pytest.mark.parametrize(
    ("kind", "name", "exact"),
    [
        pytest.param("company", "Beta Sp. z o.o.", ("beta sp z o o",), id="with its form"),
        pytest.param("company", "Beta spzoo", ("beta sp z o o",), id="one form however written"),
        pytest.param("company", "Beta", ("beta",), id="registered without a form"),
        pytest.param("person", "Ola Nowak", ("ola nowak", "nowak ola"), id="a person: the keys"),
    ],
)
def test_the_exact_name_of_a_customer(kind: str, name: str, exact: tuple[str, ...]) -> None:
    assert exact_name_keys(kind, name) == exact


def found(text: str) -> set[tuple[str, str]]:
    return {(name.key, name.exact) for name in written_names(text)}


@pytest.mark.parametrize(
    ("text", "key", "exact"),
    [
        pytest.param("faktura dla Beta sp. z o.o.", "beta", "beta sp z o o", id="with a form"),
        pytest.param("faktura dla beta sp. z o.o.", "beta", "beta sp z o o", id="lower case"),
        pytest.param("faktura dla BETA SA", "beta", "beta s a", id="SA in capitals"),
        pytest.param("faktura dla Beta", "beta", "beta", id="a capital within a sentence"),
        pytest.param("faktura dla „beta”", "beta", "beta", id="quoted"),
        pytest.param("faktura dla Ola\nNowak", "ola nowak", "ola nowak", id="over a line break"),
        pytest.param("Ola Nowak prosi o fakturę", "ola nowak", "ola nowak", id="starting a text"),
        pytest.param("dla Beta\nsp. z o.o.", "beta", "beta sp z o o", id="form on the next line"),
    ],
)
def test_a_name_written_in_a_text(text: str, key: str, exact: str) -> None:
    assert (key, exact) in found(text)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("Dane do faktury.", "dane", id="a capital starting a sentence"),
        pytest.param("Bez zmian.\nDane do faktury", "dane", id="a capital starting a line"),
        pytest.param("moje dane sa aktualne", "dane", id="lower case before 'sa' (są)"),
        pytest.param("nowy ogród zielony", "ogrod zielony", id="lower-case words"),
        pytest.param("wiem co robię", "wiem", id="lower case before 'co'"),
    ],
)
def test_words_that_are_no_name(text: str, key: str) -> None:
    assert key not in {k for k, _ in found(text)}


def test_the_words_as_written_are_kept_for_the_reason() -> None:
    (name,) = [n for n in written_names("dla firmy „Beta”  Sp. z o.o., pilne") if n.key == "beta"]
    assert name.written == "Beta” Sp. z o.o"


def test_the_runs_show_nothing_of_the_text_and_are_not_pickled() -> None:
    runs = name_runs("Kod PESEL 44051401359 dla Ola Nowak")
    assert repr(runs) == "NameRuns(6 words)"
    assert copy.deepcopy(runs) is runs
    with pytest.raises(TypeError):
        pickle.dumps(runs)
    assert [n.written for n in runs.named({"ola nowak"})] == ["Ola Nowak"]


# The words of a text read one match at a time, as NameRuns read them before they were
# read in bulk: the oracle the bulk reading is held to.
def _words_one_by_one(text: str) -> list[tuple[object, ...]]:
    spans = [(m.start(1), m.end(1)) for m in name_words.QUOTED.finditer(text)]
    span, previous_end, previous_initial = 0, -1, False
    found: list[tuple[object, ...]] = []
    for match in names._WORD.finditer(text):
        raw, start = match.group(0), match.start()
        while span < len(spans) and spans[span][1] <= start:
            span += 1
        gap = text[previous_end:start] if previous_end >= 0 else "\n"
        mark = gap.rstrip(" \t")[-1:]
        within = "\n" not in gap and (not mark or mark in name_words.WITHIN_SENTENCE)
        ends_run = not name_words.ENDS_RUN.isdisjoint(gap) and not (
            previous_initial and gap.strip() == "."
        )
        previous_end, previous_initial = match.end(), len(raw) == 1
        quoted = span < len(spans) and spans[span][0] <= start
        folded = raw.lower() if raw.isascii() else normalise(raw)
        named = raw[0].isupper() or quoted
        found.append((folded, raw, start, match.end(), named, quoted, within, not ends_run))
    return found


# Words and gaps a text is made of: initials, capitals, diacritics, other scripts, digits,
# a letter NFKC spells with spaces (U+FDFA), the underscore that separates words; full
# stops, commas, colons, brackets, line breaks, tabs, every quotation mark a reader knows.
_PIECES = st.sampled_from(
    [
        *"PHUaAzZ01_",
        "Ola",
        "nowak",
        "Beta",
        "sp",
        "o",
        "Zażółć",
        "ÉCOLE",
        "İstanbul",
        "Ωmega",
        "ﷺ",
        "x\u0301",
        " ",
        "  ",
        "\t",
        "\n",
        ". ",
        ".",
        ", ",
        ": ",
        ";",
        "(",
        ")",
        "&",
        "-",
        "/",
        "!",
        *name_words.QUOTES,
        "'",
    ]
)


@settings(max_examples=4000, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_the_words_read_in_bulk_are_those_read_one_by_one(text: str) -> None:
    assert [tuple(word) for word in name_words.words_of(text)] == _words_one_by_one(text)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("**/*.eml")), ids=lambda p: p.name)
def test_the_words_of_every_fixture_read_in_bulk_are_those_read_one_by_one(path: Path) -> None:
    text = clean(path.read_bytes().decode("utf-8", "replace"))
    assert [tuple(word) for word in name_words.words_of(text)] == _words_one_by_one(text)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join), st.data())
def test_runs_walked_only_from_the_keys_first_words_are_the_same(text: str, data: Any) -> None:
    runs = name_runs(text)
    every = sorted(runs.keys() | runs.lower_case_keys())
    keys = set(data.draw(st.lists(st.sampled_from(every), max_size=6))) if every else set()
    keys |= {"ola nowak", "beta", "\u0635\u0644\u0649 \u0627\u0644\u0644\u0647"}
    starts = names.name_key_starts(keys)
    assert runs.named(keys, starts) == runs.named(keys)
    assert runs.lower_case(keys, starts) == runs.lower_case(keys)
