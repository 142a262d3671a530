"""Instruction extraction: what a message asks for and which services it names, part by part."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mailhook.catalogue import Catalogue
from mailhook.findings import Finding
from mailhook.identifiers import Identifier, find_identifiers
from mailhook.instruction_findings import (
    PartRead,
    parts_finding,
    reader_fault,
    text_finding,
)
from mailhook.message import InboundMessage
from mailhook.names import NO_NAMES, NameRuns, name_runs
from mailhook.normalise import one_reading
from mailhook.patterns import TextPattern
from mailhook.reading import MAX_LINE as MAX_LINE
from mailhook.reading import MAX_TEXT as MAX_TEXT
from mailhook.reading import Role, read_message
from mailhook.requests import unrecognised_requests
from mailhook.services import (
    bare_names,
)
from mailhook.services import to_a_label as to_a_label
from mailhook.tally import Tally, cleaned, unique
from mailhook.text import fold

# A one-time code from the Customer Panel: 8 digits, shown as "1234-5678".
CODE_DIGITS = 8

log = logging.getLogger(__name__)


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
        with one_reading():
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
    the sender's own text asks for nothing (someone else's words then: points-elsewhere)
    or points at the subject. What attachments,
    quoted and forwarded text ask for is recorded per part, never as the sender's; history
    asking for more than the sender's own text is reported (instruction-text history-asks).
    """
    reading = read_message(message)
    tally = Tally(catalogue)
    for piece in reading.pieces:
        tally.add(piece)
    tally.outside_parts(message.parsed)
    tally.outside_headers(message.parsed)
    own_kinds = set(tally.kinds)
    pointer = tally.pointer
    if tally.reply_kinds and (not own_kinds or pointer is not None):
        tally.kinds.extend(tally.reply_kinds)
        if pointer is None:
            # "Tak, potwierdzam" under "Re: Zmiana rekordów DNS acme.pl": the request is
            # the replied-to message's words, and that message may be anyone's (a
            # Reply-To naming the desk). An agent confirms what the sender wants.
            pointer = "the subject replied to asks for " + ", ".join(unique(tally.reply_kinds))
    if tally.forwarded_kinds and not own_kinds and pointer is None:
        # A forward with nothing of the forwarder's own: someone else's request.
        pointer = "forwarded text asks for " + ", ".join(unique(tally.forwarded_kinds))
    own = cleaned(reading.own_text())
    asked = set(tally.kinds)
    recognised = tuple(
        phrase for kind in catalogue.kinds if kind.name in asked for phrase in kind.phrases
    )
    unrecognised: tuple[str, ...] = ()
    if asked and catalogue.requests is not None:
        unrecognised = unrecognised_requests(
            reading.own_text(), catalogue.requests, tally.kinds_of, recognised
        )
        # A subject names what the message asks for without a word of asking: "Faktura
        # + kod" over an invoice request asks for a code too.
        subjects = "\n".join(p.text for p in reading.pieces if p.role is Role.SUBJECT)
        unrecognised = unique(
            [
                *unrecognised,
                *unrecognised_requests(
                    subjects, catalogue.requests, tally.kinds_of, recognised, title=True
                ),
            ]
        )
    if tally.links:
        tally.hidden_in_links(recognised)
    parts = tuple(tally.reads)
    findings = [parts_finding(parts, tally.concerns())]
    # What history asks for beyond the sender's own request: held, as a reader may not
    # see where the sender's words end (mailhook.instruction_findings).
    history_only = tuple(
        kind
        for kind in unique([*tally.quoted_kinds, *tally.forwarded_kinds])
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
        services=unique(tally.services),
        logins=unique([m.group(1).lower() for m in catalogue.login_pattern.finditer(own)]),
        codes=_codes(own, catalogue.code_pattern) if catalogue.code_pattern else (),
        identifiers=find_identifiers(own),
        truncated=reading.truncated,
        parts=parts,
        mentioned_services=unique([s for s in tally.mentioned if s not in tally.services]),
        findings=tuple(findings),
        unrecognised=unrecognised,
        addresses=unique(tally.addresses),
        bare_names=unique(
            bare_names(
                fold(reading.own_text()),
                acting=any(kind.acts_on_service for kind in catalogue.kinds if kind.name in asked),
            )
        ),
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


def _codes(text: str, pattern: TextPattern) -> tuple[str, ...]:
    """The one-time codes ``pattern`` finds, as 8 digits; other digit groups are ignored."""
    found = []
    for match in pattern.finditer(text):
        digits = "".join(char for char in match.group(1) if char not in " -")
        if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit():
            found.append(digits)
    return unique(found)
