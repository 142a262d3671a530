"""spf: whether the connecting host may send mail for the envelope domain (RFC 7208)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import idna
import spf

from mailhook.addresses import InvalidAddress, Path, parse_path
from mailhook.checks._headers import quoted
from mailhook.checks._registry import register
from mailhook.checks._spf_terms import (
    Untraceable,
    begin_record,
    end_record,
    lets_anyone_pass,
    pass_path,
    watch_term,
)
from mailhook.context import CheckContext
from mailhook.dns import DnsTempError, Resolver
from mailhook.domains import organisational_domain
from mailhook.findings import Finding
from mailhook.message import Envelope, InboundMessage

NAME = "spf"
RESULTS: tuple[str, ...] = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
# RFC 7208 §4.6.4: a limit on the elapsed time of one evaluation SHOULD allow at least
# 20 seconds; when it is exceeded the result is temperror.
TIME_BUDGET = 20.0
# A matched mechanism is quoted in the reason; a hostile record should not fill it.
MAX_MECHANISM_SHOWN = 80
# pyspf quotes the broken part of a record; records may be long (RFC 7208 §3.4).
MAX_PROBLEM_SHOWN = 160

# pyspf looks every name up through the module-level function ``spf.DNSLookup``. We
# replace it once, at import, with ``_lookup_through_resolver``, which asks the Resolver
# of the evaluation running in the current thread (or asyncio task): several messages
# may be checked at once in different threads, each with its own CheckContext, so the
# resolver cannot be a module global swapped per call. A ContextVar is private to each
# thread and each task, and ``evaluate_spf`` sets and resets it around one evaluation.
_ACTIVE_RESOLVER: ContextVar[Resolver | None] = ContextVar("spf_resolver", default=None)
# pyspf's own dnspython adapter, for anyone calling pyspf outside our evaluation.
_PYSPF_LOOKUP: Callable[..., list[tuple[tuple[str, str], Any]]] = spf.DNSLookup_dnspython


def _lookup_through_resolver(
    name: str, qtype: str, strict: object = True, timeout: float | None = None
) -> list[tuple[tuple[str, str], Any]]:
    """``spf.DNSLookup`` over our Resolver: ((name, type), value) for each record.

    The value shapes are those of pyspf's own dnspython adapter: an address string for
    A/AAAA, (preference, exchange) for MX, the target name for PTR and the tuple of
    character strings (bytes) for TXT/SPF. A DNS failure becomes ``spf.TempError``.
    """
    resolver = _ACTIVE_RESOLVER.get()
    if resolver is None:
        # Outside an evaluation of ours pyspf behaves as it would without us.
        return _PYSPF_LOOKUP(name, qtype, strict, timeout)
    try:
        answer = resolver.resolve(name, qtype, timeout=timeout)
    except DnsTempError as exc:
        raise spf.TempError(str(exc)) from None
    values = [_value(qtype, record) for record in answer.records]
    return [((name, qtype), value) for value in values if value is not None]


def _value(qtype: str, record: Any) -> Any:
    if qtype in ("A", "AAAA"):
        return record.address
    if qtype == "MX":
        return (record.preference, record.exchange.to_text(omit_final_dot=True))
    if qtype == "PTR":
        return record.target.to_text(omit_final_dot=True)
    if qtype in ("TXT", "SPF"):
        return tuple(record.strings)
    return None


spf.DNSLookup = _lookup_through_resolver


class _Query(spf.query):  # type: ignore[misc]
    """pyspf's evaluation, with one rule of RFC 7208 that it leaves to its DNS layer,
    noting in each record it evaluates the term that matched (_spf_terms)."""

    def check1(self, record: str, domain: str, recursion: int) -> Any:
        evaluation = begin_record(self, record, domain, recursion)
        try:
            result = super().check1(record, domain, recursion)
        finally:
            end_record(self)
        evaluation.result = result[0]
        return result

    def validate_mechanism(self, mech: str) -> tuple[Any, ...]:
        return watch_term(self, super().validate_mechanism(mech))

    def validated_ptrs(self) -> list[str]:
        # RFC 7208 §5.5: "If a DNS error occurs while doing an A RR lookup, then that
        # domain name is skipped and the search continues." pyspf lets the error end
        # the whole evaluation as temperror. At most 10 names are looked up (§4.6.4).
        validated: list[str] = []
        for name in self.dns_ptr(self.i)[: spf.MAX_PTR]:
            try:
                addresses = self.dns_a(name, self.A)
            except spf.TempError:
                continue
            if self.cidrmatch(addresses, self.cidrmax):
                validated.append(name)
        return validated


@register(
    NAME, "the connecting host may send mail for the MAIL FROM (or HELO) domain", results=RESULTS
)
def check_spf(message: InboundMessage, context: CheckContext) -> Finding:
    return evaluate_spf(message.envelope, context.resolver, receiver=context.trust.authserv_id)


def evaluate_spf(
    envelope: Envelope,
    resolver: Resolver | None,
    *,
    budget: float = TIME_BUDGET,
    receiver: str = "intakeguard",
) -> Finding:
    """The SPF result of ``envelope`` as it is, with a sentence saying what was checked."""
    helo = (envelope.helo or "").strip()
    try:
        path = parse_path(envelope.mail_from or "")
    except InvalidAddress as exc:
        # RFC 7208 §4.3: a sender whose domain cannot be read gives "none". Never the
        # text after the first "@": that is how "jan@kowalski.pl"@evil.pl became a check
        # of kowalski.pl.
        return Finding(
            name=NAME,
            result="none",
            reason=f"SPF none: the MAIL FROM {quoted(envelope.mail_from or '')} has no domain "
            f"that can be checked ({exc}; RFC 7208 §4.3).",
            evidence={"result": "none", "domain": None, "identity": "mailfrom"},
        )
    mail_from = path.address
    # RFC 7208 §2.4: with an empty MAIL FROM the identity checked is postmaster@HELO.
    identity = "mailfrom" if not path.is_null else "helo"
    domain = path.domain if not path.is_null else helo
    client_ip = (envelope.client_ip or "").strip()
    if path.is_null and not helo:
        return _not_evaluated(
            "the message came with neither a MAIL FROM address nor a HELO name to check",
            None,
            identity,
        )
    if not client_ip:
        return _not_evaluated(
            "the address of the client that handed the message over is unknown",
            domain,
            identity,
        )
    if resolver is None:
        return _not_evaluated("no DNS resolver is configured", domain, identity)
    started = time.monotonic()
    try:
        query, (result, _code, explanation), (anyone, record_domain) = _run(
            resolver, client_ip, path, helo, receiver, budget
        )
    except spf.PermError:
        return _not_evaluated(
            f"the client address {client_ip!r} is not an IP address", domain, identity
        )
    domain = str(query.o or domain).lower().rstrip(".")
    subject = (
        f"the MAIL FROM domain {domain} ({mail_from})"
        if identity == "mailfrom"
        else f"the HELO name {domain} (the MAIL FROM was empty)"
    )
    out_of_time = time.monotonic() - started >= budget
    if result == "temperror" and (out_of_time or "exceeded max query lookup time" in explanation):
        reason = (
            f"SPF temperror: checking {subject} for {query.c} ran out of its {budget:g}-second "
            "time budget (RFC 7208 §4.6.4); the message will be checked again when the sender "
            "retries."
        )
    else:
        reason = _reason(result, subject, query.c, query.mechanism, explanation)
    evidence = {"result": result, "domain": domain, "identity": identity}
    if anyone is not None:
        reason = (
            f"SPF pass that proves nothing: {subject} lets {query.c} send its mail only "
            f"through {anyone}. Any host passes it, so the pass does not authenticate the "
            "sender."
        )
        evidence["anyone_passes"] = anyone
    elif record_domain and organisational_domain(record_domain) != organisational_domain(domain):
        # The host is one another organisation answers for (a hosted mail service or a
        # shared relay the record includes, redirects to or names): it sends for every
        # customer of theirs alike,
        # so the pass says which service handed the message over, not which customer.
        reason = reason.removesuffix(".") + (
            f"; the host passes through {record_domain}, another organisation's name, as "
            "every sender it serves does."
        )
        evidence["authorised_by"] = record_domain
    return Finding(name=NAME, result=result, reason=reason, evidence=evidence)


def _run(
    resolver: Resolver, client_ip: str, path: Path, helo: str, receiver: str, budget: float
) -> tuple[Any, tuple[str, int, str], tuple[str | None, str | None]]:
    """pyspf's query, its (result, SMTP code, explanation), and for a pass what makes
    it a pass for any host (None when nothing does) and the domain whose record
    authorises the host; all DNS through ``resolver``.

    Raises spf.PermError when ``client_ip`` is not an IP address.
    """
    token = _ACTIVE_RESOLVER.set(resolver)
    try:
        # With a querytime pyspf bounds the whole evaluation, and each lookup by what
        # is left of it; the Resolver's own timeout bounds each lookup too.
        # pyspf splits its sender at the first "@" (split_email), so it is handed a
        # placeholder local part and given the parsed one afterwards, for the %{l} and
        # %{s} macros (RFC 7208 §7.3).

        query = _Query(
            i=client_ip,
            s=f"postmaster@{path.domain}" if not path.is_null else "",
            h=_ascii_domain(helo),
            receiver=receiver,
            querytime=budget,
        )
        if not path.is_null:
            query.l = path.local or "postmaster"
            query.s = f"{query.l}@{path.domain}"
        outcome = query.check()
        return query, outcome, _judge_pass(query, outcome[0])
    finally:
        _ACTIVE_RESOLVER.reset(token)


def _judge_pass(query: _Query, result: str) -> tuple[str | None, str | None]:
    """For a pass: the terms that let any host pass it (_spf_terms; None when nothing
    does), and the domain whose own record authorises the host (None when not a pass)."""
    if result != "pass":
        return None, None
    try:
        terms, record_domain = pass_path(query)
    except Untraceable as exc:
        # What the include matched is not known: not taken on trust (fail closed).
        return f"'{query.mechanism}', whose match cannot be traced ({exc})", None
    return lets_anyone_pass(terms), record_domain


def _reason(result: str, subject: str, ip: str, mechanism: str | None, explanation: str) -> str:
    matched = _matched(mechanism)
    if result == "pass":
        return f"SPF pass: {subject} authorises {ip} to send its mail ({matched})."
    if result == "fail":
        return (
            f"SPF fail: {subject} does not allow {ip} to send its mail ({matched}); the "
            "envelope sender is forged, or the message was forwarded."
        )
    if result == "softfail":
        return (
            f"SPF softfail: {subject} says {ip} is probably not allowed to send its mail "
            f"({matched}), without asking receivers to refuse it."
        )
    if result == "neutral":
        return (
            f"SPF neutral: {subject} states nothing about whether {ip} may send its mail "
            f"({matched})."
        )
    if result == "none":
        return (
            f"SPF none: {subject} publishes no SPF record, so nothing says whether {ip} "
            "may send its mail."
        )
    problem = explanation.split(": ", 1)[-1].rstrip(".")[:MAX_PROBLEM_SHOWN]
    if result == "temperror":
        return (
            f"SPF temperror: checking {subject} for {ip} needs DNS answers that are not "
            f"available now ({problem}); the message will be checked again when the sender "
            "retries."
        )
    # permerror: the domain's SPF record cannot be evaluated (RFC 7208 §2.6.7).
    return (
        f"SPF permerror: the SPF record of {subject} is broken ({problem}), so it cannot "
        f"say whether {ip} may send its mail."
    )


def _matched(mechanism: str | None) -> str:
    if not mechanism:
        # RFC 7208 §4.7: no mechanism matched and there is no redirect.
        return "no mechanism matched"
    if len(mechanism) > MAX_MECHANISM_SHOWN:
        mechanism = mechanism[:MAX_MECHANISM_SHOWN] + "…"
    return f"matched mechanism '{mechanism}'"


def _not_evaluated(why: str, domain: str | None = None, identity: str = "mailfrom") -> Finding:
    return Finding(
        name=NAME,
        result="none",
        reason=f"SPF could not be evaluated: {why}.",
        evidence={"result": "none", "domain": domain, "identity": identity},
    )


def _ascii_domain(domain: str) -> str:
    """``domain`` as an A-label (RFC 5890), the form DNS is asked in.

    A domain IDNA refuses is left as it is: it has no records, and pyspf reports it
    as having none.
    """
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain
