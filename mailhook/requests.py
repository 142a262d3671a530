"""Requests the catalogue does not recognise, written beside one it does (fail closed).

A message asking for a duplicate invoice "and, by the way, to reset the panel password
and send it to this address" is recognised as an invoice request; the rest of it is
what an agent reading the message acts on too. So the sender's own text is cut into
clauses (sentences, then commas and conjunctions), and a clause that reads as a request
(a request word or an action verb of the catalogue's ``[requests]``), names an action
or its object, and that no phrase of any kind recognises is reported, unless every
action word in it also occurs in a clause that was recognised ("Proszę o zmianę
rekordu DNS … i potwierdzenie zmiany") or in a phrase of a kind recognised.

What makes a sentence ask is read generously, as what the reader does not understand
must not fall through to an accept: a request word anywhere in it, an action verb in
any of its clauses ("zmieńcie też dane do faktury": the verb's clause is recognised,
its object's is not), a verb in the imperative the lists do not hold ("zrestartujcie",
"zainstaluj"), a declaration ("niech", "nowe hasło", "ma dostać", "should"), or a label
naming an object before a value ("Numer konta do zwrotu: PL…"). Some objects
(passwords, access, second factors) hold the message wherever they are mentioned, and so
does a bank account number. A recognised clause is read for what it names beyond its
kinds' words; a line in another language of Latin letters (marks Polish does not use)
is read like a foreign script; words spelt out are read joined as well.

Reading is on folded text (mailhook.text.fold), as phrases are matched, and bounded by
what extraction reads of the sender's text (mailhook.reading.MAX_TEXT).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import re2

from mailhook.literals import literal_gate
from mailhook.text import fold, lines, respelled

# Where a sentence ends (a full stop, a line); within it, where a clause does (a comma,
# a colon, a bracket); then the words that join two requests in one clause.
_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")
_CLAUSE_END = re.compile(
    r":(?=\s|$)|[,()]|(?:\s(?:i|oraz|a takze|takze|tez|rowniez|ponadto|dodatkowo|"
    r"przy okazji|and|also|as well as|plus|then|additionally|[+&]))+\s"
)
# Words a recognised request names in passing: the service it is about ("duplikat
# faktury za domenę acme.pl"), where the answer goes ("na adres jan@acme.pl"; an address
# written is checked by named-addresses) and its sending or issuing ("wystawienie
# duplikatu", "send me the EPP code"). No second request in a recognised clause: the
# kind says what is done.
IN_PASSING = frozenset(
    {"domen", "domain", "dominio", "serwer", "server", "konto", "konta", "adres", "address"}
    | {"e-mail", "email", "wysl", "przesl", "wystaw", "wydaj", "wydac", "send", "issue"}
    | {"generate", "wygeneruj"}
)
# A bank account number (folded): an IBAN (ISO 13616: a country, two check digits, up to
# 30 letters and digits, written in groups of four or not), or a Polish NRB (26 digits).
# Where money is to go is a payment detail, never read as a harmless word.
_ACCOUNT_NUMBER = re.compile(
    r"\b(?:[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){3,7}(?: ?[a-z0-9]{1,4})?|\d{2}(?: ?\d{4}){6})\b"
)
# What a match of it must hold, in RE2 (whose \d is ASCII; Python's is any decimal
# digit, \p{Nd}), looked for once in the whole text before any sentence is searched.
_MAY_HOLD_ACCOUNT = re2.compile(
    r"[a-z]{2}\p{Nd}{2}(?: ?[a-z0-9]{4}){3}|\p{Nd}{2}(?: ?\p{Nd}{4}){6}"
)
# The account a recognised request is for, named by its login at the clause's end ("na
# nowego abonenta login: bartek", "login bartek"; whose login it is, the login check
# says), or said to have none ("bez loginu"): the word as a label, else never inflected
# ("wraz z loginem" names what is changed).
_LOGIN_NAMED = re.compile(r"\b(?:login(?:\s+[a-z0-9][a-z0-9._-]*)?|bez loginu)\s*$")
# The label "Login: acme" says which account and asks nothing (the whole label only:
# "Login do panelu: marek" may ask for one).
_ACCOUNT_LABEL = "login"
# What a sentence giving one counts as naming: never a word of a recognised clause.
ACCOUNT = "(a bank account number)"
# A clause quoted in a reason: enough for an agent to find it.
_SHOWN = 80
# Letters folding leaves outside ASCII are of a script no phrase is written in
# (Cyrillic, Greek, Arabic, CJK…): this many in a clause and it may ask anything.
_FOREIGN_LETTERS = 3
# named() answers kept (the catalogue's phrases, a few hundred, and recent clauses).
_NAMED_MEMO = 4096
# What such a clause counts as naming: never a word of a recognised clause.
FOREIGN = "(a script the catalogue is not written in)"


@dataclass(frozen=True, slots=True)
class RequestWords:
    """The catalogue's ``[requests]``, folded; each matched at the start of a word."""

    # A clause holding one asks for something ("prosze", "please").
    markers: tuple[str, ...]
    # What a desk does to a service or an account ("zmien", "reset", "remove"): a
    # clause holding one asks to have it done, with or without a marker.
    verbs: tuple[str, ...]
    # What it is done to ("hasl", "dostep", "password"): named in a clause that asks.
    objects: tuple[str, ...]
    # Whole words that make a sentence an instruction without a verb ("niech", "nowe",
    # "ma byc", "should"): "Nowe hasło: Lato2026!".
    declarations: tuple[str, ...] = ()
    # Objects whose mention alone asks ("hasl", "password", "2fa"): "Dostęp FTP dla
    # marek, hasło dowolne" beside a duplicate invoice is for an agent to read.
    standalone: tuple[str, ...] = ()
    # Words that begin like a verb or an object and are neither ("dostepn": "dostępny",
    # "kontakt" under "konta", "wlaczn": "włącznie").
    exceptions: tuple[str, ...] = ()
    _markers: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _declarations: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _lexicon: _Lexicon = field(init=False, repr=False, compare=False)
    # named() of the texts read lately: the catalogue's phrases, read for every message.
    _named: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_named", {})
        object.__setattr__(self, "_markers", _starts(self.markers))
        object.__setattr__(self, "_declarations", _whole(self.declarations))
        objects = tuple(dict.fromkeys((*self.objects, *self.standalone)))
        lexicon = _Lexicon(self.verbs, objects, self.exceptions)
        object.__setattr__(self, "_lexicon", lexicon)

    def has_marker(self, sentence: str) -> bool:
        """Whether ``sentence`` (folded) holds a request word ("prosze", "please")."""
        return self._markers is not None and self._markers.search(sentence) is not None

    def sentence_asks(self, sentence: str) -> bool:
        """Whether ``sentence`` (folded) reads as an instruction whatever its verbs: a
        request word, a declaration, or a label naming an object before a value."""
        if self._markers is not None and self._markers.search(sentence) is not None:
            return True
        if self._declarations is not None and self._declarations.search(sentence) is not None:
            return True
        return any(
            label.split()[0] not in _CONTACT_LABELS
            and label != _ACCOUNT_LABEL
            and any(self.found(label))
            for label in _LABEL.findall(sentence)
        )

    def holds_alone(self, objects: frozenset[str]) -> bool:
        """Whether one of ``objects`` asks by its mention alone."""
        return not objects.isdisjoint(self.standalone)

    def found(self, clause: str, spanning: bool = True) -> tuple[frozenset[str], frozenset[str]]:
        """The verbs and the objects ``clause`` names, request or not (``spanning``:
        False when the text holds no stem spanning words, see spans_words)."""
        return self._lexicon.found(clause, spanning)

    def spans_words(self, text: str) -> bool:
        return self._lexicon.spans_words(text)

    def named(self, clause: str) -> frozenset[str]:
        """The verbs and objects ``clause`` names, request or not."""
        known = self._named.get(clause)
        if known is None:
            verbs, objects = self.found(clause)
            known = verbs | objects
            if len(self._named) >= _NAMED_MEMO:
                self._named.clear()
            self._named[clause] = known
        return known


def _foreign(clause: str) -> bool:
    """Whether ``clause`` (folded) holds _FOREIGN_LETTERS letters folding left outside
    ASCII."""
    return sum(1 for char in clause if char.isalpha() and not char.isascii()) >= _FOREIGN_LETTERS


def _other_language(text: str, words: RequestWords) -> list[str]:
    """The lines of ``text`` (folded) written in a language of Latin letters the catalogue
    is not written in, as letters with marks Polish does not use show ("Převeďte doménu
    acme.pl k jinému registrátorovi", "Löschen Sie die Domain"): folding takes the marks
    off, and what is left may ask for anything in words no list holds. Such a line is
    held when it names a word of a request, or when it is a sentence of several words
    with several such letters (a name in a signature, "Jiří Dvořák", is neither)."""
    found = []
    for line in lines(text):
        if line.isascii():
            continue
        marked = sum(1 for char in line if _other_latin(char))
        if not marked:
            continue
        folded = fold(line)
        if (
            any(words.found(folded))
            or imperatives(folded)
            or words.sentence_asks(folded)
            or (marked >= _FOREIGN_LETTERS and len(folded.split()) >= _SENTENCE_WORDS)
        ):
            found.append(folded)
    return found


# Latin letters with marks Polish writes: any other is of another language.
_POLISH_MARKED = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
# A line of this many words is a sentence, not a name.
_SENTENCE_WORDS = 4


@functools.lru_cache(maxsize=4096)
def _other_latin(char: str) -> bool:
    """Whether ``char`` is a Latin letter with a mark Polish does not use ("ř", "ü", "é")."""
    if char.isascii() or char in _POLISH_MARKED or not char.isalpha():
        return False
    return unicodedata.name(char, "").startswith("LATIN")


def _whole(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of ``words`` as whole words ("nowe", not "nowak")."""
    return _starts(words, r"(?![\w])")


# "Numer konta do zwrotu: PL61…": a label, then a value. A signature's and a forwarded
# header block's labels ("tel.: …", "E-mail: …", "Od: …") name no instruction.
_LABEL = re.compile(r"(?:^|[,(])\s*([^:,()\s][^:,()]{0,59}?)\s*:\s*\S")
_CONTACT_LABELS = frozenset(
    {
        *("e-mail", "email", "mail", "tel", "tel.", "telefon", "phone", "fax", "mobile"),
        *("kom", "www", "web", "nip", "regon", "krs", "adres", "address"),
        *("temat", "subject", "re", "fw", "fwd", "od", "do", "from", "to", "data", "date"),
        *("wyslano", "sent", "dw", "cc"),
    }
)
# Imperatives the verbs do not list ("zrestartujcie", "zainstaluj", "wyslij"): the plural
# in -jcie, the singular in -uj and -ij; words of courtesy built the same way are not.
_IMPERATIVE = re.compile(r"\b\w{2,}(?:jcie|uj|ij)\b")
_COURTESY = frozenset({"dajcie", "pozdrawiaj", "pozdrawiajcie", "dziekuj"})


def imperatives(clause: str) -> frozenset[str]:
    """Words of ``clause`` (folded) in an imperative form."""
    if "j" not in clause:
        return _NOTHING
    found = frozenset(_IMPERATIVE.findall(clause)) - _COURTESY
    return found if found else _NOTHING


def _starts(words: tuple[str, ...], end: str = "") -> re.Pattern[str] | None:
    """Any of ``words`` at the start of a word (literal words: linear, no backtracking),
    followed by ``end``."""
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:^|[^\w])({alternatives}){end}")


_TOKEN = re.compile(r"\w+")
# The endings of a word compounded with a code, in languages customers write in (folded),
# and the object such a word names; a word longer than this can be such a compound.
_CODE_ENDINGS = ("code", "codes", "kode", "koden", "kood", "koodi", "codigo", "codice")
# A code named as an object (rules/instructions.toml), whichever language: in a subject
# it asks for one (unrecognised_requests' title).
_CODES = frozenset({*_CODE_ENDINGS, "kod", "msimbo", "epp"})
_CODE = "code"
_CODE_WORD = 6


class _Lexicon:
    """The verbs and objects, each matched at the start of a word, the longest at each
    word (as an alternation of them would). Each word is looked up once: its prefixes
    are walked through a set and the answer remembered, so a clause costs a dictionary
    look-up a word, whatever the number of stems. Stems that span words ("mot de
    passe", "e-mail") are searched for as a pattern. An exception longer than the stem
    a word starts with ("dostepn" over "dostep": "dostępny") makes it no word of a
    request, unless a longer stem follows."""

    _MEMO_LIMIT = 100_000

    def __init__(
        self, verbs: tuple[str, ...], objects: tuple[str, ...], exceptions: tuple[str, ...] = ()
    ) -> None:
        single = [stem for stem in (*verbs, *objects) if _TOKEN.fullmatch(stem)]
        self.verbs, self.objects = frozenset(verbs), frozenset(objects)
        self.single = frozenset(single)
        self.unlike = frozenset(exceptions) - self.single
        self.prefixes = frozenset(
            stem[:k] for stem in (*single, *self.unlike) for k in range(1, len(stem) + 1)
        )
        spanning = tuple(stem for stem in (*verbs, *objects) if stem not in self.single)
        self.spanning = _starts(spanning)
        self._may_span = literal_gate(spanning)
        self.memo: dict[str, str | None] = {}

    def stem_of(self, word: str) -> str | None:
        """The longest stem ``word`` starts with, if any."""
        if word in self.memo:
            return self.memo[word]
        longest = None
        for k in range(1, len(word) + 1):
            prefix = word[:k]
            if prefix not in self.prefixes:
                break
            if prefix in self.single:
                longest = prefix
            elif prefix in self.unlike:
                longest = None
        if longest is None and len(word) > _CODE_WORD and word.endswith(_CODE_ENDINGS):
            # A compound ending in a code ("verhuiscode", "overforselskoden", "ulekandekood",
            # "authcode"): one of the catalogue's codes, asked for in words no list holds.
            longest = _CODE if _CODE in self.single else None
        if len(self.memo) >= self._MEMO_LIMIT:
            self.memo.clear()
        self.memo[word] = longest
        return longest

    def spans_words(self, text: str) -> bool:
        """Whether ``text`` holds a stem that spans words (looked for in each clause
        only then: the pattern costs more than the rest of a clause's reading)."""
        return (
            self.spanning is not None
            and self._may_span(text)
            and self.spanning.search(text) is not None
        )

    def found(self, clause: str, spanning: bool = True) -> tuple[frozenset[str], frozenset[str]]:
        """The verbs and the objects ``clause`` names (``spanning``: those that span
        words too)."""
        memo = self.memo
        stems = set()
        for word in _TOKEN.findall(clause):
            # The memo read here, not through stem_of: a call a word is most of the cost.
            stem = memo[word] if word in memo else self.stem_of(word)
            if stem:
                stems.add(stem)
        if spanning and self.spanning is not None:
            stems.update(match.group(1) for match in self.spanning.finditer(clause))
        if not stems:
            return _NOTHING, _NOTHING
        return frozenset(stems & self.verbs), frozenset(stems & self.objects)


_NOTHING: frozenset[str] = frozenset()


def clauses(folded: str) -> list[str]:
    """``folded`` text cut into clauses, each stripped; empty ones dropped."""
    return [clause for clause, _ in _clauses(folded)]


def _clauses(folded: str) -> list[tuple[str, str]]:
    """Each clause of ``folded`` text, and the sentence it is in ("por favor, cambie la
    contraseña": the marker is the sentence's)."""
    return [
        (clause, sentence)
        for sentence in _SENTENCE_END.split(folded)
        for clause in _clauses_of(sentence)
    ]


def _clauses_of(sentence: str) -> list[str]:
    found = []
    for clause in _CLAUSE_END.split(f" {sentence} "):
        clause = clause.strip()
        if clause:
            found.append(clause)
    return found


def unrecognised_requests(
    text: str,
    words: RequestWords,
    kinds_of: Callable[[str], tuple[str, ...]],
    phrases: Iterable[str] = (),
    title: bool = False,
) -> tuple[str, ...]:
    """The clauses of ``text`` (the sender's own) that ask for something no kind
    recognises, folded and shortened for a reason; ``kinds_of`` gives the kinds a
    folded clause asks for. ``title``: ``text`` is a subject, which names what the
    message asks for without a word of asking: a clause naming a code there asks for it
    ("Faktura + kod" over an invoice request), as an object that asks alone does
    anywhere (RequestWords.holds_alone). The words of ``phrases`` (those of the kinds recognised in
    the message) count as recognised too: a subject "Transfer" over a recognised
    "przeniesienie domeny" asks for nothing more. Each line is folded apart: folding
    joins lines."""
    recognised: set[str] = set()
    for phrase in phrases:
        recognised.update(words.named(phrase))
    explained = frozenset(recognised)
    asking: list[tuple[str, frozenset[str]]] = []
    folded = "\n".join(fold(line) for line in lines(text))
    # And as a person reads it: "a-u-t-h-i-n-f-o", "P r z e n i e ś c i e" are words
    # (mailhook.text.respelled), which may ask for what the text as written does not.
    variant = respelled(text)
    if variant is not None:
        # Only its lines that differ: a line ends every sentence, so a line read the same
        # in both adds no clause (most respellings touch a word or two).
        read = set(folded.split("\n"))
        other = [line for line in map(fold, lines(variant)) if line not in read]
        if other:
            folded += "\n" + "\n".join(other)
    spanning = words.spans_words(folded)
    asking.extend((_shown(line), frozenset({FOREIGN})) for line in _other_language(text, words))
    accounts = _MAY_HOLD_ACCOUNT.search(folded) is not None
    for sentence in _SENTENCE_END.split(folded):
        if accounts and _ACCOUNT_NUMBER.search(sentence):
            # "Zwrot nadpłaty na PL61 1090 …": where money goes, whatever the words.
            asking.append((sentence, frozenset({ACCOUNT})))
        if (
            sentence.isascii()
            and not any(words.found(sentence, spanning))
            and not imperatives(sentence)
        ):
            # Most sentences: no word of a request at all, no clause of it to read.
            continue
        asking.extend(_asking(sentence, words, kinds_of, spanning, recognised, explained, title))
    return tuple(
        dict.fromkeys(_shown(clause) for clause, actions in asking if not actions <= recognised)
    )


def _asking(
    sentence: str,
    words: RequestWords,
    kinds_of: Callable[[str], tuple[str, ...]],
    spanning: bool,
    recognised: set[str],
    explained: frozenset[str],
    title: bool = False,
) -> list[tuple[str, frozenset[str]]]:
    """The clauses of ``sentence`` that ask, with their words; the words of those
    recognised go into ``recognised``. A clause asks when it names an action or its
    object and its sentence asks: a request word or a declaration in it, or an action
    verb in any of its clauses; or when it names an object that asks alone.

    A recognised clause may carry a second request with no comma before it ("proszę o
    duplikat faktury a potem o przepisanie acme.pl na Example", "zmianę danych abonenta"
    read as a contact change): what it names beyond the words of the recognised kinds'
    phrases (``explained``) and the services they act on is read as a clause of its own."""
    read = []
    acting = False
    for clause in _clauses_of(sentence):
        verbs, objects = words.found(clause, spanning)
        commands = imperatives(clause)
        foreign = not clause.isascii() and _foreign(clause)
        if not verbs and not objects and not commands and not foreign:
            # Names nothing a desk does: neither a request nor a word of one.
            continue
        actions = verbs | objects | commands
        acting = acting or bool(verbs or commands)
        if kinds_of(clause):
            beyond = actions - explained - IN_PASSING
            if "login" in beyond and _LOGIN_NAMED.search(clause):
                beyond -= {"login"}
            recognised.update(actions - beyond)
            if not beyond and not foreign:
                continue
            actions, objects = beyond, objects & beyond
        read.append((clause, actions, objects, foreign))
    if not read:
        return []
    # A clause joined to a recognised one goes on from its request ("Faktura oraz kod",
    # "duplikat faktury + kod"): it asks as that one does, with no word of its own.
    asks = acting or words.sentence_asks(sentence)
    # What such a clause names in passing (the domain, the account) is no request; the
    # sentence is read for kinds (one look: a phrase in a clause is in its sentence)
    # only when one names more.
    joined = (
        not asks
        and any(actions - IN_PASSING for _, actions, _, _ in read)
        and bool(kinds_of(sentence.strip()))
    )
    return [
        (clause, frozenset({FOREIGN}) if foreign else actions)
        for clause, actions, objects, foreign in read
        if foreign
        or asks
        or words.holds_alone(objects)
        or (joined and actions - IN_PASSING)
        or (title and not objects.isdisjoint(_CODES))
    ]


def _shown(clause: str) -> str:
    return clause if len(clause) <= _SHOWN else clause[: _SHOWN - 1] + "…"
