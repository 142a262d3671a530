"""Parsing a large message without the parser reading its long bodies line by line.

The standard library's FeedParser takes every line through a state machine in Python,
about 14 ms of CPU per MB: most of verifying a large message, spent mostly on base64
attachments that nothing reads as text. The parser does nothing with a line of plain
body text but keep it, and ``collapsed_runs`` finds long runs of such lines, so that
the parser can be fed one placeholder line for each run and the run put back in its
place afterwards: the same message, parsed in a fraction of the time.

Why a run and its placeholder are parsed alike. The parser reads a line as one of
three things beside text (email.feedparser): a header field or its continuation
(``headerRE``), the empty line ending a header block (``NLCRE``), or a boundary line,
which begins with "--" (RFC 2046 §5.1.1). The first line of a run is none of them, and
neither is the placeholder, so wherever the run begins (in a body, a preamble, or
where a part's header block would be, which it then ends as text does) the parser is
in the same state after either. Every further line of a run is neither empty nor a
boundary, and comes after the first line has ended any header block, so the parser
keeps it as text of whatever holds the first line. The placeholder stands for the run
without its last line break, which it keeps, because the parser drops the line break
before a boundary from the text before it.

Every placeholder must come back exactly once from the parsed message's texts (bodies,
preambles, epilogues), or the message is parsed again whole: neither a placeholder the
message itself contained nor text the parser drops (after a closing boundary with no
opening one) can make a difference. tests/mailhook/test_bodies.py compares both ways of
parsing over every fixture, each kind of place a run can be, and generated messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Final

# A line the parser takes as text only: not empty, no line break inside (StringIO's
# readlines breaks at CR, LF and CRLF; the other characters str.splitlines breaks at
# are left out as well), not a boundary (a boundary line begins with "-"). The first
# line of a run is not a header field either (email.feedparser.headerRE: "From ", a
# name and a colon, or a continuation's leading white space).
_RUN: Final = re.compile(
    rb"^(?![\t ]|From |[\x21-\x39\x3b-\x7e]*:)"
    rb"(?:[^\r\n\x0b\x0c\x1c\x1d\x1e\-][^\r\n\x0b\x0c\x1c\x1d\x1e]*+(?:\r\n|\n))++",
    re.MULTILINE,
)
# _RUN, quicker where every CR and LF is in a CRLF and no other line break occurs: the
# runs are what lies between the lines that begin with "-" or are empty, each from its
# first line that is not a header field; bytes.find finds those lines, in a fraction
# of the time the pattern takes to look at every byte.
_OTHER_BREAKS: Final = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e")
_HYPHEN_LINE: Final = b"\r\n-"
_EMPTY_LINE: Final = b"\r\n\r\n"
# Hyphens within lines visited one by one before the rest is searched for _HYPHEN_LINE:
# sixty-four, then one in 2 KB (a visit costs about what searching 2 KB for the three
# bytes does).
_BYTES_PER_STRAY_HYPHEN: Final = 2048
_STRAY_HYPHENS_ALLOWED: Final = 128 * 1024
_NOT_A_FIRST_LINE: Final = re.compile(rb"[-\r\n\t ]|From |[\x21-\x39\x3b-\x7e]*:")
# Runs shorter than this are fed as they are: not worth a placeholder.
MIN_RUN_BYTES: Final = 16 * 1024
_MARK: Final = "IntakeguardRun"
_PLACEHOLDER: Final = re.compile(_MARK + r"([0-9]{8})Z")


@dataclass(frozen=True, slots=True)
class Run:
    """``raw[start:end]``, a run of text lines whose last line break ends at ``end``."""

    start: int
    end: int
    line_break: int  # 2 for CRLF, 1 for LF


def collapsed_runs(
    raw: bytes, min_bytes: int = MIN_RUN_BYTES, crlf_only: bool = False
) -> list[Run]:
    """The runs of plain text lines of ``raw`` of ``min_bytes`` or more, in order.

    ``crlf_only``: every CR and LF of ``raw`` is in a CRLF (InboundMessage.crlf_only).
    """
    if len(raw) < min_bytes:
        return []
    if not crlf_only or any(other in raw for other in _OTHER_BREAKS):
        return runs_by_pattern(raw, min_bytes)
    runs: list[Run] = []
    start = 0  # where the next run may begin: a line start
    for line_end in _breaking_lines(raw):
        end = line_end + 1
        if end - start >= min_bytes:
            _add_run(raw, start, end, min_bytes, runs)
        start = max(start, raw.find(b"\n", end) + 1 or len(raw))
    _add_run(raw, start, raw.rfind(b"\n") + 1, min_bytes, runs)
    return runs


def _breaking_lines(raw: bytes) -> list[int]:
    """Where the line before each line beginning with "-" or empty ends (its LF), in a
    message whose every CR and LF is in a CRLF."""
    found = _lines_before_hyphens(raw)
    at = raw.find(_EMPTY_LINE)
    while at >= 0:
        found.append(at + 1)
        at = raw.find(_EMPTY_LINE, at + 1)
    return sorted(found)


def _lines_before_hyphens(raw: bytes) -> list[int]:
    """Where each "\r\n-" of ``raw`` has its LF, ``raw`` having no LF outside a CRLF.

    A search for the three bytes looks at every byte of the message, a search for a
    single byte (memchr) skips along many times faster, and a base64 body holds no "-"
    at all. So the hyphens are visited one by one, each asked whether it begins a line,
    for as long as they are few; where they come thick (a text full of dashes), the rest
    is searched for the three bytes.
    """
    found = []
    at = raw.find(b"-")
    strays = 0
    while at >= 0:
        if raw[at - 1 : at] == b"\n":  # at 0 the slice is empty: no line end before it
            found.append(at - 1)
        else:
            strays += 1
            if strays * _BYTES_PER_STRAY_HYPHEN > at + _STRAY_HYPHENS_ALLOWED:
                at = raw.find(_HYPHEN_LINE, at)
                while at >= 0:
                    found.append(at + 1)
                    at = raw.find(_HYPHEN_LINE, at + 1)
                break
        at = raw.find(b"-", at + 1)
    return found


def _add_run(raw: bytes, start: int, end: int, min_bytes: int, runs: list[Run]) -> None:
    """The lines of ``raw[start:end]`` (complete lines, none of which begins with "-" or
    is empty but perhaps the first ones) as a run from its first line that may begin one."""
    while start < end and _NOT_A_FIRST_LINE.match(raw, start):
        start = raw.find(b"\n", start, end) + 1
        if not start:
            return
    if end - start >= min_bytes:
        runs.append(Run(start, end, 2))


def runs_by_pattern(raw: bytes, min_bytes: int = MIN_RUN_BYTES) -> list[Run]:
    """The runs of plain text lines of ``raw`` of ``min_bytes`` or more, by _RUN."""
    runs = []
    for match in _RUN.finditer(raw):
        start, end = match.span()
        if end - start >= min_bytes:
            runs.append(Run(start, end, 2 if raw[end - 2 : end] == b"\r\n" else 1))
    return runs


def placeholder(index: int) -> str:
    return f"{_MARK}{index:08d}Z"


def pieces(raw: bytes, runs: list[Run], size: int) -> Iterator[str]:
    """What the parser is fed: ``raw`` in pieces of ``size`` bytes, each run replaced
    by its placeholder (and the run's last line break)."""
    view = memoryview(raw)
    start = 0
    for index, run in enumerate(runs):
        yield from _decoded(view[start : run.start], size)
        yield placeholder(index) + ("\r\n" if run.line_break == 2 else "\n")
        start = run.end
    yield from _decoded(view[start:], size)


def _decoded(view: memoryview, size: int) -> Iterator[str]:
    for start in range(0, len(view), size):
        yield str(view[start : start + size], "ascii", "surrogateescape")


def restore(parsed: Message, raw: bytes, runs: list[Run]) -> bool:
    """Put each run back where the parser put its placeholder; False, with ``parsed``
    left unusable, unless every placeholder was found exactly once."""
    found = [0] * len(runs)

    def run_text(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(runs):
            return match.group(0)  # the message's own text; the count below tells
        found[index] += 1
        run = runs[index]
        return str(
            memoryview(raw)[run.start : run.end - run.line_break], "ascii", "surrogateescape"
        )

    for part in parsed.walk():
        payload = part._payload  # type: ignore[attr-defined]  # the parser's own text
        if isinstance(payload, str) and _MARK in payload:
            part._payload = _PLACEHOLDER.sub(run_text, payload)  # type: ignore[attr-defined]
        for attribute in ("preamble", "epilogue"):
            text = getattr(part, attribute)
            if isinstance(text, str) and _MARK in text:
                setattr(part, attribute, _PLACEHOLDER.sub(run_text, text))
    return all(count == 1 for count in found)
