"""The check registry: each check's name, description and results, declared once.

A leaf of the checks package: every check module registers itself here, and
mailhook.checks imports every check module, so the registry is full once the package
is imported. Nothing here imports a check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from mailhook.context import CheckContext
from mailhook.findings import Finding
from mailhook.message import InboundMessage

CheckFunction = Callable[[InboundMessage, CheckContext], Finding]

# What the pipeline itself gives for any of its checks: ``temperror`` for temporary
# trouble the check did not handle, ``error`` for a crash (see run_pipeline).
PIPELINE_RESULTS: tuple[str, ...] = ("temperror", "error")


@dataclass(frozen=True, slots=True)
class Declaration:
    """A check's name, what it tests, and every result it can give.

    The policy in ``rules/policy.toml`` may name only these (check, result) pairs: a
    key naming anything else is a typo that would otherwise load as "ignore".
    """

    name: str
    description: str
    results: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Check:
    """A named, side-effect-free test of one property of a message, run by the pipeline."""

    name: str
    description: str
    results: tuple[str, ...]
    run: CheckFunction


_REGISTRY: dict[str, Check] = {}
# Every check, whether the pipeline runs it or it runs elsewhere (extraction, the
# decision): one namespace, so two checks can never share a name.
_DECLARED: dict[str, Declaration] = {}
_KEBAB = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def declare(name: str, description: str, results: tuple[str, ...]) -> Declaration:
    """Declare a check run outside the pipeline, with every result it can give.

    Called once, at import, by the module that runs the check. Raises ValueError for a
    name already declared (or registered), a name or result that is not kebab-case,
    or an empty or repeated result.
    """
    if name in _DECLARED:
        raise ValueError(f"a check named {name!r} is already registered")
    if not _KEBAB.match(name):
        raise ValueError(f"the check name {name!r} is not kebab-case")
    if not results or len(set(results)) != len(results):
        raise ValueError(f"the check {name!r} must declare its results, each once")
    odd = [result for result in results if not _KEBAB.match(result)]
    if odd:
        raise ValueError(f"the check {name!r} declares a result {odd[0]!r} not in kebab-case")
    declaration = Declaration(name=name, description=description, results=tuple(results))
    _DECLARED[name] = declaration
    return declaration


def register(
    name: str, description: str, results: tuple[str, ...]
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a pipeline check under a kebab-case ``name``; two checks may not share one.

    ``results`` are those the check's own code returns; the pipeline's ``temperror`` and
    ``error`` are added, as run_pipeline gives them for any check.
    """

    def decorate(function: CheckFunction) -> CheckFunction:
        every = tuple(dict.fromkeys((*results, *PIPELINE_RESULTS)))
        declaration = declare(name, description, every)
        _REGISTRY[name] = Check(
            name=name, description=description, results=declaration.results, run=function
        )
        return function

    return decorate


def registered() -> dict[str, Check]:
    """The pipeline's checks, by name."""
    return dict(_REGISTRY)


def declared() -> dict[str, Declaration]:
    """Every check declared so far, the pipeline's and those run elsewhere, by name.

    The pipeline's are always there (mailhook.checks imports them); a check run
    elsewhere is there once the module that runs it has been imported
    (app.decision.rules imports all of them before it reads the policy).
    """
    return dict(_DECLARED)
