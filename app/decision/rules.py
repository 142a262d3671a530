"""Loading and validating ``rules/``: the instruction catalogue and the policy.

The loader refuses an invalid directory with the file, the line, the key and the reason,
so an operator's typo stops start-up instead of quietly changing decisions.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Imported for what they declare: every module that runs a check outside the pipeline
# declares it, with its results, at import; the policy is validated against them all.
from app.decision.checks import (  # noqa: F401
    customer_identifier,
    customer_match,
    handed_over_by,
    instruction_kind,
    named_addresses,
    named_customer,
    one_time_code,
    registered_alignment,
    replay,
    service_scope,
)
from app.decision.phrase_index import Re2PhraseIndex
from app.decision.policy import ACTIONS, HOLDER_CHANGE, Confirmation, Policy, at_least_review
from app.decision.regex_safety import UnsafePattern, compile_pattern
from app.errors import ConfigError
from mailhook.catalogue import ASSURANCE_LEVELS, Catalogue, InstructionKind
from mailhook.checks import Declaration, declared
from mailhook.patterns import TextPattern
from mailhook.requests import RequestWords
from mailhook.text import fold
from mailhook.unexplained import HarmlessForms

log = logging.getLogger(__name__)

RULE_FILES = ("instructions.toml", "policy.toml")
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_FINDING_KEY = re.compile(r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Rules:
    catalogue: Catalogue
    policy: Policy
    version: str

    def kind(self, name: str) -> InstructionKind:
        return next(kind for kind in self.catalogue.kinds if kind.name == name)


def load_rules(directory: Path) -> Rules:
    """Read and validate ``directory``; ConfigError naming file, line, key and reason if bad."""
    if not directory.is_dir():
        raise ConfigError(
            f"INTAKEGUARD_RULES_DIR: {directory} is not a directory; point it at the rules "
            "directory (the one holding instructions.toml and policy.toml)"
        )
    digest = hashlib.sha256()
    sources: dict[str, _Source] = {}
    for name in RULE_FILES:
        path = directory / name
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
        digest.update(name.encode() + b"\0" + content + b"\0")
        sources[name] = _Source.parse(path, content)
    catalogue = _catalogue(sources["instructions.toml"])
    policy = _policy(sources["policy.toml"], declared_checks())
    return Rules(catalogue=catalogue, policy=policy, version="sha256:" + digest.hexdigest()[:16])


@dataclass(frozen=True, slots=True)
class _Source:
    """One parsed rules file, and the line each table and key is written on."""

    path: Path
    document: dict[str, Any]
    lines: dict[tuple[str, ...], int]

    @classmethod
    def parse(cls, path: Path, content: bytes) -> _Source:
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


def _catalogue(source: _Source) -> Catalogue:
    document = source.document
    _only_keys(source, (), document, {"services", "requests", "kinds", "unexplained"})
    services = _table(source, ("services",), document.get("services"))
    _only_keys(
        source, ("services",), services, {"server_id_pattern", "login_pattern", "code_pattern"}
    )
    kinds_table = _table(source, ("kinds",), document.get("kinds"))
    if not kinds_table:
        raise source.error(("kinds",), "[kinds]: at least one instruction kind is needed")
    kinds = [_kind(source, name, raw) for name, raw in kinds_table.items()]
    return Catalogue(
        kinds=tuple(kinds),
        server_id_pattern=_pattern(source, "server_id_pattern", services, ignore_case=True),
        login_pattern=_pattern(source, "login_pattern", services, groups=1),
        # Optional: without it no one-time code is read from mail.
        code_pattern=(
            _pattern(source, "code_pattern", services, groups=1)
            if "code_pattern" in services
            else None
        ),
        phrase_index=Re2PhraseIndex.of(kinds),
        requests=_requests(source),
        forms=_forms(source),
    )


# [requests] lists a rules directory written before them may leave out (each only ever
# holds more messages but "exceptions"): words that make a sentence an instruction without
# a verb, objects whose mere mention beside a recognised request holds it, and words that
# begin like a verb or an object and are neither.
_OPTIONAL_REQUEST_WORDS = ("declarations", "standalone", "exceptions")


def _requests(source: _Source) -> RequestWords:
    """[requests]: required, as leaving it out would let a second request beside a
    recognised one through (fail closed); each list non-empty."""
    where = ("requests",)
    table = _table(source, where, source.document.get("requests"))
    _only_keys(source, where, table, {"markers", "verbs", "objects", *_OPTIONAL_REQUEST_WORDS})
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("markers", "verbs", "objects", *_OPTIONAL_REQUEST_WORDS):
        words = table.get(key)
        if key in _OPTIONAL_REQUEST_WORDS and words is None:
            lists[key] = ()
            continue
        if (
            not isinstance(words, list)
            or not words
            or not all(isinstance(w, str) and w.strip() for w in words)
        ):
            raise source.error(
                (*where, key), f"[requests] {key}: a non-empty list of strings is needed"
            )
        lists[key] = tuple(dict.fromkeys(fold(w) for w in words))
    return RequestWords(
        lists["markers"],
        lists["verbs"],
        lists["objects"],
        declarations=lists["declarations"],
        standalone=lists["standalone"],
        exceptions=lists["exceptions"],
    )


def _forms(source: _Source) -> HarmlessForms | None:
    """[unexplained]: the words of harmless sentences. A rules directory written before
    the table has the shipped catalogue's lists: leaving the table out must not stop the
    reading of what a sentence points at (fail closed), only writing it changes them."""
    where = ("unexplained",)
    written = source.document.get("unexplained")
    if written is None:
        return _shipped_forms(source)
    table = _table(source, where, written)
    _only_keys(source, where, table, {"parties", "labels", "courtesies", "demands"})
    lists = []
    for key in ("parties", "labels", "courtesies", "demands"):
        words = table.get(key, [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise source.error((*where, key), f"[unexplained] {key}: a list of strings is needed")
        lists.append(tuple(dict.fromkeys(fold(w) for w in words)))
    return HarmlessForms(*lists)


def _shipped_forms(source: _Source) -> HarmlessForms | None:
    from app.settings import default_rules_dir

    shipped = default_rules_dir() / "instructions.toml"
    if source.path.resolve() == shipped.resolve():
        raise source.error(("unexplained",), "[unexplained]: the shipped catalogue needs it")
    log.warning(
        "%s has no [unexplained] table: the shipped catalogue's words are used; copy its "
        "table from %s to change them",
        source.path,
        shipped,
    )
    return _forms(_Source.parse(shipped, shipped.read_bytes()))


def _kind(source: _Source, name: str, raw: Any) -> InstructionKind:
    where = ("kinds", name)
    label = f"kinds.{name}"
    if not _KIND_NAME.match(name):
        raise source.error(where, f"[{label}]: a kind name is lower-case snake_case")
    table = _table(source, where, raw)
    _only_keys(
        source,
        where,
        table,
        {"title", "title_pl", "phrases", "requires", *_KIND_FLAGS},
    )
    phrases = table.get("phrases")
    if (
        not isinstance(phrases, list)
        or not phrases
        or not all(isinstance(p, str) and p.strip() for p in phrases)
    ):
        raise source.error(
            (*where, "phrases"), f"[{label}] phrases: a non-empty list of strings is needed"
        )
    requires = table.get("requires")
    if requires not in ASSURANCE_LEVELS:
        raise source.error(
            (*where, "requires"),
            f"[{label}] requires: {requires!r} is not one of " + ", ".join(ASSURANCE_LEVELS),
        )
    title = table.get("title", name)
    if not isinstance(title, str) or not title.strip():
        raise source.error((*where, "title"), f"[{label}] title: a non-empty string is needed")
    title_pl = table.get("title_pl")
    if title_pl is not None and (not isinstance(title_pl, str) or not title_pl.strip()):
        raise source.error(
            (*where, "title_pl"), f"[{label}] title_pl: a non-empty string is needed"
        )
    return InstructionKind(
        name=name,
        title=title,
        phrases=tuple(fold(p) for p in phrases),
        requires=requires,
        title_pl=title_pl,
        **{flag: _flag(source, where, table, flag) for flag in _KIND_FLAGS},
    )


# A kind's true-or-false keys, each false unless written.
_KIND_FLAGS = ("postal_only", "acts_on_service", "gives_addresses", "question")


def _flag(source: _Source, where: tuple[str, ...], table: dict[str, Any], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise source.error((*where, key), f"[{'.'.join(where)}] {key}: true or false")
    return value


def declared_checks() -> dict[str, Declaration]:
    """Every check and the results it declares (the pipeline's and app-side ones)."""
    checks = declared()
    if not checks:
        # The declaring modules were not imported: validating against nothing would
        # refuse every key, or with a laxer test accept typos. Neither may happen.
        raise ConfigError("no checks are declared, so rules/policy.toml cannot be validated")
    return checks


def _policy(source: _Source, checks: dict[str, Declaration]) -> Policy:
    document = source.document
    _only_keys(source, (), document, {"findings", "decision", "confirmation"})
    findings = _table(source, ("findings",), document.get("findings"))
    for key, action in findings.items():
        where = ("findings", key)
        if not _FINDING_KEY.match(key):
            raise source.error(where, f'[findings] "{key}": write it as "check-name.result"')
        if action not in ACTIONS:
            raise source.error(
                where, f'[findings] "{key}": {action!r} is not one of ' + ", ".join(ACTIONS)
            )
        name, _, result = key.partition(".")
        unknown = _unknown_result(name, result, checks)
        if unknown:
            raise source.error(where, f'[findings] "{key}": {unknown}')
        why = at_least_review(name, result)
        if action == "ignore" and why:
            raise source.error(
                where,
                f'[findings] "{key}": "ignore" is not allowed, as {why}; such a message '
                'is never accepted: write "review" or "reject"',
            )
    decision = _table(source, ("decision",), document.get("decision"))
    _only_keys(source, ("decision",), decision, {"unrecognised_requires", "shortfall"})
    unrecognised = decision.get("unrecognised_requires", "review")
    if unrecognised != "review":
        raise source.error(
            ("decision", "unrecognised_requires"),
            f"[decision] unrecognised_requires: {unrecognised!r} is not allowed; its only value "
            'is "review" (or leave the key out): a message whose request the catalogue does '
            "not recognise is never accepted",
        )
    shortfall = decision.get("shortfall", "review")
    if shortfall not in ("review", "reject"):
        raise source.error(("decision", "shortfall"), "[decision] shortfall: review or reject")
    confirmation = _confirmation(source, dict(findings))
    return Policy(findings=dict(findings), shortfall=shortfall, confirmation=confirmation)


def _confirmation(source: _Source, findings: dict[str, str]) -> Confirmation:
    """[confirmation]: absent, confirmation is off; every key checked like [findings]."""
    where = ("confirmation",)
    table = _table(source, where, source.document.get("confirmation"))
    allowed = {"enabled", "replaces", "senders", "findings", "holder_change"}
    _only_keys(source, where, table, allowed)
    enabled = table.get("enabled", False)
    if not isinstance(enabled, bool):
        raise source.error((*where, "enabled"), "[confirmation] enabled: true or false")
    # What can be confirmed: a requirement above what mail from the panel address proves.
    levels = _levels(
        source, "replaces", table.get("replaces", ["authenticated"]), ASSURANCE_LEVELS[2:]
    )
    senders = _levels(source, "senders", table.get("senders", ["asserted"]), ASSURANCE_LEVELS[:2])
    listed = table.get("findings", [])
    if not isinstance(listed, list) or not all(isinstance(key, str) for key in listed):
        raise source.error((*where, "findings"), "[confirmation] findings: a list of strings")
    for key in listed:
        name, _, result = key.partition(".")
        why = at_least_review(name, result)
        if findings.get(key) != "review" or why:
            reason = (
                f"as {why}, which no one's confirmation settles"
                if why
                else "only a finding that [findings] maps to review can be confirmed away"
            )
            raise source.error(
                (*where, "findings"), f'[confirmation] findings: "{key}" is not allowed, {reason}'
            )
    holder_change = table.get("holder_change", "postal")
    if holder_change not in HOLDER_CHANGE:
        raise source.error(
            (*where, "holder_change"),
            f"[confirmation] holder_change: {holder_change!r} is not allowed; only "
            + ", ".join(f'"{h}"' for h in HOLDER_CHANGE),
        )
    return Confirmation(enabled, levels, senders, frozenset(listed), holder_change)


def _levels(source: _Source, key: str, value: Any, legal: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(level not in legal for level in value):
        raise source.error(
            ("confirmation", key),
            f"[confirmation] {key}: a non-empty list of " + ", ".join(legal),
        )
    return tuple(value)


def _unknown_result(name: str, result: str, checks: dict[str, Declaration]) -> str | None:
    """Why ``name.result`` names no declared check result (with a suggestion), or None."""
    check = checks.get(name)
    if check is None:
        every = [f"{c.name}.{r}" for c in checks.values() for r in c.results]
        return (
            f"no check is named {name!r}; the checks are: "
            + ", ".join(sorted(checks))
            + _did_you_mean(f"{name}.{result}", every)
        )
    if result not in check.results:
        every = [f"{name}.{r}" for r in check.results]
        return (
            f"{name} has no result {result!r}; its results are: "
            + ", ".join(check.results)
            + _did_you_mean(f"{name}.{result}", every)
        )
    return None


def _did_you_mean(key: str, keys: list[str]) -> str:
    close = difflib.get_close_matches(key, keys, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _table(source: _Source, where: tuple[str, ...], value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise source.error(where, f"[{'.'.join(where)}]: must be a table")
    return value


def _only_keys(
    source: _Source, where: tuple[str, ...], table: dict[str, Any], allowed: set[str]
) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        place = f"[{'.'.join(where)}] " if where else ""
        raise source.error(
            (*where, unknown[0]),
            f"{place}unknown key {unknown[0]!r}; expected one of " + ", ".join(sorted(allowed)),
        )


def _pattern(
    source: _Source, key: str, table: dict[str, Any], ignore_case: bool = False, groups: int = 0
) -> TextPattern:
    where = ("services", key)
    label = f"services.{key}"
    text = table.get(key)
    if not isinstance(text, str) or not text:
        raise source.error(where, f"[{label}]: a regular expression is needed")
    try:
        compiled = compile_pattern(text, ignore_case=ignore_case)
    except UnsafePattern as exc:
        raise source.error(where, f"[{label}]: {exc}") from None
    if compiled.groups < groups:
        raise source.error(where, f"[{label}]: needs a capturing group for the value")
    return compiled


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
