"""The SMTP door: an aiosmtpd receiver that answers 250 only once a verdict is recorded."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import ssl
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, AnyStr

from aiosmtpd.smtp import MISSING, SMTP, Session, syntax
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from mailhook import metrics, replies
from mailhook.addresses import InvalidAddress, parse_path
from mailhook.budget import ByteBudget
from mailhook.domains import normalise_domain
from mailhook.errors import RefusedCredentials, TemporaryFailure, UnusableMessage
from mailhook.handoff import Handoff
from mailhook.message import Channel, Envelope, parse_message
from mailhook.smtp_data import read_data
from mailhook.tracing import new_request_id, request_id
from mailhook.xforward import parse_xforward

log = logging.getLogger(__name__)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
PROXY_TIMEOUT = 5.0

# RFC 5321 §4.1.2: a Path whose local part and domain are both dot-atoms, as nearly every
# MAIL FROM and RCPT TO is. For it, aiosmtpd's parse (email's header parser) gives back
# exactly the text between the brackets; see IntakeSMTP._getaddr.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*)>")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """What the receiver accepts, from whom, and how much."""

    recipients: tuple[str, ...]
    """Addresses (``desk@host.example``) or whole domains (``@host.example``)."""
    max_message_bytes: int = 25 * 1024 * 1024
    trusted_relays: tuple[IpNetwork, ...] = ()
    """Peers whose XFORWARD we believe (Postfix in front of us as a content filter)."""
    max_sessions: int = 200
    max_connections_per_minute: int = 120
    """Per client IP; trusted relays are exempt (they carry everyone's mail)."""
    max_recipients: int = 100
    hostname: str = "intakeguard"
    tls_context: ssl.SSLContext | None = None
    """Offered with STARTTLS (RFC 3207) when set."""
    proxy_protocol: bool = False
    """Expect a HAProxy PROXY header first on every connection, from trusted relays only."""
    command_timeout: float = 300.0
    """RFC 5321 §4.5.3.2: at least 5 minutes; a slow client costs one session slot."""
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
        try:
            path = parse_path(address)
        except InvalidAddress:
            return False
        if not path.local:
            return False
        mailbox = f"{path.local.lower()}@{path.domain}"
        return any(_recipient_matches(mailbox, path.domain, wanted) for wanted in self.recipients)

    def trusts(self, ip: str | None) -> bool:
        if ip is None:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_relays)


@dataclass
class Admission:
    """Session and per-client connection counting for the 421 limits."""

    open_sessions: int = 0
    recent: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    sessions: set[IntakeSMTP] = field(default_factory=set)
    # Set on shutdown: sessions end after their transaction instead of taking another.
    draining: bool = False

    def admit(self, config: SmtpConfig, client: str | None) -> str | None:
        """None to admit, else the 421 reply to give."""
        if self.open_sessions >= config.max_sessions:
            return replies.TOO_MANY_SESSIONS
        if client is None or config.trusts(client):
            return None
        now = time.monotonic()
        window = self.recent[client]
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) >= config.max_connections_per_minute:
            return replies.RATE_LIMITED.format(client=client)
        window.append(now)
        return None


class IntakeHandler:
    """aiosmtpd hooks: recipients, XFORWARD advertisement, and DATA to the hand-off."""

    def __init__(self, handoff: Handoff, config: SmtpConfig) -> None:
        self.handoff = handoff
        self.config = config
        self.checking = ByteBudget(config.max_checking_bytes)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: SmtpEnvelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.config.trusts(_peer_ip(session)):
            # Postfix XFORWARD_README: advertised only to clients allowed to use it.
            responses.insert(-1, "250-XFORWARD NAME ADDR PROTO HELO")
        return responses

    async def handle_PROXY(
        self, server: SMTP, session: Session, envelope: SmtpEnvelope, proxy_data: Any
    ) -> bool:
        # A PROXY header rewrites who the client is: believe it only from our own proxies.
        if not self.config.trusts(_peer_ip(session)):
            log.warning("PROXY header from untrusted peer %s refused", session.peer)
            return False
        return True

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: SmtpEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.config.accepts(address):
            # Never an open relay: only the desk's own addresses.
            return replies.UNKNOWN_RECIPIENT.format(address=address)
        if len(envelope.rcpt_tos) >= self.config.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        return replies.RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        raw = envelope.original_content or b""
        forwarded: dict[str, str] | None = None
        if isinstance(server, IntakeSMTP):
            # XFORWARD attributes hold for one transaction only.
            forwarded, server.xforward = server.xforward, None
        if forwarded is not None:
            # The relay spoke for the client: what it left out is unknown, not the relay's
            # own address or HELO (Postfix omits attributes it does not know).
            client_ip, helo = forwarded.get("ADDR"), forwarded.get("HELO")
        else:
            client_ip, helo = _client_ip(session), session.host_name
        message_envelope = Envelope(
            client_ip=client_ip,
            helo=helo,
            mail_from=envelope.mail_from or "",
            rcpt=tuple(envelope.rcpt_tos),
            # The hop that handed the message to us (the PROXY header's client, or the
            # peer): only a relay of ours can have written our Authentication-Results.
            trusted_hop=self.config.trusts(_client_ip(session)),
        )
        try:
            async with self.checking.share(len(raw)):
                message = parse_message(raw, message_envelope, Channel.SMTP)
                receipt = await self.handoff.submit(message)
        except UnusableMessage as exc:
            return replies.UNUSABLE_MESSAGE.format(reason=_one_line(str(exc)))
        except TemporaryFailure as exc:
            log.info("deferred (451), the sender retries: %s", _one_line(str(exc)))
            return replies.TEMPORARY_FAILURE.format(reason=_one_line(str(exc)))
        except RefusedCredentials:
            log.error("the decision API refused our token; check INTAKEGUARD_API_TOKEN")
            return replies.TEMPORARY_FAILURE.format(reason="The service is misconfigured.")
        except Exception:
            # Whatever went wrong, the message is not recorded: the sender must keep it.
            log.exception("intake failed for a message from %s", message_envelope.client_ip)
            return replies.TEMPORARY_FAILURE.format(reason="An internal error occurred.")
        return replies.RECORDED.format(verdict_id=receipt.verdict_id)


class IntakeSMTP(SMTP):
    """aiosmtpd's SMTP with connection limits and Postfix XFORWARD."""

    def __init__(self, handler: IntakeHandler, admission: Admission, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._intake = handler
        self._admission = admission
        self._counted = False
        # None until a trusted relay sends XFORWARD in the current transaction.
        self.xforward: dict[str, str] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._counted:
            # RFC 3207: after STARTTLS the same session starts again over TLS; it was
            # admitted and counted when it connected.
            super().connection_made(transport)
            return
        # Set before aiosmtpd creates the session's task, which copies the context: every
        # log line of the session, down to its verdict's, carries this id.
        request_id.set(new_request_id("smtp"))
        peer = transport.get_extra_info("peername")
        refusal = self._admission.admit(self._intake.config, peer[0] if peer else None)
        if refusal is None and self._admission.draining:
            refusal = replies.SHUTTING_DOWN
        if refusal is not None:
            log.warning("refused connection from %s: %s", peer, refusal)
            assert isinstance(transport, asyncio.WriteTransport)
            metrics.count_reply(refusal)
            transport.write(refusal.encode() + b"\r\n")
            transport.close()
            return
        self._admission.open_sessions += 1
        self._admission.sessions.add(self)
        metrics.SMTP_SESSIONS_OPEN.inc()
        self._counted = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._admission.open_sessions -= 1
            self._admission.sessions.discard(self)
            metrics.SMTP_SESSIONS_OPEN.dec()
            self._counted = False
        if self.session is not None:
            super().connection_lost(error)

    async def push(self, status: AnyStr) -> None:
        metrics.count_reply(
            status.decode("ascii", "replace") if isinstance(status, bytes) else status
        )
        await super().push(status)

    @property
    def in_transaction(self) -> bool:
        """Whether a MAIL FROM is open (aiosmtpd resets the envelope after DATA)."""
        return self.envelope is not None and self.envelope.mail_from is not None

    def close_for_shutdown(self) -> None:
        """Tell the client we are going away (421) and close the connection."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        assert isinstance(transport, asyncio.WriteTransport)
        metrics.count_reply(replies.SHUTTING_DOWN)
        transport.write(replies.SHUTTING_DOWN.encode() + b"\r\n")
        transport.close()

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        await self._data(arg)
        if self._admission.draining:
            # The transaction has its answer; no new one starts on a server going away.
            self.close_for_shutdown()

    async def _data(self, arg: str) -> None:
        # aiosmtpd's smtp_DATA step by step, except that mailhook.smtp_data reads the data
        # into one buffer instead of a bytearray per line (see there why).
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push(replies.DATA_NEEDS_RCPT)
            return
        if arg:
            await self.push(replies.DATA_SYNTAX)
            return
        await self.push(replies.DATA_GO_AHEAD)
        try:
            data = await read_data(self._reader, self.data_size_limit, self.line_length_limit)
        except asyncio.CancelledError:
            log.info("connection lost during DATA")
            self._writer.close()
            raise
        if isinstance(data, str):
            await self.push(data)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        # decode_data=False (mailhook.receiver): the content is the bytes as received.
        self.envelope.content = self.envelope.original_content = data
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push(replies.DATA_DEFAULT_OK if status is MISSING else status)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd 1.4 parses every MAIL FROM and RCPT TO address with email's header
        # parser and builds a typing.Protocol class on each call: ~45 us an address, two
        # per message. A plain <local@domain> is taken as is, with aiosmtpd's local-part
        # limit; anything else (quotes, domain literals, spaces, <>) goes to aiosmtpd.
        # tests/mailhook/test_smtp_addresses.py holds the two to the same answers.
        plain = _PLAIN_PATH.match(arg)
        rest = arg[plain.end() :] if plain is not None else ""
        if plain is None or "(" in rest:
            # (A comment after the path is parsed away with it, by aiosmtpd.)
            return super()._getaddr(arg)
        address = plain.group(1)
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        # As email's parser does after the ">": white space after it goes too.
        return address, rest.lstrip() if rest[:1] in (" ", "\t") else rest

    @syntax("RSET")
    async def smtp_RSET(self, arg: str) -> None:
        # An aborted transaction's XFORWARD must not speak for the next client.
        self.xforward = None
        await super().smtp_RSET(arg)

    @syntax("XFORWARD attribute=value ...")
    async def smtp_XFORWARD(self, arg: str | None) -> None:
        assert self.session is not None
        if not self._intake.config.trusts(_peer_ip(self.session)):
            log.warning("XFORWARD from untrusted peer %s refused", self.session.peer)
            await self.push(replies.XFORWARD_REFUSED)
            return
        attributes = parse_xforward(arg or "")
        if attributes is None:
            log.warning("malformed XFORWARD from %s: %r", self.session.peer, arg)
            await self.push(replies.XFORWARD_SYNTAX)
            return
        self.xforward = {**(self.xforward or {}), **attributes}
        await self.push(replies.XFORWARD_OK)


def _recipient_matches(mailbox: str, domain: str, wanted: str) -> bool:
    """Whether ``mailbox`` (local@domain, normalised) is the INTAKE_RECIPIENTS entry ``wanted``."""
    if wanted.startswith("@"):
        return domain == normalise_domain(wanted[1:])
    try:
        path = parse_path(wanted)
    except InvalidAddress:
        return False
    return mailbox == f"{path.local.lower()}@{path.domain}"


def _peer_ip(session: Session) -> str | None:
    peer = session.peer
    return peer[0] if isinstance(peer, tuple) and peer else None


def _client_ip(session: Session) -> str | None:
    proxy = session.proxy_data
    if proxy is not None and getattr(proxy, "src_addr", None) is not None:
        return str(proxy.src_addr)
    return _peer_ip(session)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:400]
