"""One plain mailbox address, as the alert mail is sent from and to (RFC 5322, RFC 6531).

A leaf below settings and delivery: the settings check ``ALERT_FROM`` with it when they
load, and app.delivery.alerts checks every address it writes into a header.
"""

from __future__ import annotations

import re
import unicodedata

import idna

# RFC 5322 §3.2.3 atext, to which RFC 6531 §3.3 adds every non-ASCII character; the
# controls, separators and spaces among those are refused before this is matched.
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]"
_LOCAL_PART = re.compile(rf"^{_ATEXT}+(?:\.{_ATEXT}+)*$")
_DOMAIN = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def check_mailbox(address: str) -> str:
    """``address`` if it is one plain mailbox (its IDN domain as an A-label), else ValueError.

    A dot-atom only, nothing that could end a header or add a recipient; the local part
    may be UTF-8 (RFC 6531), which needs a relay that announces SMTPUTF8.
    """
    local, at, domain = address.rpartition("@")
    if (
        not at
        or any(unicodedata.category(c)[0] in "CZ" for c in address)
        or not _LOCAL_PART.match(local)
        or len(local.encode()) > 64
    ):
        raise ValueError(f"{address[:80]!r} is not a single plain mailbox address")
    ascii_domain = domain if domain.isascii() else _a_label(domain)
    checked = f"{local}@{ascii_domain}"
    if len(checked.encode()) > 254 or not _DOMAIN.match(ascii_domain):
        raise ValueError(f"{address[:80]!r} is not a single plain mailbox address")
    return checked


def _a_label(domain: str) -> str:
    """An internationalised domain as DNS and SMTP without SMTPUTF8 know it (RFC 5890)."""
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"the domain {domain[:80]!r} is not a valid domain name: {exc}") from None
