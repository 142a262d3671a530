"""from-mailbox: header From holds exactly one valid mailbox (RFC 5322 §3.6.2)."""

from __future__ import annotations

from dataclasses import dataclass
from email.errors import NonASCIILocalPartDefect
from email.headerregistry import AddressHeader

from mailhook.addresses import InvalidAddress, normalise_address, parse_mailbox
from mailhook.checks._headers import parse_addresses, plain_mailbox, raw_fields
from mailhook.checks._registry import register
from mailhook.context import CheckContext
from mailhook.findings import Finding
from mailhook.message import InboundMessage

NAME = "from-mailbox"
RESULTS: tuple[str, ...] = ("pass", "fail")
# Far beyond one mailbox with the longest display name a mail program writes.
MAX_FROM_LENGTH = 4096


@register(NAME, "header From holds exactly one valid mailbox", results=RESULTS)
def check_from_mailbox(message: InboundMessage, context: CheckContext) -> Finding:
    values = raw_fields(message, "From")
    if not values:
        return _fail("The message has no From header, so its sender cannot be identified.")
    if len(values) > 1:
        return _fail(
            f"The message has {len(values)} From headers; RFC 5322 allows one, "
            "and a second one is a common way to show a forged sender."
        )
    if len(values[0]) > MAX_FROM_LENGTH:
        # The stdlib address parser takes seconds on a long list of addresses.
        return _fail(f"The From header is {len(values[0]) // 1024} KB long; one mailbox never is.")
    mailbox = _mailbox(message, values[0])
    if isinstance(mailbox, Finding):
        return mailbox
    display_name, addr_spec = mailbox
    try:
        address = normalise_address(addr_spec)
    except InvalidAddress as exc:
        return _fail(f"The From address {addr_spec!r} is not a valid mailbox: {exc}")
    other = _read_by_our_parser(values[0])
    if other is not None and other != address:
        # Two readings of one header: the standard library's (which the checks use) and
        # ours (as in the envelope). A mail client may show either; trust neither.
        return _fail(
            f"The From header reads as {address} to one address parser and as {other} to "
            "another; a mail client may show either, so the sender is not known."
        )
    return Finding(
        name=NAME,
        result="pass",
        reason=f"The message is from {address}.",
        evidence={"address": address, "display_name": display_name},
    )


def _mailbox(message: InboundMessage, raw_value: str) -> tuple[str, str] | Finding:
    """(display name, addr-spec) of the one mailbox in From, or the failing finding."""
    plain = plain_mailbox(raw_value)
    if plain is not None:
        return plain
    try:
        header = message.parsed.policy.header_fetch_parse("From", _utf8(raw_value))
    except Exception as exc:  # noqa: BLE001 - the stdlib parser raises assorted errors
        return _fail(f"The From header cannot be parsed ({type(exc).__name__}).")
    if not isinstance(header, AddressHeader):
        return _fail("The From header cannot be read as an address.")
    if header.groups and any(group.display_name is not None for group in header.groups):
        return _fail("The From header holds a group, not a single mailbox.")
    if len(header.addresses) != 1:
        return _fail(
            f"The From header holds {len(header.addresses)} mailboxes; exactly one is needed "
            "to know who sent the message."
        )
    # RFC 6532 §3.2 allows a UTF-8 local part; email_validator judges it.
    defects = [
        defect
        for defect in getattr(header, "defects", ())
        if not isinstance(defect, NonASCIILocalPartDefect)
    ]
    if defects:
        return _fail("The From header is malformed (" + "; ".join(map(_describe, defects)) + ").")
    mailbox = header.addresses[0]
    return mailbox.display_name, mailbox.addr_spec


def _read_by_our_parser(raw_value: str) -> str | None:
    """The From mailbox as mailhook.addresses reads it, normalised; None when it cannot.

    A value of the plain form is read alike by both (property-tested in _headers), so
    only the others are read again.
    """
    if plain_mailbox(raw_value) is not None:
        return None
    try:
        path = parse_mailbox(_utf8(raw_value)).path
    except InvalidAddress:
        # The standard library's reading stands; ours refuses more obsolete forms.
        return None
    return f"{path.local.lower()}@{path.domain}"


def _utf8(raw_value: str) -> str:
    """``raw_value`` with its 8-bit bytes read as UTF-8 (RFC 6532 §3.2), where they are.

    The parser hands header bytes over as surrogate escapes, which the address parser
    reports as undecodable; an internationalised address (``jan@żółw.pl``) is valid.
    Bytes that are not UTF-8 stay escaped and are reported as a defect.
    """
    try:
        return raw_value.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return raw_value


def _describe(defect: Exception) -> str:
    # Some stdlib defects carry no message (InvalidBase64CharactersDefect); their
    # docstring says what is wrong.
    return str(defect) or (type(defect).__doc__ or type(defect).__name__).strip()


def _fail(reason: str) -> Finding:
    return Finding(name=NAME, result="fail", reason=reason)


@dataclass(frozen=True, slots=True)
class FromMailbox:
    """The one From mailbox, as the from-mailbox check found it."""

    address: str  # normalised: lower case, A-label domain
    display_name: str
    written_domain: str  # the domain as the header writes it (case, U-label or A-label)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def from_mailbox(message: InboundMessage, context: CheckContext) -> FromMailbox | None:
    """The From mailbox when from-mailbox passed; None when there is no usable one.

    The finding of the pipeline's from-mailbox check is used when it ran; a check run on
    its own (a test, the CLI) runs that check itself, which is side-effect free.
    """
    finding: Finding | None = context.earlier.get("from-mailbox")
    if finding is None:
        finding = check_from_mailbox(message, context)
    if finding.result != "pass":
        return None
    address = str(finding.evidence["address"])
    written = address.rpartition("@")[2]
    fields = raw_fields(message, "From")
    plain = plain_mailbox(fields[0]) if len(fields) == 1 else None
    if plain is not None:
        written = plain[1].rpartition("@")[2]
    else:
        parsed = parse_addresses(message, "From", fields[0]) if len(fields) == 1 else None
        if parsed and parsed[0].domain:
            written = parsed[0].domain
    return FromMailbox(
        address=address,
        display_name=str(finding.evidence.get("display_name") or ""),
        written_domain=written,
    )
