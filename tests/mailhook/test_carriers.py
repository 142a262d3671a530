"""What a part carries beside its lines: links' words, descriptions, encoded card values."""

from __future__ import annotations

import base64

import pytest

from mailhook.carriers import armoured, drawn_differently, link_texts
from mailhook.parts import unfolded_content_lines


@pytest.mark.parametrize(
    ("text", "links", "words"),
    [
        pytest.param("zobacz https://acme.pl/", (), [], id="a host alone says nothing"),
        pytest.param(
            "https://acme.pl/przenies-domene?do=OVH#teraz",
            (),
            ["przenies domene do OVH teraz"],
            id="path, query and fragment",
        ),
        pytest.param(
            "x", ("https://acme.pl/?q=Prosz%C4%99+o+kod",), ["q Proszę o kod"], id="an href"
        ),
        pytest.param(
            "mailto:biuro@hosting.example?subject=Kod&body=prosz%C4%99%20o%20kod",
            (),
            ["subject Kod body proszę o kod"],
            id="a mailto link's fields, not its address",
        ),
    ],
)
def test_the_words_a_link_spells(text: str, links: tuple[str, ...], words: list[str]) -> None:
    assert list(link_texts(text, links)) == words


def test_characters_drawn_as_a_blank_or_as_nothing() -> None:
    assert drawn_differently("Prosz\u0119\u3164o kod")
    assert drawn_differently("kod\u180eAuthInfo")
    assert not drawn_differently("Proszę o kod\u00a0AuthInfo")  # a no-break space is a space
    assert not drawn_differently("plain ASCII")


def test_an_encrypted_block_is_not_read_but_a_signed_one_is() -> None:
    assert armoured("tekst\n-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n")
    assert not armoured("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ntekst\n")


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        pytest.param(
            "NOTE;ENCODING=BASE64:" + base64.b64encode("Proszę o kod".encode()).decode(),
            "NOTE:Proszę o kod",
            id="vCard base64",
        ),
        pytest.param(
            "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Prosz=C4=99=\r\n=20o kod",
            "NOTE:Proszę o kod",
            id="vCard 2.1 quoted-printable over two lines",
        ),
        pytest.param(
            "DESCRIPTION;ENCODING=B:" + base64.b64encode(b"ab").decode(),
            "DESCRIPTION:ab",
            id="a base64 value ending in padding keeps the next line apart",
        ),
    ],
)
def test_encoded_card_values_are_read_decoded(line: str, shown: str) -> None:
    text = unfolded_content_lines(f"BEGIN:VCARD\r\n{line}\r\nEND:VCARD\r\n")
    assert text == f"BEGIN:VCARD\r\n{shown}\r\nEND:VCARD\r\n"
