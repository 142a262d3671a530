"""Instruction extraction with the shipped catalogue: kinds, services and logins named."""

from __future__ import annotations

import time

import pytest

from app.rules import load_rules
from mailhook.instructions import Catalogue, Instruction, extract, to_a_label
from mailhook.message import Channel, Envelope, parse_message
from tests.support import RULES, make_message

CATALOGUE: Catalogue = load_rules(RULES).catalogue


def instruction(body: str, subject: str = "Wiadomosc") -> Instruction:
    raw = make_message(subject=subject, body=body)
    return extract(parse_message(raw, Envelope(), Channel.API), CATALOGUE)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        # Polish, with the inflected forms customers actually write.
        ("Mam pytanie o moją domenę.", "inquiry"),
        ("Proszę o informację, do kiedy opłacony jest hosting.", "inquiry"),
        ("Proszę o duplikat faktury VAT nr 12/2026.", "invoice_duplicate"),
        ("Proszę o przesłanie kopii faktury za listopad.", "invoice_duplicate"),
        ("Proszę o zmianę adresu e-mail w panelu.", "contact_change"),
        ("Zmieniłem adres korespondencyjny, proszę o aktualizację.", "contact_change"),
        ("Proszę o zmianę rekordu DNS typu A.", "dns_change"),
        ("Proszę o zmianę serwerów DNS na ns1.acme.pl.", "dns_change"),
        ("Składam rezygnację z usługi hostingowej.", "cancellation"),
        ("Niniejszym składam wypowiedzenie umowy.", "cancellation"),
        ("Proszę o przeniesienie domeny do innego rejestratora.", "transfer_out"),
        ("Proszę o przesłanie kodu AuthInfo.", "transfer_out"),
        ("Dotyczy transferu domeny do innego operatora.", "transfer_out"),
        ("Proszę o zmianę abonenta domeny na spółkę.", "holder_change"),
        ("W załączeniu umowa cesji praw do domeny.", "holder_change"),
        # English.
        ("Could you tell me when my hosting expires?", "inquiry"),
        ("Please send a duplicate invoice for November.", "invoice_duplicate"),
        ("Please change my address to the new office.", "contact_change"),
        ("Please update the MX records of my domain.", "dns_change"),
        ("I want to cancel my hosting plan.", "cancellation"),
        ("Please send me the EPP code, I am transferring out.", "transfer_out"),
        ("Please transfer the domain to another registrar.", "transfer_out"),
        ("We request a change of registrant for the domain.", "holder_change"),
    ],
)
def test_finds_the_kind_in_polish_and_english_phrasing(body: str, kind: str) -> None:
    assert kind in instruction(body).kinds


def test_matching_ignores_case_and_diacritics() -> None:
    assert instruction("PROSZĘ O KOD AUTHINFO").kinds == ("transfer_out",)
    assert instruction("prosze o kod authinfo").kinds == ("transfer_out",)


def test_a_stem_matches_only_at_the_start_of_a_word() -> None:
    # "cesja" (assignment) must not be found inside "procesja"; "cancel" not in "precancel".
    assert instruction("Widziałem procesja i precancelled stamps.").kinds == ()


def test_the_subject_counts_too() -> None:
    assert instruction("Dzień dobry.", subject="Transfer domeny acme.pl").kinds == ("transfer_out",)


def test_several_kinds_are_reported_in_catalogue_order() -> None:
    found = instruction("Proszę o kod AuthInfo oraz duplikat faktury.")
    assert found.kinds == ("invoice_duplicate", "transfer_out")


def test_quoted_lines_are_not_what_the_sender_asks() -> None:
    found = instruction("Dziękuję, to wszystko.\n> Proszę o kod AuthInfo dla acme.pl\n")
    assert found.kinds == ()
    assert found.services == ()


def test_a_message_asking_nothing_known_has_no_kind() -> None:
    assert instruction("Dzień dobry, pozdrawiam serdecznie.").kinds == ()


def test_domains_are_returned_as_a_labels() -> None:
    found = instruction("Dotyczy domen acme.pl, Żółw.PL, sklep.łódź.pl oraz XN--D-UGA0V4H.PL.")
    assert found.services == (
        "acme.pl",
        "xn--w-uga1v8h.pl",
        "sklep.xn--d-uga0v4h.pl",
        "xn--d-uga0v4h.pl",
    )


def test_the_same_domain_in_unicode_and_punycode_is_named_once() -> None:
    found = instruction("Domena żółw.pl (xn--w-uga1v8h.pl), czyli żółw.pl.")
    assert found.services == ("xn--w-uga1v8h.pl",)


def test_sentence_punctuation_is_not_part_of_a_domain() -> None:
    found = instruction('Domeny: (acme.pl), "acme.com.pl", acme.eu; oraz acme.net.')
    assert found.services == ("acme.pl", "acme.com.pl", "acme.eu", "acme.net")


def test_domains_inside_email_addresses_are_ignored() -> None:
    found = instruction("Proszę pisać na jan.kowalski@acme.pl lub <biuro@żółw.pl>.")
    assert found.services == ()


def test_domains_inside_urls_are_ignored() -> None:
    found = instruction(
        "Zobacz https://panel.hosting.example/domains?name=acme.pl oraz "
        "<http://www.żółw.pl/cennik> i ftp://files.acme.eu/x."
    )
    assert found.services == ()


def test_a_domain_next_to_a_url_is_still_found() -> None:
    found = instruction("Domena acme.pl, instrukcja: https://help.hosting.example/transfer")
    assert found.services == ("acme.pl",)


def test_finds_server_ids_in_any_case() -> None:
    found = instruction("Serwer vps-12345 oraz VPS-67890 i srv123.")
    assert found.services == ("vps-12345", "vps-67890", "srv123")


def test_finds_logins() -> None:
    assert instruction("Mój login: jan_k\n").logins == ("jan_k",)
    assert instruction("Klient: Jan_K, nazwa użytkownika = anna.n").logins == ("jan_k", "anna.n")


def test_an_extraction_of_nothing_is_empty() -> None:
    assert instruction("Dzień dobry.") == Instruction(kinds=(), services=(), logins=())


@pytest.mark.parametrize(
    ("name", "a_label"),
    [
        ("żółw.pl", "xn--w-uga1v8h.pl"),
        ("ŻÓŁW.PL.", "xn--w-uga1v8h.pl"),
        ("xn--w-uga1v8h.pl", "xn--w-uga1v8h.pl"),
        ("acme.pl", "acme.pl"),
        ("-acme.pl", None),
        ("a" * 64 + ".pl", None),
    ],
)
def test_to_a_label(name: str, a_label: str | None) -> None:
    assert to_a_label(name) == a_label


def test_a_reply_subject_asks_for_nothing_by_itself() -> None:
    assert instruction("Dziekuje.", subject="Re: kod AuthInfo").kinds == ()


def test_ten_megabytes_of_text_yield_a_result_in_bounded_time() -> None:
    started = time.monotonic()
    found = instruction("Prosze o kod AuthInfo dla acme.pl, " * 300_000 + "\n" + "a." * 2_000_000)
    assert found.kinds == ("transfer_out",)
    assert time.monotonic() - started < 20  # a hang guard, not a speed target
