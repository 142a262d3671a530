"""Which SPF terms a pass came through, and whether one of them lets any host pass.

pyspf reports the term of the sender's own record that matched (``include:x`` when the
pass came from x's record). A domain may publish a record that authorises every host
(``+all``, ``ip4:0.0.0.0/0``), or one whose target the sender names (``a:%{h}``: the
HELO name; ``a:%{l}``: the MAIL FROM local part; ``a:%{p}``: the client's own reverse
DNS), or an ``exists`` that does not depend on the client's address: a pass through such
a term is a pass for anyone who tries, and proves nothing about who sent the message.

pyspf keeps only the top-level term that matched. Which term matched inside an include
(or the record a redirect leads to) is noted while the evaluation runs (RecordEvaluation:
spf._Query feeds it), so the included records are evaluated once, not again to ask.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailhook.errors import MailhookError

# How deep includes are followed: RFC 7208 §4.6.4 allows 10 lookups in all.
MAX_DEPTH = 10
# Networks this large (an eighth of IPv4, or an IPv6 /15) are no mail operator's:
# a record naming one authorises a good part of the Internet.
MIN_IPV4_PREFIX = 8
MIN_IPV6_PREFIX = 16
# RFC 7208 §7.2: macro letters whose value the sending client chooses.
_CHOSEN_BY_SENDER = {
    "h": "the HELO name the client gives",
    "l": "the local part of MAIL FROM",
    "s": "the MAIL FROM address",
    "p": "the client's own reverse DNS name",
}
# A domain-spec ending in such a macro (with transformers, RFC 7208 §7.1) and an optional
# dot: the whole name looked up is the sender's choice, and so is who answers for it.
_ENDS_WITH_MACRO = re.compile(r"%\{([a-z])[0-9]*r?[.\-+,/_=]*\}\.?\Z", re.IGNORECASE)
_CLIENT_ADDRESS_MACRO = re.compile(r"%\{i", re.IGNORECASE)
_DUAL_CIDR = re.compile(r"(?:/\d+)?(?://\d+)?\Z")


@dataclass(eq=False)
class RecordEvaluation:
    """One SPF record as pyspf evaluated it: the last term it compared (the one that
    matched, when the evaluation stopped at a match), its result, and the records its
    includes and its redirect led to."""

    domain: str
    record: str
    last_term: str | None = None
    result: str | None = None
    includes: list[RecordEvaluation] = field(default_factory=list)
    redirect: RecordEvaluation | None = None

    def settled(self) -> RecordEvaluation:
        """The record whose terms decided this one's result: past every redirect."""
        evaluation = self
        while evaluation.redirect is not None:
            evaluation = evaluation.redirect
        return evaluation


class _TermCompared(str):
    """A mechanism's kind (``include``, ``a``, …) as pyspf compares it, once per term, at
    the start of each turn of its evaluation loop: the comparison notes the term in its
    record's evaluation, so that when the loop stops at a match, the term noted last is
    the one that matched."""

    __slots__ = ("evaluation", "term")
    evaluation: RecordEvaluation
    term: str

    def __eq__(self, other: object) -> bool:
        self.evaluation.last_term = self.term
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def begin_record(query: Any, record: str, domain: str, recursion: int) -> RecordEvaluation:
    """Note that ``query`` starts evaluating ``domain``'s ``record`` (spf._Query.check1):
    at the top, as an include one level down, or as the redirect of the record under way
    at the same level."""
    evaluation = RecordEvaluation(domain, record)
    levels: list[tuple[int, RecordEvaluation]] = query.__dict__.setdefault("levels", [])
    if not levels:
        query.__dict__["evaluation"] = evaluation
    else:
        parent_recursion, parent = levels[-1]
        if recursion == parent_recursion:
            parent.redirect = evaluation
        else:
            parent.includes.append(evaluation)
    levels.append((recursion, evaluation))
    return evaluation


def end_record(query: Any) -> None:
    query.__dict__["levels"].pop()


def watch_term(query: Any, parsed: tuple[Any, ...]) -> tuple[Any, ...]:
    """pyspf's parsed mechanism ``(term, kind, argument, cidr, result)`` with its kind
    noting, when compared, the term in the record under evaluation (spf._Query)."""
    term, kind, *rest = parsed
    watched = _TermCompared(kind)
    watched.evaluation = query.__dict__["levels"][-1][1]
    watched.term = term
    return (term, watched, *rest)


def pass_path(query: Any) -> tuple[list[str], str | None]:
    """The terms a pass came through, outermost first (``["include:x", "+all"]``), and the
    domain whose own record holds the last of them: the host that passed is one that
    domain's owner authorises.

    ``query`` has run and passed; its ``evaluation`` holds what each record matched.
    Raises Untraceable when no record's evaluation was noted, or a passing include shows
    no passing record behind it, which only a pyspf that evaluates otherwise than the one
    _TermCompared was written for gives: whose record passed the host is then unknown.

    The domain is the one whose record ended the top level (a redirect= target, else the
    checked domain), then each include that passed, one level down at a time (past its
    own redirect); and when the last term names hosts outright (``a:host``,
    ``mx:domain``, ``exists:name``), theirs: their owner chose those hosts, whoever else
    they send for.
    """
    terms: list[str] = []
    term = query.mechanism
    evaluation: RecordEvaluation | None = query.__dict__.get("evaluation")
    if evaluation is None:
        raise Untraceable(f"no record's evaluation was noted for '{term}'")
    domain = _domain_of(evaluation.settled())
    for _ in range(MAX_DEPTH):
        if not term:
            break
        terms.append(str(term))
        if _kind(str(term)) != "include":
            break
        # The loop stops at the include that passed: the last include it evaluated.
        includes = evaluation.settled().includes
        if not includes or includes[-1].result != "pass" or not includes[-1].settled().last_term:
            raise Untraceable(f"no record behind '{term}' shows what passed")
        evaluation = includes[-1].settled()
        domain = _domain_of(evaluation)
        term = evaluation.last_term
    named = _named_hosts(terms[-1]) if terms else None
    return terms, named or domain


def _domain_of(evaluation: RecordEvaluation) -> str:
    return evaluation.domain.rstrip(".").lower()


def _named_hosts(term: str) -> str | None:
    """The domain whose hosts an ``a:``, ``mx:`` or ``exists:`` term names, else None.

    A macro decides only the labels before the fixed tail
    (``exists:%{i}._spf.provider.example``: one name per client, all of them under the
    provider's ``_spf.provider.example``), so the tail is whose the hosts are.
    """
    body = _DUAL_CIDR.sub("", term.lstrip("+-~?"))
    kind, _, target = body.partition(":")
    if kind.lower() not in ("a", "mx", "exists") or not target:
        return None
    fixed = target.rpartition("}")[2].lstrip(".") if "%" in target else target
    return fixed.rstrip(".").lower() if "." in fixed else None


class Untraceable(MailhookError):
    """What an include's pass matched is not known (see pass_path)."""


def lets_anyone_pass(terms: list[str]) -> str | None:
    """What makes a pass through ``terms`` a pass for any host, or None when nothing does."""
    for term in terms:
        why = _lets_anyone_pass(term)
        if why is not None:
            chain = " → ".join(f"'{t}'" for t in terms[: terms.index(term) + 1])
            return f"{chain}, which {why}"
    return None


def _kind(term: str) -> str:
    body = term.lstrip("+-~?")
    return re.split(r"[:/]", body, maxsplit=1)[0].lower()


def _lets_anyone_pass(term: str) -> str | None:
    qualifier = term[0] if term[:1] in ("+", "-", "~", "?") else "+"
    if qualifier != "+":
        return None  # only "+" terms give a pass
    kind = _kind(term)
    argument = term.lstrip("+-~?")[len(kind) :].removeprefix(":")
    if kind == "all":
        return "authorises every host on the Internet"
    if kind in ("ip4", "ip6"):
        return _too_wide(kind, argument)
    spec = _DUAL_CIDR.sub("", argument)
    chosen = _ENDS_WITH_MACRO.search(spec)
    if chosen is not None and chosen.group(1).lower() in _CHOSEN_BY_SENDER:
        return (
            f"names a host through {_CHOSEN_BY_SENDER[chosen.group(1).lower()]} (RFC 7208 "
            "§7.3): the sender picks a name of its own that passes"
        )
    if kind == "exists" and not _CLIENT_ADDRESS_MACRO.search(spec):
        # RFC 7208 §5.7: exists matches when the name has an A record; a name that does
        # not depend on the client's address (%{i}) matches for every client alike.
        return "does not depend on the client's address, so every host matches it alike"
    return None


def _too_wide(kind: str, argument: str) -> str | None:
    try:
        network = ipaddress.ip_network(argument, strict=False)
    except ValueError:
        return None
    least = MIN_IPV4_PREFIX if kind == "ip4" else MIN_IPV6_PREFIX
    if network.prefixlen >= least:
        return None
    return (
        f"authorises the whole /{network.prefixlen} network, far more of the Internet than "
        "any mail operator holds"
    )


def record_lets_anyone_pass(txt: Callable[[str], list[bytes]], domain: str) -> str | None:
    """What in ``domain``'s SPF record (or a record it includes or redirects to) lets any
    host pass, or None; for a pass someone else reported, whose client we do not know.

    ``txt`` looks up a name's TXT records (mailhook.dns.Resolver.txt: it raises
    DnsTempError, which is let through). A term any host passes anywhere in the records
    evaluation can reach is one an impostor reaches by failing the others. At most
    MAX_DEPTH records are read, as RFC 7208 §4.6.4 bounds the lookups.
    """
    pending: list[tuple[str, list[str]]] = [(domain, [])]
    read: set[str] = set()
    while pending and len(read) < MAX_DEPTH:
        name, path = pending.pop(0)
        if name in read:
            continue
        read.add(name)
        for term in _spf_terms(txt, name):
            chain = [*path, term]
            why = _lets_anyone_pass(term)
            if why is not None:
                return " → ".join(f"'{t}'" for t in chain) + f", which {why}"
            target = _followed(term)
            if target is not None:
                pending.append((target, chain))
    return None


def _spf_terms(txt: Callable[[str], list[bytes]], name: str) -> list[str]:
    records = [
        text
        for text in (raw.decode("utf-8", "replace") for raw in txt(name))
        if text.lower() == "v=spf1" or text.lower().startswith("v=spf1 ")
    ]
    if len(records) != 1:
        return []  # none, or several (permerror, RFC 7208 §4.5): nothing passes
    return [term for term in records[0].split(" ")[1:] if term]


def _followed(term: str) -> str | None:
    """The domain an include or redirect without macros leads to, else None."""
    body = term.lstrip("+-~?")
    kind, _, target = body.partition(":") if ":" in body else body.partition("=")
    if kind.lower() not in ("include", "redirect") or not target or "%" in target:
        return None
    if term[:1] in ("-", "~", "?") and kind.lower() == "include":
        return None  # a failing include gives no pass
    return target.rstrip(".").lower()
