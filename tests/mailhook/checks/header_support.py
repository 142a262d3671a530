"""Running one header check on a fixture, with a registry of look-alike targets."""

from __future__ import annotations

from datetime import UTC, datetime

from mailhook.checks import registered
from mailhook.confusables import skeleton
from mailhook.context import CheckContext
from mailhook.domains import normalise_domain
from mailhook.findings import Finding
from mailhook.message import Channel, Envelope, InboundMessage, parse_message
from tests.support import FIXTURES

MAIL = FIXTURES / "mail"
# The fixtures are dated Saturday 28 November 2026 10:00 UTC; they are checked soon after.
NOW = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)
# Registered customer domains and provider domains, as the app's lookup would know them.
KNOWN_DOMAINS = ("acme.pl", "lokal.pl", "hosting.example", "xn--w-uga1v8h.pl")


def lookalike_of(domain: str) -> str | None:
    """What the app's registry lookup answers, from ``KNOWN_DOMAINS``."""
    name = normalise_domain(domain)
    if name in KNOWN_DOMAINS:
        return None
    return next((known for known in KNOWN_DOMAINS if skeleton(known) == skeleton(domain)), None)


def context() -> CheckContext:
    return CheckContext(now=NOW, lookalike_of=lookalike_of)


def load(scenario: str, envelope: Envelope | None = None) -> InboundMessage:
    raw = (MAIL / f"{scenario}.eml").read_bytes()
    return parse_message(raw, envelope or Envelope(), Channel.PIPE)


def run(name: str, message: InboundMessage | str) -> Finding:
    """The finding of check ``name`` for a message or a fixture scenario."""
    if isinstance(message, str):
        message = load(message)
    finding = registered()[name].run(message, context())
    assert finding.name == name
    return finding
