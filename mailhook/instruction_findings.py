"""What extraction reports: which parts were read and what each asked for, and the text read."""

from __future__ import annotations

from dataclasses import dataclass

from mailhook.checks import declare
from mailhook.findings import Finding
from mailhook.reading import MAX_LINE, MAX_TEXT

PARTS_CHECK = "instruction-parts"
PARTS_RESULTS: tuple[str, ...] = ("pass", "disagree", "unreadable", "hidden", "attachment")
TEXT_CHECK = "instruction-text"
TEXT_RESULTS: tuple[str, ...] = ("truncated", "points-elsewhere", "history-asks", "unexplained")
declare(
    PARTS_CHECK,
    "Every part a person may open was read, and the parts ask for the same thing",
    results=PARTS_RESULTS,
)
declare(
    TEXT_CHECK,
    "The sender's text was read whole and asks for something itself",
    results=TEXT_RESULTS,
)
# A reason names at most this many parts; the evidence holds all of them.
_PARTS_NAMED = 12


@dataclass(frozen=True, slots=True)
class PartRead:
    """One part (or forwarded text in a part) and what it asks for."""

    # "1 text/plain", "3 attachment invoice.pdf (application/pdf)", "1 text/plain, forwarded".
    label: str
    content_type: str
    filename: str | None
    read: bool
    kinds: tuple[str, ...]
    services: tuple[str, ...]

    def as_evidence(self) -> dict[str, object]:
        return {
            "label": self.label,
            "content_type": self.content_type,
            "filename": self.filename,
            "read": self.read,
            "kinds": list(self.kinds),
            "services": list(self.services),
        }


@dataclass(frozen=True, slots=True)
class Concerns:
    """Labels of the parts behind each result other than pass."""

    hidden: tuple[str, ...] = ()
    disagree: tuple[str, ...] = ()
    attachment: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()

    def by_result(self) -> list[tuple[str, tuple[str, ...]]]:
        """(result, labels) of each concern raised, the one reported first."""
        return [
            (result, labels)
            for result, labels in (
                ("hidden", self.hidden),
                ("disagree", self.disagree),
                ("attachment", self.attachment),
                ("unreadable", self.unreadable),
            )
            if labels
        ]


# What each concern says of the parts it names.
_CONCERNS = {
    "hidden": "holds text hidden from the reader (it was read as well)",
    "disagree": "are alternatives a client shows either of, and ask for different things",
    "attachment": "is an attachment whose name or text suggests an instruction",
    "unreadable": "could not be read",
}


def parts_finding(parts: tuple[PartRead, ...], concerns: Concerns) -> Finding:
    """instruction-parts: which parts were read, what each asked for, what is held."""
    raised = concerns.by_result()
    read = [part for part in parts if part.read]
    reason = f"Read {_listed([_asks(part) for part in read])}." if read else "No part was read."
    if raised:
        held = "; ".join(f"{_listed(labels)} {_CONCERNS[result]}" for result, labels in raised)
        reason += f" {held}: an agent should read the message as a client shows it."
    else:
        reason += " Every part was read and they agree."
    evidence = {
        "parts": [part.as_evidence() for part in parts],
        **{result: list(getattr(concerns, result)) for result in _CONCERNS},
    }
    return Finding(PARTS_CHECK, raised[0][0] if raised else "pass", reason, evidence)


def text_finding(
    truncated: bool,
    pointer: str | None,
    history_only: tuple[str, ...] = (),
    unexplained: tuple[str, ...] = (),
) -> Finding | None:
    """instruction-text: the text was cut, points at the subject, history or an
    attachment, the history under it asks for what the sender's own text does not, or
    a sentence of its own beside the request points somewhere no kind explains."""
    if truncated:
        return Finding(
            TEXT_CHECK,
            "truncated",
            f"The message is longer than the {MAX_TEXT // 1024} KB (or has a line longer than "
            f"{MAX_LINE} characters) that are read for instructions; an agent should read all "
            "of it, as the rest may ask for more than was recognised.",
            {"points_at": pointer},
        )
    if pointer is None:
        if history_only:
            return _history_finding(history_only)
        return _unexplained_finding(unexplained) if unexplained else None
    return Finding(
        TEXT_CHECK,
        "points-elsewhere",
        f"The sender's own text points elsewhere for the request ({pointer}): what the "
        "subject, the quoted or forwarded message or an attachment asks for is someone "
        "else's words, so an agent should confirm what the sender wants.",
        {"points_at": pointer},
    )


def reader_fault(exc: Exception) -> Finding:
    """instruction-text error: the reader itself failed on the message (a defect)."""
    return Finding(
        TEXT_CHECK,
        "error",
        "The instruction reader failed on this message's text (an internal error, "
        f"{type(exc).__name__}), so nothing it asks for was recognised; an agent should "
        "read it. Please report the message to the maintainers.",
        {"error": type(exc).__name__},
    )


def _history_finding(history_only: tuple[str, ...]) -> Finding:
    # A reader cannot tell history from the sender's own words where the mail does not
    # show it as a quote: an "On … wrote:" line typed by the sender, a blockquote styled
    # as plain text, Outlook's unquoted history. What it asks for is read too.
    return Finding(
        TEXT_CHECK,
        "history-asks",
        "The quoted or forwarded text under the sender's own asks for "
        f"{', '.join(history_only)}, which the sender's own text does not: a reader may "
        "take it for part of the request, so an agent should confirm what the sender wants.",
        {"history_kinds": list(history_only)},
    )


def _unexplained_finding(sentences: tuple[str, ...]) -> Finding:
    # Paraphrases are endless ("acme.pl idzie do OVH"): a sentence beside the request
    # that names a service, a reference or another party and is no harmless form may
    # be a second request in words no list holds (mailhook.unexplained).
    shown = "; ".join(f"«{sentence}»" for sentence in sentences[:3])
    return Finding(
        TEXT_CHECK,
        "unexplained",
        f"Beside the recognised request the sender writes {shown}, which names a service, "
        "a reference or another party and is no greeting, signature or label: it may ask "
        "for more than was recognised, so an agent should read it.",
        {"sentences": list(sentences)},
    )


def _asks(part: PartRead) -> str:
    kinds = ", ".join(part.kinds) if part.kinds else "nothing recognised"
    services = f", naming {', '.join(part.services)}" if part.services else ""
    return f"{part.label} (asks for {kinds}{services})"


def _listed(items: list[str] | tuple[str, ...]) -> str:
    named = list(items[:_PARTS_NAMED])
    if len(items) > _PARTS_NAMED:
        named.append(f"{len(items) - _PARTS_NAMED} more")
    return "; ".join(named)
