"""Readable text of a message: the body part an agent would read, normalised for matching."""

from __future__ import annotations

import html
import re
import unicodedata
from email.message import EmailMessage, MIMEPart

# Polish letters that have no Unicode decomposition into base + combining mark.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "l", "đ": "d", "ø": "o", "ß": "ss"})
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"\s+")


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
        text = html.unescape(_TAG.sub(" ", text))
    return text


def _decoded(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        # Unknown charset or broken transfer encoding: decode what bytes there are.
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        return payload.decode("utf-8", errors="replace")
    if isinstance(content, bytes):
        return content.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def without_quotes(text: str) -> str:
    """Drop quoted lines (``>``) so a reply is judged by what its sender wrote."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
