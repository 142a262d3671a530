"""What a check may consult besides the message: DNS, trust settings, earlier findings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mailhook.dns import Resolver
from mailhook.findings import Finding

# Given a domain, the registered or provider domain it imitates (None when it imitates none).
LookalikeLookup = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class TrustConfig:
    """Whose word we take: our authserv-id, trusted upstream ids and ARC sealers; and
    the domains the desk is written to at besides the envelope recipients'."""

    authserv_id: str = "intakeguard"
    trusted_authserv_ids: frozenset[str] = frozenset()
    trusted_arc_sealers: frozenset[str] = frozenset()
    desk_domains: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Everything a check may read; checks never write to it.

    ``earlier`` holds the findings of the checks that ran before, by name, so that
    DMARC can combine SPF and DKIM without the checks sharing mutable state.
    """

    resolver: Resolver | None = None
    trust: TrustConfig = field(default_factory=TrustConfig)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    lookalike_of: LookalikeLookup = field(default=lambda _domain: None)
    earlier: Mapping[str, Finding] = field(default_factory=dict)

    def with_earlier(self, findings: Mapping[str, Finding]) -> CheckContext:
        return CheckContext(
            resolver=self.resolver,
            trust=self.trust,
            now=self.now,
            lookalike_of=self.lookalike_of,
            earlier=dict(findings),
        )
