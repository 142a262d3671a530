"""Instruction extraction with the shipped catalogue: kinds, services and logins named."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.decision.rules import load_rules
from mailhook import catalogue, instructions, reading, services
from mailhook import identifiers as ids
from mailhook import text as text_module
from mailhook.catalogue import Catalogue
from mailhook.findings import Finding
from mailhook.identifiers import Identifier, IdentifierKind
from mailhook.instructions import (
    MAX_LINE,
    MAX_TEXT,
    Instruction,
    extract,
    readable_text,
    to_a_label,
    truncation_finding,
)
from mailhook.message import Channel, Envelope, InboundMessage, parse_message
from tests.support import FIXTURES, RULES, make_message

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


def test_the_host_of_a_url_is_named_and_the_rest_of_it_is_not() -> None:
    # Formerly a URL named nothing: a domain written as a link is a domain named.
    found = instruction(
        "Zobacz https://panel.hosting.example/domains?name=acme.pl oraz "
        "<http://www.żółw.pl/cennik> i ftp://user@files.acme.eu:21/x."
    )
    assert found.services == ("panel.hosting.example", "www.xn--w-uga1v8h.pl", "files.acme.eu")


def test_a_domain_next_to_a_url_is_still_found() -> None:
    found = instruction("Domena acme.pl, instrukcja: https://help.hosting.example/transfer")
    assert found.services == ("acme.pl", "help.hosting.example")


def test_finds_server_ids_in_any_case() -> None:
    found = instruction("Serwer vps-12345 oraz VPS-67890 i srv123.")
    assert found.services == ("vps-12345", "vps-67890", "srv123")


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("vрs-77777", id="with a Cyrillic er"),
        pytest.param("ｖｐｓ-77777", id="in fullwidth letters"),
        pytest.param("vps\u201177777", id="with a non-breaking hyphen"),
        pytest.param("vp\u200bs-77777", id="with a zero-width space inside"),
        pytest.param("\U0001d42f\U0001d429\U0001d42c-77777", id="in mathematical bold"),
    ],
)
def test_a_server_id_is_read_as_a_reader_sees_it(written: str) -> None:
    found = instruction(f"Proszę anulować serwer {written} i acme.pl.")
    assert found.services == ("acme.pl", "vps-77777")


def test_sentence_punctuation_after_a_link_is_not_part_of_its_host() -> None:
    found = instruction(
        "Rezygnuję z https://acme.pl, a także (https://beta.pl) i <http://gamma.pl>."
    )
    assert found.services == ("acme.pl", "beta.pl", "gamma.pl")


def test_finds_logins() -> None:
    assert instruction("Mój login: jan_k\n").logins == ("jan_k",)
    assert instruction("Klient: Jan_K, nazwa użytkownika = anna.n").logins == ("jan_k", "anna.n")


def test_an_extraction_of_nothing_is_empty() -> None:
    found = instruction("Dzień dobry.")
    assert dataclasses.replace(found, parts=(), findings=()) == Instruction((), (), ())
    assert [(f.name, f.result) for f in found.findings] == [("instruction-parts", "pass")]


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


def test_a_reply_subject_counts_only_where_the_sender_asks_nothing_else() -> None:
    # Formerly a reply's subject was never read: what the sender sees there, and
    # answers "thanks" to, is what the message is about.
    assert instruction("Dziekuje.", subject="Re: kod AuthInfo").kinds == ("transfer_out",)
    asks = instruction("Prosze o duplikat faktury.", subject="Re: kod AuthInfo acme.pl")
    assert (asks.kinds, asks.services) == (("invoice_duplicate",), ("acme.pl",))


# Linear in the body: proved by what each step is given and how much it reads, not by
# timing. Three 10 MB bodies: many short lines, one long line, quoting nested deeply.
TEN_MB = 10 * 1024 * 1024
LINE = "Prosze o kod AuthInfo dla acme.pl, PESEL 44051401359\n"
HUGE = {
    "short lines": (LINE * (TEN_MB // len(LINE)), "plain"),
    "one line": ("Prosze o kod AuthInfo dla acme.pl " * (TEN_MB // 34), "plain"),
    "a.a.a line": ("a." * (TEN_MB // 2), "plain"),
    "nested quoting": (("> " * 40 + "kod AuthInfo\n") * (TEN_MB // 93), "plain"),
    "one quote line": (">" * TEN_MB, "plain"),
    "html quoting": ("<blockquote>x " * (TEN_MB // 14), "html"),
}


def huge(name: str) -> InboundMessage:
    body, subtype = HUGE[name]
    message = EmailMessage()
    message["From"] = "jan@acme.pl"
    message["Subject"] = "Prosze o zmiane DNS"
    message.set_content(body, subtype=subtype, cte="8bit")
    return parse_message(message.as_bytes(), Envelope(), Channel.API)


class Spy:
    """A compiled pattern that records the length of every text it is run over.

    ``match`` calls (a pattern tried at one place, not a scan of the text) are
    recorded apart, under ``matched``: they are not scans of the text.
    """

    def __init__(
        self,
        real: re.Pattern[str],
        seen: list[tuple[str, int]],
        matched: list[tuple[str, int]] | None = None,
    ) -> None:
        self.real, self.seen, self.matched = real, seen, matched

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if not callable(attribute):
            return attribute  # .pattern, .flags

        def run(*args: Any) -> Any:
            text = args[1] if name == "sub" else args[0]
            if name == "match" and self.matched is not None:
                self.matched.append((self.real.pattern, len(text)))
            else:
                self.seen.append((self.real.pattern, len(text)))
            return attribute(*args)

        return run


@pytest.mark.parametrize("name", list(HUGE))
def test_every_pattern_runs_once_over_at_most_the_capped_text(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    seen: list[tuple[str, int]] = []
    matched: list[tuple[str, int]] = []
    real_phrase_pattern = catalogue.phrase_pattern
    monkeypatch.setattr(
        catalogue, "phrase_pattern", lambda phrase: Spy(real_phrase_pattern(phrase), seen)
    )
    for module, attribute in [(services, "_DOMAIN"), (services, "_URL"), (ids, "_NUMBER")]:
        monkeypatch.setattr(module, attribute, Spy(getattr(module, attribute), seen))
    spied = dataclasses.replace(
        CATALOGUE,
        server_id_pattern=Spy(CATALOGUE.server_id_pattern, seen, matched),
        login_pattern=Spy(CATALOGUE.login_pattern, seen, matched),
        code_pattern=Spy(CATALOGUE.code_pattern, seen, matched),
    )
    found = extract(huge(name), spied)
    assert seen, "the spies saw nothing: the test no longer watches extraction"
    # Each pattern runs at most once over each piece read: the subject, the part's own
    # text, its quoted history, and all own text together (logins, codes, identifiers).
    runs: dict[str, list[int]] = {}
    for pattern, length in seen:
        runs.setdefault(pattern, []).append(length)
    assert max(len(lengths) for lengths in runs.values()) <= 4
    assert max(sum(lengths) for lengths in runs.values()) <= 3 * MAX_TEXT
    assert max(length for _, length in seen + matched) <= MAX_TEXT
    # Tried only where the text holds an opening ("kod" here), not at every place.
    assert len(matched) <= MAX_TEXT // len("kod")
    assert found.truncated is (name in ("short lines", "one line", "a.a.a line"))
    if name in ("short lines", "one line"):
        assert found.kinds == ("dns_change", "transfer_out")


@pytest.mark.parametrize("name", list(HUGE))
def test_reading_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # The lines the sender's text is read in, counted: past the cap nothing more is
    # pulled, so a body twice as long costs no more once the cap is reached.
    pulled = []
    real_lines = text_module.lines

    def counted(text: str) -> Iterator[str]:
        for line in real_lines(text):
            pulled.append(len(line))
            yield line

    monkeypatch.setattr(text_module, "lines", counted)
    monkeypatch.setattr(reading, "lines", counted)
    text, truncated = readable_text(huge(name))
    assert len(text) <= MAX_TEXT
    if name == "short lines":
        assert truncated
        # Lines up to the cap in split_written, then again in the budget: no more.
        assert len(pulled) <= 2 * (MAX_TEXT // len(LINE) + 3)


def test_the_text_read_is_cut_at_the_caps_and_says_so() -> None:
    text, truncated = readable_text(huge("one line"))
    assert truncated and len(text) <= MAX_LINE + len("Prosze o zmiane DNS\n")
    short = instruction("Prosze o kod AuthInfo.\n" * 100)
    assert not short.truncated
    assert truncation_finding(short) is None
    long_line = instruction("x" * (MAX_LINE + 1) + " przeniesienie domeny")
    assert long_line.truncated and long_line.kinds == ()
    finding = truncation_finding(long_line)
    assert finding is not None and (finding.name, finding.result) == (
        "instruction-text",
        "truncated",
    )
    assert "an agent should read all of it" in finding.reason


def test_lines_splits_as_splitlines_does() -> None:
    sample = "a\r\nb\rc\nd\x0be\x0cf\x1cg\x85h\u2028i\u2029j\n\nk\n"
    assert list(text_module.lines(sample)) == sample.splitlines()
    assert list(text_module.lines("")) == "".splitlines()


def test_a_phrase_matches_only_at_the_start_of_a_word() -> None:
    pattern = catalogue.phrase_pattern("kod authinfo")
    assert pattern.search("prosze o kod authinfo") is not None
    assert pattern.search("(kodu authinfo)") is not None
    assert pattern.search("kod  authinfo") is not None
    assert pattern.search("xkod authinfo") is None
    assert pattern.search("kod xauthinfo") is None


# PESEL / NIP / REGON: found when written as people write them and their checksum holds.
@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("Mój PESEL: 44051401359.", [("pesel", "44051401359")]),
        ("NIP 526-025-02-74", [("nip", "5260250274")]),
        ("NIP: 526-02-50-274", [("nip", "5260250274")]),
        ("NIP 526 025 02 74, proszę o fakturę", [("nip", "5260250274")]),
        ("VAT: PL5260250274", [("nip", "5260250274")]),
        ("VAT: PL 7740001454", [("nip", "7740001454")]),
        ("REGON 123456785", [("regon", "123456785")]),
        ("REGON oddziału 12345678512347.", [("regon", "12345678512347")]),
        (
            "NIP 5260250274, PESEL 02070803628 i znów NIP 526-025-02-74",
            [("nip", "5260250274"), ("pesel", "02070803628")],
        ),
    ],
)
def test_finds_identifiers_written_as_people_write_them(
    body: str, found: list[tuple[str, str]]
) -> None:
    identifiers = instruction(body).identifiers
    assert [(i.kind.value, i.reveal()) for i in identifiers] == found


@pytest.mark.parametrize(
    "body",
    [
        "PESEL 44051401358",  # checksum
        "NIP 5260250275",  # checksum
        "REGON 000000000",  # all zeros: a placeholder
        "Telefon +48 123456785 albo +44051401359",  # phone numbers
        "Faktura FV/2026/123456785",  # part of an invoice number
        "Kwota 5260250274.50 zł",  # a decimal number
        "Konto 61109010140000071219812874",  # inside a longer run of digits
        "srv123456785 i 526-025-02-74-1",  # inside a word or a longer group
        "Kod 1234-5678",  # a one-time code
    ],
)
def test_numbers_that_are_not_identifiers_are_ignored(body: str) -> None:
    assert instruction(body).identifiers == ()


def test_identifiers_in_quoted_history_are_not_the_senders() -> None:
    body = "Proszę o fakturę.\n\nOn Tue, 10 Nov 2026, Ola wrote:\n> PESEL 44051401359\n"
    assert instruction(body).identifiers == ()


def test_an_identifier_never_shows_its_number() -> None:
    found = instruction("PESEL 44051401359, NIP 526-025-02-74").identifiers
    instr = instruction("PESEL 44051401359, NIP 526-025-02-74")
    shown = [repr(found), str(found[0]), f"{found[1]}", repr(instr), str(dataclasses.asdict(instr))]
    for text in shown:
        assert "44051401359" not in text and "5260250274" not in text, text
    assert repr(found[0]) == "Identifier(pesel, ********359)"
    assert instr.identifier_kinds() == ["pesel", "nip"]
    with pytest.raises(TypeError):
        json.dumps(found[0])
    with pytest.raises(TypeError):
        pickle.dumps(found[0])


def test_an_identifier_is_only_made_from_a_valid_number() -> None:
    with pytest.raises(ValueError):
        Identifier(IdentifierKind.PESEL, "44051401358")
    assert Identifier(IdentifierKind.NIP, "5260250274") == Identifier(
        IdentifierKind.NIP, "5260250274"
    )


# What the fast paths of extraction are tested against: the patterns over the whole text.
_DOMAIN_TEXT = st.text(alphabet="aąźżx-n0.9._@/ \t\n\u2003\x1c:ж", max_size=80)
_NUMBER_NOISE = st.text(alphabet="0123456789- +./,PLpl\na", max_size=12)
# Numbers of every shape _NUMBER takes, among noise that may or may not spoil them.
_NUMBER_TEXT = st.tuples(
    _NUMBER_NOISE,
    st.from_regex(
        r"(PL ?)?([0-9]{3}([- ])[0-9]{3}\3[0-9]{2}\3[0-9]{2}"
        r"|[0-9]{3}([- ])[0-9]{2}\4[0-9]{2}\4[0-9]{3}|[0-9]{9,14})",
        fullmatch=True,
    ),
    _NUMBER_NOISE,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_DOMAIN_TEXT)
def test_domains_are_those_the_pattern_finds_in_the_whole_text(text: str) -> None:
    whole = [to_a_label(match.group(1)) for match in services._DOMAIN.finditer(text)]
    assert services._domains(text) == [a_label for a_label in whole if a_label is not None]


@settings(max_examples=2000, deadline=None)
@given(_NUMBER_TEXT)
def test_text_without_the_start_of_a_number_holds_no_number(text: str) -> None:
    if ids._NUMBER.search(text):
        assert ids._NUMBER_START.search(text)


# Issue 13: everything a person can see is read. Messages are built here, or are the
# fixtures under fixtures/mail named by scenario.
def extracted(raw: bytes) -> Instruction:
    return extract(parse_message(raw, Envelope(), Channel.API), CATALOGUE)


def fixture(name: str) -> Instruction:
    return extracted((FIXTURES / "mail" / name).read_bytes())


def finding(found: Instruction, name: str) -> Finding | None:
    return next((f for f in found.findings if f.name == name), None)


def result(found: Instruction, name: str) -> str | None:
    found_finding = finding(found, name)
    return found_finding.result if found_finding is not None else None


def mail(*, subject: str = "Sprawa", subjects: tuple[str, ...] = ()) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Jan Kowalski <jan@acme.pl>"
    message["Subject"] = subject
    for more in subjects:
        # The policy refuses a second Subject; a sender's program does not.
        message._headers.append(("Subject", more))  # type: ignore[attr-defined]
    return message


def alternatives(plain: str, html: str, subject: str = "Sprawa") -> bytes:
    message = mail(subject=subject)
    message.set_content(plain)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def html_only(html: str, subject: str = "Sprawa") -> bytes:
    message = mail(subject=subject)
    message.set_content(html, subtype="html")
    return message.as_bytes()


def plain_text(body: str, subject: str = "Sprawa", subjects: tuple[str, ...] = ()) -> bytes:
    message = mail(subject=subject, subjects=subjects)
    message.set_content(body)
    return message.as_bytes()


def attached(body: str, data: bytes, content_type: str, filename: str | None) -> bytes:
    message = mail()
    message.set_content(body)
    maintype, subtype = content_type.split("/")
    if maintype == "text":
        message.add_attachment(data.decode(), subtype=subtype, filename=filename)
    else:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def with_attached_message(body: str, inner_subject: str, inner_body: str) -> bytes:
    inner = EmailMessage()
    inner["From"] = "Ola Nowak <ola@beta.pl>"
    inner["Subject"] = inner_subject
    inner.set_content(inner_body)
    message = mail()
    message.set_content(body)
    message.add_attachment(inner)
    return message.as_bytes()


def inline_parts(*texts: str) -> bytes:
    message = mail()
    message.make_mixed()
    for text in texts:
        part = EmailMessage()
        part.set_content(text, disposition="inline")
        message.attach(part)
    return message.as_bytes()


@dataclasses.dataclass(frozen=True)
class Read:
    """What extraction must make of a message."""

    kinds: tuple[str, ...]
    services: tuple[str, ...]
    parts: str  # the instruction-parts result
    text: str | None = None  # the instruction-text result, None when there is none
    mentioned: tuple[str, ...] = ()


READ_EVERYTHING = [
    # Every displayable part.
    pytest.param(
        alternatives(
            "Proszę o duplikat faktury.", "<p>Proszę o kod AuthInfo dla domeny beta.pl.</p>"
        ),
        Read(("invoice_duplicate", "transfer_out"), ("beta.pl",), "disagree"),
        id="plain asks for an invoice while the html alternative asks for a transfer",
    ),
    pytest.param(
        alternatives("Proszę o duplikat faktury.", "<p>Proszę o <b>duplikat</b> faktury.</p>"),
        Read(("invoice_duplicate",), (), "pass"),
        id="alternatives asking the same agree",
    ),
    pytest.param(
        alternatives(
            "Zmiana DNS dla acme.pl <https://www.acme.pl/>",
            '<p>Zmiana DNS dla <a href="https://www.acme.pl/">acme.pl</a></p>',
        ),
        Read(("dns_change",), ("acme.pl", "www.acme.pl"), "pass"),
        id="a link in html and its url in plain text agree",
    ),
    pytest.param(
        alternatives(
            "Zmiana DNS dla acme.pl, pisz na jan@acme.pl",
            '<p>Zmiana DNS dla <a href="https://acme.pl">naszej domeny</a>, pisz na '
            '<a href="mailto:jan@acme.pl">jan@acme.pl</a></p>',
        ),
        Read(("dns_change",), ("acme.pl",), "pass"),
        id="links an html alternative hides behind their text agree with the plain text",
    ),
    pytest.param(
        alternatives("Zmiana DNS dla acme.pl", "<p>Zmiana DNS dla beta.pl</p>"),
        Read(("dns_change",), ("acme.pl", "beta.pl"), "disagree"),
        id="alternatives naming different domains disagree",
    ),
    pytest.param(
        inline_parts("Proszę o duplikat faktury.", "Proszę też o zmianę DNS acme.pl."),
        Read(("invoice_duplicate", "dns_change"), ("acme.pl",), "disagree"),
        # Some clients show a second inline text part only as an attachment.
        id="a further inline text part is read, and asking for more than the first disagrees",
    ),
    pytest.param(
        attached("Dzień dobry.", b"Prosze o kod AuthInfo dla beta.pl", "text/plain", "list.txt"),
        Read((), (), "attachment", mentioned=("beta.pl",)),
        id="a text attachment asking for a transfer is held",
    ),
    pytest.param(
        attached("Dzień dobry.", b"<p>Transfer <i>domeny</i> beta.pl</p>", "text/html", "x.html"),
        Read((), (), "attachment", mentioned=("beta.pl",)),
        id="an html attachment asking for a transfer is held",
    ),
    pytest.param(
        with_attached_message("Dzień dobry.", "Transfer domeny", "Kod AuthInfo dla beta.pl"),
        Read((), (), "attachment", mentioned=("beta.pl",)),
        id="an attached message asking for a transfer is held",
    ),
    pytest.param(
        attached("Faktura w załączeniu, acme.pl.", b"Logi serwera", "text/plain", "log.txt"),
        Read((), ("acme.pl",), "pass"),
        id="a text attachment asking nothing passes",
    ),
    # Parts that cannot be read, and attachments named as instructions.
    pytest.param(
        attached("Dzień dobry.", b"%PDF-1.4", "application/pdf", "faktura.pdf"),
        Read((), (), "unreadable"),
        id="a pdf cannot be read",
    ),
    pytest.param(
        attached("Dzień dobry.", b"\x89PNG", "image/png", "skan.png"),
        Read((), (), "unreadable"),
        id="an image cannot be read",
    ),
    pytest.param(
        attached(
            "Dzień dobry.",
            b"PK\x03\x04",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "pismo.docx",
        ),
        Read((), (), "unreadable"),
        id="an office document cannot be read",
    ),
    pytest.param(
        attached("Dzień dobry.", b"\x00\x01", "application/x-unknown-thing", None),
        Read((), (), "unreadable"),
        id="a part of unknown type cannot be read",
    ),
    pytest.param(
        attached("Dzień dobry.", b"%PDF-1.4", "application/pdf", "pelnomocnictwo.pdf"),
        Read((), (), "attachment"),
        id="a pdf named as a power of attorney is an attachment that suggests an instruction",
    ),
    pytest.param(
        attached("Dzień dobry.", b"%PDF-1.4", "application/octet-stream", "Upoważnienie_2026.pdf"),
        Read((), (), "attachment"),
        id="an authorisation with diacritics in its name",
    ),
    pytest.param(
        attached("Dzień dobry.", b"%PDF-1.4", "application/pdf", "transfer-authorization-form.pdf"),
        Read((), (), "attachment"),
        id="an english form name",
    ),
    # HTML as rendered: inline tags join, entities decode, hidden text is read and held.
    pytest.param(
        html_only("<p>Proszę o trans<span>fer</span> domeny acme.pl</p>"),
        Read(("transfer_out",), ("acme.pl",), "pass"),
        id="an inline tag inside a word joins it",
    ),
    pytest.param(
        html_only("<p>Proszę o kod Auth<b>Info</b></p>"),
        Read(("transfer_out",), (), "pass"),
        id="a bold half of a word joins it",
    ),
    pytest.param(
        html_only("<p>Proszę o trans<!-- x -->fer domeny</p>"),
        Read(("transfer_out",), (), "pass"),
        id="a comment inside a word joins it",
    ),
    pytest.param(
        html_only("<p>Proszę o kod &#x41;uth&#73;nfo i trans&shy;fer domeny</p>"),
        Read(("transfer_out",), (), "pass"),
        id="entities and soft hyphens are decoded",
    ),
    *(
        pytest.param(
            html_only(f"<p>Proszę o fakturę.</p><p {attribute}>Kod AuthInfo dla beta.pl</p>"),
            # "Proszę o fakturę" asks for what no kind recognises (mailhook.unexplained).
            Read(("transfer_out",), ("beta.pl",), "hidden", "unexplained"),
            id=f"hidden text is read and held: {attribute}",
        )
        for attribute in (
            'style="display:none"',
            'style="visibility: hidden"',
            'style="font-size:0"',
            'style="font-size: 1px"',
            'style="color:#FFFFFF"',
            'style="color: white"',
            'style="color:transparent"',
            'style="opacity:0"',
            'style="color:#123456; background-color:#123456"',
            "hidden",
        )
    ),
    pytest.param(
        html_only("<style>.x { display: none }</style><p>Faktura</p><p class=x>Kod AuthInfo</p>"),
        Read(("transfer_out",), (), "hidden"),
        id="hidden text is read and held: a class a style block hides",
    ),
    pytest.param(
        html_only("<p>Faktura</p><template><p>Kod AuthInfo dla beta.pl</p></template>"),
        Read(("transfer_out",), ("beta.pl",), "hidden"),
        id="a template is hidden text",
    ),
    pytest.param(
        html_only('<p>Duplikat faktury</p><img src="data:image/png;base64,iVBORw0KGgo=">'),
        Read(("invoice_duplicate",), (), "unreadable"),
        id="an image inside the html cannot be read",
    ),
    pytest.param(
        html_only(
            "<p>Duplikat faktury</p><!--[if mso]><p>Kod AuthInfo dla beta.pl</p><![endif]-->"
        ),
        Read(("invoice_duplicate", "transfer_out"), ("beta.pl",), "hidden"),
        id="text only outlook shows is read and held",
    ),
    pytest.param(
        html_only('<p style="font-size:12px;color:#333">Proszę o duplikat faktury.</p>'),
        Read(("invoice_duplicate",), (), "pass"),
        id="ordinary styled text is not hidden",
    ),
    pytest.param(
        html_only('<p><span style="display:none">   </span>Proszę o duplikat faktury.</p>'),
        Read(("invoice_duplicate",), (), "pass"),
        id="a hidden empty spacer hides nothing",
    ),
    # The signature is the sender's text.
    pytest.param(
        plain_text("Proszę o fakturę.\n-- \nJan\nPS. Proszę też o kod AuthInfo dla beta.pl\n"),
        Read(("transfer_out",), ("beta.pl",), "pass", "unexplained"),
        id="a ps under the signature line is read",
    ),
    # Domains however they are written.
    pytest.param(
        plain_text("Zmiana DNS dla https://www.beta.pl/ i http://gamma.pl."),
        Read(("dns_change",), ("www.beta.pl", "gamma.pl"), "pass"),
        id="a domain written as a url",
    ),
    pytest.param(
        plain_text("Zmiana DNS, kontakt mailto:ola@beta.pl"),
        Read(("dns_change",), ("beta.pl",), "pass"),
        id="a domain in a mailto link in text",
    ),
    pytest.param(
        html_only('<p>Zmiana DNS dla <a href="mailto:ola@beta.pl">Oli</a></p>'),
        Read(("dns_change",), ("beta.pl",), "pass"),
        id="a domain in a mailto href",
    ),
    pytest.param(
        html_only('<p>Zmiana DNS dla <a href="https://beta.pl/panel">acme.pl</a></p>'),
        Read(("dns_change",), ("acme.pl", "beta.pl"), "pass"),
        id="an href whose link text names another domain",
    ),
    *(
        pytest.param(
            plain_text(f"Zmiana DNS dla {written}"),
            Read(("dns_change",), ("beta.pl",), "pass"),
            id=f"a disguised dot: {written!r}",
        )
        for written in (
            "beta[.]pl",
            "beta(dot)pl",
            "beta [dot] pl",
            "beta{.}pl",
            "beta . pl",
            "beta.pl.",
            "beta\uff0epl",
            "beta\u3002pl",
            "beta\uff61pl",
        )
    ),
    pytest.param(
        plain_text("Zmiana DNS dla żółw.pl i xn--d-uga0v4h.pl"),
        Read(("dns_change",), ("xn--w-uga1v8h.pl", "xn--d-uga0v4h.pl"), "pass"),
        id="idn as u-label and a-label",
    ),
    # Subjects: every instance, reply prefixes in any case and number.
    *(
        pytest.param(
            plain_text("Dziękuję.", subject=subject),
            Read(("transfer_out",), ("beta.pl",), "pass", "points-elsewhere"),
            id=f"a reply subject asks, as another's words, when the text asks nothing: {subject}",
        )
        for subject in (
            "Re: kod AuthInfo beta.pl",
            "RE: Re: Fwd: kod AuthInfo beta.pl",
            "odp: PD: Fw: kod AuthInfo beta.pl",
            "AW: WG: re[2]: kod AuthInfo beta.pl",
        )
    ),
    pytest.param(
        plain_text("Proszę o duplikat faktury.", subject="Re: kod AuthInfo beta.pl"),
        Read(("invoice_duplicate",), ("beta.pl",), "pass"),
        id="a reply subject names services always and asks only when the text does not",
    ),
    pytest.param(
        plain_text("Dzień dobry.", subject="Faktura", subjects=("Kod AuthInfo dla beta.pl",)),
        Read(("transfer_out",), ("beta.pl",), "pass"),
        id="every subject instance is read",
    ),
    # Quoted history is not the sender's, but what it names is recorded.
    pytest.param(
        plain_text("Proszę o fakturę.\n\nOn Tue, 10 Nov 2026, Ola wrote:\n> Kod dla beta.pl\n"),
        Read((), (), "pass", mentioned=("beta.pl",)),
        id="services in quoted history are mentioned not named",
    ),
    pytest.param(
        plain_text("Proszę o fakturę.\n> transfer domeny gamma.pl\n"),
        Read((), (), "pass", mentioned=("gamma.pl",)),
        id="services in quoted lines are mentioned not named",
    ),
    # The sender's text points elsewhere.
    *(
        pytest.param(
            plain_text(f"Dzień dobry, {pointer}.\n\n> kod AuthInfo beta.pl\n"),
            Read((), (), "pass", "points-elsewhere", ("beta.pl",)),
            id=f"the text points elsewhere: {pointer}",
        )
        for pointer in (
            "jak w temacie",
            "Jak W Temacie",
            "proszę jak wyżej",
            "prosze jak wyzej",
            "szczegóły jak poniżej",
            "dokumenty w załączniku",
            "dokumenty w zalaczniku",
            "as in the subject",
            "see subject",
            "as below",
            "as above",
            "as quoted",
            "see attached",
            "see attachment",
            "please see the attached",
        )
    ),
    pytest.param(
        plain_text("Dzień dobry, proszę jak w temacie.", subject="Re: kod AuthInfo beta.pl"),
        Read(("transfer_out",), ("beta.pl",), "pass", "points-elsewhere"),
        id="a text pointing at a reply subject takes its kinds",
    ),
    # Forwarded: someone else's request.
    pytest.param(
        plain_text(
            "\n---------- Forwarded message ---------\nFrom: Ola <ola@beta.pl>\n"
            "Proszę o przeniesienie domeny beta.pl\n",
            subject="Fwd: domena",
        ),
        Read((), (), "pass", "points-elsewhere", ("beta.pl",)),
        id="a forward with nothing of the forwarder's own points elsewhere",
    ),
    pytest.param(
        plain_text(
            "Proszę o duplikat tej faktury dla acme.pl.\n\n"
            "---------- Forwarded message ---------\nFrom: Ola <ola@beta.pl>\n"
            "Proszę o kod AuthInfo dla beta.pl\n",
            subject="Fwd: faktura",
        ),
        Read(("invoice_duplicate",), ("acme.pl",), "pass", "history-asks", ("beta.pl",)),
        id="a forwarder asking something asks for that only, and the forward is reported",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), READ_EVERYTHING)
def test_everything_a_person_can_see_is_read(raw: bytes, expected: Read) -> None:
    found = extracted(raw)
    assert (found.kinds, found.services) == (expected.kinds, expected.services)
    assert found.mentioned_services == expected.mentioned
    assert result(found, "instruction-parts") == expected.parts
    assert result(found, "instruction-text") == expected.text


@pytest.mark.parametrize(
    ("name", "expected", "reason"),
    [
        pytest.param(
            "parts-plain-invoice-html-transfer.eml",
            Read(("invoice_duplicate", "transfer_out"), ("beta.pl",), "disagree"),
            "Read 1 text/plain (asks for invoice_duplicate); 2 text/html (asks for "
            "transfer_out, naming beta.pl). 1 text/plain; 2 text/html are alternatives a "
            "client shows either of, and ask for different things: an agent should read the "
            "message as a client shows it.",
            id="plain and html disagree",
        ),
        pytest.param(
            "parts-hidden-span-authinfo.eml",
            Read(("invoice_duplicate", "transfer_out"), ("beta.pl",), "hidden"),
            "Read 1 text/html (asks for invoice_duplicate, transfer_out, naming beta.pl). "
            "1 text/html holds text hidden from the reader (it was read as well): an agent "
            "should read the message as a client shows it.",
            id="hidden tiny white text",
        ),
        pytest.param(
            "parts-attached-message-transfer.eml",
            Read((), (), "attachment", mentioned=("beta.pl",)),
            "Read 1 text/plain (asks for nothing recognised); 2 attachment prosba.eml "
            "(message/rfc822) (asks for transfer_out, naming beta.pl); 3 attachment "
            "(text/plain) (asks for transfer_out, naming beta.pl). 2 attachment prosba.eml "
            "(message/rfc822); 3 attachment (text/plain) is an attachment whose name or text "
            "suggests an instruction: an agent should read the message as a client shows it.",
            id="an attached message",
        ),
        pytest.param(
            "parts-pdf-power-of-attorney.eml",
            Read((), ("acme.pl",), "attachment"),
            "Read 1 text/plain (asks for nothing recognised, naming acme.pl). 2 attachment "
            "pelnomocnictwo.pdf (application/pdf) is an attachment whose name or text "
            "suggests an instruction; 2 attachment pelnomocnictwo.pdf (application/pdf) (not "
            "text) could not be read: an agent should read the message as a client shows it.",
            id="a power of attorney as a pdf",
        ),
        pytest.param(
            "reply-points-at-subject.eml",
            Read(("transfer_out",), ("beta.pl",), "pass", "points-elsewhere"),
            "Read 1 text/plain (asks for nothing recognised). Every part was read and they agree.",
            id="a reply pointing at its subject",
        ),
        pytest.param(
            "signature-ps-transfer.eml",
            Read(("invoice_duplicate", "transfer_out"), ("beta.pl",), "pass"),
            "Read 1 text/plain (asks for invoice_duplicate, transfer_out, naming beta.pl). "
            "Every part was read and they agree.",
            id="a ps under the signature",
        ),
        pytest.param(
            "forwarded-request-of-another.eml",
            Read((), (), "pass", "points-elsewhere", ("beta.pl",)),
            "Read 1 text/plain (asks for nothing recognised); 1 text/plain, forwarded (asks "
            "for transfer_out, naming beta.pl). Every part was read and they agree.",
            id="a forwarded request of someone else",
        ),
    ],
)
def test_fixtures_by_scenario(name: str, expected: Read, reason: str) -> None:
    found = fixture(name)
    assert (found.kinds, found.services) == (expected.kinds, expected.services)
    assert found.mentioned_services == expected.mentioned
    parts = finding(found, "instruction-parts")
    assert parts is not None and (parts.result, parts.reason) == (expected.parts, reason)
    assert result(found, "instruction-text") == expected.text


def test_the_parts_finding_holds_each_part_as_data() -> None:
    found = fixture("parts-plain-invoice-html-transfer.eml")
    parts = finding(found, "instruction-parts")
    assert parts is not None
    assert parts.evidence["parts"] == [
        {
            "label": "1 text/plain",
            "content_type": "text/plain",
            "filename": None,
            "read": True,
            "kinds": ["invoice_duplicate"],
            "services": [],
        },
        {
            "label": "2 text/html",
            "content_type": "text/html",
            "filename": None,
            "read": True,
            "kinds": ["transfer_out"],
            "services": ["beta.pl"],
        },
    ]
    assert parts.evidence["disagree"] == ["1 text/plain", "2 text/html"]
    assert [p.label for p in found.parts] == ["1 text/plain", "2 text/html"]


@pytest.mark.parametrize(
    ("pointer", "reason"),
    [
        pytest.param(
            "jak w temacie",
            "The sender's own text points elsewhere for the request (w temacie): what the "
            "subject, the quoted or forwarded message or an attachment asks for is someone "
            "else's words, so an agent should confirm what the sender wants.",
            id="a pointer is named in the reason",
        ),
    ],
)
def test_points_elsewhere_says_where(pointer: str, reason: str) -> None:
    text = finding(extracted(plain_text(f"Proszę {pointer}.")), "instruction-text")
    assert text is not None and (text.result, text.reason) == ("points-elsewhere", reason)


def test_the_text_cap_is_over_all_parts_together() -> None:
    half = ("Prosze o duplikat faktury.\n" * (MAX_TEXT // 2 // 27 + 10)).strip()
    found = extracted(inline_parts(half, half))
    assert found.truncated
    assert result(found, "instruction-text") == "truncated"


def test_a_broken_transfer_encoding_is_unreadable() -> None:
    raw = (
        b"From: jan@acme.pl\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: x-rot13\r\n\r\nxbq NhguVasb\r\n"
    )
    found = extracted(raw)
    parts = finding(found, "instruction-parts")
    assert parts is not None and parts.result == "unreadable"
    assert "1 text/plain (unknown transfer encoding 'x-rot13') could not be read" in parts.reason


def test_extraction_findings_are_what_the_app_appends() -> None:
    found = extracted(plain_text("Proszę jak w temacie."))
    assert instructions.extraction_findings(found) == list(found.findings)
    assert [f.name for f in found.findings] == ["instruction-parts", "instruction-text"]


_REQUESTS = [
    "Proszę o kod AuthInfo dla domeny beta.pl",
    "Proszę o zmianę serwerów DNS domeny acme.pl",
    "Please transfer the domain beta.pl to another registrar",
    "Składam wypowiedzenie umowy na vps-12345",
]
_INLINE_TAGS = ["span", "b", "i", "u", "em", "strong", "font", "small", "code", "mark"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_REQUESTS), st.data())
def test_html_a_client_renders_alike_is_read_alike(request: str, data: st.DataObject) -> None:
    # Transformations a client renders identically: an inline tag inside a word, a
    # character as a numeric entity, a soft hyphen, a comment.
    pieces = []
    for char in request:
        how = data.draw(st.integers(min_value=0, max_value=9))
        if how == 0 and char.isalnum():
            tag = data.draw(st.sampled_from(_INLINE_TAGS))
            pieces.append(f"<{tag}>{char}</{tag}>")
        elif how == 1:
            pieces.append(f"&#{ord(char)};" if data.draw(st.booleans()) else f"&#x{ord(char):x};")
        elif how == 2 and char.isalpha():
            pieces.append(char + "&shy;")
        elif how == 3:
            pieces.append(char + "<!-- -->")
        else:
            pieces.append(char)
    plain = extracted(plain_text(request))
    rendered = extracted(html_only("<p>" + "".join(pieces) + "</p>"))
    assert (rendered.kinds, rendered.services) == (plain.kinds, plain.services)
    assert plain.kinds


PREAMBLE_HEADERS = (
    "From: Jan Kowalski <jan@acme.pl>\r\nTo: support@hosting.example\r\nSubject: Faktura\r\n"
    "Message-ID: <outside@acme.pl>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n"
    'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
)
PART = "--B\r\nContent-Type: text/plain\r\n\r\nProsze o duplikat faktury VAT za acme.pl.\r\n"


@pytest.mark.parametrize(
    ("body", "result"),
    [
        pytest.param(
            "Prosze o kod AuthInfo dla acme.pl\r\n" + PART + "--B--\r\n",
            "hidden",
            id="a request in the preamble",
        ),
        pytest.param(
            PART + "--B--\r\nProsze tez zresetowac haslo do panelu\r\n",
            "hidden",
            id="a request in the epilogue",
        ),
        pytest.param(
            "This is a multi-part message in MIME format.\r\n" + PART + "--B--\r\n",
            "pass",
            id="the usual preamble",
        ),
    ],
)
def test_text_outside_the_parts_that_asks_is_hidden_text(body: str, result: str) -> None:
    """RFC 2046 §5.1.1: clients should not show a multipart's preamble and epilogue; some do."""
    raw = (PREAMBLE_HEADERS + body).encode()
    instruction = extract(parse_message(raw, Envelope(), Channel.API), CATALOGUE)
    parts = next(f for f in instruction.findings if f.name == "instruction-parts")
    assert parts.result == result, parts.reason
