"""Fields a client shows beside the body, read as shown: address fields encoded whole,
and the names of parts."""

from __future__ import annotations

import pytest

from app.decision.rules import load_rules
from mailhook.instructions import extract
from mailhook.message import Channel, Envelope, parse_message
from mailhook.shown_headers import shown_header_texts
from tests.adversarial_mail import Mail, Part, build
from tests.support import RULES

CATALOGUE = load_rules(RULES).catalogue
ENVELOPE = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
INVOICE = "Dzień dobry,\nproszę o duplikat faktury 11/2026 za acme.pl.\n"
RESET = "Proszę też zresetować hasło do panelu."


def _fields(**mail: object) -> list[tuple[str, str, bool]]:
    raw = build(Mail(subject="Faktura", plain=INVOICE, **mail))  # type: ignore[arg-type]
    return [f for f in shown_header_texts(parse_message(raw, ENVELOPE, Channel.API).parsed)]


def test_an_address_field_encoded_whole_is_read_as_shown() -> None:
    # One encoded word over the display name and the address: the standard library
    # reads the words as the address, a client shows them.
    shown = _fields(to=f'"{RESET}" <support@hosting.example>')
    assert [(name, RESET in text) for name, text, _ in shown if name == "To"] == [("To", True)]


@pytest.mark.parametrize(
    "field",
    [
        pytest.param("support@hosting.example", id="an address alone"),
        pytest.param("Biuro <support@hosting.example>, jan@acme.pl", id="a list"),
        pytest.param(
            "=?utf-8?q?=C5=81ukasz_=C5=BBak?= <lukasz@acme.pl>",
            id="a display name encoded as clients encode it",
        ),
    ],
)
def test_plain_address_fields_give_only_their_display_names(field: str) -> None:
    shown = [text for name, text, _ in _fields(headers=(("Cc", field),)) if name == "Cc"]
    assert all("@" not in text for text in shown)


def _parts_result(filename: str) -> str:
    mail = Mail(
        subject="Faktura",
        plain=INVOICE,
        parts=(Part("Faktura w załączniku.\n", filename=filename),),
    )
    instruction = extract(parse_message(build(mail), ENVELOPE, Channel.API), CATALOGUE)
    return next(f.result for f in instruction.findings if f.name == "instruction-parts")


@pytest.mark.parametrize(
    ("filename", "result"),
    [
        pytest.param(f"{RESET}.txt", "attachment", id="a name asking for a password reset"),
        pytest.param("zmiana-hasla-do-panelu.txt", "attachment", id="a name of a change"),
        pytest.param("zlecenie.txt", "attachment", id="a form's name, as before"),
        pytest.param("faktura-11-2026.txt", "pass", id="a name of what it is"),
        pytest.param("dane do faktury.txt", "pass", id="a name with a noun of the lists"),
    ],
)
def test_a_part_s_name_asking_for_more_is_held(filename: str, result: str) -> None:
    assert _parts_result(filename) == result
