"""A rules file as read: its TOML document, the line of each key, and errors that name
the file, the line, the key and the reason."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Source:
    """One parsed rules file, and the line each table and key is written on."""

    path: Path
    document: dict[str, Any]
    lines: dict[tuple[str, ...], int]

    @classmethod
    def parse(cls, path: Path, content: bytes) -> Source:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            raise ConfigError(f"{path}: not UTF-8 text (line {line})") from None
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {_toml_reason(exc)}") from None
        return cls(path, document, _key_lines(text))

    def error(self, keys: tuple[str, ...], reason: str) -> ConfigError:
        """``path: reason (line N)``, N where ``keys`` (or the nearest table holding it) is."""
        for end in range(len(keys), 0, -1):
            line = self.lines.get(keys[:end])
            if line is not None:
                return ConfigError(f"{self.path}: {reason} (line {line})")
        # Nothing of it is written (a required table is missing): the file as a whole.
        return ConfigError(f"{self.path}: {reason} (line 1)")


def did_you_mean(key: str, keys: list[str]) -> str:
    close = difflib.get_close_matches(key, keys, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def table_at(source: Source, where: tuple[str, ...], value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise source.error(where, f"[{'.'.join(where)}]: must be a table")
    return value


def only_keys(
    source: Source, where: tuple[str, ...], table: dict[str, Any], allowed: set[str]
) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        place = f"[{'.'.join(where)}] " if where else ""
        raise source.error(
            (*where, unknown[0]),
            f"{place}unknown key {unknown[0]!r}; expected one of " + ", ".join(sorted(allowed)),
        )


# tomllib (3.11-3.13) puts the place at the end of its message; 3.14 also has .lineno.
_TOML_PLACE = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")

_TOML_TWICE = re.compile(r"^Cannot declare \((.*)\) twice$")


def _toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's complaint as ``reason (line N)``, the same form as the loader's own."""
    message = str(exc)
    place = _TOML_PLACE.search(message)
    reason = message[: place.start()] if place else message
    line = getattr(exc, "lineno", None) or (place.group(1) if place and place.group(1) else None)
    twice = _TOML_TWICE.match(reason)
    if twice:
        table = ".".join(part.strip().strip("'\"") for part in twice.group(1).split(","))
        reason = f"[{table}] is declared twice; write each table once"
    elif reason == "Cannot overwrite a value":
        reason = "a key is written twice in one table; write each key once"
    else:
        reason = f"not valid TOML: {reason[:1].lower()}{reason[1:]}"
    return f"{reason} (line {line})" if line else f"{reason} (at the end of the file)"


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line each table header and key is first written on, by its full key path.

    Only for messages: a light reading of TOML's line structure (headers, ``key =``
    lines, arrays spanning lines), run after tomllib has accepted the file.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    depth = 0  # open brackets of a value continued on the next lines
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if depth:
            depth = max(0, depth + _bracket_balance(line))
            continue
        if line.startswith("["):
            table = _dotted(line.strip("[]"))
            lines.setdefault(table, number)
        elif "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            lines.setdefault((*table, *_dotted(key)), number)
            depth = max(0, _bracket_balance(value))
    return lines


def _dotted(key: str) -> tuple[str, ...]:
    """``a."b.c" . d`` → ("a", "b.c", "d")."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^.\s]+)', key)
    return tuple(double or single or bare for double, single, bare in parts)


def _bracket_balance(value: str) -> int:
    """Open minus closed brackets outside strings and comments on one line."""
    balance, quote = 0, ""
    for index, char in enumerate(value):
        if quote:
            if char == quote and (quote == "'" or value[index - 1] != "\\"):
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            balance += 1
        elif char in "]}":
            balance -= 1
    return balance
