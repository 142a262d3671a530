"""Refusing regular expressions that could backtrack catastrophically."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A group that repeats (``*``, ``+``, ``{m,n}`` with n > 1) and itself contains a
# quantifier or an alternation can match one string in exponentially many ways, and a
# backtracking engine tries them all on input that almost matches: ``(a+)+``,
# ``(a|aa)*``, ``(\w+\s?)*``. The scanner below reads the pattern source itself (no
# private ``re`` internals) and refuses any such group, whether or not the inner parts
# could actually overlap: when in doubt, refuse. It runs only on patterns that
# ``re.compile`` accepted, so the syntax is known to be valid.

# With its lazy "?" or possessive "+" suffix, which changes the order tried, not the count.
_QUANTIFIER = re.compile(r"(?:[*+?]|\{(\d*)(,?)(\d*)\})[?+]?")


@dataclass(slots=True)
class _Group:
    start: int
    quantified: bool = False  # holds a quantifier that can repeat (not an exact {n})
    alternation: bool = False  # holds a "|" (its own or a nested group's)


def catastrophic_backtracking(pattern: str, verbose: bool = False) -> str | None:
    """The first repeated group that repeats or alternates inside, quoted; else None."""
    verbose = verbose or _inline_verbose(pattern)
    stack = [_Group(0)]
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if verbose and char.isspace():
            index += 1
            continue
        if verbose and char == "#":
            end = pattern.find("\n", index)
            index = len(pattern) if end < 0 else end + 1
            continue
        if char == "\\":
            index = _after_atom(pattern, index + 2, stack[-1], verbose)
        elif char == "[":
            index = _after_atom(pattern, _class_end(pattern, index), stack[-1], verbose)
        elif char == "(":
            if pattern.startswith("(?#", index):
                index = pattern.index(")", index) + 1
                continue
            stack.append(_Group(index))
            index += 1
        elif char == ")":
            if len(stack) == 1:
                return "an unbalanced ')'"
            group = stack.pop()
            end = index + 1
            quantifier = _quantifier_at(pattern, end, verbose)
            if quantifier and _repeats(quantifier.group(0)):
                shown = pattern[group.start : quantifier.end()]
                if group.quantified:
                    return f"the repeated group {shown!r}, which itself repeats,"
                if group.alternation:
                    return f"the repeated group {shown!r}, which alternates,"
            parent = stack[-1]
            parent.quantified |= group.quantified or bool(
                quantifier and not _exact(quantifier.group(0))
            )
            parent.alternation |= group.alternation
            index = quantifier.end() if quantifier else end
        elif char == "|":
            stack[-1].alternation = True
            index += 1
        else:
            index = _after_atom(pattern, index + 1, stack[-1], verbose)
    if len(stack) != 1:
        return "an unbalanced '('"
    return None


def _after_atom(pattern: str, end: int, group: _Group, verbose: bool) -> int:
    """Past the quantifier following an atom ending at ``end``, noting it in ``group``."""
    quantifier = _quantifier_at(pattern, end, verbose)
    if quantifier is None:
        return end
    if not _exact(quantifier.group(0)):
        group.quantified = True
    return quantifier.end()


def _quantifier_at(pattern: str, index: int, verbose: bool) -> re.Match[str] | None:
    if verbose:
        while index < len(pattern) and pattern[index].isspace():
            index += 1
    match = _QUANTIFIER.match(pattern, index)
    if match is None or (match.group(0).startswith("{") and not _is_count(match)):
        return None
    return match


def _is_count(match: re.Match[str]) -> bool:
    # "{", "{,}" and "{x}" are literal text; "{3}", "{2,}", "{,5}", "{2,5}" count.
    low, comma, high = match.groups()
    return bool(low or (comma and high))


def _counts(quantifier: str) -> tuple[int, int | None]:
    """Least and most repetitions of ``quantifier`` (None: unbounded)."""
    core = quantifier[: quantifier.index("}") + 1] if quantifier[0] == "{" else quantifier[0]
    if core == "*":
        return 0, None
    if core == "+":
        return 1, None
    if core == "?":
        return 0, 1
    low, comma, high = core[1:-1].partition(",")
    if not comma:
        return int(low), int(low)
    return int(low or 0), int(high) if high else None


def _repeats(quantifier: str) -> bool:
    high = _counts(quantifier)[1]
    return high is None or high > 1


def _exact(quantifier: str) -> bool:
    low, high = _counts(quantifier)
    return low == high


def _class_end(pattern: str, index: int) -> int:
    """Just past the character class starting at ``pattern[index] == "["``."""
    index += 1
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1  # "[]" and "[^]": a leading "]" is a member
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1


def _inline_verbose(pattern: str) -> bool:
    # "(?x)" or "(?ix:" anywhere: whitespace and "#" comments then carry no meaning.
    return re.search(r"\(\?[aiLmsux-]*x[aiLmsux-]*[:)]", pattern) is not None
