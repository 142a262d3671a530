"""The instruction catalogue as read from ``rules/instructions.toml``: kinds, services,
request words and the forms a harmless sentence takes, each validated."""

from __future__ import annotations

import logging
import re
from typing import Any

from app.decision.phrase_index import Re2PhraseIndex
from app.decision.regex_safety import UnsafePattern, compile_pattern
from app.decision.rules_source import Source, only_keys, table_at
from mailhook.catalogue import ASSURANCE_LEVELS, Catalogue, InstructionKind
from mailhook.patterns import TextPattern
from mailhook.requests import RequestWords
from mailhook.text import fold
from mailhook.unexplained import HarmlessForms

log = logging.getLogger(__name__)

_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def read_catalogue(source: Source) -> Catalogue:
    document = source.document
    only_keys(source, (), document, {"services", "requests", "kinds", "unexplained"})
    services = table_at(source, ("services",), document.get("services"))
    only_keys(
        source, ("services",), services, {"server_id_pattern", "login_pattern", "code_pattern"}
    )
    kinds_table = table_at(source, ("kinds",), document.get("kinds"))
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


def _requests(source: Source) -> RequestWords:
    """[requests]: required, as leaving it out would let a second request beside a
    recognised one through (fail closed); each list non-empty."""
    where = ("requests",)
    table = table_at(source, where, source.document.get("requests"))
    only_keys(source, where, table, {"markers", "verbs", "objects", *_OPTIONAL_REQUEST_WORDS})
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


def _forms(source: Source) -> HarmlessForms | None:
    """[unexplained]: the words of harmless sentences. A rules directory written before
    the table has the shipped catalogue's lists: leaving the table out must not stop the
    reading of what a sentence points at (fail closed), only writing it changes them."""
    where = ("unexplained",)
    written = source.document.get("unexplained")
    if written is None:
        return _shipped_forms(source)
    table = table_at(source, where, written)
    only_keys(source, where, table, {"parties", "labels", "courtesies", "demands"})
    lists = []
    for key in ("parties", "labels", "courtesies", "demands"):
        words = table.get(key, [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise source.error((*where, key), f"[unexplained] {key}: a list of strings is needed")
        lists.append(tuple(dict.fromkeys(fold(w) for w in words)))
    return HarmlessForms(*lists)


def _shipped_forms(source: Source) -> HarmlessForms | None:
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
    return _forms(Source.parse(shipped, shipped.read_bytes()))


def _kind(source: Source, name: str, raw: Any) -> InstructionKind:
    where = ("kinds", name)
    label = f"kinds.{name}"
    if not _KIND_NAME.match(name):
        raise source.error(where, f"[{label}]: a kind name is lower-case snake_case")
    table = table_at(source, where, raw)
    only_keys(
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


def _flag(source: Source, where: tuple[str, ...], table: dict[str, Any], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise source.error((*where, key), f"[{'.'.join(where)}] {key}: true or false")
    return value


def _pattern(
    source: Source, key: str, table: dict[str, Any], ignore_case: bool = False, groups: int = 0
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
