"""Loading and validating ``rules/``: the instruction catalogue and the policy.

The loader refuses an invalid directory with the file, the key and the reason, so an
operator's typo stops start-up instead of quietly changing decisions.
"""

from __future__ import annotations

import hashlib
import re
import re._constants as re_constants  # type: ignore[import-not-found]  # parsed patterns
import re._parser as re_parser  # type: ignore[import-not-found]
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import ConfigError
from mailhook.instructions import ASSURANCE_LEVELS, Catalogue, InstructionKind
from mailhook.text import fold

RULE_FILES = ("instructions.toml", "policy.toml")
ACTIONS = ("reject", "review", "ignore")
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_REPEATS = (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT, re_constants.POSSESSIVE_REPEAT)
_FINDING_KEY = re.compile(r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Policy:
    """What findings mean for the decision, and the defaults when none applies."""

    findings: dict[str, str]
    unrecognised_requires: str
    shortfall: str

    def action_for(self, name: str, result: str) -> str:
        action = self.findings.get(f"{name}.{result}", "ignore")
        # A check that could not complete never passes silently.
        if result == "error" and action == "ignore":
            return "review"
        return action


@dataclass(frozen=True, slots=True)
class Rules:
    catalogue: Catalogue
    policy: Policy
    version: str

    def kind(self, name: str) -> InstructionKind:
        return next(kind for kind in self.catalogue.kinds if kind.name == name)


def load_rules(directory: Path) -> Rules:
    """Read and validate ``directory``; ConfigError naming file, key and reason if bad."""
    if not directory.is_dir():
        raise ConfigError(
            f"INTAKEGUARD_RULES_DIR: {directory} is not a directory; point it at the rules "
            "directory (the one holding instructions.toml and policy.toml)"
        )
    digest = hashlib.sha256()
    documents: dict[str, dict[str, Any]] = {}
    for name in RULE_FILES:
        path = directory / name
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
        digest.update(name.encode() + b"\0" + content + b"\0")
        try:
            documents[name] = tomllib.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
    catalogue = _catalogue(directory / "instructions.toml", documents["instructions.toml"])
    policy = _policy(directory / "policy.toml", documents["policy.toml"])
    return Rules(catalogue=catalogue, policy=policy, version="sha256:" + digest.hexdigest()[:16])


def _catalogue(path: Path, document: dict[str, Any]) -> Catalogue:
    _only_keys(path, "", document, {"services", "kinds"})
    services = _table(path, "services", document.get("services"))
    _only_keys(path, "services", services, {"server_id_pattern", "login_pattern", "code_pattern"})
    kinds_table = _table(path, "kinds", document.get("kinds"))
    if not kinds_table:
        raise ConfigError(f"{path}: [kinds]: at least one instruction kind is needed")
    kinds = []
    for name, raw in kinds_table.items():
        where = f"kinds.{name}"
        if not _KIND_NAME.match(name):
            raise ConfigError(f"{path}: [{where}]: a kind name is lower-case snake_case")
        table = _table(path, where, raw)
        _only_keys(path, where, table, {"title", "phrases", "requires", "postal_only"})
        phrases = table.get("phrases")
        if (
            not isinstance(phrases, list)
            or not phrases
            or not all(isinstance(p, str) and p.strip() for p in phrases)
        ):
            raise ConfigError(f"{path}: [{where}] phrases: a non-empty list of strings is needed")
        requires = table.get("requires")
        if requires not in ASSURANCE_LEVELS:
            raise ConfigError(
                f"{path}: [{where}] requires: {requires!r} is not one of "
                + ", ".join(ASSURANCE_LEVELS)
            )
        title = table.get("title", name)
        if not isinstance(title, str) or not title.strip():
            raise ConfigError(f"{path}: [{where}] title: a non-empty string is needed")
        postal_only = table.get("postal_only", False)
        if not isinstance(postal_only, bool):
            raise ConfigError(f"{path}: [{where}] postal_only: true or false")
        kinds.append(
            InstructionKind(
                name=name,
                title=title,
                phrases=tuple(fold(p) for p in phrases),
                requires=requires,
                postal_only=postal_only,
            )
        )
    return Catalogue(
        kinds=tuple(kinds),
        server_id_pattern=_pattern(path, "services.server_id_pattern", services, re.IGNORECASE),
        login_pattern=_pattern(path, "services.login_pattern", services, 0, groups=1),
        # Optional: without it no one-time code is read from mail.
        code_pattern=(
            _pattern(path, "services.code_pattern", services, 0, groups=1)
            if "code_pattern" in services
            else None
        ),
    )


def _policy(path: Path, document: dict[str, Any]) -> Policy:
    _only_keys(path, "", document, {"findings", "decision"})
    findings = _table(path, "findings", document.get("findings"))
    for key, action in findings.items():
        if not _FINDING_KEY.match(key):
            raise ConfigError(f'{path}: [findings] "{key}": write it as "check-name.result"')
        if action not in ACTIONS:
            raise ConfigError(
                f'{path}: [findings] "{key}": {action!r} is not one of ' + ", ".join(ACTIONS)
            )
    decision = _table(path, "decision", document.get("decision"))
    _only_keys(path, "decision", decision, {"unrecognised_requires", "shortfall"})
    unrecognised = decision.get("unrecognised_requires", "authenticated")
    if unrecognised not in ASSURANCE_LEVELS:
        raise ConfigError(
            f"{path}: [decision] unrecognised_requires: {unrecognised!r} is not one of "
            + ", ".join(ASSURANCE_LEVELS)
        )
    shortfall = decision.get("shortfall", "review")
    if shortfall not in ("review", "reject"):
        raise ConfigError(f"{path}: [decision] shortfall: review or reject")
    return Policy(findings=dict(findings), unrecognised_requires=unrecognised, shortfall=shortfall)


def _table(path: Path, where: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{where}]: must be a table")
    return value


def _only_keys(path: Path, where: str, table: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        place = f"[{where}] " if where else ""
        raise ConfigError(
            f"{path}: {place}unknown key {unknown[0]!r}; expected one of "
            + ", ".join(sorted(allowed))
            + _line_of(path, unknown[0])
        )


def _pattern(
    path: Path, where: str, table: dict[str, Any], flags: int, groups: int = 0
) -> re.Pattern[str]:
    key = where.rpartition(".")[2]
    source = table.get(key)
    if not isinstance(source, str) or not source:
        raise ConfigError(f"{path}: [{where}]: a regular expression is needed")
    try:
        compiled = re.compile(source, flags)
    except re.error as exc:
        raise ConfigError(
            f"{path}: [{where}]: invalid regular expression ({exc})" + _line_of(path, key)
        ) from None
    nested = _nested_quantifier(source, flags)
    if nested:
        raise ConfigError(
            f"{path}: [{where}]: {nested} can backtrack catastrophically on long input; "
            "rewrite it without a repeated group that itself repeats" + _line_of(path, key)
        )
    if compiled.groups < groups:
        raise ConfigError(f"{path}: [{where}]: needs a capturing group for the value")
    return compiled


def _line_of(path: Path, key: str) -> str:
    """Where ``key`` (a key or the last part of a table name) is written, for the message."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    for number, line in enumerate(lines, start=1):
        text = line.strip().strip('"')
        header = text.startswith("[") and text.rstrip("]").rpartition(".")[2].strip('"') == key
        if header or text.startswith((key + " ", key + "=", key + '"')):
            return f" (line {number})"
    return ""


def _nested_quantifier(source: str, flags: int) -> str | None:
    """A repeat inside a repeat (``(a+)+``, ``(a*)*``, ``(a|a)*``), or None.

    Such a pattern can take exponential time on input that almost matches; a structural
    look at the parsed pattern is enough to refuse it.
    """
    try:
        parsed = re_parser.parse(source, flags)
    except re.error:
        return None
    return _repeat_in_repeat(list(parsed), inside=False)


def _repeat_in_repeat(items: list[Any], inside: bool) -> str | None:
    for op, value in items:
        if op in _REPEATS:
            low, high, body = value
            if inside and high != 1 and low != high:
                return "a nested quantifier"
            repeats = high != 1
            if repeats and _has_alternation(list(body)):
                return "a repeated alternation"
            found = _repeat_in_repeat(list(body), inside or repeats)
            if found:
                return found
        elif op is re_constants.SUBPATTERN:
            found = _repeat_in_repeat(list(value[-1]), inside)
            if found:
                return found
        elif op is re_constants.BRANCH:
            for branch in value[1]:
                found = _repeat_in_repeat(list(branch), inside)
                if found:
                    return found
        elif op is re_constants.ATOMIC_GROUP:
            continue
    return None


def _has_alternation(items: list[Any]) -> bool:
    for op, value in items:
        if op is re_constants.BRANCH:
            return True
        if op is re_constants.SUBPATTERN and _has_alternation(list(value[-1])):
            return True
    return False
