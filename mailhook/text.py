"""Readable text of a message: the body part an agent would read, normalised for matching."""

from __future__ import annotations

import html
import re
import unicodedata
from email.message import EmailMessage, MIMEPart

# Polish letters that have no Unicode decomposition into base + combining mark.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "l", "đ": "d", "ø": "o", "ß": "ss"})
_HIDDEN = re.compile(
    r"<(script|style|head|title)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL
)
# Elements that start a new line where a reader sees one; without this an HTML mail
# is one long line and the quoted-line filter would drop or keep all of it together.
_BREAK = re.compile(r"<(?:br|/?(?:p|div|li|tr|h[1-6]|pre|table|ul|ol|hr))\b[^>]*>", re.IGNORECASE)
# An innermost <blockquote>: what a reply quotes, like "> " lines in plain text.
_BLOCKQUOTE = re.compile(
    r"<blockquote\b[^>]*>((?:(?!<blockquote\b).)*?)</blockquote\s*>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_ASCII_NAMES = frozenset({"us-ascii", "ascii", "us_ascii", "646", "ansi_x3.4-1968"})


def fold(text: str) -> str:
    """Case- and diacritic-insensitive form of ``text`` with whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE).casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", stripped.translate(_UNDECOMPOSABLE)).strip()


def subject(msg: EmailMessage) -> str:
    try:
        value = msg.get("Subject")
    except Exception:  # noqa: BLE001 - a broken encoded-word is not worth a crash
        return ""
    return str(value) if value is not None else ""


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
    """Readable lines of an HTML body; quoted blocks become ``> `` lines."""
    text = _BREAK.sub("\n", _HIDDEN.sub(" ", source))
    while True:
        text, replaced = _BLOCKQUOTE.subn(_quoted_lines, text)
        if not replaced:
            break
    return html.unescape(_TAG.sub(" ", text))


def _quoted_lines(match: re.Match[str]) -> str:
    lines = match.group(1).strip("\n").splitlines() or [""]
    return "\n" + "\n".join("> " + line for line in lines) + "\n"


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


def without_quotes(text: str) -> str:
    """Drop quoted lines (``>``) so a reply is judged by what its sender wrote."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
