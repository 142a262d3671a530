"""The policy as read from ``rules/policy.toml``, validated against every check's declared
results."""

from __future__ import annotations

import re
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
    sending_service,
    service_scope,
)
from app.decision.policy import ACTIONS, HOLDER_CHANGE, Confirmation, Policy, at_least_review
from app.decision.rules_source import Source, did_you_mean, only_keys, table_at
from app.errors import ConfigError
from mailhook.catalogue import ASSURANCE_LEVELS
from mailhook.checks import Declaration, declared

_FINDING_KEY = re.compile(r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9_-]*$")


def declared_checks() -> dict[str, Declaration]:
    """Every check and the results it declares (the pipeline's and app-side ones)."""
    checks = declared()
    if not checks:
        # The declaring modules were not imported: validating against nothing would
        # refuse every key, or with a laxer test accept typos. Neither may happen.
        raise ConfigError("no checks are declared, so rules/policy.toml cannot be validated")
    return checks


def read_policy(source: Source, checks: dict[str, Declaration]) -> Policy:
    document = source.document
    only_keys(source, (), document, {"findings", "decision", "confirmation"})
    findings = table_at(source, ("findings",), document.get("findings"))
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
    decision = table_at(source, ("decision",), document.get("decision"))
    only_keys(source, ("decision",), decision, {"unrecognised_requires", "shortfall"})
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


def _confirmation(source: Source, findings: dict[str, str]) -> Confirmation:
    """[confirmation]: absent, confirmation is off; every key checked like [findings]."""
    where = ("confirmation",)
    table = table_at(source, where, source.document.get("confirmation"))
    allowed = {"enabled", "replaces", "senders", "findings", "holder_change"}
    only_keys(source, where, table, allowed)
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


def _levels(source: Source, key: str, value: Any, legal: tuple[str, ...]) -> tuple[str, ...]:
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
            + did_you_mean(f"{name}.{result}", every)
        )
    if result not in check.results:
        every = [f"{name}.{r}" for r in check.results]
        return (
            f"{name} has no result {result!r}; its results are: "
            + ", ".join(check.results)
            + did_you_mean(f"{name}.{result}", every)
        )
    return None
