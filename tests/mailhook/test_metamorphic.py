"""Metamorphic properties of issue 13: what a mail client renders the same is read the same.

A transformation that leaves the message looking the same to a person (invisible and
format characters, soft hyphens, HTML tags inside words, entities, encoded words,
quoted-printable soft line breaks, confusable letters, fullwidth forms, case, diacritics
removed, a domain moved into a link) must not change the kinds and services extracted
(classes 2 and 4 of the issue), and must never turn a held verdict into ``accepted``.
A fail-closed property adds random text to an accepted request: the verdict stays the
same or is held, never an accept of something else.

Derandomized (the same examples on every run) and sized to run in well under 30 seconds;
decisions run on SQLite only, the store does not matter to them.
"""

from __future__ import annotations

import base64
import html
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.api import build_service
from app.db.engine import make_engine
from app.db.migrate import upgrade
from app.decision.rules import load_rules
from app.decision.service import DecisionService
from app.registry.customers import CustomerData, put_customer, validate
from mailhook.domains import organisational_domain
from mailhook.instructions import Instruction, extract
from mailhook.message import Channel, Envelope, parse_message
from tests.adversarial_mail import ACME, BETA, HELD, Mail, build
from tests.dns_server import FixtureDnsServer
from tests.support import RULES, SECRET_KEY, make_settings

RULESET = load_rules(RULES)
CATALOGUE = RULESET.catalogue
FROM_ACME = Envelope(client_ip="192.0.2.10", helo="mx.acme.pl", mail_from="jan@acme.pl")
OWN_DOMAIN = "acme.pl"
EXTRACTION = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DECISIONS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Legitimate requests of acme for its own services; the subject asks for nothing, so
# what is extracted comes from the transformed body alone.
REQUESTS = [
    "Proszę o duplikat faktury VAT dla acme.pl.",
    "Proszę o przeniesienie domeny acme.pl do innego rejestratora.",
    "Proszę o zmianę rekordu DNS typu A dla acme.pl na 192.0.2.11.",
    "Niniejszym składam wypowiedzenie umowy na vps-12345.",
    "Please send me the AuthInfo code for acme.pl.",
    "Proszę o zmianę abonenta domeny acme.pl na spółkę.",
    "Please update my contact details for acme.pl.",
    "Rezygnuję z hostingu acme.pl, proszę o rezygnację z usługi.",
]
# Requests carried by the subject, for encoded words.
SUBJECT_REQUESTS = [
    "Kod AuthInfo dla acme.pl",
    "Duplikat faktury VAT dla acme.pl",
    "Zmiana abonenta domeny acme.pl",
    "Przeniesienie domeny żółw acme.pl",
]
NEUTRAL_SUBJECT = "Sprawa"
NEUTRAL_BODY = "Dzień dobry, proszę o realizację."
# Held requests: they must stay held, however they are written.
HELD_REQUESTS = [
    "Proszę o przeniesienie domeny acme.pl do innego rejestratora.",
    "Proszę o kod AuthInfo dla acme.pl.",
    "Proszę o zmianę abonenta domeny acme.pl na spółkę.",
    "Proszę o kod AuthInfo dla beta.pl.",
    "Rezygnuję z usługi vps-77777, proszę o rezygnację.",
    "Proszę o zmianę rekordu DNS dla acme.pl i kwiaty.pl.",
]
ACCEPTED_REQUESTS = [
    "Proszę o duplikat faktury VAT dla acme.pl.",
    "Proszę o zmianę rekordu DNS typu A dla acme.pl na 192.0.2.11.",
]

# Characters a mail client shows as nothing (RFC 5198 leaves them in text; UTS #39 and
# the issue list them): zero-width space, non-joiner, joiner, LRM, RLM, word joiner,
# invisible separator, BOM, soft hyphen, bidi embeddings and isolates.
INVISIBLE = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u2060",
    "\u2063",
    "\ufeff",
    "\u00ad",
    "\u202a",
    "\u202c",
    "\u2066",
    "\u2069",
]
# Latin letters and the Cyrillic or Greek letters drawn the same (UTS #39 confusables).
CONFUSABLE = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "i": "\u0456",
    "j": "\u0458",
    "o": "\u043e",
    "p": "\u0440",
    "s": "\u0455",
    "x": "\u0445",
    "y": "\u0443",
    "A": "\u0391",
    "B": "\u0412",
    "E": "\u0415",
    "H": "\u041d",
    "K": "\u041a",
    "M": "\u041c",
    "O": "\u041e",
    "P": "\u0420",
    "T": "\u0422",
}
SPACES = ["\u00a0", "\u202f", "\u2009", "\u3000"]
# Where a domain or server id is written, to keep confusables out of (or put them in).
_SERVICE = re.compile(r"[\w-]+(?:\.[\w-]+)+|\bvps-\d+")
LINKS = [
    "https://{d}",
    "https://{d}/",
    "http://{d}/panel",
    "<https://{d}/>",
    "https://www.{d}/kontakt",
]


@dataclass(frozen=True)
class Rendered:
    """A message and the sentence saying how it was written."""

    raw: bytes
    how: str


Transform = Callable[[st.DataObject, str], Rendered]


def positions(data: st.DataObject, text: str, label: str) -> list[int]:
    """Up to five positions in ``text``, inside words."""
    inside = [i for i in range(1, len(text)) if text[i - 1].isalnum() and text[i].isalnum()]
    chosen = data.draw(st.lists(st.sampled_from(inside), min_size=1, max_size=5), label=label)
    return sorted(set(chosen), reverse=True)


def plain_mail(body: str, subject: str = NEUTRAL_SUBJECT) -> bytes:
    return build(Mail(subject=subject, plain=body))


def html_mail(markup: str, subject: str = NEUTRAL_SUBJECT) -> bytes:
    return build(Mail(subject=subject, html=f"<html><body><p>{markup}</p></body></html>"))


def invisible(data: st.DataObject, text: str) -> Rendered:
    for at in positions(data, text, "where"):
        text = text[:at] + data.draw(st.sampled_from(INVISIBLE), label="char") + text[at:]
    return Rendered(plain_mail(text), f"invisible characters: {text!r}")


def odd_spaces(data: st.DataObject, text: str) -> Rendered:
    chars = [
        data.draw(st.sampled_from(SPACES), label="space") if char == " " else char for char in text
    ]
    text = "".join(chars)
    return Rendered(plain_mail(text), f"other spaces: {text!r}")


def tags_in_words(data: st.DataObject, text: str) -> Rendered:
    tag = data.draw(st.sampled_from(["<span></span>", "<b></b>", "<span>", "</span>", "<wbr>"]))
    pieces = [html.escape(char) for char in text]
    for at in positions(data, text, "where"):
        pieces.insert(at, tag)
    markup = "".join(pieces)
    return Rendered(html_mail(markup), f"HTML tags inside words: {markup!r}")


def entities(data: st.DataObject, text: str) -> Rendered:
    chosen = set(positions(data, text, "where"))
    form = data.draw(st.sampled_from(["&#{};", "&#x{:x};"]), label="form")
    markup = "".join(
        form.format(ord(char)) if i in chosen else html.escape(char) for i, char in enumerate(text)
    )
    return Rendered(html_mail(markup), f"HTML entities: {markup!r}")


def as_html(data: st.DataObject, text: str) -> Rendered:
    return Rendered(html_mail(html.escape(text)), "the same text as HTML only")


def quoted_printable(data: st.DataObject, text: str) -> Rendered:
    """The body quoted-printable (RFC 2045 §6.7) with soft line breaks inside words."""
    breaks = set(positions(data, text, "where"))
    encoded = []
    for i, char in enumerate(text):
        if i in breaks:
            encoded.append("=\r\n")
        if char.isascii() and char.isprintable() and char != "=":
            encoded.append(char)
        else:
            encoded.append("".join(f"={byte:02X}" for byte in char.encode()))
    head = build(Mail(subject=NEUTRAL_SUBJECT, plain="x")).split(b"\r\n\r\n", 1)[0]
    head = b"\r\n".join(
        line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-")
    )
    raw = (
        head + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + "".join(encoded).encode() + b"\r\n"
    )
    return Rendered(raw, f"quoted-printable with soft breaks: {''.join(encoded)!r}")


def confusables(data: st.DataObject, text: str) -> Rendered:
    """Confusable letters in the words; a domain written so is another domain to DNS, and
    only the registry can tell it imitates one (see ``confusable_domain``)."""
    names = {i for match in _SERVICE.finditer(text) for i in range(*match.span())}
    candidates = [i for i, char in enumerate(text) if char in CONFUSABLE and i not in names]
    chosen = data.draw(st.sets(st.sampled_from(candidates), min_size=1, max_size=5))
    text = "".join(CONFUSABLE[c] if i in chosen else c for i, c in enumerate(text))
    return Rendered(plain_mail(text), f"confusable letters: {text!r}")


def confusable_domain(data: st.DataObject, text: str) -> Rendered:
    """Confusable letters inside the domains and server ids: a look-alike of a registered
    name, which the decision must hold whatever the extraction makes of it."""
    names = [i for match in _SERVICE.finditer(text) for i in range(*match.span())]
    candidates = [i for i in names if text[i] in CONFUSABLE]
    chosen = data.draw(st.sets(st.sampled_from(candidates), min_size=1, max_size=3))
    text = "".join(CONFUSABLE[c] if i in chosen else c for i, c in enumerate(text))
    return Rendered(plain_mail(text), f"confusable letters in a name: {text!r}")


def fullwidth(data: st.DataObject, text: str) -> Rendered:
    candidates = [i for i, char in enumerate(text) if "!" <= char <= "~"]
    chosen = data.draw(st.sets(st.sampled_from(candidates), min_size=1, max_size=12))
    text = "".join(chr(ord(c) + 0xFEE0) if i in chosen else c for i, c in enumerate(text))
    return Rendered(plain_mail(text), f"fullwidth forms: {text!r}")


def case(data: st.DataObject, text: str) -> Rendered:
    flips = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    text = "".join(c.swapcase() if flip else c for c, flip in zip(text, flips, strict=True))
    return Rendered(plain_mail(text), f"case changed: {text!r}")


def no_diacritics(data: st.DataObject, text: str) -> Rendered:
    decomposed = unicodedata.normalize("NFD", text.replace("ł", "l").replace("Ł", "L"))
    text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return Rendered(plain_mail(text), f"diacritics removed: {text!r}")


def linked_domain(data: st.DataObject, text: str) -> Rendered:
    if OWN_DOMAIN not in text:
        return Rendered(plain_mail(text), "no domain to link")
    if data.draw(st.booleans(), label="as HTML"):
        label = data.draw(st.sampled_from([OWN_DOMAIN, "tutaj", "panel"]), label="link text")
        before, _, after = text.partition(OWN_DOMAIN)
        markup = (
            html.escape(before)
            + f'<a href="https://{OWN_DOMAIN}/">{label}</a>'
            + html.escape(after)
        )
        return Rendered(html_mail(markup), f"the domain in an HTML link: {markup!r}")
    link = data.draw(st.sampled_from(LINKS), label="link").format(d=OWN_DOMAIN)
    text = text.replace(OWN_DOMAIN, link, 1)
    return Rendered(plain_mail(text), f"the domain as a link: {text!r}")


TRANSFORMS: dict[str, Transform] = {
    "invisible characters": invisible,
    "other spaces": odd_spaces,
    "HTML tags inside words": tags_in_words,
    "HTML entities": entities,
    "the same text as HTML": as_html,
    "quoted-printable soft line breaks": quoted_printable,
    "confusable letters": confusables,
    "fullwidth forms": fullwidth,
    "case changes": case,
    "diacritics removed": no_diacritics,
    "a domain moved into a link": linked_domain,
}
# For decisions: a look-alike of a registered name too.
HELD_TRANSFORMS: dict[str, Transform] = {
    **TRANSFORMS,
    "confusable letters in a name": confusable_domain,
}


def encoded_words(data: st.DataObject, subject: str) -> str:
    """``subject`` as RFC 2047 encoded words, cut anywhere (§6.2: the space between two
    encoded words is not shown)."""
    cuts = sorted(data.draw(st.sets(st.integers(1, len(subject) - 1), max_size=4), label="cuts"))
    pieces = [subject[a:b] for a, b in zip([0, *cuts], [*cuts, len(subject)], strict=True)]
    words = []
    for piece in pieces:
        raw = piece.encode()
        if data.draw(st.booleans(), label="base64"):
            words.append(f"=?utf-8?b?{base64.b64encode(raw).decode()}?=")
        else:
            q = "".join(
                "_"
                if byte == 0x20
                else chr(byte)
                if chr(byte).isalnum() and byte < 128
                else f"={byte:02X}"
                for byte in raw
            )
            words.append(f"=?utf-8?q?{q}?=")
    return " ".join(words)


def read(raw: bytes) -> Instruction:
    return extract(parse_message(raw, FROM_ACME, Channel.API), CATALOGUE)


def what(instruction: Instruction) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The kinds, and the services as the registered names they stand for: a host
    (www.acme.pl) counts as its registered parent, however extraction reports it."""
    services = dict.fromkeys(organisational_domain(name) for name in instruction.services)
    return instruction.kinds, tuple(services)


@pytest.mark.parametrize("name", list(TRANSFORMS))
@EXTRACTION
@given(data=st.data())
def test_a_rendering_change_keeps_the_kinds_and_services(name: str, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(REQUESTS), label="request")
    base = what(read(plain_mail(text)))
    assert base[0] and base[1], f"the base request {text!r} must ask for something"
    rendered = TRANSFORMS[name](data, text)
    assert what(read(rendered.raw)) == base, (
        f"class 2/4, {rendered.how} is read differently from {text!r}"
    )


@EXTRACTION
@given(data=st.data())
def test_encoded_words_in_the_subject_keep_the_kinds_and_services(data: st.DataObject) -> None:
    subject = data.draw(st.sampled_from(SUBJECT_REQUESTS), label="subject")
    base = what(read(plain_mail(NEUTRAL_BODY, subject)))
    assert base[0], f"the base subject {subject!r} must ask for something"
    encoded = encoded_words(data, subject)
    raw = build(Mail(raw_subject=encoded, plain=NEUTRAL_BODY))
    assert what(read(raw)) == base, f"class 4, encoded words: {encoded!r} read unlike {subject!r}"


def register(service: DecisionService, login: str, data: dict[str, Any]) -> None:
    customer = CustomerData(
        panel_email=data["panel_email"],
        kind=data["kind"],
        name=data["name"],
        services=tuple(data["services"]),
    )
    with service.sessions.begin() as session:
        put_customer(session, validate(login, customer), SECRET_KEY.encode())


@pytest.fixture(scope="module")
def sqlite_service(
    tmp_path_factory: pytest.TempPathFactory, dns_server: FixtureDnsServer
) -> Iterator[DecisionService]:
    """The decision service on a SQLite store of its own, acme and beta registered."""
    url = f"sqlite:///{tmp_path_factory.mktemp('metamorphic') / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    service = build_service(make_settings(url, dns_nameservers=[dns_server.address]))
    register(service, "acme", ACME)
    register(service, "beta", BETA)
    yield service
    service.sessions.kw["bind"].dispose()


def decide(service: DecisionService, raw: bytes) -> dict[str, Any]:
    verdict: dict[str, Any] = service.submit(parse_message(raw, FROM_ACME, Channel.API))
    return verdict


@DECISIONS
@given(data=st.data())
def test_a_rendering_change_never_accepts_a_held_request(
    sqlite_service: DecisionService, data: st.DataObject
) -> None:
    text = data.draw(st.sampled_from(HELD_REQUESTS), label="request")
    base = decide(sqlite_service, plain_mail(text))
    assert base["decision"] in HELD, f"the base request {text!r} must be held"
    name = data.draw(st.sampled_from(list(HELD_TRANSFORMS)), label="transform")
    rendered = HELD_TRANSFORMS[name](data, text)
    verdict = decide(sqlite_service, rendered.raw)
    assert verdict["decision"] != "accepted", (
        f"classes 2/4, {rendered.how} is accepted ({verdict['instruction']}) while "
        f"{text!r} is {base['decision']}"
    )


# Noise for the fail-closed property. Catalogue words are only those of kinds that need
# more than the authenticated sender has (a code, or paper): a phrase of a kind it may ask
# for, appended, really does ask for more, and accepting that is no failure.
CODE_OR_PAPER = sorted(
    {
        piece
        for kind in CATALOGUE.kinds
        if kind.requires == "authorized" or kind.postal_only
        for phrase in kind.phrases
        for piece in (phrase, *phrase.split())
    }
)
POLISH = [
    "dzień",
    "dobry",
    "pozdrawiam",
    "dziękuję",
    "serdecznie",
    "jutro",
    "wczoraj",
    "biuro",
    "ulica",
    "spółka",
    "żółty",
    "źdźbło",
    "miesiąc",
    "numer",
    "proszę",
    "bardzo",
    "domena",
    "serwer",
    "umowa",
]
OTHER_CUSTOMERS = ["beta.pl", "kwiaty.pl", "vps-77777", "www.beta.pl", "https://kwiaty.pl/"]
NOISE = st.lists(
    st.sampled_from(CODE_OR_PAPER + POLISH + OTHER_CUSTOMERS)
    | st.text(alphabet="abcdefghijklmnoprstuwyząćęłńóśźż .,\n", max_size=20),
    min_size=1,
    max_size=8,
).map(" ".join)


@DECISIONS
@given(data=st.data())
def test_text_added_to_an_accepted_request_never_accepts_something_else(
    sqlite_service: DecisionService, data: st.DataObject
) -> None:
    text = data.draw(st.sampled_from(ACCEPTED_REQUESTS), label="request")
    base = decide(sqlite_service, plain_mail(text))
    assert base["decision"] == "accepted", f"the base {text!r} must be accepted: {base['reasons']}"
    noise = data.draw(NOISE, label="noise")
    verdict = decide(sqlite_service, plain_mail(f"{text}\n\n{noise}"))
    same = verdict["decision"] == base["decision"] and verdict["instruction"] == base["instruction"]
    assert same or verdict["decision"] in HELD, (
        f"fail closed: {text!r} + {noise!r} is {verdict['decision']} with "
        f"{verdict['instruction']}, unlike {base['instruction']}"
    )


# How history is introduced under the sender's own text, as mail programs write it (and
# as a sender can type it): a reader may not see where the sender's words end.
HISTORY_INTROS = [
    "W dniu 1.12.2026 o 10:00 Jan Kowalski <jan@acme.pl> napisał:\n",
    "Dnia 01.12.2026 Jan <jan@acme.pl> napisał(a):\n",
    "On Tue, 1 Dec 2026, Jan <jan@acme.pl> wrote:\n",
    "-----Original Message-----\nFrom: Jan\nSent: Tuesday\n",
    "---------- Forwarded message ---------\nFrom: Jan <jan@acme.pl>\n",
    "-----Wiadomość oryginalna-----\n",
]


@DECISIONS
@given(data=st.data())
def test_history_asking_for_more_never_rides_on_an_accepted_request(
    sqlite_service: DecisionService, data: st.DataObject
) -> None:
    """An accepted request with history under it that asks for a held request: the
    history, quoted with ">" or not, never makes it through as part of an accept."""
    text = data.draw(st.sampled_from(ACCEPTED_REQUESTS), label="request")
    history = data.draw(st.sampled_from(HELD_REQUESTS + UNKNOWN_REQUESTS), label="history")
    intro = data.draw(st.sampled_from(HISTORY_INTROS), label="intro")
    marker = data.draw(st.sampled_from(["", "> "]), label="quote marker")
    verdict = decide(sqlite_service, plain_mail(f"{text}\n\n{intro}{marker}{history}\n"))
    assert verdict["decision"] in HELD, (
        f"fail closed: {text!r} over history {intro!r}{marker}{history!r} is "
        f"{verdict['decision']}: {verdict['reasons']}"
    )


# Requests a desk would act on that the catalogue has no kind for.
UNKNOWN_REQUESTS = [
    "proszę zresetować hasło do panelu",
    "proszę nadać dostęp administratora dla kasia",
    "please disable two-factor verification on the account",
    "proszę wyłączyć weryfikację dwuetapową",
    "please add a new user with full access",
    "proszę zmienić adres e-mail w panelu",
    # In words the lists need not hold (mailhook.requests).
    "nowe hasło do panelu: Lato2026!",
    "niech Marek ma pełny dostęp do konta",
    "zrestartujcie vps-12345 i zainstalujcie system od nowa",
    "numer konta do zwrotu: PL61109010140000071219812874",
    "Mark takes over as the account owner",
    # In another language than the catalogue's, with or without a request word of it.
    "Převeďte doménu acme.pl k jinému registrátorovi",
    "Löschen Sie die Domain acme.pl",
    "El nuevo titular de acme.pl es Example SL",
    "Neuer Inhaber der Domain acme.pl ist die Example GmbH",
    "Envoyez-moi le code d'autorisation pour acme.pl",
    # A bank account with no word of a request at all.
    "zwrot nadpłaty na PL61 1090 1014 0000 0712 1981 2874",
]
JOINED = ["\n{b}", " {b}.", ", a także {b}.", " Also, {b}.", "\n\nPS. {b}"]
# Requests of a kind that needs more, or of none, that only a reading of the recognised
# clause's other words finds when written in it.
SAME_CLAUSE_EXTRAS = [
    "przepisanie acme.pl na Example sp. z o.o.",
    "przeniesienie acme.pl do OVH",
    "zmieńcie operatora acme.pl na OVH",
    "please hand acme.pl over to Example Ltd",
    "передайте домен acme.pl іншому реєстратору",
]
# Joined to the recognised request in its own clause, with no comma or listed conjunction:
# "Proszę o duplikat faktury VAT dla acme.pl a potem {b}".
IN_ONE_CLAUSE = [" {b}.", " a potem {b}.", " a następnie o {b}.", " wraz z {b}.", " – {b}."]


@DECISIONS
@given(data=st.data())
def test_a_request_no_kind_knows_never_rides_on_an_accepted_one(
    sqlite_service: DecisionService, data: st.DataObject
) -> None:
    """Wherever and however a request the catalogue does not know is joined to an
    accepted one (after it, before it, in the same sentence or clause, as a PS), the
    message is held."""
    text = data.draw(st.sampled_from(ACCEPTED_REQUESTS), label="request")
    extra = data.draw(st.sampled_from(UNKNOWN_REQUESTS + SAME_CLAUSE_EXTRAS), label="extra")
    if data.draw(st.booleans(), label="in one clause"):
        # With no comma before it: in the recognised request's own clause.
        joined = data.draw(st.sampled_from(IN_ONE_CLAUSE), label="joined").format(b=extra)
        body = f"{text.rstrip('.')}{joined}"
    else:
        joined = data.draw(st.sampled_from(JOINED), label="joined").format(b=extra)
        after = data.draw(st.booleans(), label="after")
        body = f"{text}{joined}" if after else f"{extra}.\n{text}"
    verdict = decide(sqlite_service, plain_mail(body))
    assert verdict["decision"] in HELD, (
        f"fail closed: {body!r} is {verdict['decision']}: {verdict['reasons']}"
    )
