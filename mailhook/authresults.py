"""Authentication-Results (RFC 8601) read into the upstream results DMARC may rely on."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import authres

from mailhook.addresses import domain_of

# RFC 8617 §4.1.1: an ARC-Authentication-Results value is "i=N;" before the RFC 8601 text.
_ARC_INSTANCE = re.compile(r"\A\s*i\s*=\s*\d+\s*;")
# RFC 5322 §2.2.3: unfolding removes the line break before folding whitespace.
_FOLD = re.compile(r"\r?\n(?=[ \t])")


@dataclass(frozen=True, slots=True)
class ResultsHeader:
    """One parsed Authentication-Results header: who wrote it and what it reports."""

    authserv_id: str
    results: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class UpstreamResults:
    """What an upstream verifier reported, in the shape DMARC alignment needs."""

    spf: str | None = None
    spf_domain: str | None = None
    # "mailfrom" or "helo": which identity spf_domain is (RFC 7208 §2.4); DMARC aligns
    # a HELO name only for a null MAIL FROM.
    spf_identity: str | None = None
    dkim_pass_domains: tuple[str, ...] = ()
    dmarc: str | None = None
    header_from: str | None = None

    def as_evidence(self) -> dict[str, Any]:
        return {
            "spf": self.spf,
            "spf_domain": self.spf_domain,
            "spf_identity": self.spf_identity,
            "dkim_pass_domains": list(self.dkim_pass_domains),
            "dmarc": self.dmarc,
            "header_from": self.header_from,
        }

    def describe(self) -> str:
        """``SPF pass for acme.pl, DKIM pass for acme.pl and DMARC pass for acme.pl``."""
        parts: list[str] = []
        if self.spf is not None:
            parts.append(f"SPF {self.spf}" + (f" for {self.spf_domain}" if self.spf_domain else ""))
        if self.dkim_pass_domains:
            parts.append("DKIM pass for " + ", ".join(self.dkim_pass_domains))
        if self.dmarc is not None:
            parts.append(
                f"DMARC {self.dmarc}" + (f" for {self.header_from}" if self.header_from else "")
            )
        if not parts:
            return "no SPF, DKIM or DMARC result"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def parse_results_header(value: str) -> ResultsHeader | None:
    """The Authentication-Results header ``value``, or None when it cannot be parsed.

    A header that authres cannot read is treated as absent: nobody can be held to a
    claim that cannot be read, and it must not stop the other checks.
    """
    text = _FOLD.sub("", value).strip()
    return _kept(text) if len(text) <= MAX_KEPT_LENGTH else _parsed(text)


# authres reads a header in pure Python, recompiling its patterns as it goes: about a
# millisecond for a forwarded message's results. The same text is often read twice
# (the ARC check and the upstream check meet the forwarder's results as an
# ARC-Authentication-Results and an Authentication-Results header), and the reading
# of a text never changes, so readings of texts of ordinary length are kept a while.
MAX_KEPT_LENGTH = 2048


def _parsed(text: str) -> ResultsHeader | None:
    try:
        header = authres.AuthenticationResultsHeader.parse_value(text)
    except Exception:  # noqa: BLE001 - authres raises its own and assorted stdlib errors
        return None
    authserv_id = header.authserv_id
    if not isinstance(authserv_id, str) or not authserv_id:
        return None
    return ResultsHeader(authserv_id=authserv_id.lower(), results=tuple(header.results))


_kept = functools.lru_cache(maxsize=256)(_parsed)


def parse_arc_results(value: str) -> ResultsHeader | None:
    """An ARC-Authentication-Results value (RFC 8617 §4.1.1) without its instance tag."""
    return parse_results_header(_ARC_INSTANCE.sub("", _FOLD.sub("", value), count=1))


def upstream_results(headers: Sequence[ResultsHeader]) -> UpstreamResults:
    """The results ``headers`` report, the topmost (most recent) header first.

    For each method the first header that reports it is taken; DKIM passes are pooled,
    since every signature that verified vouches for its own domain.
    """
    results = [result for header in headers for result in header.results]
    spf = _first_spf(results)
    dmarc = next((r for r in results if _method(r) == "dmarc"), None)
    dkim_domains: list[str] = []
    for result in results:
        if _method(result) == "dkim" and _result(result) == "pass":
            domain = _dkim_domain(result)
            if domain and domain not in dkim_domains:
                dkim_domains.append(domain)
    return UpstreamResults(
        spf=_result(spf) if spf is not None else None,
        spf_domain=_spf_domain(spf) if spf is not None else None,
        spf_identity=_spf_identity(spf) if spf is not None else None,
        dkim_pass_domains=tuple(dkim_domains),
        dmarc=_result(dmarc) if dmarc is not None else None,
        header_from=_domain_of(_property(dmarc, "header", "from")) if dmarc is not None else None,
    )


def _first_spf(results: Iterable[Any]) -> Any:
    # Some servers report the HELO and the MAIL FROM check as two spf clauses; DMARC
    # aligns the MAIL FROM identity (RFC 7489 §4.1), so that clause comes first.
    spf = [r for r in results if _method(r) == "spf"]
    with_mailfrom = [r for r in spf if _property(r, "smtp", "mailfrom")]
    return (with_mailfrom or spf or [None])[0]


def _spf_domain(result: Any) -> str | None:
    # RFC 7208 §2.4: with a null MAIL FROM the HELO identity is what SPF checked.
    return _domain_of(_property(result, "smtp", "mailfrom")) or _domain_of(
        _property(result, "smtp", "helo")
    )


def _spf_identity(result: Any) -> str | None:
    if _domain_of(_property(result, "smtp", "mailfrom")):
        return "mailfrom"
    return "helo" if _domain_of(_property(result, "smtp", "helo")) else None


def _dkim_domain(result: Any) -> str | None:
    # RFC 8601 §2.7.1: header.d is the signing domain; older servers give only header.i.
    return _domain_of(_property(result, "header", "d")) or _domain_of(
        _property(result, "header", "i")
    )


def _method(result: Any) -> str:
    return str(getattr(result, "method", "") or "").lower()


def _result(result: Any) -> str:
    return str(getattr(result, "result", "") or "").lower()


def _property(result: Any, kind: str, name: str) -> str | None:
    for prop in getattr(result, "properties", None) or ():
        if str(prop.type).lower() == kind and str(prop.name).lower() == name and prop.value:
            return str(prop.value)
    return None


def _domain_of(value: str | None) -> str | None:
    """The domain of ``user@domain``, ``@domain`` or ``domain``; None when there is none.

    Read by the one address parser: ``"jan@kowalski.pl"@evil.pl`` is at evil.pl.
    """
    if not value:
        return None
    return domain_of(value)
