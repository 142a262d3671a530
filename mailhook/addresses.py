"""Mailbox addresses: parsing header From and normalising addresses for comparison."""

from __future__ import annotations

import idna
from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """An address that is not a single valid mailbox."""


def normalise_address(address: str) -> str:
    """Return ``address`` in the form addresses are compared in.

    The domain is case-insensitive and may be written as U-label or A-label
    (RFC 5890), so it becomes a lower-case A-label. The local part is folded to
    lower case too: every mailbox provider our customers use treats it that way,
    and a comparison that is stricter than delivery would only confuse agents.
    """
    try:
        checked = validate_email(
            address, check_deliverability=False, allow_smtputf8=True, allow_quoted_local=False
        )
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from exc
    domain = checked.domain.lower()
    if domain.isascii() and "xn--" not in domain:
        # email_validator let it through as letters, digits and hyphens in labels of 1-63
        # not starting or ending with "-" nor holding "--" third and fourth: IDNA keeps
        # such a name as it is. The idna call was a third of this function's time.
        return f"{checked.local_part.lower()}@{domain}"
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidAddress(f"the domain {domain!r} is not a valid domain name: {exc}") from exc
    return f"{checked.local_part.lower()}@{ascii_domain}"


def mask_address(address: str) -> str:
    """Show enough of an address for an agent to recognise it, not to harvest it."""
    local, _, domain = address.partition("@")
    if not domain:
        return "***"
    shown = local[:1] if len(local) <= 3 else local[:2]
    return f"{shown}***@{domain}"
