"""sender-headers: Sender, Reply-To and every header that sends answers elsewhere stay in
the organisation of the From domain."""

from __future__ import annotations

from mailhook.checks._headers import parse_addresses, quoted, raw_fields
from mailhook.checks._registry import register
from mailhook.checks.from_mailbox import from_mailbox
from mailhook.context import CheckContext
from mailhook.domains import normalise_domain, organisational_domain
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "sender-headers"
RESULTS: tuple[str, ...] = ("pass", "fail", "none")
# Headers whose addresses say who else speaks for, or answers for, the From address:
# RFC 5322's, the Resent- fields of a message handed on (§3.6.6), and those mail programs
# send replies (Mail-Reply-To, Mail-Followup-To) or receipts (RFC 8098, and the older
# Return-Receipt-To) to. A signed message replayed with one of them added would have the
# desk answer the attacker.
HEADERS = (
    "Sender",
    "Reply-To",
    "Resent-From",
    "Resent-Sender",
    "Mail-Reply-To",
    "Mail-Followup-To",
    "Disposition-Notification-To",
    "Return-Receipt-To",
)
# The headers naming who handed the message over for the From address (RFC 5322 §3.6.2,
# §3.6.6): a registered customer there, other than the one in From, is told apart by the
# decision (handed-over-by).
HANDED_OVER_BY = ("Sender", "Resent-From", "Resent-Sender")
# Where the desk's answer goes instead of From: compared with the registry too.
ANSWERED_TO = ("Reply-To", "Mail-Reply-To", "Mail-Followup-To")
# More mailboxes than this in one header are not looked at one by one.
MAX_ADDRESSES = 20
# A Reply-To naming a few hundred addresses is this long; the stdlib parser takes seconds
# on a much longer one, so it is not parsed.
MAX_FIELD_LENGTH = 8192
# Mailbox providers anyone can sign up with. Only named in the reason: a reply going to a
# free mailbox is the classic step of an account takeover, worth saying so to an agent.
FREEMAIL = frozenset(
    {
        "aol.com",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hotmail.com",
        "icloud.com",
        "interia.pl",
        "live.com",
        "mail.com",
        "mail.ru",
        "o2.pl",
        "onet.pl",
        "op.pl",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "tlen.pl",
        "wp.pl",
        "yahoo.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
    }
)


# What an address of each header elsewhere than the From organisation means.
CONSEQUENCE = {
    "Sender": "someone else handed the message over for the author",
    "Reply-To": "replies would go to someone else",
    "Resent-From": "someone else handed the message on",
    "Resent-Sender": "someone else handed the message on",
    "Mail-Reply-To": "replies would go to someone else",
    "Mail-Followup-To": "replies would go to someone else",
    "Disposition-Notification-To": "read receipts would go to someone else",
    "Return-Receipt-To": "receipts would go to someone else",
}


@register(
    NAME, "Sender and Reply-To are in the same organisational domain as From", results=RESULTS
)
def check_sender_headers(message: InboundMessage, context: CheckContext) -> Finding:
    mailbox = from_mailbox(message, context)
    if mailbox is None:
        return Finding(
            NAME, "none", "Sender and Reply-To cannot be compared: From has no usable address."
        )
    from_org = organisational_domain(mailbox.domain)
    problems: list[str] = []
    seen: list[str] = []
    for header in HEADERS:
        names_someone, problem = _inspect(message, header, from_org)
        if names_someone:
            seen.append(header)
        if problem:
            problems.append(problem)
    if problems:
        return Finding(NAME, "fail", " ".join(problems))
    if not seen:
        return Finding(
            NAME, "pass", "There is no Sender or Reply-To header; replies go to the From address."
        )
    return Finding(
        NAME,
        "pass",
        f"{' and '.join(seen)} {'is' if len(seen) == 1 else 'are'} in the From domain's "
        f"organisation {from_org}.",
        # Who handed it over, compared with the registry's panel addresses
        # (app.decision, handed-over-by).
        evidence={
            "handed_over_by": _addresses_of(message, HANDED_OVER_BY),
            "answered_to": _addresses_of(message, ANSWERED_TO),
        },
    )


def _addresses_of(message: InboundMessage, headers: tuple[str, ...]) -> dict[str, list[str]]:
    """The addresses of ``headers`` (Sender, Resent-From and Resent-Sender: who handed the
    message over; Reply-To…: where the answer goes), by header, lower case."""
    found: dict[str, list[str]] = {}
    for header in headers:
        for value in raw_fields(message, header):
            for address in (parse_addresses(message, header, value) or [])[:MAX_ADDRESSES]:
                if address.domain:
                    local = address.username.lower()
                    found.setdefault(header, []).append(
                        f"{local}@{normalise_domain(address.domain)}"
                    )
    return found


def _inspect(message: InboundMessage, header: str, from_org: str) -> tuple[bool, str | None]:
    """Whether ``header`` names anyone, and what is wrong with it (None when nothing is)."""
    fields = raw_fields(message, header)
    if not fields:
        return False, None
    if len(fields) > 1:
        # RFC 5322 §3.6: Sender and Reply-To may each appear at most once; the others
        # name one list of addresses too.
        return True, f"The message has {len(fields)} {header} headers; one is allowed."
    if len(fields[0]) > MAX_FIELD_LENGTH:
        return True, (
            f"The {header} header is {len(fields[0]) // 1024} KB long, far longer than any "
            "list of addresses a mail program writes."
        )
    addresses = parse_addresses(message, header, fields[0])
    if addresses is None or any(not address.domain for address in addresses):
        return True, f"The {header} header ({quoted(fields[0])}) is not a valid address."
    elsewhere = [
        _where(address.addr_spec, address.domain)
        for address in addresses[:MAX_ADDRESSES]
        if organisational_domain(address.domain) != from_org
    ]
    # An empty one (or an empty group) names nobody: as if it were absent.
    if not elsewhere:
        return bool(addresses), None
    return True, (
        f"{header} points to {', '.join(elsewhere)}, outside the From domain's "
        f"organisation {from_org}: {CONSEQUENCE[header]}."
    )


def _where(addr_spec: str, domain: str) -> str:
    """One address for a reason: normalised domain, and whether anyone can have one there."""
    org = organisational_domain(domain)
    shown = quoted(f"{addr_spec.rpartition('@')[0]}@{normalise_domain(domain)}")
    return f"{shown} (a free mailbox at {org})" if org in FREEMAIL else shown
