"""Instruction extraction: what a message asks for and which services it names, part by part."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal, get_args

from mailhook.findings import Finding
from mailhook.identifiers import Identifier, find_identifiers
from mailhook.instruction_findings import (
    Concerns,
    PartRead,
    parts_finding,
    reader_fault,
    text_finding,
)
from mailhook.message import InboundMessage
from mailhook.names import NO_NAMES, NameRuns, name_runs
from mailhook.normalise import clean
from mailhook.parts import Part
from mailhook.patterns import PhraseIndex, TextPattern
from mailhook.reading import MAX_LINE as MAX_LINE
from mailhook.reading import MAX_TEXT as MAX_TEXT
from mailhook.reading import Piece, Role, read_message
from mailhook.requests import RequestWords, unrecognised_requests
from mailhook.services import (
    address_domains,
    bare_names,
    covered,
    link_services,
    services_named,
    written_addresses,
)
from mailhook.services import to_a_label as to_a_label
from mailhook.shown_headers import shown_header_texts
from mailhook.text import fold, respelled, spelt_out_joined
from mailhook.unexplained import HarmlessForms, Reader, unexplained_sentences

# How sure we are that the registered customer sent a message, weakest first
# (app.decision.policy.assurance_of).
Assurance = Literal["none", "asserted", "authenticated", "authorized"]
ASSURANCE_LEVELS: tuple[Assurance, ...] = get_args(Assurance)
# A one-time code from the Customer Panel: 8 digits, shown as "1234-5678".
CODE_DIGITS = 8

# Where the sender's own text points elsewhere for the request: the subject, the quoted
# or forwarded message, an attachment. Folded (no diacritics), each word a stem.
POINTERS: tuple[str, ...] = (
    "w temacie",
    "w tytule",
    "patrz temat",
    "jak wyzej",
    "jak ponizej",
    "jak nizej",
    "patrz ponizej",
    "patrz nizej",
    "w zalaczniku",
    "w zalaczonym",
    "patrz zalacznik",
    "as in the subject",
    "in the subject",
    "see subject",
    "see the subject",
    "per subject",
    "as below",
    "as above",
    "see below",
    "see above",
    "as quoted",
    "see attach",
    "see the attach",
    "in the attach",
    "as attached",
)
# The longest word of each pointer, one of which every pointer holds.
_POINTER_WORDS = re.compile("|".join(sorted({max(p.split(), key=len) for p in POINTERS})))
# Words in an attachment's name that suggest it carries an instruction: a power of
# attorney, an authorisation, an assignment, a request or a form (folded stems).
ATTACHMENT_WORDS: tuple[str, ...] = (
    "pelnomocnictw",
    "upowaznieni",
    "authoriz",
    "authoris",
    "transfer",
    "cesj",
    "wniosek",
    "wniosk",
    "request",
    "form",
    "formularz",
    "zleceni",
    "dyspozycj",
    "authinfo",
)
log = logging.getLogger(__name__)
_NAME_SEPARATORS = re.compile(r"[\W_]+")
# The longest word of each phrase: the one least often in a text without the phrase.
_LONGEST_WORDS: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class InstructionKind:
    """One kind of instruction from the catalogue in ``rules/``."""

    name: str
    title: str
    phrases: tuple[str, ...]
    requires: str
    postal_only: bool = False
    # It changes or ends a service (a domain, a server): the message must name which one
    # of the sender's (app.decision.checks.service_scope).
    acts_on_service: bool = False
    # The request gives IP addresses of its own (a DNS record's value): an IP in it
    # is no server of someone else's (mailhook.unexplained).
    gives_addresses: bool = False
    # The request asks for information: the rest of its sentence is what is asked
    # ("proszę o informację, do kiedy opłacony jest vps-12345"), read only for requests.
    question: bool = False
    # The title in Polish, for the desk's console in Polish; None: the title is shown.
    title_pl: str | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The instruction catalogue: kinds, and how services and logins are written."""

    kinds: tuple[InstructionKind, ...]
    server_id_pattern: TextPattern
    login_pattern: TextPattern
    # A one-time code as customers write it ("kod: 1234-5678"); group 1 is the code.
    code_pattern: TextPattern | None = None
    # Every kind's phrases at once; without it each phrase is searched for in turn.
    phrase_index: PhraseIndex | None = None
    # What makes a clause a request ([requests]): without it, a request no kind
    # recognises beside one that is goes unreported (mailhook.requests).
    requests: RequestWords | None = None
    # What a sentence may be and ask nothing ([unexplained]): without it, a sentence
    # beside the recognised request is not read for what it points at.
    forms: HarmlessForms | None = None


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
    # Every part a person may open (and forwarded text within one): what each asks for.
    parts: tuple[PartRead, ...] = ()
    # Services named in quoted or forwarded history and in attachments: not the
    # sender's request, but what the request may be about.
    mentioned_services: tuple[str, ...] = ()
    # instruction-parts always; instruction-text when cut or pointing elsewhere.
    findings: tuple[Finding, ...] = ()
    # Clauses of the sender's own text that ask for something no kind recognises,
    # beside what is recognised (app.decision.checks.instruction_kind: partial).
    unrecognised: tuple[str, ...] = ()
    # Mail addresses the sender's own text names (subject, body, mailto: links), where
    # the desk may be asked to send something (app.decision.checks.named_addresses).
    addresses: tuple[str, ...] = ()
    # Words a reader takes for a service's name without its suffix ("dla domeny beta"),
    # in the sender's own text: looked up as labels of registered domains.
    bare_names: tuple[str, ...] = ()
    # Runs of words of the sender's own text a reader may take for a company's or a
    # person's name (mailhook.names): looked up as registered customers' names. Derived
    # from the text, not what the message asks for: no part of comparing instructions.
    names: NameRuns = field(default=NO_NAMES, compare=False)

    def identifier_kinds(self) -> list[str]:
        """Which kinds of identifier the message gives ("pesel", …), never the numbers."""
        return list(dict.fromkeys(identifier.kind.value for identifier in self.identifiers))


def extract(message: InboundMessage, catalogue: Catalogue) -> Instruction:
    """What ``message`` asks for (see _read_instruction); a reader fault is no pass.

    Should the reader itself fail on some text (a defect of ours), the message is not
    left to a temporary failure the sender's server retries until it bounces, nor read
    as asking for nothing: it gets an instruction-text error, which holds it for an
    agent (app.decision.policy: an error of any check is at least review).
    """
    try:
        return _read_instruction(message, catalogue)
    except Exception as exc:  # any reader defect holds the message for an agent
        log.exception("the instruction reader failed on message %s", message.message_id)
        return Instruction(
            kinds=(),
            services=(),
            logins=(),
            findings=(reader_fault(exc),),
        )


def _read_instruction(message: InboundMessage, catalogue: Catalogue) -> Instruction:
    """Find the kinds, services (domains as A-labels, server ids) and logins named.

    Every subject and every part a person may open is read (mailhook.reading). The kinds
    and services are those of the sender's own text in the parts shown as the body, and
    of the subject; a reply's subject ("Re: …") names services, and its kinds count when
    the sender's own text asks for nothing or points at the subject. What attachments,
    quoted and forwarded text ask for is recorded per part, never as the sender's; history
    asking for more than the sender's own text is reported (instruction-text history-asks).
    """
    reading = read_message(message)
    tally = _Tally(catalogue)
    for piece in reading.pieces:
        tally.add(piece)
    tally.outside_parts(message.parsed)
    tally.outside_headers(message.parsed)
    own_kinds = set(tally.kinds)
    pointer = tally.pointer
    if tally.reply_kinds and (not own_kinds or pointer is not None):
        tally.kinds.extend(tally.reply_kinds)
    if tally.forwarded_kinds and not own_kinds and pointer is None:
        # A forward with nothing of the forwarder's own: someone else's request.
        pointer = "forwarded text asks for " + ", ".join(_unique(tally.forwarded_kinds))
    own = _cleaned(reading.own_text())
    asked = set(tally.kinds)
    unrecognised: tuple[str, ...] = ()
    if asked and catalogue.requests is not None:
        unrecognised = unrecognised_requests(
            reading.own_text(),
            catalogue.requests,
            tally.kinds_of,
            (phrase for kind in catalogue.kinds if kind.name in asked for phrase in kind.phrases),
        )
    parts = tuple(tally.reads)
    findings = [parts_finding(parts, tally.concerns())]
    # What history asks for beyond the sender's own request: held, as a reader may not
    # see where the sender's words end (mailhook.instruction_findings).
    history_only = tuple(
        kind
        for kind in _unique([*tally.quoted_kinds, *tally.forwarded_kinds])
        if own_kinds and kind not in asked
    )
    history = "\n".join(
        piece.text for piece in reading.pieces if piece.role in (Role.QUOTED, Role.FORWARDED)
    )
    if own_kinds and history and catalogue.requests is not None:
        # And what it asks for that no kind recognises ("Please transfer acme.pl" under
        # a typed "On … wrote:"), as in the sender's own text (mailhook.requests).
        unknown = unrecognised_requests(
            history,
            catalogue.requests,
            tally.kinds_of,
            (phrase for kind in catalogue.kinds if kind.name in asked for phrase in kind.phrases),
        )
        history_only += tuple(f"«{clause}»" for clause in unknown[:3])
    unexplained = tally.unexplained(reading.own_text()) if asked else ()
    text = text_finding(reading.truncated, pointer, history_only, unexplained)
    if text is not None:
        findings.append(text)
    return Instruction(
        kinds=tuple(kind.name for kind in catalogue.kinds if kind.name in asked),
        services=_unique(tally.services),
        logins=_unique([m.group(1).lower() for m in catalogue.login_pattern.finditer(own)]),
        codes=_codes(own, catalogue.code_pattern) if catalogue.code_pattern else (),
        identifiers=find_identifiers(own),
        truncated=reading.truncated,
        parts=parts,
        mentioned_services=_unique([s for s in tally.mentioned if s not in tally.services]),
        findings=tuple(findings),
        unrecognised=unrecognised,
        addresses=_unique(tally.addresses),
        bare_names=_unique(bare_names(fold(reading.own_text()))),
        names=name_runs(reading.own_text()),
    )


def readable_text(message: InboundMessage) -> tuple[str, bool]:
    """The sender's own text read (at most MAX_TEXT characters); and whether it was cut."""
    reading = read_message(message)
    return reading.own_text(), reading.truncated


def extraction_findings(instruction: Instruction) -> list[Finding]:
    """Every finding extraction made: instruction-parts, and instruction-text if any."""
    return list(instruction.findings)


def truncation_finding(instruction: Instruction) -> Finding | None:
    """instruction-text: a finding when not all of the sender's text was read."""
    return text_finding(True, None) if instruction.truncated else None


class _Tally:
    """Kinds and services of each piece read, and the concerns they raise."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.kinds: list[str] = []
        self.services: list[str] = []
        self.reply_kinds: list[str] = []
        self.forwarded_kinds: list[str] = []
        self.quoted_kinds: list[str] = []
        self.addresses: list[str] = []
        self.mentioned: list[str] = []
        self.reads: list[PartRead] = []
        self.pointer: str | None = None
        self.hidden: list[str] = []
        self.attachments: list[str] = []
        self.unreadable: list[str] = []
        # Alternative group -> branch -> what the parts in that branch ask for.
        self.branches: dict[int, dict[int, _Branch]] = {}
        # Each body section a reader sees one after another (a part, or a whole group
        # of alternatives) -> the kinds it asks for, and its parts' labels.
        self.sections: dict[object, tuple[set[str], list[str]]] = {}
        self._kinds_of_text: dict[str, tuple[str, ...]] = {}

    def add(self, piece: Piece) -> None:
        part = piece.part
        if part is None:
            self._subject(piece)
            return
        if piece.role is Role.QUOTED:
            self.mentioned.extend(self._services_in(piece.text))
            self.quoted_kinds.extend(self._kinds_of(piece.text, fold(piece.text)))
            return
        if piece.role is Role.UNREAD:
            self.reads.append(_part_read(part, "", False, (), ()))
            self.unreadable.append(f"{part.label} ({part.problem})")
            if part.filename and _name_suggests(part.filename, self.catalogue):
                self.attachments.append(part.label)
            return
        folded = fold(piece.text)
        kinds = self._kinds_of(piece.text, folded)
        named = self._services_in(piece.text)
        links = link_services(tuple(_cleaned(link) for link in part.links))
        services = _unique([*named, *links])
        if piece.role is Role.FORWARDED:
            self.reads.append(_part_read(part, ", forwarded", True, kinds, services))
            self.forwarded_kinds.extend(kinds)
            self.mentioned.extend(services)
            return
        self.reads.append(_part_read(part, "", True, kinds, services))
        if part.embedded_images:
            embedded = f"{part.embedded_images} images or documents in its markup"
            self.unreadable.append(f"{part.label} ({embedded})")
        if piece.role is Role.ATTACHED:
            self.mentioned.extend(services)
            if (
                kinds
                or (part.filename and _name_suggests(part.filename, self.catalogue))
                or self._asks_unrecognised(piece.text)
                or self.unexplained(piece.text)
            ):
                self.attachments.append(part.label)
            return
        self.kinds.extend(kinds)
        self.services.extend(services)
        self.mentioned.extend(address_domains(_cleaned(piece.text)))
        self.addresses.extend(written_addresses(_cleaned(piece.text), part.links))
        if part.hidden:
            self.hidden.append(part.label)
        if part.unshown and self._asks_more(_cleaned(part.unshown[:MAX_TEXT])):
            # A program's <meta> (a generator's name) asks nothing, a <title> repeating
            # the subject nothing more: only a request beyond the sender's own counts.
            self.hidden.append(f"{part.label} (its title or meta data)")
        if self.pointer is None:
            self.pointer = _pointer(folded)
        key = ("alternatives", part.alternative[0]) if part.alternative else part.label
        section_kinds, section_labels = self.sections.setdefault(key, (set(), []))
        section_kinds.update(kinds)
        section_labels.append(part.label)
        if part.alternative is not None:
            group, branch = part.alternative
            seen = self.branches.setdefault(group, {}).setdefault(branch, _Branch())
            seen.kinds.update(kinds)
            seen.named.update(named)
            seen.services.update(services)
            seen.labels.append(part.label)

    def outside_parts(self, msg: EmailMessage) -> None:
        """Text before the first and after the last part of a multipart (RFC 2046 §5.1.1
        preamble and epilogue): clients should not show it, some do. Asking for
        anything there is hidden text."""
        for multipart in msg.walk():
            if not multipart.is_multipart():
                continue
            for where, text in (("preamble", multipart.preamble), ("epilogue", multipart.epilogue)):
                if not text or not text.strip():
                    continue
                text = _cleaned(text[:MAX_TEXT])
                if self._kinds_of(text, fold(text)) or self._asks_unrecognised(text):
                    self.hidden.append(f"the MIME {where}")

    def outside_headers(self, msg: EmailMessage) -> None:
        """Header fields a client or the desk's tool may show beside the body (display
        names, Organization, Comments, Keywords, Thread-Topic, X- fields): text asking
        for more than the sender's own text there is hidden text. X- fields are mostly a
        program's, so only a request in them counts, not what they point at."""
        for name, text, shown in shown_header_texts(msg):
            text = _cleaned(text[:MAX_LINE])
            if self._asks_more(text) or (shown and self.unexplained(text)):
                self.hidden.append(f"the {name} header")

    def _asks_more(self, text: str) -> bool:
        """Whether ``text`` asks for a kind the sender's own text has not, or for
        something no kind recognises."""
        more = set(self._kinds_of(text, fold(text))) - set(self.kinds)
        return bool(more) or self._asks_unrecognised(text)

    def unexplained(self, text: str) -> tuple[str, ...]:
        """Sentences of ``text`` no kind explains that point somewhere (mailhook.unexplained)."""
        forms = self.catalogue.forms
        if forms is None:
            return ()
        words = self.catalogue.requests
        reader = Reader(
            forms,
            self.kinds_of,
            words.has_marker if words is not None else lambda folded: False,
            ask_words=words.markers if words is not None else (),
            addresses_given=any(
                kind.gives_addresses for kind in self.catalogue.kinds if kind.name in self.kinds
            ),
            questions=frozenset(kind.name for kind in self.catalogue.kinds if kind.question),
            # The server ids found so far (the sender's own text, history, attachments):
            # each read once by services_named, never again per sentence.
            known_numbers=frozenset(
                "".join(filter(str.isdigit, service))
                for service in [*self.services, *self.mentioned]
                if "." not in service
            ),
        )
        return unexplained_sentences(text, reader)

    def concerns(self) -> Concerns:
        return Concerns(
            hidden=tuple(self.hidden),
            disagree=tuple(self._disagreeing()),
            attachment=tuple(self.attachments),
            unreadable=tuple(self.unreadable),
        )

    def _subject(self, piece: Piece) -> None:
        services = self._services_in(piece.text)
        self.services.extend(services)
        kinds = self._kinds_of(piece.text, fold(piece.text))
        if piece.role is Role.REPLY_SUBJECT:
            self.reply_kinds.extend(kinds)
        else:
            self.kinds.extend(kinds)
            self.addresses.extend(written_addresses(_cleaned(piece.text)))

    def _kinds_in(self, folded: str) -> tuple[str, ...]:
        # The plain and HTML alternatives of one text mostly fold alike: matched once.
        if folded not in self._kinds_of_text:
            self._kinds_of_text[folded] = _kinds(folded, self.catalogue)
        return self._kinds_of_text[folded]

    def _asks_unrecognised(self, text: str) -> bool:
        """Whether ``text`` asks for something (mailhook.requests) no kind recognises:
        an attached list "acme.pl;transfer" is an instruction a desk may act on."""
        words = self.catalogue.requests
        return words is not None and bool(unrecognised_requests(text, words, self.kinds_of))

    def kinds_of(self, folded: str) -> tuple[str, ...]:
        """The kinds a folded clause asks for, as written: a clause recognised only when
        respelled is not counted as recognised, which can only hold a message more."""
        return self._kinds_in(folded)

    def _kinds_of(self, text: str, folded: str) -> tuple[str, ...]:
        """The kinds ``text`` asks for, read as written and as respelled (spaced-out
        letters joined, digits read as the letters they stand for)."""
        kinds = self._kinds_in(folded)
        variant = respelled(text)
        if variant is None:
            return kinds
        return _unique([*kinds, *self._kinds_in(fold(variant))])

    def _services_in(self, text: str) -> list[str]:
        variant = spelt_out_joined(text)
        named = _services(text, self.catalogue)
        return named if variant is None else [*named, *_services(variant, self.catalogue)]

    def _disagreeing(self) -> list[str]:
        """Labels of the parts of each alternative group whose branches differ, and of
        body sections shown one after another that ask for different kinds."""
        labels: list[str] = []
        asking = [(kinds, names) for kinds, names in self.sections.values() if kinds]
        if len({frozenset(kinds) for kinds, _ in asking}) > 1:
            # Two inline parts asking for different things: which one the sender means,
            # and whether a client shows both, an agent decides (issue 13, class 3).
            labels.extend(label for _, names in asking for label in names)
        for branches in self.branches.values():
            first, *others = branches.values()
            if any(not first.agrees_with(other) for other in others):
                labels.extend(label for branch in branches.values() for label in branch.labels)
        return labels


@dataclass(slots=True)
class _Branch:
    """What the parts of one branch of a multipart/alternative ask for."""

    kinds: set[str] = field(default_factory=set)
    # Services named in the text a person reads, and those with the links' targets.
    named: set[str] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    labels: list[str] = field(default_factory=list)

    def agrees_with(self, other: _Branch) -> bool:
        # What one alternative names in its text the other names in its text or its
        # links: a plain text writes a link's target out ("strona <https://beta.pl>")
        # or leaves it out, an HTML text hides it behind the link. A host and its parent
        # name one place ("acme.pl" and a link to "www.acme.pl"). Links to other places
        # are services of the message all the same, so no disagreement is needed there.
        return (
            self.kinds == other.kinds
            and covered(self.named, other.services)
            and covered(other.named, self.services)
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


def _cleaned(text: str) -> str:
    """The text domains, codes and identifiers are found in.

    The one place where it is made comparable (one character for one look, no invisible
    ones): NFKC, invisible characters removed, dashes unified (mailhook.normalise).
    """
    return clean(text)


def _services(text: str, catalogue: Catalogue) -> list[str]:
    """Domains (as A-labels) and server ids named in ``text``, as an agent reads them."""
    return services_named(_cleaned(text), catalogue.server_id_pattern)


def _kinds(folded: str, catalogue: Catalogue) -> tuple[str, ...]:
    """The catalogue kinds whose phrases occur in ``folded`` text, in catalogue order."""
    if catalogue.phrase_index is not None:
        # Every phrase in one pass over the text (the loader builds it).
        found = catalogue.phrase_index.kinds_in(folded)
        return tuple(kind.name for kind in catalogue.kinds if kind.name in found)
    return tuple(kind.name for kind in catalogue.kinds if _any_phrase(kind.phrases, folded))


def _any_phrase(phrases: Iterable[str], folded: str) -> bool:
    """Whether one of ``phrases`` occurs in ``folded`` text."""
    return _first_phrase(phrases, folded) is not None


def _first_phrase(phrases: Iterable[str], folded: str) -> str | None:
    """The first of ``phrases`` that occurs in ``folded`` text, if any.

    Each word of a phrase occurs in the text as written wherever the phrase does: where
    its longest word is not there (a substring test, far cheaper than a search), the
    phrase is not either.
    """
    for phrase in phrases:
        word = _LONGEST_WORDS.get(phrase)
        if word is None:
            word = _LONGEST_WORDS.setdefault(phrase, max(phrase.split(), key=len))
        if word in folded and phrase_pattern(phrase).search(folded):
            return phrase
    return None


def _pointer(folded: str) -> str | None:
    """The phrase by which ``folded`` text points at the subject, history or an attachment."""
    if _POINTER_WORDS.search(folded) is None:
        # Most texts: one scan finds none of the words any pointer needs.
        return None
    return _first_phrase(POINTERS, folded)


def _name_suggests(filename: str, catalogue: Catalogue) -> bool:
    """Whether an attachment's name reads as an instruction (a form, a request…)."""
    folded = fold(_NAME_SEPARATORS.sub(" ", filename))
    phrases = [*ATTACHMENT_WORDS, *(p for kind in catalogue.kinds for p in kind.phrases)]
    return _any_phrase(phrases, folded)


def _part_read(
    part: Part, note: str, read: bool, kinds: tuple[str, ...], services: tuple[str, ...]
) -> PartRead:
    return PartRead(part.label + note, part.content_type, part.filename, read, kinds, services)


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
