"""What each piece of a message read asks for and names, and the concerns they raise:
parts that disagree, hidden text, attachments and parts no one can read."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage

from mailhook.carriers import armoured, descriptions, drawn_differently, link_texts, undecoded
from mailhook.catalogue import Catalogue, kinds_named
from mailhook.confusables import display_form, mixes_scripts
from mailhook.instruction_findings import Concerns, PartRead
from mailhook.normalise import clean
from mailhook.parts import Part
from mailhook.pointers import NAME_SEPARATORS, name_suggests, pointer
from mailhook.reading import MAX_LINE, MAX_TEXT, Piece, Role
from mailhook.requests import unrecognised_requests
from mailhook.services import (
    address_domains,
    covered,
    link_services,
    services_named,
    written_addresses,
)
from mailhook.shown_headers import shown_header_texts
from mailhook.text import fold, respelled, spelt_out_joined
from mailhook.unexplained import Reader, unexplained_sentences


class Tally:
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
        # (part label, the words of a link's address) of the parts read as the body.
        self.links: list[tuple[str, str]] = []

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
            if part.filename and self._name_asks(part.filename):
                self.attachments.append(part.label)
            return
        folded = fold(piece.text)
        kinds = self._kinds_of(piece.text, folded)
        named = self._services_in(piece.text)
        links = link_services(tuple(cleaned(link) for link in part.links))
        services = unique([*named, *links])
        if piece.role is Role.FORWARDED:
            self.reads.append(_part_read(part, ", forwarded", True, kinds, services))
            self.forwarded_kinds.extend(kinds)
            self.mentioned.extend(services)
            return
        self.reads.append(_part_read(part, "", True, kinds, services))
        self._carriers(piece.text, part)
        if part.embedded_images:
            embedded = f"{part.embedded_images} images or documents in its markup"
            self.unreadable.append(f"{part.label} ({embedded})")
        self.unreadable.extend(f"{part.label} ({what})" for what in part.drawn_elsewhere)
        if piece.role is Role.ATTACHED:
            self.mentioned.extend(services)
            if (
                kinds
                or (part.filename and self._name_asks(part.filename))
                or self._asks_unrecognised(piece.text)
                or self.unexplained(piece.text)
            ):
                self.attachments.append(part.label)
            return
        self.kinds.extend(kinds)
        self.services.extend(services)
        self.mentioned.extend(address_domains(cleaned(piece.text)))
        self.addresses.extend(written_addresses(cleaned(piece.text), part.links))
        if part.hidden:
            self.hidden.append(part.label)
        if part.unshown and self._asks_more(cleaned(part.unshown[:MAX_TEXT])):
            # A program's <meta> (a generator's name) asks nothing, a <title> repeating
            # the subject nothing more: only a request beyond the sender's own counts.
            self.hidden.append(f"{part.label} (its title or meta data)")
        if self.pointer is None:
            self.pointer = pointer(folded)
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

    def _carriers(self, text: str, part: Part) -> None:
        """What a part carries beside its lines (mailhook.carriers): an encrypted block and
        bytes that do not decode are not read, characters drawn two ways are hidden, and
        a link's address is read (hidden_in_links)."""
        if armoured(text):
            self.unreadable.append(f"{part.label} (an encrypted block in its text)")
        if undecoded(text):
            self.unreadable.append(f"{part.label} (bytes its charset does not decode)")
        if drawn_differently(text):
            self.hidden.append(f"{part.label} (characters some clients draw as a blank)")
        self.links.extend((part.label, cleaned(words)) for words in link_texts(text, part.links))

    def hidden_in_links(self, phrases: tuple[str, ...]) -> None:
        """A link's address asking for a kind the sender's own text does not, naming a
        service it does not, or asking for something no kind recognises (the words of
        the recognised kinds' ``phrases`` count as recognised: "…/jak-zmienic-rekord-dns"
        beside a DNS change asks nothing more) is hidden text: a person reads it in the
        text or on hovering."""
        words = self.catalogue.requests
        held: list[str] = []
        for label, text in self.links:
            if label in held:
                continue
            more = set(self._kinds_of(text, fold(text))) - set(self.kinds)
            # And a service the sender's own text does not name ("…/duplikat?domena=
            # beta.pl"): the same request for another service, read on hovering.
            own = set(self.services)
            more.update(s for s in services_in(text, self.catalogue) if not covered({s}, own))
            if more or (
                words is not None and unrecognised_requests(text, words, self.kinds_of, phrases)
            ):
                held.append(label)
        self.hidden.extend(f"{label} (a request in a link's address)" for label in held)

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
                # 8-bit bytes outside the parts reach here as surrogate escapes, which
                # no pattern can read: as UTF-8, as for a part without a charset.
                raw = text[:MAX_TEXT].encode("utf-8", "surrogateescape")
                text = cleaned(raw.decode("utf-8", "replace"))
                if self._kinds_of(text, fold(text)) or self._asks_unrecognised(text):
                    self.hidden.append(f"the MIME {where}")
        for text in descriptions(msg):
            if self._asks_more(cleaned(text)):
                self.hidden.append("a part's Content-Description")
                break

    def outside_headers(self, msg: EmailMessage) -> None:
        """Header fields a client or the desk's tool may show beside the body (display
        names, Organization, Comments, Keywords, Thread-Topic, X- fields): text asking
        for more than the sender's own text there is hidden text. X- fields are mostly a
        program's, so only a request in them counts, not what they point at."""
        for name, text, shown in shown_header_texts(msg):
            text = cleaned(text[:MAX_LINE])
            if self._asks_more(text) or (shown and self.unexplained(text)):
                self.hidden.append(f"the {name} header")

    def _name_asks(self, filename: str) -> bool:
        """Whether a part's name, which a client shows, reads as an instruction."""
        return name_suggests(filename, self.catalogue) or self._asks_more(
            cleaned(NAME_SEPARATORS.sub(" ", filename[:MAX_LINE]))
        )

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
            acting=frozenset(kind.name for kind in self.catalogue.kinds if kind.acts_on_service),
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
        if drawn_differently(piece.text):
            self.hidden.append("the subject (characters some clients draw as a blank)")
        services = self._services_in(piece.text)
        self.services.extend(services)
        kinds = self._kinds_of(piece.text, fold(piece.text))
        if piece.role is Role.REPLY_SUBJECT:
            self.reply_kinds.extend(kinds)
        else:
            self.kinds.extend(kinds)
            self.addresses.extend(written_addresses(cleaned(piece.text)))

    def _kinds_in(self, folded: str) -> tuple[str, ...]:
        # The plain and HTML alternatives of one text mostly fold alike: matched once.
        if folded not in self._kinds_of_text:
            self._kinds_of_text[folded] = kinds_named(folded, self.catalogue)
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
        return unique([*kinds, *self._kinds_in(fold(variant))])

    def _services_in(self, text: str) -> list[str]:
        variant = spelt_out_joined(text)
        named = services_in(text, self.catalogue)
        named = named if variant is None else [*named, *services_in(variant, self.catalogue)]
        # A domain whose label mixes scripts ("βeta.pl", Greek beta in Latin letters) is
        # one no registry issues and a person reads as another: which one, an agent says.
        self.hidden.extend(
            f"the domain {display_form(name)} (letters of two scripts)"
            for name in named
            if "xn--" in name and any(map(mixes_scripts, display_form(name).split(".")))
        )
        return named

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


def cleaned(text: str) -> str:
    """The text domains, codes and identifiers are found in.

    The one place where it is made comparable (one character for one look, no invisible
    ones): NFKC, invisible characters removed, dashes unified (mailhook.normalise).
    """
    return clean(text)


def services_in(text: str, catalogue: Catalogue) -> list[str]:
    """Domains (as A-labels) and server ids named in ``text``, as an agent reads them."""
    return services_named(cleaned(text), catalogue.server_id_pattern)


def _part_read(
    part: Part, note: str, read: bool, kinds: tuple[str, ...], services: tuple[str, ...]
) -> PartRead:
    return PartRead(part.label + note, part.content_type, part.filename, read, kinds, services)


def unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
