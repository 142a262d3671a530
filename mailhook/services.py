"""Services named in text: domains however they are written, and server ids."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from urllib.parse import unquote

import idna

from mailhook.domains import listed_suffix, suffix_last_labels
from mailhook.normalise import normalise
from mailhook.patterns import TextPattern

# A domain name written in running text: labels of letters/digits/hyphens, a final
# label of letters (or an A-label). Not preceded by '@' or '/' (addresses, URLs),
# not followed by '@' (the local part of an address that contains dots).
_DOMAIN = re.compile(
    r"(?<![@\w.-])((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}))"
    r"(?![\w@-]|\.[^\W_])",
    re.IGNORECASE,
)
# Marks a reader does not take for part of a name: a list's dash or an emphasis's
# underscore or asterisk before a word ("-beta.pl", "_beta.pl_", "*beta.pl*") or after
# one. (A "/" before a name is no URL here either: URLs are taken out first, and
# "acme.pl/beta.pl" in running text names both.)
_MARK_BEFORE = re.compile(r"(?<!\S)[-_*]++(?=[^\W_])")
_MARK_AFTER = re.compile(r"(?<=[^\W_])[-_*]++(?=[\s.,;:!?)\]]|$)")

# A URL: its host is a service named (a link shows where it leads); the rest of it
# (path, query) is not read. Starts only where no scheme character precedes and never
# gives back what it took, so a long run like "a.a.a.a…" is scanned once.
_URL = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://\S++", re.IGNORECASE)
# The host of a URL or link: after the scheme and any user name, up to port or path.
_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*+:)?//(?:[^/?#@\s]*+@)?([^/?#:\s\\]++)", re.IGNORECASE)
# Punctuation that ends a sentence or a bracket around a link, never part of its host.
_TRAILING = ".,;:!?)]}>'\"»”’"
# An address in a mailto: link ("mailto:ola@beta.pl?subject=…"): its domain is named.
_MAILTO = re.compile(r"mailto:[^\s@<>\"']{0,256}@([^\s?<>\"',;/&]++)", re.IGNORECASE)
# A dot written so that no link is made: "beta[.]pl", "beta(dot)pl", "beta {.} pl".
# It starts at the bracket, so the engine looks only where one is.
_WRITTEN_DOT = re.compile(r"[\[({][ \t]{0,3}(?:\.|dot|kropka)[ \t]{0,3}[\])}]", re.IGNORECASE)
# "beta dot pl", "beta kropka pl": the dot as a word, between a word and a word.
_WORD_DOT = re.compile(r"(?<=[^\W_])[ \t]{1,3}(?:dot|kropka)[ \t]{1,3}(?=[^\W\d_]{2,63}\b)", re.I)
# "beta . pl", "beta .pl" (table cells drawn side by side): a dot with spaces before it
# and maybe after, before a word (and after one: see _undisguised). "koniec. Nowe" is
# not joined: a full stop and a space end a sentence, and would hide "acme.pl. Nowe".
_SPACED_DOT = re.compile(r"[ \t]{1,3}\.[ \t]{0,3}(?=[^\W\d_]{2,63}\b)")
# What a server id pattern finds between its letters and its number ("vps nr 77777").
_ID_SEPARATORS = re.compile(r"(?<=[a-z])(?:[^a-z0-9]|nr)+(?=\d)")
# An address in running text: its domain (a mailbox's, see address_domains).
_ADDRESS = re.compile(r"[\w.+-]@((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63})\b")
# Full stops of other scripts that IDNA (UTS #46) reads as a dot between labels; the
# characters UTS #39 confusables.txt gives the prototype U+002E FULL STOP (Arabic-Indic
# zeros, Syriac and Vai full stops, the Lisu tone mark "ꓸ", the Kharoshthi dot…), which a
# reader of "betaꓸpl" takes for beta.pl; and the middle dots a reader may take for one.
_DOTS = "\uff0e\u3002\uff61" + "\u0660\u06f0\u0701\u0702\ua4f8\ua60e\U00010a50\U0001d16d\u2024"
_MIDDLE_DOTS = (
    "\u00b7\u2027\u2219\u22c5\u30fb\uff65\u0387\u2e31\u2e33\u2022\u16eb\u1427\ua78f\u2981"
)
_OTHER_DOTS = str.maketrans(dict.fromkeys(_DOTS + _MIDDLE_DOTS, "."))


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


def services_named(text: str, server_id_pattern: TextPattern) -> list[str]:
    """Domains (as A-labels) and server ids named in ``text``, as an agent reads them.

    A domain counts written in running text, as the host of a URL, as the domain of a
    mailto: address, and with its dots disguised ("beta[.]pl", "beta . pl", "beta．pl").
    """
    clean = _undisguised(text)
    found = _domains(_without_urls(clean))
    found.extend(joined_names(clean))
    if "://" in clean:
        found.extend(_hosts(match.group(0) for match in _URL.finditer(clean)))
    if "mailto:" in clean.lower():
        found.extend(_mailto_domains(clean))
    # Server ids are read with look-alike letters folded too ("vрs-77777" with a Cyrillic
    # р names vps-77777 to a reader): an id has no letters of its own to keep.
    server_ids = server_id_pattern.finditer(normalise(clean))
    found.extend(_server_id(match.group(0)) for match in server_ids)
    return found


# A word of letters or digits, and what may stand between the words of a name a reader
# joins: a dot with a space or a line break, a hyphen, quotes, brackets, emphasis marks
# ("beta. pl", "beta-pl", "'beta'.pl", "beta.\npl", "beta (pl)").
_WORD = re.compile(r"[^\W_]+")
_GAP_CHARACTER = r"[\s.\-'\"()\[\]{}*_`‚„“”‘’«»]"
_JOINING_GAP = re.compile(rf"(?=.*[^\s]){_GAP_CHARACTER}{{1,5}}", re.DOTALL)
# Where the words of one label were split: a hyphen at a line's end ("be-\nta.pl").
_SPLIT_LABEL = re.compile(r"-?[ \t]*\n[ \t]*")


# Where such a name may be: a word, a gap holding more than one space or a plain dot,
# and a lower-case word of letters after it. Only the text around these is read.
_SUSPECT_GAP = re.compile(rf"[^\W_](?![ .][a-z]){_GAP_CHARACTER}{{1,5}}[a-z]{{2}}|[^\W_]-[ \t]*\n")


# What _joined_names needs of a name's last word: a lower-case word of two to six letters
# right after another word and a gap (a plain dot, or a few characters of _JOINING_GAP's).
_LAST_WORD = re.compile(rf"(?<=[^\W_]){_GAP_CHARACTER}{{1,5}}([a-z]{{2,6}})(?![^\W_])")


def joined_names(text: str) -> list[str]:
    """Domains a reader makes of words a parser keeps apart (see _joined_names), read
    only around the gaps that may hide one: most text has none, and costs one scan."""
    found: list[str] = []
    last_end = -1
    last_labels = suffix_last_labels()
    for suspect in _SUSPECT_GAP.finditer(text):
        if suspect.start() < last_end:
            continue
        # Three words of up to 63 letters before the gap, two after: a window a name fits.
        start, last_end = max(0, suspect.start() - 200), suspect.end() + 80
        window = text[start:last_end]
        # A name found ends in a word of _LAST_WORD that ends a listed suffix ("pl" of
        # "beta. pl", "za" of "beta. co. za"); sentences' words seldom are one.
        if any(word[1] in last_labels for word in _LAST_WORD.finditer(window)):
            found.extend(_joined_names(window))
    return list(dict.fromkeys(found))


def _joined_names(text: str) -> list[str]:
    """Domains a reader makes of words a parser keeps apart, as A-labels.

    A name whose dot is written with a space or a line break after it, as a hyphen, or
    with quotes or brackets around a part ("beta. pl", "beta-pl", "'beta'.pl",
    "beta.\npl", "beta (pl)"), and a label hyphenated over a line's end ("be-\nta.pl"):
    the last words must be a suffix the Public Suffix List names ("pl", "com.pl"), so
    ordinary words are not joined into names. Written plainly, a name is _DOMAIN's.
    """
    words = list(_WORD.finditer(text))
    found: list[str] = []
    for end, last in enumerate(words):
        tld = last.group(0)
        if end == 0 or not (2 <= len(tld) <= 6 and tld.isascii() and tld.isalpha()):
            continue
        if not tld.islower():
            # Upper case: a sentence's first word ("… napisał. Na razie"), or shouting.
            continue
        gap = text[words[end - 1].end() : last.start()]
        if gap != "." and not _JOINING_GAP.fullmatch(gap):
            # Most words: a space before them, which joins nothing.
            continue
        for suffix_words in (1, 2):
            start = end - suffix_words + 1
            if start < 1 or not _joined_by_gaps(text, words[start : end + 1]):
                continue
            suffix = ".".join(w.group(0).lower() for w in words[start : end + 1])
            if not listed_suffix(suffix):
                continue
            plain_suffix = all(
                text[a.end() : b.start()] == "."
                for a, b in itertools.pairwise(words[start : end + 1])
            )
            found.extend(_labels_before(text, words, start, suffix, plain_suffix))
    return found


def _labels_before(
    text: str, words: list[re.Match[str]], start: int, suffix: str, plain_suffix: bool
) -> list[str]:
    """Names of ``suffix`` with the word before it as their label (or two words, split
    over a line's end), when the gap to it disguises a dot (or, for a split label, is
    one)."""
    gap = text[words[start - 1].end() : words[start].start()]
    plain = gap == "." and plain_suffix
    if not plain and not _JOINING_GAP.fullmatch(gap):
        return []
    found = []
    label = words[start - 1].group(0)
    if start >= 2:
        split = text[words[start - 2].end() : words[start - 1].start()]
        if _SPLIT_LABEL.fullmatch(split):
            found.append(to_a_label(words[start - 2].group(0) + label + "." + suffix))
    if not plain:
        # Written plainly, _DOMAIN reads the name.
        found.append(to_a_label(label + "." + suffix))
    return [name for name in found if name is not None]


def _joined_by_gaps(text: str, words: list[re.Match[str]]) -> bool:
    """Whether consecutive ``words`` are each separated by a dot, plain or disguised."""
    return all(
        _JOINING_GAP.fullmatch(text[before.end() : after.start()]) is not None
        for before, after in itertools.pairwise(words)
    )


# A word naming what follows it as a service ("dla domeny beta", "the domain beta"),
# folded; and words after one that name no service ("mojej", "the", "tej").
_SERVICE_NOUN = re.compile(
    r"(?:^|[^\w])(?:domen\w*|domain\w*|stron\w* (?:www|internetow\w*)|witryn\w*|"
    r"serwis\w*|website|site|sklep\w*)[ \t]+(?:(?:www|pod adresem|o nazwie|named|called)"
    r"[ \t]+)?([^\W_][\w-]{0,62})(?![\w.-]*\.[^\W\d_])"
)
# A word joined to a name just given ("acme.pl i kwiaty", "acme.pl, beta"): a reader
# takes it for a second name of the same kind.
# (It starts at the dot, which the engine finds fast, and looks back for the label.)
_AFTER_A_NAME = re.compile(
    r"\.(?<=[^\W_]\.)[a-z]{2,63}[ \t]*(?:,|(?:,[ \t]*)?(?:i|oraz|and|or|lub|albo))[ \t]+"
    r"([^\W_][\w-]{0,62})(?![\w.-]*\.[^\W\d_])"
)
# The word a request that acts on a service is for ("zmiana rekordu MX dla kwiaty"): a
# reader takes it for the service's name when no suffix follows.
_FOR_A_NAME = re.compile(r"(?:^|[^\w])(?:dla|for)[ \t]+([^\W_][\w-]{0,62})(?![\w.-]*\.[^\W\d_])")
# Combining marks (the blocks of diacritical marks): after NFKC, one still written apart
# sits on a letter it has no composed form with.
_LOOSE_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Words _SERVICE_NOUN starts with: without one, it is not searched for.
_NOUNS = ("domen", "domain", "stron", "witryn", "serwis", "site", "sklep")
_NOT_A_NAME = frozenset(
    {
        "moja",
        "moje",
        "mojej",
        "naszej",
        "nasza",
        "nasze",
        "tej",
        "ta",
        "te",
        "tego",
        "ten",
        "ktora",
        "ktorej",
        "ktory",
        "jest",
        "sa",
        "bedzie",
        "oraz",
        "i",
        "a",
        "lub",
        "albo",
        "z",
        "ze",
        "do",
        "na",
        "w",
        "we",
        "o",
        "od",
        "po",
        "przez",
        "dla",
        "the",
        "my",
        "our",
        "this",
        "that",
        "an",
        "is",
        "are",
        "was",
        "of",
        "for",
        "to",
        "and",
        "or",
        "with",
        "which",
        "firmowa",
        "firmowej",
        "glowna",
        "glownej",
        "nowa",
        "nowej",
        "stara",
        "starej",
        "obecna",
        "obecnej",
        "prosze",
        "please",
        "dziekuje",
        "thanks",
        "pozdrawiam",
        "regards",
    }
)


def bare_names(folded: str, acting: bool = False) -> list[str]:
    """Words a reader takes for a service's name without its suffix: "dla domeny beta",
    "the domain kwiaty", "acme.pl i kwiaty" (in folded text), and when the request acts
    on a service (``acting``) the word it is for, "dla kwiaty". app.registry looks them
    up as the first label of a registered domain, so another customer's "beta" is read
    as beta.pl is."""
    nouns = any(noun in folded for noun in _NOUNS)
    found = []
    matches = [*(_SERVICE_NOUN.finditer(folded) if nouns else ()), *_AFTER_A_NAME.finditer(folded)]
    if acting and ("dla" in folded or "for" in folded):
        # "dla domeny acme.pl": the word for a service is no name (the noun's own
        # reading above finds what follows it).
        matches.extend(
            match
            for match in _FOR_A_NAME.finditer(folded)
            if not match.group(1).lower().startswith(_NOUNS)
        )
    for match in matches:
        word = match.group(1).lower()
        if word not in _NOT_A_NAME and not word.isdigit() and len(word) >= 2:
            found.append(word)
    return found


def _server_id(written: str) -> str:
    """A server id as the registry writes it: "VPS_77777", "vps nr 77777" → "vps-77777".

    "vps77777" stays as written: app.registry tries it with and without the dash.
    """
    return _ID_SEPARATORS.sub("-", written.lower())


def _undisguised(text: str) -> str:
    """``text`` with dots written as words, in brackets or in other scripts made dots,
    and the combining marks no letter took in (NFKC) left out: "kwiaty.p\u0323l" is drawn
    as kwiaty.pl with a dot under the p, and is read as kwiaty.pl."""
    text = text.translate(_OTHER_DOTS)
    if not text.isascii():
        text = _LOOSE_MARKS.sub("", text)
    if "[" in text or "(" in text or "{" in text:
        text = _WRITTEN_DOT.sub(" . ", text)
    if " ." in text or "\t." in text:
        text = _SPACED_DOT.sub(_joined, text)
    if "dot" in text.lower() or "kropka" in text.lower():
        text = _WORD_DOT.sub(".", text)
    if "-" in text or "_" in text or "*" in text:
        text = _MARK_AFTER.sub(" ", _MARK_BEFORE.sub(" ", text))
    return text


def _joined(spaced: re.Match[str]) -> str:
    # Only between two words: "koniec . Nowe" is joined, "… . " after a bracket is not.
    start = spaced.start()
    before = spaced.string[start - 1] if start else " "
    return "." if before.isalnum() else spaced.group(0)


def _hosts(urls: Iterable[str]) -> list[str]:
    """The hosts of ``urls`` that are domain names, as A-labels."""
    found = []
    for url in urls:
        host = _HOST.match(url)
        if host is None:
            continue
        if "@" in host.group(0):
            # A user name before the host is drawn first: "http://beta.pl@192.0.2.1/"
            # reads beta.pl to a person, whatever host it leads to.
            found.extend(_domains(unquote(host.group(0).partition("//")[2].rpartition("@")[0])))
        # Running text goes on after a link: "https://acme.pl, prosze" or "(https://acme.pl)".
        # A browser percent-decodes the host (WHATWG URL, "host parsing"): "%62eta.pl"
        # leads to beta.pl.
        name = unquote(host.group(1)).rstrip(_TRAILING)
        if _DOMAIN.fullmatch(name):
            a_label = to_a_label(name)
            if a_label is not None:
                found.append(a_label)
    return found


def _mailto_domains(text: str) -> list[str]:
    found = []
    for match in _MAILTO.finditer(text):
        name = match.group(1).rstrip(_TRAILING)
        a_label = to_a_label(name) if _DOMAIN.fullmatch(name) else None
        if a_label is not None:
            found.append(a_label)
    return found


def address_domains(text: str) -> list[str]:
    """The domains of e-mail addresses written in ``text`` ("ola@beta.pl"), as A-labels.

    Not services named (an address names a mailbox), but a reader of a request about a
    service may take one for the service meant: extraction reports them as mentioned.
    """
    if "@" not in text:
        return []
    return [a for m in _ADDRESS.finditer(text) if (a := to_a_label(m.group(1))) is not None]


# A whole address in running text, its local part and domain ("ola@beta.pl").
_FULL_ADDRESS = re.compile(
    r"(?<![\w.+-])([\w.+-]{1,64})@((?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63})\b"
)
# An "@" written so that no link is made: "ola [at] beta.pl", "ola(at)beta.pl",
# "ola (małpa) beta.pl".
_WRITTEN_AT = re.compile(
    r"[ \t]{0,3}[\[({][ \t]{0,3}(?:at|malpa|małpa)[ \t]{0,3}[\])}][ \t]{0,3}", re.IGNORECASE
)


def written_addresses(text: str, links: tuple[str, ...] = ()) -> list[str]:
    """Mail addresses written in ``text`` (also with "[at]", "(dot)" and the like) and in
    ``mailto:`` links, lower-cased, domains as A-labels: where a message asks the desk to
    send something, or a customer's mail, it names one."""
    if "@" not in text and "(" not in text and "[" not in text and "{" not in text:
        # No address, nor an "@" written in brackets: only the links are read.
        text = ""
    else:
        text = _WRITTEN_AT.sub("@", _undisguised(text))
    found = []
    for written in [text, *(link for link in links if link.lower().startswith("mailto:"))]:
        for match in _FULL_ADDRESS.finditer(written):
            domain = to_a_label(match.group(2).rstrip("."))
            if domain is not None:
                found.append(f"{match.group(1).lower()}@{domain}")
    return found


def link_services(links: tuple[str, ...]) -> list[str]:
    """Services the links of an HTML part lead to: their hosts and mailto: domains."""
    found = []
    for link in links:
        target = link.strip()
        if target.lower().startswith("mailto:"):
            found.extend(_mailto_domains(target))
        elif "//" in target:
            found.extend(_hosts([target]))
        else:
            # "www.acme.pl/x": a link a client completes with http://.
            found.extend(_domains(target.split("/")[0]))
    return found


def covered(services: set[str], by: set[str]) -> bool:
    """Whether each of ``services`` is in ``by``, or is a host below or above one there."""
    return all(
        name in by or any(name.endswith("." + o) or o.endswith("." + name) for o in by)
        for name in services
    )
