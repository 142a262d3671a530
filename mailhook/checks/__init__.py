"""Registry of the mail checks and the pipeline that runs them in a declared order."""

from __future__ import annotations

import functools
import logging
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


@dataclass(frozen=True, slots=True)
class Check:
    """A named, side-effect-free test of one property of a message."""

    name: str
    description: str
    run: CheckFunction


_REGISTRY: dict[str, Check] = {}


def register(name: str, description: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under a kebab-case ``name``; two checks may not share one."""

    def decorate(function: CheckFunction) -> CheckFunction:
        if name in _REGISTRY:
            raise ValueError(f"a check named {name!r} is already registered")
        _REGISTRY[name] = Check(name=name, description=description, run=function)
        return function

    return decorate


@dataclass(frozen=True, slots=True)
class Declared:
    """A check that runs outside the pipeline (extraction, the app), and its results."""

    name: str
    description: str
    results: tuple[str, ...]


_DECLARED: dict[str, Declared] = {}


def declare(name: str, description: str, results: tuple[str, ...]) -> None:
    """Declare a check run outside the pipeline; two checks may not share a name."""
    if name in _DECLARED or name in _REGISTRY:
        raise ValueError(f"a check named {name!r} is already declared")
    _DECLARED[name] = Declared(name=name, description=description, results=results)


def declared() -> dict[str, Declared]:
    return dict(_DECLARED)


def registered() -> dict[str, Check]:
    _load_builtin_checks()
    return dict(_REGISTRY)


# The order checks run in. Later checks may rely on evidence of earlier ones
# only through the findings passed to the decision, never through shared state.
PIPELINE: tuple[str, ...] = (
    "from-mailbox",
    "sender-headers",
    "display-name",
    "lookalike-domain",
    "date-header",
    "message-id",
    "envelope-from",
    "spf",
    "dkim",
    "arc",
    "upstream-results",
    "dmarc",
)


def run_pipeline(message: InboundMessage, context: CheckContext) -> list[Finding]:
    """Run every check of the pipeline in order.

    A check that meets temporary trouble it did not handle itself yields ``temperror``;
    one that crashes yields ``error``. Neither stops the others, and neither passes.
    """
    checks = registered()
    findings: dict[str, Finding] = {}
    for name in PIPELINE:
        check = checks[name]
        try:
            findings[name] = check.run(message, context.with_earlier(findings))
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
        date_header,
        display_name,
        dkim,
        dmarc,
        envelope_from,
        from_header,
        lookalike_domain,
        message_id,
        sender_headers,
        spf,
        upstream,
    )
