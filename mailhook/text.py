"""Readable text of a message: the body part an agent would read, normalised for matching."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from email.message import EmailMessage, MIMEPart

from mailhook.normalise import normalise

# Elements whose content a reader never sees.
_HIDDEN = frozenset({"script", "style", "head", "title"})
# Elements that start a new line where a reader sees one; without this an HTML mail
# is one long line and the quoted-line filter would drop or keep all of it together.
_BREAK = frozenset(
    {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table"}
    | {"ul", "ol", "hr"}
)
# One tag, or a declaration (<!DOCTYPE>); no "<" inside, so a stray "<" in the text
# stops the scan there and every character is looked at a bounded number of times.
_MAX_QUOTE_DEPTH = 8
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*+)?+[^<>]*+>")
# What str.splitlines() splits on, for reading a long body one line at a time.
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Text up to this long is split in one call (str.splitlines); longer is read line by line.
_SPLIT_AT_ONCE = 64 * 1024
_ASCII_NAMES = frozenset({"us-ascii", "ascii", "us_ascii", "646", "ansi_x3.4-1968"})


def fold(text: str) -> str:
    """``text`` as compared with catalogue phrases: see mailhook.normalise.normalise."""
    return normalise(text)


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
    raw = next((value for key, value in msg.raw_items() if key.lower() == "subject"), None)
    if isinstance(raw, str) and _is_plain(raw):
        # The header parser returns such a value unchanged (property-tested), at a cost.
        return raw
    try:
        value = msg.get("Subject")
    except Exception:  # noqa: BLE001 - a broken encoded-word is not worth a crash
        return ""
    return str(value) if value is not None else ""


def _is_plain(value: str) -> bool:
    """ASCII on one line with no encoded word (RFC 2047): nothing for a parser to decode."""
    return value.isascii() and "=?" not in value and not _LINE_BREAK.search(value)


def body_text(msg: EmailMessage) -> str:
    """The text/plain body (HTML converted when there is no plain part); '' when none."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001 - malformed MIME structure: treat as no body
        return ""
    if part is None:
        return ""
    text = _decoded(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text


def html_to_text(source: str) -> str:
    """Readable lines of an HTML body; quoted blocks become ``> `` lines.

    One pass over the source (no backtracking regex over the whole body), so hostile
    markup such as thousands of unclosed tags costs time linear in its size.
    """
    out = _Lines()
    pos = 0
    while pos < len(source):
        lt = source.find("<", pos)
        if lt < 0:
            out.text(html.unescape(source[pos:]))
            break
        out.text(html.unescape(source[pos:lt]))
        if source.startswith("<!--", lt):
            end = source.find("-->", lt + 4)
            pos = len(source) if end < 0 else end + 3
            out.text(" ")
            continue
        tag = _TAG.match(source, lt)
        if tag is None:
            # A lone "<" ("a < b") is text.
            out.text("<")
            pos = lt + 1
            continue
        pos = tag.end()
        closing, name = tag.group(1) == "/", (tag.group(2) or "").lower()
        if name in _HIDDEN and not closing:
            close = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(source, pos)
            pos = len(source) if close is None else close.end()
            out.text(" ")
        elif name == "blockquote":
            out.quote(-1 if closing else 1)
        elif name in _BREAK:
            out.newline()
        else:
            out.text(" ")
    return out.result()


class _Lines:
    """Text collected line by line, each line prefixed by its blockquote depth."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.current: list[str] = []
        self.depth = 0

    def text(self, piece: str) -> None:
        first, *rest = piece.split("\n")
        self.current.append(first)
        for line in rest:
            self.newline()
            self.current.append(line)

    def newline(self) -> None:
        # The depth shown is capped: thousands of nested quotes would otherwise make
        # the text grow with the square of their number.
        self.lines.append("> " * min(self.depth, _MAX_QUOTE_DEPTH) + "".join(self.current))
        self.current = []

    def quote(self, step: int) -> None:
        self.newline()
        self.depth = max(0, self.depth + step)

    def result(self) -> str:
        self.newline()
        return "\n".join(self.lines)


def _decoded(part: MIMEPart) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    if charset in _ASCII_NAMES:
        # RFC 2045 §5.2 defaults to US-ASCII, yet 8-bit text under that label (or none)
        # is UTF-8 in practice; UTF-8 reads every ASCII body unchanged.
        charset = "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, ValueError):
        # Unknown charset, a codec that is not a text encoding, or one that refuses
        # errors="replace" ("idna", "undefined"): read what we can.
        return payload.decode("utf-8", errors="replace")


# Lines after which the rest is someone else's text: an earlier message quoted in full
# or forwarded (the forwarder's instruction is what they wrote above it). Compared
# folded, with the dashes and spaces around them removed.
_SEPARATORS = frozenset(
    {
        "original message",
        "wiadomosc oryginalna",
        "oryginalna wiadomosc",
        "forwarded message",
        "wiadomosc przekazana dalej",
        "przekazana wiadomosc",
        "wiadomosc przekazana",
        "begin forwarded message:",
        "poczatek przekazywanej wiadomosci:",
    }
)
# How mail programs introduce a quoted reply: "Dnia 12.11.2026 o 10:00 Jan
# <jan@acme.pl> napisał(a):", "W dniu … pisze:", "On Tue, 10 Nov 2026, Jan wrote:".
_ATTRIBUTION_STARTS = ("dnia ", "w dniu ", "on ", "am ")
_ATTRIBUTION_ENDS = ("napisal(a):", "napisal:", "napisala:", "pisze:", "wrote:", "schrieb:")
_FROM_HEADERS = ("from:", "od:")
_SENT_HEADERS = ("sent:", "wyslano:", "wyslane:", "data:", "date:")
# Only the start of a line is compared: a 1 MB "line" costs no more than a short one.
_LINE_PREFIX = 300


def without_quotes(text: str, limit: int | None = None) -> str:
    """What the sender wrote: no quoted lines, quoted or forwarded history, signature.

    Drops lines starting with ``>``, everything from an attribution line ("On … wrote:",
    "Dnia … napisał(a):") or a separator ("-----Original Message-----", "----------
    Forwarded message ---------"), and the signature after a line that is exactly "-- "
    (RFC 3676 §4.3). With ``limit``, reading stops once more than ``limit`` characters
    are kept: the caller reads no more than that, and sees by the length that it was cut.
    """
    kept: list[str] = []
    size = 0
    previous = ""  # the line before, as compared: its first _LINE_PREFIX characters
    for line in lines(text):
        if limit is not None and size > limit:
            break
        if line.rstrip("\r") == "-- ":
            break
        stripped = line.lstrip()
        if stripped.startswith(">"):
            continue
        prefix = stripped[:_LINE_PREFIX]
        if not _may_end_text(prefix):
            # Most lines: folding them would give nothing the tests below look for.
            kept.append(line)
            size += len(line) + 1
            previous = prefix
            continue
        folded = fold(prefix)
        if folded.strip("-_= ") in _SEPARATORS:
            break
        if _is_attribution(folded):
            break
        if (
            folded.endswith(_ATTRIBUTION_ENDS) and _is_attribution(fold(previous) + " " + folded)
        ) or (folded.startswith(_SENT_HEADERS) and fold(previous).startswith(_FROM_HEADERS)):
            # An attribution wrapped over two lines, or Outlook's "From: … / Sent: …"
            # block over a quoted message: the line before goes too.
            kept.pop()
            break
        kept.append(line)
        size += len(line) + 1
        previous = prefix
    return "\n".join(kept)


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
