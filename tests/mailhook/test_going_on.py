"""Sentences that go on from the one before (mailhook.going_on): a word of addition at
the start or the end makes a sentence ask as the request before it did."""

from __future__ import annotations

import pytest

from mailhook.going_on import goes_on
from mailhook.text import fold


@pytest.mark.parametrize(
    ("sentence", "going_on"),
    [
        ("Oraz kod.", True),
        ("+ kod do domeny", True),
        ("A także kod.", True),
        ("A kod również.", True),
        ("Jak i kod.", True),
        ("Ponadto kod.", True),
        ("Poza tym kod do domeny.", True),
        ("Dodatkowo kod.", True),
        ("Przy okazji kod.", True),
        ("As well as the code.", True),
        ("Besides, the code.", True),
        ("In addition the transfer code.", True),
        ("The code as well.", True),
        ("Kwiaty tak samo.", True),
        ("Kod też.", True),
        ("Dzień dobry.", False),
        ("A nice day to you.", False),
        ("Do tego czasu wstrzymam płatność.", False),
        ("Poza", False),
        ("", False),
        ("Asks nothing", False),
    ],
)
def test_a_sentence_goes_on_by_a_word_of_addition(sentence: str, going_on: bool) -> None:
    assert goes_on(fold(sentence)) is going_on


def test_the_same_sentence_goes_on_whatever_its_case_and_punctuation() -> None:
    # Metamorphic: capitals, a comma after the first word and the full stop change nothing.
    for written in ("Poza tym kod", "POZA TYM KOD.", "poza tym, kod!", "Poza tym kod…"):
        assert goes_on(fold(written)), written
