"""Instruction extraction: what a message asks for and which services it names."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import idna

from mailhook.checks import declare
from mailhook.findings import Finding
from mailhook.identifiers import Identifier, find_identifiers
from mailhook.message import InboundMessage
from mailhook.patterns import TextPattern
from mailhook.text import body_text, fold, lines, subject, without_quotes

ASSURANCE_LEVELS: tuple[str, ...] = ("none", "asserted", "authenticated", "authorized")
# A one-time code from the Customer Panel: 8 digits, shown as "1234-5678".
CODE_DIGITS = 8

# A domain name written in running text: labels of letters/digits/hyphens, a final
# label of letters (or an A-label). Not preceded by '@' or '/' (addresses, URLs),
# not followed by '@' (the local part of an address that contains dots).
_DOMAIN = re.compile(
    r"(?<![@/\w.-])((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}))"
    r"(?![\w@-]|\.[^\W_])",
    re.IGNORECASE,
)

# A URL: the domains in it are where a link points, not services the sender names.
# Starts only where no scheme character precedes and never gives back what it took,
# so a long run like "a.a.a.a…" is scanned once, not once per letter.
_URL = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://\S++", re.IGNORECASE)
# Each line is read up to this many characters: an instruction is written in lines a
# person reads, and it bounds what any catalogue pattern can cost on one line.
MAX_LINE = 1000
# And this many characters in all (subject and the sender's own text, quotes and
# history left out): far more than anyone writes to a support desk. Every pattern then
# runs once over at most this much text, so extraction from a 10 MB body costs what
# reading its lines up to the cap costs, and no pattern sees the rest.
MAX_TEXT = 64 * 1024
# The check that says the text was cut: what was not read may ask for more than what
# was, so the policy sends such a message to an agent.
TEXT_CHECK = "instruction-text"
TEXT_RESULTS: tuple[str, ...] = ("truncated",)
declare(TEXT_CHECK, "all of the sender's text was read for instructions", results=TEXT_RESULTS)


@dataclass(frozen=True, slots=True)
class InstructionKind:
    """One kind of instruction from the catalogue in ``rules/``."""

    name: str
    title: str
    phrases: tuple[str, ...]
    requires: str
    postal_only: bool = False
    # It changes or ends a service (a domain, a server): the message must name which one
    # of the sender's (app.service_scope).
    acts_on_service: bool = False


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The instruction catalogue: kinds, and how services and logins are written."""

    kinds: tuple[InstructionKind, ...]
    server_id_pattern: TextPattern
    login_pattern: TextPattern
    # A one-time code as customers write it ("kod: 1234-5678"); group 1 is the code.
    code_pattern: TextPattern | None = None


@dataclass(frozen=True, slots=True)
class Instruction:
    """What a message asks for: instruction kinds, candidate services, logins named."""

    kinds: tuple[str, ...]
    services: tuple[str, ...]
    logins: tuple[str, ...]
    # One-time codes, as their 8 digits (dashes and spaces dropped).
    codes: tuple[str, ...] = ()
    # PESEL / NIP / REGON the sender gives; masked wherever they are shown.
    identifiers: tuple[Identifier, ...] = ()
    # The sender's text was longer than MAX_TEXT, or a line than MAX_LINE: not all read.
    truncated: bool = False
    # Services named only in quoted history or forwarded text: not the sender's instruction,
    # but another customer's among them holds a request that acts on a service.
    mentioned_services: tuple[str, ...] = ()

    def identifier_kinds(self) -> list[str]:
        """Which kinds of identifier the message gives ("pesel", …), never the numbers."""
        return list(dict.fromkeys(identifier.kind.value for identifier in self.identifiers))


def extract(message: InboundMessage, catalogue: Catalogue) -> Instruction:
    """Find the kinds, services (domains as A-labels, server ids) and logins named."""
    text, truncated = readable_text(message)
    folded = fold(text)
    kinds = tuple(
        kind.name
        for kind in catalogue.kinds
        if any(phrase_pattern(phrase).search(folded) for phrase in kind.phrases)
    )
    services = _unique(
        [
            *_domains(_without_urls(text)),
            *(m.group(0).lower() for m in catalogue.server_id_pattern.finditer(text)),
        ]
    )
    logins = _unique([m.group(1).lower() for m in catalogue.login_pattern.finditer(text)])
    codes = _codes(text, catalogue.code_pattern) if catalogue.code_pattern else ()
    return Instruction(
        kinds=kinds,
        services=services,
        logins=logins,
        codes=codes,
        identifiers=find_identifiers(text),
        truncated=truncated,
    )


def readable_text(message: InboundMessage) -> tuple[str, bool]:
    """What the sender wrote, at most MAX_TEXT characters; and whether it was cut."""
    own = without_quotes(body_text(message.parsed), limit=MAX_TEXT)
    return _bounded(_own_subject(message) + "\n" + own)


def truncation_finding(instruction: Instruction) -> Finding | None:
    """instruction-text: a finding when not all of the sender's text was read."""
    if not instruction.truncated:
        return None
    return Finding(
        TEXT_CHECK,
        "truncated",
        f"The message is longer than the {MAX_TEXT // 1024} KB (or has a line longer than "
        f"{MAX_LINE} characters) that are read for instructions; an agent should read all "
        "of it, as the rest may ask for more than was recognised.",
    )


@functools.lru_cache(maxsize=1024)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Where a folded catalogue phrase occurs in folded text.

    Every word of the phrase matches the start of a word, so each may be a stem:
    "zmian adresu" finds "zmianę adresu" and "zmianą adresu" alike (Polish inflects
    every word of a phrase, not only the last).
    """
    words = [re.escape(word) for word in phrase.split()]
    # "(?<!\w)" written after the first word, not before: the pattern then starts with a
    # literal, which the engine finds by a fast substring scan instead of trying every
    # position (about 20 times faster on a long text, with the same matches).
    first = words[0] + rf"(?<!\w{words[0]})"
    return re.compile(r"\w*\s+".join([first, *words[1:]]))


@functools.lru_cache(maxsize=4096)
def to_a_label(domain: str) -> str | None:
    """The A-label form of ``domain`` (RFC 5891), or None if it is not a valid name."""
    try:
        return idna.encode(domain.rstrip(".").lower(), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None


def _without_urls(text: str) -> str:
    # Every URL holds "://": a fast substring test spares the scan of a text without one.
    return _URL.sub(" ", text) if "://" in text else text


def _domains(text: str) -> list[str]:
    """The domains _DOMAIN finds in ``text``, as A-labels, in order.

    _DOMAIN opens with a look-behind, so the engine tries it at every position; over
    all of the text it was a third of extraction. A domain holds a dot and no white
    space, and what _DOMAIN looks at beside one is white space or part of the same
    word: over the words holding a dot, one space apart, it finds the same domains.
    """
    dotted = " ".join(word for word in text.split() if "." in word)
    found = []
    for match in _DOMAIN.finditer(dotted):
        a_label = to_a_label(match.group(1))
        if a_label is not None:
            found.append(a_label)
    return found


# A reply's or forward's subject is the earlier message's: "Re: kod AuthInfo" asks
# for nothing by itself.
_REPLY_PREFIXES = ("re:", "odp:", "fwd:", "fw:", "pd:", "aw:", "wg:")


def _own_subject(message: InboundMessage) -> str:
    text = subject(message.parsed)
    return "" if text.lstrip().lower().startswith(_REPLY_PREFIXES) else text


def _bounded(text: str) -> tuple[str, bool]:
    """At most MAX_TEXT characters of ``text``, each line at most MAX_LINE; whether cut."""
    kept: list[str] = []
    size = 0
    truncated = False
    for line in lines(text):
        if len(line) > MAX_LINE:
            line, truncated = line[:MAX_LINE], True
        if size + len(line) > MAX_TEXT:
            kept.append(line[: MAX_TEXT - size])
            return "\n".join(kept), True
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept), truncated


def _codes(text: str, pattern: TextPattern) -> tuple[str, ...]:
    """The one-time codes ``pattern`` finds, as 8 digits; other digit groups are ignored."""
    found = []
    for match in pattern.finditer(text):
        digits = "".join(char for char in match.group(1) if char not in " -")
        if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit():
            found.append(digits)
    return _unique(found)


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
