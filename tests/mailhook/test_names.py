"""Customers' names as keys, and the runs of words of a text a reader takes for names."""

from __future__ import annotations

import copy
import pickle

import pytest

from mailhook.names import customer_name_keys, exact_name_keys, name_runs, written_names


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
