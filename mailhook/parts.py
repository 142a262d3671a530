"""The parts of a message a person may open, each as the text a mail client shows of it."""

from __future__ import annotations

import base64
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email import errors, message_from_bytes
from email.message import EmailMessage, MIMEPart

from mailhook.htmltext import render_html
from mailhook.message import MAX_NESTED_PARTS
from mailhook.text import subjects
from mailhook.text_formats import enriched_text, unfolded_content_lines

# Parts read as text. Every text/* type is shown as text by some client; message/*
# reports (delivery status, read receipts) are lines of headers a client shows too.
_TEXT_MAIN_TYPE = "text"
_REPORTS = frozenset({"message/delivery-status", "message/disposition-notification"})
_ATTACHED_MESSAGES = frozenset({"message/rfc822", "message/global"})
_CONTENT_ELSEWHERE = frozenset({"message/external-body", "message/partial"})
# Parts no person reads: a signature over the others (RFC 1847, RFC 3156, RFC 8551)
# and the version marker of an encrypted message; what they sign is read.
_NOT_FOR_READING = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-encrypted",
    }
)
# Transfer encodings the standard library decodes (RFC 2045 §6.1, and uuencode).
_DECODABLE = frozenset(
    {"7bit", "8bit", "binary", "quoted-printable", "base64"}
    | {"x-uuencode", "uuencode", "uue", "x-uue"}
)
_BROKEN_BASE64 = (
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64LengthDefect,
    errors.InvalidBase64PaddingDefect,
)
# A soft line break of flowed text: a space at the end of a line that is not the
# signature separator "-- " and not quoted (RFC 3676 §4.1, §4.5).
_SOFT_BREAK = re.compile(r" (?<!^-- )\r?\n(?!>)", re.MULTILINE)
_ASCII_NAMES = frozenset({"us-ascii", "ascii", "us_ascii", "646", "ansi_x3.4-1968"})
# HTML, and the AMP for Email alternative Gmail shows in its place (text/x-amp-html).
_HTML = frozenset({"text/html", "text/x-amp-html"})
# Markup a client renders that is not rendered here: its words may be split by control
# words ("Auth\\b Info"), so it is held unread rather than read as something else.
_UNRENDERED_MARKUP = frozenset({"text/rtf", "text/x-rtf"})
_ENRICHED = frozenset({"text/enriched", "text/richtext"})
# iCalendar and vCard bodies: content lines, folded and escaped.
_CONTENT_LINES = frozenset({"text/calendar", "text/vcard", "text/x-vcard", "text/directory"})
# C0 control characters other than white space, and DEL: a client draws none of them.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_CHARACTERS = "".join(map(chr, (*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F)))
# Transfer encodings an attached message may come in against RFC 2046 §5.2.1, which
# clients decode all the same (and then show the message).
_ENCODED_MESSAGE = frozenset({"base64", "quoted-printable"})
# A parameter's name in a Content-Type value ("; charset=").
_PARAMETER = re.compile(r";\s*([a-zA-Z0-9*_.-]+)\s*=")
_COMMENTS = re.compile(r"\([^()]*\)")
# RFC 2045 §5 (Content-Type), §6 (Content-Transfer-Encoding), RFC 2183 (disposition).
_ONCE_PER_PART = ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition")
# RFC 2781 §4.3 (and UTF-32 as clients read it): without a byte order mark, big-endian.
_UTF16_32 = {"utf-16": "utf-16-be", "utf16": "utf-16-be", "utf-32": "utf-32-be"}
_BYTE_ORDER_MARKS = (b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff")
# More leaf parts than this are not looked at (one multipart may hold any number).
MAX_PARTS = MAX_NESTED_PARTS


@dataclass(frozen=True, slots=True)
class Part:
    """One part a person may open, as far as it could be read."""

    # "1 text/plain", "3 attachment invoice.pdf (application/pdf)": how an agent finds it.
    label: str
    content_type: str
    filename: str | None
    # An attachment, or inside an attached message: opened apart from the body.
    attached: bool
    # What a client shows of it; None when it cannot be read (``problem`` says why).
    text: str | None
    problem: str = ""
    # HTML text kept out of sight (display:none, tiny or white type…); also in ``text``.
    hidden: str = ""
    # Where the part's links point (HTML href values).
    links: tuple[str, ...] = ()
    # Images inside an HTML part's own markup (data: URIs): shown, never read.
    embedded_images: int = 0
    # HTML text no client draws in the body (<title>, <meta content>).
    unshown: str = ""
    # What an HTML part's CSS draws from outside its text (a font, an image, a style
    # sheet it loads): shown, never read.
    drawn_elsewhere: tuple[str, ...] = ()
    # (group, branch) when the part is one of the alternatives of a multipart/alternative
    # (RFC 2046 §5.1.4): a client shows one branch of each group, any one.
    alternative: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Parts:
    """Every part found, and whether there were more than MAX_PARTS."""

    parts: tuple[Part, ...]
    cut: bool


def message_parts(msg: EmailMessage) -> Parts:
    """The leaf parts of ``msg`` (and of messages attached to it), in order."""
    walker = _Walker()
    found: list[Part] = []
    for part in walker.walk(msg, attached=False, alternative=None):
        if len(found) == MAX_PARTS:
            return Parts(tuple(found), cut=True)
        found.append(part)
    return Parts(tuple(found), cut=False)


class _Walker:
    """Walks the MIME tree, numbering parts and alternative groups as it meets them."""

    def __init__(self) -> None:
        self.number = 0
        self.groups = 0

    def walk(
        self, part: MIMEPart, attached: bool, alternative: tuple[int, int] | None
    ) -> Iterator[Part]:
        content_type = part.get_content_type()
        repeated = _repeated_fields(part) or _misread_type(part, content_type)
        if repeated:
            # Which instance a client obeys is its own choice (the first, the last): the
            # part may be shown as HTML while it is read as plain text, or decoded
            # otherwise. Not read, so it is held.
            self.number += 1
            label = _label(self.number, content_type, None, attached)
            problem = repeated
            yield Part(label, content_type, None, attached, None, problem, alternative=alternative)
            return
        if content_type in _CONTENT_ELSEWHERE:
            # RFC 2046 §5.2.2-3: the body is a piece of another message, or is fetched
            # from an address a client resolves; what it says is not here to read.
            self.number += 1
            label = _label(self.number, content_type, None, attached)
            problem = "its content is elsewhere"
            yield Part(label, content_type, None, attached, None, problem, alternative=alternative)
            return
        # An attached message counts as "multipart" (its payload is a list of one).
        if part.is_multipart() and content_type not in _ATTACHED_MESSAGES:
            yield from self._children(part, content_type, attached, alternative)
            return
        if content_type in _NOT_FOR_READING:
            return
        self.number += 1
        filename = _filename(part)
        attached = attached or filename is not None or _is_attachment(part)
        label = _label(self.number, content_type, filename, attached)
        if content_type in _ATTACHED_MESSAGES:
            yield from self._attached_message(part, label, content_type, filename, alternative)
            return
        unread = Part(label, content_type, filename, attached, None, alternative=alternative)
        try:
            yield _leaf(part, unread)
        except Exception:  # noqa: BLE001 - a part that breaks the reader is one not read
            yield Part(label, content_type, filename, attached, None, "malformed part")

    def _children(
        self,
        part: MIMEPart,
        content_type: str,
        attached: bool,
        alternative: tuple[int, int] | None,
    ) -> Iterator[Part]:
        children = part.get_payload()
        if not isinstance(children, list):
            return
        group = None
        if content_type == "multipart/alternative":
            self.groups += 1
            group = self.groups
        for index, child in enumerate(children):
            if isinstance(child, MIMEPart):
                branch = (group, index) if group is not None else alternative
                yield from self.walk(child, attached, branch)

    def _attached_message(
        self,
        part: MIMEPart,
        label: str,
        content_type: str,
        filename: str | None,
        alternative: tuple[int, int] | None,
    ) -> Iterator[Part]:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, EmailMessage) and _transfer_encoding(part) in _ENCODED_MESSAGE:
            inner = _decoded_message(part, inner)
        unread = Part(label, content_type, filename, True, None, "the message cannot be read")
        if not isinstance(inner, EmailMessage):
            yield unread
            return
        # What a client shows first of an attached message: its subject.
        subject = "\n".join(subjects(inner))
        yield Part(label, content_type, filename, True, subject, alternative=alternative)
        yield from self.walk(inner, attached=True, alternative=alternative)


def _transfer_encoding(part: MIMEPart) -> str:
    return str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()


def _decoded_message(part: MIMEPart, inner: EmailMessage) -> EmailMessage | None:
    """The message a base64 or quoted-printable message/rfc822 part holds, decoded as a
    client decodes it; None when it does not decode."""
    try:
        encoded = inner.as_bytes()
        if _transfer_encoding(part) == "base64":
            raw = base64.b64decode(b"".join(encoded.split()), validate=True)
        else:
            raw = quopri.decodestring(encoded)
        decoded = message_from_bytes(raw, _class=EmailMessage, policy=part.policy)
    except Exception:  # noqa: BLE001 - a message that does not decode is one not read
        return None
    return decoded if isinstance(decoded, EmailMessage) else None


def _leaf(part: MIMEPart, unread: Part) -> Part:
    """``unread`` (a leaf part's name, type and place) with what a client shows of it."""
    content_type = unread.content_type
    if content_type.startswith("multipart/"):
        # A multipart whose parts were not parsed (more nested parts than are parsed).
        return replace(unread, problem="its parts were not parsed")
    if content_type.split("/")[0] != _TEXT_MAIN_TYPE and content_type not in _REPORTS:
        return replace(unread, problem="not text")
    text, problem = _decoded(part)
    if text is None:
        return replace(unread, problem=problem)
    if holds_controls(text):
        # Control characters render as nothing ("P\x00r\x00o…" shows "Pro…"): read so.
        text = _CONTROLS.sub("", text)
    if content_type in _UNRENDERED_MARKUP:
        return replace(unread, problem="markup that is not rendered")
    if content_type in _HTML:
        shown = render_html(text)
        return replace(
            unread,
            text=shown.text,
            hidden=shown.hidden,
            links=shown.links,
            embedded_images=shown.embedded_images,
            unshown=shown.unshown,
            drawn_elsewhere=shown.drawn_elsewhere,
        )
    if content_type == "text/plain":
        text = _unflowed(part, text)
    elif content_type in _ENRICHED:
        text = enriched_text(text)
    elif content_type in _CONTENT_LINES:
        text = unfolded_content_lines(text)
    return replace(unread, text=text)


def holds_controls(text: str) -> bool:
    """Whether ``text`` holds a character _CONTROLS matches.

    The pattern's search takes every character through Python's regex engine, about
    2 ms a million, the most a long text body cost of all its reading. A search for one
    character is a memchr where a string stores one or two bytes a character (Latin and
    Polish text): thirty of them took a seventh of that; where it stores four (an emoji
    somewhere in the text) they take about a third longer than the pattern.
    """
    return any(character in text for character in _CONTROL_CHARACTERS)


def _repeated_fields(part: MIMEPart) -> str:
    """What ``part`` repeats that RFC 2045 §§5, 6 and RFC 2183 give once, if anything:
    a field, or a parameter of Content-Type ("charset=utf-16; charset=utf-8")."""
    repeated = [name for name in _ONCE_PER_PART if len(part.get_all(name, ())) > 1]
    if repeated:
        return ", ".join(repeated) + " given more than once"
    # The value as written: the parsed header keeps one instance of each parameter.
    written = " ".join(str(v) for k, v in part.raw_items() if k.lower() == "content-type")
    names = [name.lower() for name in _PARAMETER.findall(written)]
    twice = sorted({name for name in names if names.count(name) > 1})
    return f"Content-Type parameter {', '.join(twice)} given more than once" if twice else ""


def _misread_type(part: MIMEPart, content_type: str) -> str:
    """Why the type a client reads in Content-Type may not be ``content_type``, if so.

    The standard library falls back to text/plain for a value it cannot parse ("text/html
    (a comment)", RFC 2045 §5.1 allows comments), where a client may render HTML.
    """
    if "Content-Type" not in part:
        return ""
    declared = _COMMENTS.sub("", str(part.get("Content-Type", ""))).partition(";")[0]
    declared = "".join(declared.split()).lower()
    if declared and declared != content_type:
        return f"Content-Type {declared[:40]!r} not understood"
    return ""


def _label(number: int, content_type: str, filename: str | None, attached: bool) -> str:
    if not attached:
        return f"{number} {content_type}"
    name = f" {filename}" if filename else ""
    return f"{number} attachment{name} ({content_type})"


def _filename(part: MIMEPart) -> str | None:
    if (
        "Content-Disposition" not in part
        and "name" not in str(part.get("Content-Type", "")).lower()
    ):
        # No parameter that could name it (RFC 2183 filename, RFC 2045 name): the common
        # body part, spared the parameter parsing.
        return None
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - a broken parameter: the part is still named
        return "(unreadable name)"
    return str(name) if name else None


def _unflowed(part: MIMEPart, text: str) -> str:
    """Flowed text (RFC 3676 §4.2) as a client shows it: soft line breaks joined.

    With DelSp=yes the space before a soft break goes too (§4.3), so "trans \r\nfer"
    reads "transfer"; quoted lines (§4.5) are left as they are.
    """
    if "flowed" not in str(part.get("Content-Type", "")).lower():
        return text
    if str(part.get_param("format", "")).lower() != "flowed":
        return text
    delete_space = str(part.get_param("delsp", "")).lower() == "yes"
    return _SOFT_BREAK.sub("" if delete_space else " ", text)


def _is_attachment(part: MIMEPart) -> bool:
    return "Content-Disposition" in part and part.is_attachment()


def _decoded(part: MIMEPart) -> tuple[str | None, str]:
    """The text of a leaf part, or None and why it cannot be read."""
    try:
        encoding = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        if encoding not in _DECODABLE:
            return None, f"unknown transfer encoding {encoding[:40]!r}"
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a malformed part is one that cannot be read
        return None, "malformed part"
    if not isinstance(payload, bytes):
        return None, "no content"
    if encoding == "base64" and any(isinstance(d, _BROKEN_BASE64) for d in part.defects):
        return None, "broken base64"
    charset = part.get_content_charset() or "us-ascii"
    if charset in _ASCII_NAMES:
        # RFC 2045 §5.2 defaults to US-ASCII, yet 8-bit text under that label (or none)
        # is UTF-8 in practice; UTF-8 reads every ASCII body unchanged.
        charset = "utf-8"
    if charset not in _UTF16_32 and payload.startswith(_BYTE_ORDER_MARKS):
        # A UTF-16 or UTF-32 byte order mark under another charset (or none): clients
        # that sniff it show the text in it, so it is read so (UTF-32's mark starts
        # like UTF-16's little-endian one).
        charset = (
            "utf-32" if payload.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")) else "utf-16"
        )
    if charset in _UTF16_32 and not payload.startswith(_BYTE_ORDER_MARKS):
        # RFC 2781 §4.3: UTF-16 without a byte order mark is big-endian (and so is
        # UTF-32 without one, as clients decode it); Python would take the machine's.
        charset = _UTF16_32[charset]
    try:
        return payload.decode(charset, errors="replace"), ""
    except (LookupError, ValueError):
        pass
    # An unknown charset, a codec that is not a text encoding, or one that refuses
    # errors="replace" ("idna", "undefined"). Text that is valid UTF-8 reads the same in
    # the clients that guess; anything else, each client shows its own way: not read.
    try:
        return payload.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, f"text in a charset that cannot be read ({charset[:40]!r})"
