"""Header text a person may read beside the body: display names and descriptive fields."""

from __future__ import annotations

from collections.abc import Iterator
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import getaddresses

# Each field is read up to this many characters: a list of thousands of addresses costs
# the standard library's parser seconds, and no display name a person reads is longer.
MAX_FIELD = 8 * 1024
# Fields whose display names a client shows (RFC 5322 §3.4: the phrase before an address).
ADDRESS_FIELDS = ("from", "sender", "reply-to", "to", "cc")
# Fields of free text for people (RFC 5322 §3.6.5, and Outlook's Thread-Topic).
TEXT_FIELDS = ("organization", "comments", "keywords", "thread-topic", "summary")


def shown_header_texts(msg: EmailMessage) -> Iterator[tuple[str, str, bool]]:
    """(field name, text, whether a person is meant to read it) for each display name,
    descriptive field and X- field of ``msg``; X- fields are a program's (False)."""
    for name, raw in msg.raw_items():
        folded = name.lower()
        if (
            folded not in ADDRESS_FIELDS
            and folded not in TEXT_FIELDS
            and not folded.startswith("x-")
        ):
            continue
        text = _decoded(msg, name, raw[:MAX_FIELD])
        if folded in ADDRESS_FIELDS:
            found = _addresses(text)
            if not any("@" in address for _, address in found) or any(
                not _plain_address(address) for _, address in found
            ):
                # No address could be read, or words were read as one (one encoded word
                # over a display name and its address): a client shows the decoded text
                # as it is.
                yield name, text, True
            for display, _ in found:
                if display.strip():
                    yield name, display, True
        elif folded in TEXT_FIELDS:
            yield name, text, True
        elif folded.startswith("x-"):
            yield name, text, False


def _decoded(msg: EmailMessage, name: str, raw: str) -> str:
    """The field as a client shows it (encoded words decoded); as written where the
    standard library's parser fails on it (a malformed address field)."""
    try:
        return str(msg.policy.header_fetch_parse(name, raw))
    except (MessageError, IndexError, ValueError, LookupError):
        return raw


def _addresses(text: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address field; none where it cannot be parsed
    (the standard library's parser fails on some malformed fields): the text is read
    whole then."""
    try:
        return getaddresses([text])
    except (IndexError, ValueError, TypeError):
        return []


def _plain_address(address: str) -> bool:
    """Whether ``address`` is an address alone: no blank, bracket or quote, which a
    display name parsed into the address would bring."""
    return not any(char.isspace() or char in '<>"' for char in address)
