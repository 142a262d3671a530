"""Sentences of the sender's own text that no kind explains and that point somewhere.

A recognised request can carry a second one in words no list holds ("acme.pl idzie do
OVH", "I sold acme.pl, please register it to them", "Niech nowy właściciel dostanie
kod"): paraphrases are endless, so they are not matched. Instead each sentence of the
sender's own text outside the recognised ones is read for what it points at: a service,
an address, an IP, a long number, an arrow ("a reference"), or another party ("them",
"company", a name written mid-sentence). One that does and is no known harmless form
(a signature line of names, a contact line, a label naming the service the message is
about) is unexplained: an agent reads the message (instruction-text unexplained).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mailhook.going_on import goes_on
from mailhook.literals import literal_gate
from mailhook.names import LEGAL_FORMS
from mailhook.normalise import clean
from mailhook.number_words import holds_server_in_words, server_in_words
from mailhook.text import fold, lines

# Where a sentence of the text as written ends: a full stop, "!", "?" or ";" before a
# space, or a line. "acme.pl" and "11.2026" stay whole.
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")
# An IPv4 address, or an IPv6 one written whole or with "::" (a time "10:00:00" is not).
_IP = (
    r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b"
    r"|\b[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?"
)
_IP_ADDRESS = re.compile(_IP, re.IGNORECASE)
# What every server number and IP address holds (an IPv6 one may be letters and colons).
_DIGIT_OR_COLON = re.compile(r"[\d:]")
# References that are no service name: an IP address, a number of five digits or more (a
# server's or account's number).
_REFERENCE = re.compile(rf"{_IP}|\b\d{{5,}}\b", re.IGNORECASE)
# An arrow says where something goes ("acme.pl -> OVH"): never a harmless form.
_ARROW = re.compile(r"->|=>|[→⇒»]")
# Where a clause of a sentence as written ends: a comma, a colon, a bracket, a dash
# between spaces, or a word joining two requests.
_CLAUSE_END = re.compile(
    r":(?=\s|$)|[,()]|\s[-–—]\s|\s(?:i|oraz|a także|także|też|również|ponadto|dodatkowo|bo|"
    r"a potem|potem|następnie|and|also|then|plus|because|after that|as well as)(?=\s)",
    re.IGNORECASE,
)
# A number written by a word for a server, before or after it ("serwer 77777", "VPS
# ID 77777", "77777 (vps)"), as the server id pattern does not read it; a year
# ("hosting od 2019") is no number of a server.
_SERVER_WORDS = r"(?:serw\w*|server\w*|vps|srv|ded\w*|maszyn\w*|machine\w*|instanc\w*|hosting\w*)"
_NOT_A_YEAR = r"(?!(?:19|20)\d\d\b)"
_SERVER_NUMBER = re.compile(
    rf"(?i)\b{_SERVER_WORDS}\b\W{{0,3}}(?:[^\W\d]+\W{{1,3}}){{0,3}}{_NOT_A_YEAR}\d[\d \-]{{2,}}"
    rf"|\b{_NOT_A_YEAR}\d{{3,}}\W{{0,3}}{_SERVER_WORDS}\b"
)
# A sentence quoted in a reason: enough for an agent to find it.
_SHOWN = 80
# A line that is an item of a list: a dash, a bullet or a number before it.
_LIST_ITEM = re.compile(r"\s*(?:[-*•–]|\d{1,2}[.)])\s")
# What names a place in running text, written out: a link, a mail address (also with
# "[at]"), a domain. The reader finds services once over all of the text
# (mailhook.services); here a sentence is only asked whether it names one.
_MAIL = r"[\w.+-]+\s?(?:@|\[at\]|\(at\)|\{at\})\s?[\w-]+(?:\.[\w-]+)+"
_MAIL_ADDRESS = re.compile(_MAIL, re.IGNORECASE)
_PLACE = (
    r"\b(?:https?://|mailto:|www\.)\S+"
    r"|(?<![\w@.-])(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}(?![\w@-]|\.[^\W_])"
)
_NAMED_PLACE = re.compile(rf"{_PLACE}|{_MAIL}", re.IGNORECASE)
_PLACE_ONLY = re.compile(_PLACE, re.IGNORECASE)
# Where a recognised request that acts on a service says whom it goes to ("Rezygnujemy z
# acme.pl na rzecz OVH"): that is a clause of its own, read for the party it names.
_IN_FAVOUR = re.compile(r"\s(?=(?:na rzecz|in favou?r of)\s)", re.IGNORECASE)
# Words after which a word in capitals is a party's name, not an acronym or emphasis
# ("do OVH", "go to OVH", "na rzecz OVH"); what precedes a word is looked at this far.
_TOWARDS = re.compile(r"(?:^|\s)(?:na rzecz|do|to|into|dla|for|of|u)\s+$", re.IGNORECASE)
_TOWARDS_REACH = 12
# The first words of the legal forms a company's name is written with ("sp", "ltd").
_FORM_STARTS = frozenset(written[0] for written in LEGAL_FORMS)
# What a match of _PLACE must hold ("://", "www.", "mailto:", a dot before a letter), and
# one of _MAIL ("@", "at" in brackets). The patterns above cost microseconds a sentence,
# tried at every position; what they must hold is looked for first: most sentences name
# no place and hold no "@".
_MAY_NAME_PLACE = re.compile(r"\.[^\W\d_]|://|www\.|mailto:", re.IGNORECASE)
_MAY_NAME_MAIL = re.compile(r"@|[\[({]at[\])}]", re.IGNORECASE)
# A server id as the catalogue writes them ("vps-12345", "srv 100").
_SERVER_ID = re.compile(r"(?i)\b(?:srv|vps|ded|hosting)[ _#.:/-]{0,3}\d{3,10}\b")
# A word this long in a list is a stem; a shorter one is matched whole.
_STEM = 4
# A word written with a capital letter: a name of a person or a company mid-sentence.
# (Not after a word character, ".", "@", "/" or "-": the look-behind is written after the
# capital, so that the pattern starts with a set of letters, looked for four times as
# fast as a look-behind tried at every position.)
_CAPITALISED = re.compile(r"[A-ZĄĆĘŁŃÓŚŹŻ](?<![\w.@/-].)[\w-]*")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


@dataclass(frozen=True, slots=True)
class HarmlessForms:
    """The catalogue's words for the forms a sentence may take and ask nothing (folded)."""

    # Words naming another party: "them", "ich", "firma", "company", "wife".
    parties: tuple[str, ...]
    # Words of a label or a description of the service the message is about, which
    # with the services, numbers and names it gives are the whole of a harmless
    # sentence ("Domena: acme.pl", "Dotyczy konta acme", "tel. 600 100 200").
    labels: tuple[str, ...]
    # Requests of courtesy, which ask for nothing a desk does ("proszę o kontakt",
    # "please confirm"): a sentence asking only this is no request.
    courtesies: tuple[str, ...] = ()
    # Words that make a sentence demand without a request word ("niech", "ma dostać",
    # "should"): with one, a sentence no kind recognises asks for something.
    demands: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reader:
    """How the sentences are judged: the catalogue's forms, what recognises a request,
    what makes a sentence ask (markers, declarations), and what else the message gives."""

    forms: HarmlessForms
    kinds_of: Callable[[str], tuple[str, ...]]
    asks: Callable[[str], bool] = lambda folded: False
    # The words ``asks`` finds (it finds one of them, as written, or nothing): a text
    # holding none of them is not asked sentence by sentence. None: always asked.
    ask_words: tuple[str, ...] | None = None
    # Whether a recognised kind gives IP addresses as values (a DNS change).
    addresses_given: bool = False
    # The numbers of the server ids the reader found in the text (mailhook.services,
    # read once over all of it): "VPS 12345" is vps-12345, no other server.
    known_numbers: frozenset[str] = frozenset()
    # The kinds that ask for information (inquiry): a sentence they recognise is a
    # question, and what else it names is what is asked.
    questions: frozenset[str] = frozenset()
    # The kinds that act on a service (a cancellation, a transfer): a sentence asking
    # for one is read for whom the service goes to as well (_IN_FAVOUR).
    acting: frozenset[str] = frozenset()


def unexplained_sentences(text: str, reader: Reader) -> tuple[str, ...]:
    """The sentences of ``text`` (the sender's own, as written), or clauses of a
    recognised one, that ask for or point at something no kind explains; folded.

    A recognised sentence is read clause by clause ("proszę o duplikat faktury, a kod
    proszę dać Markowi"); a question (a "?", or a kind that asks for information) only for
    requests and other parties (what else it names is what is asked). The
    items of a list under a recognised sentence ending in a colon ("proszę o zmianę
    rekordów DNS:", "- A na 192.0.2.11") are that request's own details."""
    found = []
    listing = False
    # The sentence before: one that goes on from it ("Kod też.", "Oraz kod.", "+ kod do
    # domeny") asks as well when it asked, without a request word of its own.
    before = ""
    cleaned = clean(text)
    whole = fold(cleaned)
    lists = _Lists(reader, whole)
    in_words = holds_server_in_words(whole)
    for sentence, item in _sentences(cleaned):
        folded = fold(sentence)
        if not folded or (item and listing):
            continue
        continued = (
            bool(before)
            and goes_on(folded)
            and (lists.asks(before) or bool(reader.kinds_of(before)))
        )
        before = folded
        listing = False
        if _server_named_loosely(sentence, reader, in_words):
            found.append(_shown(folded))
            continue
        kinds = reader.kinds_of(folded)
        # A question names what it asks about: only a request in it is read.
        question = folded.endswith("?") or (bool(kinds) and set(kinds) <= reader.questions)
        pieces = _other_clauses(sentence, reader, kinds) if kinds else [sentence]
        listing = bool(kinds) and folded.endswith(":")
        for piece in pieces:
            piece_folded = fold(piece)
            if _unexplained(piece, piece_folded, lists, question, continued and not kinds):
                found.append(_shown(piece_folded))
    return tuple(dict.fromkeys(found))


class _Lists:
    """The word lists a sentence is read for, each first looked for in the whole text
    (mailhook.literals): a list none of whose words the text holds answers no for
    every sentence at once."""

    def __init__(self, reader: Reader, whole: str) -> None:
        forms = reader.forms
        self.forms = forms
        self._asks = reader.asks
        self.asking = reader.ask_words is None or literal_gate(reader.ask_words)(whole)
        self.demanding = literal_gate(forms.demands)(whole)
        self.courteous = literal_gate(forms.courtesies)(whole)
        self.naming_parties = literal_gate(forms.parties)(whole)

    def asks(self, folded: str) -> bool:
        return self.asking and self._asks(folded)

    def demands(self, folded: str) -> bool:
        return self.demanding and _any_word(self.forms.demands, folded)

    def courtesy(self, folded: str) -> bool:
        return self.courteous and _any_word(self.forms.courtesies, folded)

    def parties(self, folded: str) -> bool:
        return self.naming_parties and _any_word(self.forms.parties, folded)

    def label(self, word: str) -> bool:
        """Whether ``word`` (as written) is a label word."""
        return _any_word(self.forms.labels, fold(word))


def _server_named_loosely(sentence: str, reader: Reader, in_words: bool = False) -> bool:
    """Whether ``sentence`` names a server in a way the services found do not cover:
    a number by a word for a server ("serwer 77777", "77777 (vps)", "vps siedem …") or an IP address
    where no recognised kind gives one. Which server is meant, an agent reads."""
    if _DIGIT_OR_COLON.search(sentence) is None:
        # Both need a digit, or an IPv6 address's colon: most sentences have neither;
        # a number may be written in words ("vps siedem siedem …").
        return in_words and server_in_words(sentence)
    rest = _without_names(sentence)
    if any(
        _digits(match.group(0)) not in reader.known_numbers
        for match in _SERVER_NUMBER.finditer(rest)
    ):
        return True
    return not reader.addresses_given and _IP_ADDRESS.search(rest) is not None


def _without_names(sentence: str) -> str:
    """``sentence`` without the links, mail addresses and domains it writes."""
    if _MAY_NAME_PLACE.search(sentence) is None and _MAY_NAME_MAIL.search(sentence) is None:
        return sentence
    return _NAMED_PLACE.sub(" ", sentence)


def _names_place(sentence: str) -> bool:
    """Whether ``sentence`` names a link or a domain outside the mail addresses it writes."""
    if _MAY_NAME_MAIL.search(sentence) is not None:
        sentence = _MAIL_ADDRESS.sub(" ", sentence)
    return _MAY_NAME_PLACE.search(sentence) is not None and _PLACE_ONLY.search(sentence) is not None


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _shown(folded: str) -> str:
    return folded if len(folded) <= _SHOWN else folded[: _SHOWN - 1] + "…"


def _other_clauses(sentence: str, reader: Reader, kinds: tuple[str, ...] = ()) -> list[str]:
    """The clauses of a recognised ``sentence`` that no kind recognises; of one asking
    for a kind that acts on a service, "na rzecz …" / "in favour of …" is one too."""
    clauses = _CLAUSE_END.split(sentence)
    if not reader.acting.isdisjoint(kinds) and ("rzecz" in sentence or "favo" in sentence):
        clauses = [piece for clause in clauses for piece in _IN_FAVOUR.split(clause)]
    return [
        clause.strip() for clause in clauses if clause.strip() and not reader.kinds_of(fold(clause))
    ]


def _unexplained(
    piece: str, folded: str, lists: _Lists, question: bool = False, continued: bool = False
) -> bool:
    """Whether ``piece`` asks for something beyond courtesy, or points somewhere and is
    no harmless form. Part of a question names services and numbers as what it asks
    about ("do kiedy opłacony jest vps-12345"): there only another party counts."""
    # A request word alone ("Proszę, …" cut at its comma) asks for nothing yet.
    demanding = continued or lists.asks(folded) or lists.demands(folded)
    if demanding and len(folded.split()) > 1 and not _courteous(piece, folded, lists):
        return True
    points = (
        _to_another(piece, folded, lists) if question else _points_somewhere(piece, folded, lists)
    )
    return points and not _harmless(piece, folded, lists)


def _courteous(piece: str, folded: str, lists: _Lists) -> bool:
    """Whether each clause of ``piece`` is a courtesy or a harmless form: a courtesy
    excuses its own clause only ("Proszę o szybką odpowiedź i kod" asks for a code)."""
    if not lists.courtesy(folded):
        return False
    clauses = [clause for clause in _CLAUSE_END.split(piece) if clause.strip()]
    return len(clauses) == 1 or all(
        lists.courtesy(fold(clause)) or _harmless(clause, fold(clause), lists) for clause in clauses
    )


def _sentences(cleaned: str) -> Iterable[tuple[str, bool]]:
    """Each sentence of ``cleaned`` text (mailhook.normalise.clean), and whether it is a
    list item ("- …", "1. …")."""
    for line in lines(cleaned):
        item = _LIST_ITEM.match(line) is not None
        start = 0
        # Each sentence with the mark that ends it: a question is told by its "?".
        for end in [m.end() for m in _SENTENCE_END.finditer(line)] + [len(line)]:
            sentence = line[start:end].strip()
            start = end
            if sentence:
                yield sentence, item


def _points_somewhere(sentence: str, folded: str, lists: _Lists) -> bool:
    """Whether ``sentence`` names a service, an address, a reference or another party."""
    # A mail address alone is no pointer here: named-addresses holds one that is not
    # the customer's, and "pisz na jan@acme.pl" asks nothing.
    # A server id and a reference hold a digit, or an IPv6 address's colon.
    numbered = _DIGIT_OR_COLON.search(sentence) is not None
    return bool(
        _names_place(sentence)
        or (numbered and (_SERVER_ID.search(sentence) or _REFERENCE.search(sentence)))
        or _to_another(sentence, folded, lists)
    )


def _to_another(sentence: str, folded: str, lists: _Lists) -> bool:
    """Whether ``sentence`` names another party, by a word, a name or an arrow."""
    return bool(_ARROW.search(sentence) or lists.parties(folded) or _names(sentence, lists))


def _names(sentence: str, lists: _Lists) -> list[str]:
    """Capitalised words after a sentence's first word that are no label, one letter or
    a word in capitals (an acronym "DNS", "MAX", or emphasis "PILNE"): names of people
    and companies ("Marek", "Example"). A word in capitals that something goes to ("do
    OVH", "go to OVH", "na rzecz OVH") is a company's name."""
    words = _CAPITALISED.findall(sentence)
    if not words:
        return []
    first = _WORD.search(sentence)
    after_first = 0
    if first is not None and sentence.startswith(words[0], first.start()):
        words, after_first = words[1:], first.start() + len(words[0])
    found = [
        word for word in words if len(word) > 1 and not word.isupper() and not lists.label(word)
    ]
    if any(map(str.isupper, words)):
        # Where the words in capitals stand is read only when there are some.
        found += [
            match.group(0)
            for match in _CAPITALISED.finditer(sentence, after_first)
            if len(match.group(0)) > 1
            and match.group(0).isupper()
            and _towards(sentence, match.start())
            and not lists.label(match.group(0))
        ]
    return found


def _towards(sentence: str, at: int) -> bool:
    """Whether the word at ``at`` follows a word saying where something goes, and is no
    unit or limit before a number ("kwota to MAX 100 zł": Polish "to" is "is") nor a
    company's name with its legal form."""
    after = sentence[at:].split(maxsplit=2)
    following = after[1] if len(after) > 1 else ""
    if following[:1].isdigit() or fold(following).strip(".,;:!?()") in _FORM_STARTS:
        # A company's name with its legal form ("na rzecz ACME sp. z o.o.") is one the
        # named-customer check looks up in the registry.
        return False
    return _TOWARDS.search(sentence[max(0, at - _TOWARDS_REACH) : at]) is not None


def _harmless(sentence: str, folded: str, lists: _Lists) -> bool:
    """A line of names (a signature: "Jan Kowalski", "ACME sp. z o.o."), or a label with
    what it names: every word is a label word, a name, a number, one letter (an initial,
    a tag's "b") or part of a service."""
    if _ARROW.search(sentence) or lists.parties(folded):
        return False
    rest = _REFERENCE.sub(" ", _SERVER_ID.sub(" ", _without_names(sentence)))
    # Nothing left but what it names ("https://www.acme.pl"): which services a message
    # names, service-scope judges.
    return all(
        word[0].isupper() or word[0].isdigit() or len(word) == 1 or lists.label(word)
        for word in _WORD.findall(rest)
    )


def _any_word(words: tuple[str, ...], folded: str) -> bool:
    """Whether one of ``words`` is in ``folded`` text: a word of four letters or more
    as the start of a word (a stem), a shorter one as a whole word ("im" is no "imie")."""
    return bool(words) and _words_pattern(words).search(folded) is not None


@functools.lru_cache(maxsize=16)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for all of ``words``: one scan of a sentence, not one per word."""
    stems = "|".join(re.escape(word) for word in words if len(word) >= _STEM)
    whole = "|".join(re.escape(word) for word in words if len(word) < _STEM)
    either = [f"(?:{stems})" if stems else "", f"(?:{whole})(?!\\w)" if whole else ""]
    return re.compile(r"(?<!\w)(?:" + "|".join(part for part in either if part) + ")")
