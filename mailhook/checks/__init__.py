"""Registry of the mail checks and the pipeline that runs them in a declared order."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mailhook import metrics
from mailhook.context import CheckContext
from mailhook.errors import TemporaryFailure
from mailhook.findings import Finding
from mailhook.message import InboundMessage

log = logging.getLogger(__name__)

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
    _load_builtin_checks()
    return dict(_REGISTRY)


def declared() -> dict[str, Declaration]:
    """Every check declared so far, the pipeline's and those run elsewhere, by name.

    The pipeline's are always there; a check run elsewhere is there once the module
    that runs it has been imported (app.decision.rules imports all of them before it reads
    the policy).
    """
    _load_builtin_checks()
    return dict(_DECLARED)


# The order checks run in. Later checks may rely on evidence of earlier ones
# only through the findings passed to the decision, never through shared state.
PIPELINE: tuple[str, ...] = (
    "from-mailbox",
    "sender-headers",
    "display-name",
    "lookalike-domain",
    "date-header",
    "message-id",
    "header-count",
    "auto-submitted",
    "envelope-from",
    "spf",
    "dkim",
    "signed-headers",
    "arc",
    "upstream-results",
    "dmarc",
)


def run_pipeline(message: InboundMessage, context: CheckContext) -> list[Finding]:
    """Run every check of the pipeline in order.

    A check that meets temporary trouble it did not handle itself yields ``temperror``;
    one that crashes, or gives a result it does not declare, yields ``error``. Neither
    stops the others, and neither passes.
    """
    checks = registered()
    findings: dict[str, Finding] = {}
    for name in PIPELINE:
        check = checks[name]
        try:
            findings[name] = _declared_result(
                check, check.run(message, context.with_earlier(findings))
            )
        except TemporaryFailure as exc:
            findings[name] = Finding(
                name=name,
                result="temperror",
                reason=f"The {name} check met a temporary failure ({exc}); the message "
                "will be checked again when the sender retries.",
            )
        except Exception as exc:
            log.exception("check %s crashed on message %s", name, message.sha256)
            findings[name] = Finding(
                name=name,
                result="error",
                reason=f"The {name} check could not complete ({type(exc).__name__}); "
                "an agent should review the message.",
            )
        _results_counter(name, findings[name].result).inc()
    return list(findings.values())


def _declared_result(check: Check, finding: Finding) -> Finding:
    """``finding``, or ``error`` when its result is not one the check declares.

    The policy can only have been written for declared results; an undeclared one
    would fall through it as "ignore", so it is held like a crash instead.
    """
    if finding.result in check.results:
        return finding
    log.error("check %s gave the undeclared result %r", check.name, finding.result)
    return Finding(
        name=check.name,
        result="error",
        reason=f"The {check.name} check gave the result {finding.result!r}, which it does "
        f"not declare ({finding.reason}); an agent should review the message.",
    )


# A few dozen (check, result) pairs in all: looking the labelled counter up through
# prometheus_client (label checks, a lock) for each of a message's twelve findings cost
# more than some checks do.
@functools.lru_cache(maxsize=256)
def _results_counter(check: str, result: str) -> Any:
    return metrics.CHECK_RESULTS.labels(check=check, result=result)


@functools.cache
def _load_builtin_checks() -> None:
    # Imported for their registration side effect, once (cached: the import statement
    # itself is not free, and run_pipeline asks for the registry for every message).
    from mailhook.checks import (  # noqa: F401
        arc,
        auto_submitted,
        date_header,
        display_name,
        dkim,
        dmarc,
        envelope_from,
        from_mailbox,
        header_count,
        lookalike_domain,
        message_id,
        sender_headers,
        signed_headers,
        spf,
        upstream_results,
    )
