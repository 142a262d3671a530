"""Text as a person reads it: subjects, the sender's own lines apart from history, folding."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

from mailhook.normalise import normalise

# Three or more single characters of a word or domain, one space or tab apart.
_SPELT_OUT = re.compile(r"(?<!\S)(?:[\w.-][ \t]){2,}[\w.-](?=[\s,;:!?)\]]|\.?$|\.\s)")
_SPACES = re.compile(r"[ \t]")
# What a match of _SPELT_OUT must hold: three characters a blank apart, the first at the
# start or after a whitespace. Looked for first: twice as fast over mail text as the
# pattern's look-behind and look-ahead tried at every position.
_SPELT_RUN = re.compile(r"[\w.-][ \t][\w.-][ \t][\w.-]")
_SPELT_RUN_INSIDE = re.compile(r"\s[\w.-][ \t][\w.-][ \t][\w.-]")
# A word spelt out letter by letter with a dot, dash, underscore or star between them
# ("a-u-t-h-i-n-f-o", "A.U.T.H.I.N.F.O"): four letters or more, so initials
# ("J.K.") and "e-mail" stay as they are.
_LETTERED = re.compile(r"(?<![\w.*-])(?:[^\W\d_][-.*_]){3,}[^\W\d_](?![\w*-]|\.\w)")
_LETTER_MARKS = re.compile(r"[-.*_]")
# What a match of _LETTERED must hold: a mark, a letter, a mark, a letter. Looked for
# first: the pattern, tried at every letter, costs eight times as much over mail text.
_LETTERED_MAY = re.compile(r"[-.*_][^\W\d_][-.*_][^\W\d_]")
# A word hyphenated at the end of a line ("Auth-\nInfo", "prze-\nniesienie"): one word.
_HYPHENATED = re.compile(r"(?<=[^\W\d_])-[ \t]*\r?\n[ \t>]*(?=[^\W\d_])")
# A word with a letter and a digit a reader takes for one ("tr4nsfer", "4uth1nf0",
# "k0d"): the digit between letters, or leading or ending a word with one.
_LEET_WORD = re.compile(r"\b(?=[^\W_]*[^\W\d_])(?=[^\W_]*[01345789])(?![^\W_]*\d{2})[^\W_]{3,}\b")
_LEET = str.maketrans("0134578@$9", "oieastbasg")
# Where a word holds a digit beside another character of a word: a word _LEET_WORD
# matches holds a digit and a non-digit, so one such pair. The match is the digit: a
# pattern that starts with a digit is tried only at digits (seven times faster over
# mail text than one starting with either character).
_DIGIT_BESIDE = re.compile(r"\d(?:(?<=[^\W\d_]\d)|(?=[^\W\d_]))")
_WORD_CHAR = re.compile(r"\w")
_WORD_RUN = re.compile(r"\w*")
# What a match of _HYPHENATED must hold.
_HYPHEN_BREAK = re.compile(r"-[ \t]*\r?\n")
# What str.splitlines() splits on, for reading a long body one line at a time.
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Text up to this long is split in one call (str.splitlines); longer is read line by line.
_SPLIT_AT_ONCE = 64 * 1024


def fold(text: str) -> str:
    """``text`` as compared with catalogue phrases: see mailhook.normalise.normalise."""
    return normalise(text)


def respelled(text: str) -> str | None:
    """``text`` as a person reads words spelt out or in digits, if that differs.

    "t r a n s f e r", "b e t a . p l", "a-u-t-h-i-n-f-o" and "Auth-\\nInfo" hyphenated
    at a line's end are read as one word, "tr4nsf3r" and
    "4uth1nf0" as letters: phrases and services are looked for in this reading too, so
    that writing them so hides nothing. Only what a reader would take for a letter is
    turned into one: digits inside a word of letters ("vps-12345", "11/2026" stay).
    """
    joined = spelt_out_joined(text) or text
    if _LETTERED_MAY.search(joined):
        joined = _LETTERED.sub(lambda run: _LETTER_MARKS.sub("", run.group(0)), joined)
    # Only where it can apply: a search for the "-" and line break a match must hold
    # costs a fraction of the rewriting pattern over every text.
    if _HYPHEN_BREAK.search(joined):
        joined = _HYPHENATED.sub("", joined)
    joined = _read_digits(joined)
    return joined if joined != text else None


def _read_digits(text: str) -> str:
    r"""``text`` with _LEET_WORD's words read as letters: each word (a run of ``\w``,
    where _LEET_WORD's boundaries are) holding a digit beside a non-digit is rewritten
    alone, the rest copied; a whole-text rewrite tries the pattern at every word."""
    pieces: list[str] = []
    copied = 0
    for pair in _DIGIT_BESIDE.finditer(text):
        if pair.start() < copied:
            continue
        start = pair.start()
        while start > copied and _WORD_CHAR.match(text, start - 1):
            start -= 1
        run = _WORD_RUN.match(text, pair.end())  # "\w*" matches everywhere
        end = run.end() if run is not None else pair.end()
        pieces.append(text[copied:start])
        pieces.append(_LEET_WORD.sub(_as_letters, text[start:end]))
        copied = end
    if not pieces:
        return text
    pieces.append(text[copied:])
    return "".join(pieces)


def _as_letters(word: re.Match[str]) -> str:
    return word.group(0).translate(_LEET)


# A text is read for kinds and for services, each asking for this: worked out once.
@functools.lru_cache(maxsize=4)
def spelt_out_joined(text: str) -> str | None:
    """``text`` with words and domains spelt out ("b e t a . p l") joined, if any are.

    What services are looked for in besides ``text`` (digits in a name are its own).
    """
    if not _may_spell_out(text):
        return None
    joined = _SPELT_OUT.sub(lambda run: _SPACES.sub("", run.group(0)), text)
    return joined if joined != text else None


def _may_spell_out(text: str) -> bool:
    return _SPELT_RUN_INSIDE.search(text) is not None or _SPELT_RUN.match(text) is not None


def lines(text: str) -> Iterator[str]:
    """The lines of ``text`` as ``str.splitlines()`` gives them, one at a time.

    A reader that stops early never splits (or holds) the rest of a 10 MB body.
    """
    if len(text) <= _SPLIT_AT_ONCE:
        # Short text: splitting it whole costs less than the generator's steps.
        yield from text.splitlines()
        return
    start = 0
    for newline in _LINE_BREAK.finditer(text):
        yield text[start : newline.start()]
        start = newline.end()
    if start < len(text):
        yield text[start:]


def subject(msg: EmailMessage) -> str:
    """The first Subject, decoded; '' when there is none or it cannot be read."""
    found = subjects(msg)
    return found[0] if found else ""


def subjects(msg: EmailMessage) -> list[str]:
    """Every Subject instance, decoded, in order: a client may show any one of them."""
    found = []
    for key, raw in msg.raw_items():
        if key.lower() != "subject":
            continue
        if isinstance(raw, str) and _is_plain(raw):
            # The header parser returns such a value unchanged (property-tested), at a cost.
            found.append(raw)
            continue
        try:
            found.append(str(msg.policy.header_fetch_parse(key, raw)))
        except Exception:  # noqa: BLE001 - a broken encoded-word is read as it stands
            found.append(str(raw))
    return found


def _is_plain(value: str) -> bool:
    """ASCII on one line with no encoded word (RFC 2047): nothing for a parser to decode."""
    return value.isascii() and "=?" not in value and not _LINE_BREAK.search(value)


# Lines after which the rest is someone else's text: an earlier message quoted in full
# (a reply's history) or forwarded. Compared folded, with dashes and spaces around removed.
_REPLY_SEPARATORS = frozenset({"original message", "wiadomosc oryginalna", "oryginalna wiadomosc"})
_FORWARD_SEPARATORS = frozenset(
    {
        "forwarded message",
        "wiadomosc przekazana dalej",
        "przekazana wiadomosc",
        "wiadomosc przekazana",
        "begin forwarded message:",
        "poczatek przekazywanej wiadomosci:",
    }
)
_SEPARATORS = _REPLY_SEPARATORS | _FORWARD_SEPARATORS
# How mail programs introduce a quoted reply: "Dnia 12.11.2026 o 10:00 Jan
# <jan@acme.pl> napisał(a):", "W dniu … pisze:", "On Tue, 10 Nov 2026, Jan wrote:".
_ATTRIBUTION_STARTS = ("dnia ", "w dniu ", "on ", "am ")
_ATTRIBUTION_ENDS = ("napisal(a):", "napisal:", "napisala:", "pisze:", "wrote:", "schrieb:")
_FROM_HEADERS = ("from:", "od:")
_SENT_HEADERS = ("sent:", "wyslano:", "wyslane:", "data:", "date:")
# Only the start of a line is compared: a 1 MB "line" costs no more than a short one.
_LINE_PREFIX = 300


@dataclass(frozen=True, slots=True)
class Written:
    """A text body split by who wrote it."""

    # What the sender wrote, the signature included: a PS under "-- " is read too.
    own: str
    # Lines quoted with ">", and a replied-to message after its attribution line.
    quoted: str
    # A message forwarded below a separator: someone else's request, not the sender's.
    forwarded: str


def without_quotes(text: str, limit: int | None = None) -> str:
    """What the sender wrote: no quoted lines, no quoted or forwarded history."""
    return split_written(text, limit).own


def split_written(text: str, limit: int | None = None) -> Written:
    """``text`` split into the sender's own lines, quoted history and forwarded history.

    Lines starting with ``>`` are quoted; everything from an attribution line ("On …
    wrote:", "Dnia … napisał(a):") or a reply separator ("-----Original Message-----")
    is quoted history, from a forward separator ("---------- Forwarded message
    ---------") forwarded history. The signature after a "-- " line (RFC 3676 §4.3) is
    the sender's own text: a client shows it like the rest. With ``limit``, reading stops
    once more than ``limit`` characters of own text are kept (the caller reads no more,
    and sees by the length that it was cut), and at most ``limit`` of history is kept.
    """
    own: list[str] = []
    quoted = _Kept(limit)
    size = 0
    previous = ""  # the line before, as compared: its first _LINE_PREFIX characters
    rest = lines(text)
    for line in rest:
        if limit is not None and size > limit:
            break
        stripped = line.lstrip()
        if stripped.startswith(">"):
            quoted.add(line)
            continue
        prefix = stripped[:_LINE_PREFIX]
        if _may_end_text(prefix):
            ending = _history_starts(fold(prefix), fold(previous))
            if ending is not None:
                history = _Kept(limit)
                if ending == "wrapped":
                    history.add(own.pop())
                history.add(line)
                for later in rest:
                    if not history.add(later):
                        break
                if ending == "forwarded":
                    return Written("\n".join(own), quoted.text(), history.text())
                quoted.add(history.text())
                return Written("\n".join(own), quoted.text(), "")
        own.append(line)
        size += len(line) + 1
        previous = prefix
    return Written("\n".join(own), quoted.text(), "")


class _Kept:
    """Lines of history kept up to a limit; past it, lines are passed over unstored."""

    def __init__(self, limit: int | None) -> None:
        self.limit, self.size = limit, 0
        self.lines: list[str] = []

    def add(self, line: str) -> bool:
        """Keep ``line`` if the limit allows; False once the limit is reached."""
        if self.limit is not None and self.size > self.limit:
            return False
        self.lines.append(line)
        self.size += len(line) + 1
        return True

    def text(self) -> str:
        return "\n".join(self.lines)


def _history_starts(folded: str, previous: str) -> str | None:
    """Whether history starts at a line: "forwarded", "quoted", "wrapped" (the line
    before starts it too), or None when the line is the sender's own."""
    separator = folded.strip("-_= ")
    if separator in _FORWARD_SEPARATORS:
        return "forwarded"
    if separator in _REPLY_SEPARATORS or _is_attribution(folded):
        return "quoted"
    if (folded.endswith(_ATTRIBUTION_ENDS) and _is_attribution(previous + " " + folded)) or (
        folded.startswith(_SENT_HEADERS) and previous.startswith(_FROM_HEADERS)
    ):
        # An attribution wrapped over two lines, or Outlook's "From: … / Sent: …"
        # block over a quoted message: the line before goes too.
        return "wrapped"
    return None


def _may_end_text(prefix: str) -> bool:
    """False where ``fold(prefix)`` is no separator, attribution or header line.

    An ASCII line folds to its lowercased words joined by spaces, so each word of the
    fold is in ``prefix.lower()``. Every attribution and header line ends with or holds
    a ":", and every separator without one holds "message" or "wiadomosc"; a line with
    none of these cannot be one. Lines with any other character are always folded.
    """
    if not prefix.isascii() or ":" in prefix:
        return True
    lowered = prefix.lower()
    return "message" in lowered or "wiadomosc" in lowered


def _is_attribution(folded: str) -> bool:
    return folded.startswith(_ATTRIBUTION_STARTS) and folded.endswith(_ATTRIBUTION_ENDS)
