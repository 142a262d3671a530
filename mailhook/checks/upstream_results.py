"""upstream-results: Authentication-Results (RFC 8601) trusted only from our own servers."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailhook.authresults import ResultsHeader, parse_results_header, upstream_results
from mailhook.checks._registry import register
from mailhook.context import CheckContext
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "upstream-results"
RESULTS: tuple[str, ...] = ("pass", "none", "forged", "repeated")


@dataclass
class _Reading:
    """The Authentication-Results headers of a message, sorted by whether to trust them."""

    trusted: list[ResultsHeader] = field(default_factory=list)
    forged: list[str] = field(default_factory=list)
    forged_ids: list[str] = field(default_factory=list)
    untrusted: list[str] = field(default_factory=list)
    # Trusted ids met again below their topmost header: (id, how many more).
    repeated: dict[str, int] = field(default_factory=dict)
    unreadable: int = 0


@register(
    NAME,
    "Authentication-Results taken only from trusted authserv-ids at the top, through our hop",
    results=RESULTS,
)
def check_upstream_results(message: InboundMessage, context: CheckContext) -> Finding:
    values = [value for key, value in message.parsed.raw_items() if _is_results_header(key)]
    if not values:
        return Finding(
            name=NAME,
            result="none",
            reason="The message carries no Authentication-Results header.",
            evidence={"authserv_id": None, "forged": []},
        )
    reading = _sort(values, context, trusted_hop=message.envelope.trusted_hop)
    trusted_ids = [header.authserv_id for header in reading.trusted]
    evidence = {
        "authserv_id": trusted_ids[0] if trusted_ids else None,
        "forged": reading.forged_ids,
        **upstream_results(reading.trusted).as_evidence(),
    }
    if reading.forged:
        more = len(reading.forged) - 1
        return Finding(
            name=NAME,
            result="forged",
            reason=f"An Authentication-Results header is forged: {reading.forged[0]}"
            + (f" ({more} more forged header{'s' if more > 1 else ''} too)." if more else "."),
            evidence=evidence,
        )
    if reading.repeated:
        # Nothing of the run is used: which instance our server wrote cannot be told.
        return Finding(
            name=NAME,
            result="repeated",
            reason=_repeated_reason(reading.repeated),
            evidence={**evidence, "repeated": sorted(reading.repeated)},
        )
    if reading.trusted:
        # "pass" says that trusted results were found; what they report (a fail, too)
        # is in the evidence, for DMARC to weigh.
        many = len(reading.trusted) > 1
        unreadable = f"; {_unreadable(reading.unreadable)}" if reading.unreadable else ""
        return Finding(
            name=NAME,
            result="pass",
            reason=f"The trusted Authentication-Results header{'s' if many else ''} of "
            f"{_join(trusted_ids)} {'report' if many else 'reports'} "
            f"{upstream_results(reading.trusted).describe()}{unreadable}.",
            evidence=evidence,
        )
    return Finding(name=NAME, result="none", reason=_none_reason(reading), evidence=evidence)


def _sort(values: list[str], context: CheckContext, *, trusted_hop: bool) -> _Reading:
    """Which headers to trust, walking from the top (the most recent) down.

    Without a ``trusted_hop`` (the message reached us from the sending client itself,
    not through a relay, the pipe or a REST caller of ours) nothing in it was written by
    our servers: a header claiming a trusted id, or ours, is forged wherever it sits.

    RFC 8601 §5: a header is taken on trust only from a server of our own, and our
    servers are the last hops, so their headers are the topmost run. A header claiming a
    trusted id below one written elsewhere was there before our servers saw the message:
    someone on the way wrote it. A header claiming our own authserv-id is forged too,
    because intakeguard writes none into the message it checks (unless an operator runs
    its MTA under the same id and trusts it, which makes it an ordinary trusted id).
    """
    trusted_ids = context.trust.trusted_authserv_ids
    own_id = context.trust.authserv_id.lower()
    reading = _Reading()
    for value in values:
        header = parse_results_header(value)
        if header is None:
            reading.unreadable += 1
            continue
        writer = header.authserv_id
        if not trusted_hop and (writer in trusted_ids or writer == own_id):
            # No server of ours handed the message over: every header in it is the
            # sending client's text, and one claiming our id is a lie (RFC 8601 §5).
            reading.forged_ids.append(writer)
            reading.forged.append(
                f"it claims the trusted authserv-id {writer}, but the message came straight "
                "from the sending client, not through one of our relays, so the sender wrote it"
            )
        elif writer == own_id and writer not in trusted_ids:
            reading.forged_ids.append(writer)
            reading.forged.append(
                f"it claims intakeguard's own authserv-id {writer}, which no server before us "
                "may use"
            )
        elif writer in trusted_ids:
            _file_trusted(reading, header)
        else:
            reading.untrusted.append(writer)
    return reading


def _file_trusted(reading: _Reading, header: ResultsHeader) -> None:
    """File a header claiming a trusted id: trusted, repeated, or forged below another."""
    writer = header.authserv_id
    if reading.untrusted:
        reading.forged_ids.append(writer)
        reading.forged.append(
            f"it claims the trusted authserv-id {writer} but sits below a header written "
            f"by the untrusted {reading.untrusted[0]}, so our servers did not write it"
        )
    elif any(earlier.authserv_id == writer for earlier in reading.trusted):
        # RFC 8601 §5: a server removes the headers claiming its own id before adding its
        # own, so it writes one per pass; another below it was there before our server
        # saw the message (the sender's), or our relay does not remove them.
        reading.repeated[writer] = reading.repeated.get(writer, 0) + 1
    else:
        reading.trusted.append(header)


def _repeated_reason(repeated: dict[str, int]) -> str:
    said = ", ".join(
        f"{writer} {'once' if count == 1 else f'{count} times'} more"
        for writer, count in repeated.items()
    )
    return (
        "A trusted authserv-id appears again below its topmost Authentication-Results header "
        f"({said}): our server writes one per pass and removes any other (RFC 8601 §5), so "
        "another was there before it saw the message, written by the sender or on the way; "
        "no trusted header is used, and an agent should look at the message."
    )


def _none_reason(reading: _Reading) -> str:
    parts: list[str] = []
    if reading.untrusted:
        one = len(reading.untrusted) == 1
        parts.append(
            f"the {'header' if one else f'{len(reading.untrusted)} headers'} written by "
            f"{_join(reading.untrusted)} {'is' if one else 'are'} ignored, as no trusted "
            f"authserv-id wrote {'it' if one else 'them'}"
        )
    if reading.unreadable:
        parts.append(_unreadable(reading.unreadable))
    return "No trusted Authentication-Results header: " + "; ".join(parts) + "."


def _unreadable(count: int) -> str:
    if count == 1:
        return "one header cannot be parsed and is treated as absent"
    return f"{count} headers cannot be parsed and are treated as absent"


def _join(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: each name once, in order."""
    unique = list(dict.fromkeys(names))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


def _is_results_header(name: str) -> bool:
    return name.strip().lower() == "authentication-results"
