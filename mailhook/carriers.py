"""Text a person may read outside the lines of a part: in a link, a part's description,
characters some clients draw and others do not, and text no client shows as written
(an encrypted block, bytes that do not decode).

Each is read for what it asks (mailhook.instructions); none is the sender's own request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from email.message import EmailMessage
from urllib.parse import unquote_plus

# A link written out in text: a scheme and "://", or a mailto: address with its fields.
_WRITTEN_LINK = re.compile(r"(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]*+://|mailto:)\S++", re.IGNORECASE)
# Where a link's words are separated ("/przenies-domene?do=OVH#teraz").
_LINK_SEPARATORS = re.compile(r"[/?#&=+_;|-]++")
_AFTER_HOST = re.compile(r"[/?#]")
# What a link says is read as far as a line is.
MAX_LINK = 1000
# Characters that some clients draw as a blank and others as nothing (Hangul fillers,
# the Mongolian vowel separator): "przeniesienie" written with one may be two words to
# one reader and one to another, so text holding one is held.
_BLANK_OR_NOTHING = re.compile("[\u115f\u1160\u180e\u3164\uffa0]")
# Armour of an encrypted block (RFC 4880 §6.2, RFC 7468): a client with the key shows
# what it hides, so the part is not read in full.
ARMOURED = ("-----BEGIN PGP MESSAGE-----", "-----BEGIN PKCS7-----", "-----BEGIN CMS-----")


def link_texts(text: str, links: Iterable[str] = ()) -> Iterator[str]:
    """The words each link of ``text`` (and each of ``links``, an HTML part's targets)
    spells after its host: path, query and fragment percent-decoded, separators as spaces.

    A link in a plain text is shown as written, and a link's target on hovering: a
    request written there ("…/prosze-o-kod-authinfo?dla=beta.pl") is read by a person.
    """
    written = (m.group(0) for m in _WRITTEN_LINK.finditer(text)) if _has_link(text) else ()
    for link in (*written, *links):
        words = _link_words(link[:MAX_LINK])
        if words:
            yield words


def _has_link(text: str) -> bool:
    # Every written link holds "://" or "mailto:": substring tests spare the scan.
    return "://" in text or "mailto:" in text.lower()


def _link_words(link: str) -> str:
    scheme, colon, rest = link.partition(":")
    if not colon:
        return ""
    if scheme.lower() == "mailto":
        # The address names a domain elsewhere; its fields (subject, body) are text.
        rest = rest.partition("?")[2]
    elif rest.startswith("//"):
        # The host is read as a service named (mailhook.services); what follows it here.
        after_host = _AFTER_HOST.search(rest, 2)
        rest = rest[after_host.start() :] if after_host else ""
    return " ".join(_LINK_SEPARATORS.sub(" ", unquote_plus(rest)).split())


def descriptions(msg: EmailMessage) -> Iterator[str]:
    """Each part's Content-Description (RFC 2045 §8): clients show it beside the part."""
    for part in msg.walk():
        value = part.get("Content-Description")
        if value is not None and str(value).strip():
            yield str(value)[:MAX_LINK]


def drawn_differently(text: str) -> bool:
    """Whether ``text`` holds a character some clients draw as a blank and others as nothing."""
    return not text.isascii() and _BLANK_OR_NOTHING.search(text) is not None


def undecoded(text: str) -> bool:
    """Whether ``text`` holds the replacement character: bytes its charset does not
    decode (a client guessing another charset shows letters there), or "&#0;" in HTML."""
    return "\ufffd" in text


def armoured(text: str) -> bool:
    """Whether ``text`` holds an encrypted block a client with the key would show."""
    return "-----BEGIN " in text and any(marker in text for marker in ARMOURED)
