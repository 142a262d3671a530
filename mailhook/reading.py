"""What of a message is read for its instruction: every subject and part, within the caps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mailhook.message import InboundMessage
from mailhook.parts import Part, message_parts
from mailhook.text import lines, split_written, subjects

# Each line is read up to this many characters: an instruction is written in lines a
# person reads, and it bounds what any catalogue pattern can cost on one line.
MAX_LINE = 1000
# And this many characters in all (subjects, and every part's own text: quotes and
# history left out, which have a cap of their own): far more than anyone writes to a
# support desk. Every pattern then runs over at most this much of the sender's text,
# so extraction from a 10 MB body costs what reading its lines up to the cap costs.
MAX_TEXT = 64 * 1024

# A reply's or forward's subject, any number of times over ("Re: RE: Fwd[2]: …").
_REPLY_PREFIX = re.compile(
    r"\s*+(?:(?:re|fwd?|odp|pd|aw|wg)\s*+(?:\[\d{1,4}\]|\(\d{1,4}\))?\s*+:\s*+)++",
    re.IGNORECASE,
)


class Role(StrEnum):
    """Whose text a piece is, and so what it counts for."""

    SUBJECT = "subject"  # the sender's own subject
    REPLY_SUBJECT = "reply-subject"  # "Re: …": the earlier message's subject
    OWN = "own"  # what the sender wrote in a part shown as the body
    ATTACHED = "attached"  # an attachment, or a part of an attached message
    QUOTED = "quoted"  # quoted lines and replied-to history in a body part
    FORWARDED = "forwarded"  # a message forwarded in a body part
    UNREAD = "unread"  # a part that could not be read


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece of text read, whose it is, and the part it comes from (None: subject)."""

    role: Role
    text: str
    part: Part | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """Every piece read, in the order a person meets them; and whether any was cut."""

    pieces: tuple[Piece, ...]
    truncated: bool

    def own_text(self) -> str:
        """The sender's own text: subjects not of replies, and own text of body parts."""
        return "\n".join(p.text for p in self.pieces if p.role in (Role.SUBJECT, Role.OWN))


def read_message(message: InboundMessage) -> Reading:
    """Every subject and part of ``message``, split by whose text it is, within the caps.

    The own text of all subjects and parts together is at most MAX_TEXT characters, each
    line at most MAX_LINE; quoted and forwarded history of each part at most MAX_TEXT
    more (it is read for services named, never as the sender's request).
    """
    budget = _Budget()
    pieces: list[Piece] = []
    for each in subjects(message.parsed):
        prefix = _REPLY_PREFIX.match(each)
        if prefix is None:
            pieces.append(Piece(Role.SUBJECT, budget.take(each)))
        else:
            pieces.append(Piece(Role.REPLY_SUBJECT, budget.take(each[prefix.end() :])))
    found = message_parts(message.parsed)
    for part in found.parts:
        if part.text is None:
            pieces.append(Piece(Role.UNREAD, "", part))
        elif part.attached:
            pieces.append(Piece(Role.ATTACHED, budget.take(part.text), part))
        else:
            pieces.extend(_body_pieces(part, part.text, budget))
    return Reading(tuple(pieces), budget.truncated or found.cut)


def _body_pieces(part: Part, text: str, budget: _Budget) -> list[Piece]:
    if budget.left <= 0:
        # Nothing more of the sender's text is read: this part is cut whole.
        budget.truncated = budget.truncated or bool(text.strip())
        return [Piece(Role.OWN, "", part)]
    written = split_written(text, limit=MAX_TEXT)
    pieces = [Piece(Role.OWN, budget.take(written.own), part)]
    if written.quoted:
        pieces.append(Piece(Role.QUOTED, _capped(written.quoted), part))
    if written.forwarded:
        pieces.append(Piece(Role.FORWARDED, _capped(written.forwarded), part))
    return pieces


class _Budget:
    """What is left of MAX_TEXT; whether anything had to be cut to stay within it."""

    def __init__(self) -> None:
        self.left = MAX_TEXT
        self.truncated = False

    def take(self, text: str) -> str:
        """At most what is left of ``text``, each line at most MAX_LINE."""
        if len(text) <= self.left and max(map(len, text.splitlines()), default=0) <= MAX_LINE:
            # Most pieces: within both caps, taken whole (splitlines and max run in C).
            self.left = max(0, self.left - len(text) - 1)
            return text
        kept: list[str] = []
        for line in lines(text):
            if len(line) > MAX_LINE:
                line, self.truncated = line[:MAX_LINE], True
            if len(line) > self.left:
                kept.append(line[: self.left])
                self.left, self.truncated = 0, True
                break
            kept.append(line)
            self.left = max(0, self.left - len(line) - 1)
        return "\n".join(kept)


def _capped(history: str) -> str:
    """History at most MAX_TEXT characters, each line at most MAX_LINE; cutting it is
    no truncation of the sender's text."""
    budget = _Budget()
    return budget.take(history)
