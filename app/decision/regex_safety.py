"""Compiling the operator's regular expressions on a linear-time engine (RE2).

The catalogue's patterns (``server_id_pattern``, ``login_pattern``, ``code_pattern``)
come from a rules file and run over every message. On a backtracking engine a pattern
as plain as ``\\w*\\w*\\w*\\w*x`` costs a power of the line length (one 800-character
line took 50 s); no scan of the pattern's source can tell every such pattern apart.
RE2 never backtracks: it runs in time linear in the text, times the size of the
compiled program, which is bounded here too. What RE2 cannot do without backtracking
(look-around, backreferences, possessive quantifiers, atomic groups) it refuses, and the
refusal names the construct so the operator can rewrite the pattern.

RE2 reads ``\\w``, ``\\d``, ``\\s`` and ``\\b`` as ASCII; ``\\pL`` is any letter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import re2

from mailhook.patterns import PatternMatch

# The compiled program's size bounds the work per character of text (RE2's NFA, when
# its DFA gives up, keeps at most one thread per instruction). The shipped patterns are
# under 800; a class like \pL counts about 1200 on its own.
MAX_PROGRAM_SIZE = 2000

# RE2's complaint (its text after the colon begins with one of these) → the construct.
_UNSUPPORTED = (
    ("(?<=", "a lookbehind"),
    ("(?<!", "a negative lookbehind"),
    ("(?=", "a lookahead"),
    ("(?!", "a negative lookahead"),
    ("(?>", "an atomic group"),
    ("(?P=", "a backreference by name"),
    ("(?P>", "a recursive group"),
    ("(?#", "a comment group"),
    ("(?x", "verbose mode (?x)"),
    ("*+", "a possessive quantifier"),
    ("++", "a possessive quantifier"),
    ("?+", "a possessive quantifier"),
    ("}+", "a possessive quantifier"),
)
_BACKREFERENCE = re.compile(r"\\[1-9]")
# Python reads "{,5}" as "{0,5}"; RE2 (like Perl) as the literal text "{,5}".
_OPEN_LOW_COUNT = re.compile(r"(?<!\\)\{,\d+\}")


# RE2 reads UTF-8, which has no lone surrogates; text decoded with "surrogateescape"
# holds them for undecodable bytes.
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnsafePattern(ValueError):
    """A pattern the linear-time engine cannot or will not run; the message says why."""


@dataclass(frozen=True, slots=True)
class LinearPattern:
    """A pattern compiled by RE2, scanning any ``str`` (a mailhook TextPattern)."""

    compiled: Any  # re2's compiled pattern (the package has no type information)

    @property
    def pattern(self) -> str:
        return str(self.compiled.pattern)

    @property
    def groups(self) -> int:
        return int(self.compiled.groups)

    @property
    def program_size(self) -> int:
        """Instructions of the compiled program: the work per character of text."""
        return int(self.compiled.programsize)

    def finditer(self, text: str, /) -> Iterator[PatternMatch]:
        return iter(self.compiled.finditer(_encodable(text)))

    def search(self, text: str, /) -> PatternMatch | None:
        match: PatternMatch | None = self.compiled.search(_encodable(text))
        return match


def _encodable(text: str) -> str:
    """``text`` with each lone surrogate read as U+FFFD: one character for one, so a
    match's places are places in ``text``."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def compile_pattern(source: str, ignore_case: bool = False) -> LinearPattern:
    """``source`` compiled by RE2; UnsafePattern naming what is wrong if it cannot be.

    The message is a clause for "[services.key]: …", and names the construct RE2 lacks
    when that is why.
    """
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    literal = _OPEN_LOW_COUNT.search(source)
    if literal:
        raise UnsafePattern(
            f"{literal.group(0)!r} is literal text to the linear-time engine (RE2); "
            "write the count as {0,n}"
        )
    try:
        compiled = re2.compile(source, options)
    except re2.error as exc:
        raise UnsafePattern(_explain(source, _text(exc))) from None
    linear = LinearPattern(compiled)
    if linear.program_size > MAX_PROGRAM_SIZE:
        raise UnsafePattern(
            f"it compiles to {linear.program_size} instructions, more than the "
            f"{MAX_PROGRAM_SIZE} that bound the work per character; narrow its character "
            "classes (\\pL, \\S) or its counted repetitions ({1,63})"
        )
    return linear


def _explain(source: str, complaint: str) -> str:
    """The construct RE2 lacks, when ``complaint`` is about one; else its complaint."""
    _, _, fragment = complaint.partition(": ")
    for opening, construct in _UNSUPPORTED:
        # RE2 quotes "(?P" alone for "(?P=name)": the source says which it was.
        if fragment.startswith(opening) or (opening.startswith(fragment) and opening in source):
            return (
                f"{construct} ({opening!r}) is not supported by the linear-time engine "
                "(RE2); rewrite the pattern without it"
            )
    if _BACKREFERENCE.fullmatch(fragment):
        return (
            f"a backreference ({fragment!r}) is not supported by the linear-time engine "
            "(RE2); rewrite the pattern without it"
        )
    if fragment == "\\Z":
        return "\\Z is written \\z for the linear-time engine (RE2)"
    return f"invalid regular expression ({complaint})"


def _text(exc: Exception) -> str:
    message = exc.args[0] if exc.args else str(exc)
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
