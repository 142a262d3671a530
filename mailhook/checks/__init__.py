"""Registry of the mail checks and the pipeline that runs them in a declared order."""

from __future__ import annotations

import functools
import logging
from typing import Any

from mailhook import metrics

# Every check module, imported for its registration (one module per check, named as
# the check); the registry itself is a leaf they import (mailhook.checks._registry).
from mailhook.checks import (  # noqa: F401
    _registry,
    addressed_to,
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
from mailhook.checks._registry import (
    PIPELINE_RESULTS,
    Check,
    CheckFunction,
    Declaration,
    declare,
    declared,
    register,
    registered,
)
from mailhook.checks.sender_headers import ANSWERED_TO
from mailhook.context import CheckContext
from mailhook.errors import TemporaryFailure
from mailhook.findings import Finding
from mailhook.message import InboundMessage

__all__ = [
    "ANSWERED_TO",
    "PIPELINE",
    "PIPELINE_RESULTS",
    "Check",
    "CheckFunction",
    "Declaration",
    "declare",
    "declared",
    "register",
    "registered",
    "run_pipeline",
]

log = logging.getLogger(__name__)

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
    "addressed-to",
)


def run_pipeline(message: InboundMessage, context: CheckContext) -> list[Finding]:
    """Run every check of the pipeline in order.

    A check that meets temporary trouble it did not handle itself yields ``temperror``;
    one that crashes, or gives a result it does not declare, yields ``error``. Neither
    stops the others, and neither passes.
    """
    checks = _registry.registered()
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
