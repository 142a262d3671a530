"""A server's number written in words (mailhook.number_words)."""

from __future__ import annotations

import pytest

from mailhook.number_words import holds_server_in_words, server_in_words


@pytest.mark.parametrize(
    ("sentence", "named"),
    [
        ("za vps siedem siedem siedem siedem siedem", True),
        ("za serwer numer siedemdziesiąt siedem tysięcy", True),
        ("for vps seven seven seven seven seven", True),
        ("for server no. twelve", True),
        ("serwera numer dwanaście", True),
        ("Serwer jednak działa.", False),
        ("za vps-77777", False),
        ("serwer działa poprawnie od dwóch lat", False),
        ("Proszę o duplikat faktury.", False),
    ],
)
def test_a_server_named_by_a_number_in_words(sentence: str, named: bool) -> None:
    assert server_in_words(sentence) is named


def test_a_whole_text_is_read_once_for_one() -> None:
    assert holds_server_in_words("dzien dobry\nza vps siedem siedem\npozdrawiam")
    assert not holds_server_in_words("dzien dobry\nza vps-77777\npozdrawiam")
