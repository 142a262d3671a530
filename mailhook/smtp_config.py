"""What the SMTP receiver accepts, from whom, and how much: its configuration."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass

from mailhook.addresses import InvalidAddress, parse_path
from mailhook.domains import normalise_domain

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """What the receiver accepts, from whom, and how much."""

    recipients: tuple[str, ...]
    """Addresses (``desk@host.example``) or whole domains (``@host.example``)."""
    max_message_bytes: int = 25 * 1024 * 1024
    trusted_relays: tuple[IpNetwork, ...] = ()
    """Peers whose XFORWARD we believe (Postfix in front of us as a content filter)."""
    max_sessions: int = 200
    max_sessions_per_client: int = 20
    """At once per client IP (IPv6: per /64); trusted relays are exempt. 20 is Postfix's
    default concurrency towards one destination, so a Postfix sender never meets it."""
    max_connections_per_minute: int = 120
    """Per client IP; trusted relays are exempt (they carry everyone's mail)."""
    max_recipients: int = 100
    hostname: str = "intakeguard"
    tls_context: ssl.SSLContext | None = None
    """Offered with STARTTLS (RFC 3207) when set."""
    proxy_protocol: bool = False
    """Expect a HAProxy PROXY header first on every connection, from trusted relays only."""
    idle_timeout: float = 60.0
    """How long the receiver waits for the next command (and for more DATA) before a 421.
    RFC 5321 §4.5.3.2.7 asks 5 minutes; like Postfix under stress, we give a client that
    says nothing much less: an MTA sends its next command at once."""
    session_timeout: float = 600.0
    """A session's whole life; NOOPs and RSETs do not extend it. A message being checked
    when the time is up gets its answer first."""
    data_timeout: float = 30.0
    """What any DATA section may take, whatever its size; beyond it, see data_min_rate."""
    data_min_rate: int = 500
    """Bytes a second: each byte of DATA received buys 1/data_min_rate s more (Postfix's
    smtpd_min_data_rate). A client trickling its message is cut with a 421."""
    max_checking_bytes: int = 32 * 1024 * 1024
    """Bytes of messages parsed and checked at once (a bigger message alone): parsing and
    checks hold several copies of a message, and under the GIL more at once is not faster.
    A message waiting for its turn holds only its raw bytes."""

    def accepts(self, address: str) -> bool:
        """Whether ``address`` (a RCPT TO path) is one of ours, read by the one parser.

        RFC 5321 §4.1.2: the domain is what follows the (perhaps quoted) local part, so
        ``"desk@hosting.example"@elsewhere.example`` is a mailbox at elsewhere.example.
        Case, a trailing dot and a U-label domain do not make another mailbox.
        """
        return is_recipient(address, self.recipients)

    def trusts(self, ip: str | None) -> bool:
        if ip is None:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_relays)


def is_recipient(address: str, recipients: tuple[str, ...]) -> bool:
    """Whether ``address`` (a RCPT TO path) is one of ``recipients`` (addresses, @domains)."""
    mailbox = mailbox_of(address)
    if mailbox is None:
        return False
    domain = mailbox.rpartition("@")[2]
    return any(_recipient_matches(mailbox, domain, wanted) for wanted in recipients)


def _recipient_matches(mailbox: str, domain: str, wanted: str) -> bool:
    """Whether ``mailbox`` (local@domain, normalised) is the INTAKE_RECIPIENTS entry ``wanted``."""
    if wanted.startswith("@"):
        return domain == normalise_domain(wanted[1:])
    try:
        path = parse_path(wanted)
    except InvalidAddress:
        return False
    return mailbox == f"{path.local.lower()}@{path.domain}"


def mailbox_of(address: str) -> str | None:
    """``address`` as one mailbox (local part lowered, domain normalised), None if none."""
    try:
        path = parse_path(address)
    except InvalidAddress:
        return None
    if not path.local:
        return None
    return f"{path.local.lower()}@{path.domain}"
