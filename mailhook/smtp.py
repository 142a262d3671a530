"""The SMTP door: an aiosmtpd receiver that answers 250 only once a verdict is recorded."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, AnyStr

from aiosmtpd.smtp import MISSING, SMTP, Session, syntax
from aiosmtpd.smtp import Envelope as SmtpEnvelope

from mailhook import metrics, replies
from mailhook.addresses import has_control_character
from mailhook.budget import ByteBudget
from mailhook.errors import RefusedCredentials, TemporaryFailure, UnusableMessage
from mailhook.handoff import Handoff
from mailhook.message import Channel, Envelope, parse_message
from mailhook.smtp_config import SmtpConfig, mailbox_of
from mailhook.smtp_data import ReceivedData, read_data
from mailhook.smtp_limits import Admission, SessionClocks
from mailhook.tracing import new_request_id, request_id
from mailhook.xforward import parse_xforward

log = logging.getLogger(__name__)

PROXY_TIMEOUT = 5.0

# RFC 5321 §4.1.2: a Path whose local part and domain are both dot-atoms, as nearly every
# MAIL FROM and RCPT TO is. For it, aiosmtpd's parse (email's header parser) gives back
# exactly the text between the brackets; see IntakeSMTP._getaddr.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*)>")


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
        if isinstance(server, IntakeSMTP):
            return server.admit_proxied(proxy_data)
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
        mailbox = mailbox_of(address)
        if any(mailbox_of(taken) == mailbox for taken in envelope.rcpt_tos):
            # Once in the envelope and once against the recipient limit.
            return replies.RECIPIENT_REPEATED
        if len(envelope.rcpt_tos) >= self.config.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        return replies.RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        raw = envelope.original_content or b""
        forwarded: dict[str, str] | None = None
        sha256: str | None = None
        if isinstance(server, IntakeSMTP):
            # XFORWARD attributes hold for one transaction only.
            forwarded, server.xforward = server.xforward, None
            received, server.received = server.received, None
            if received is not None and received.raw is raw:
                sha256 = received.sha256
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
                message = parse_message(raw, message_envelope, Channel.SMTP, sha256)
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
    """aiosmtpd's SMTP with connection and time limits, and Postfix XFORWARD.

    Three clocks, each ending the session with a 421 (the sender's server retries later):
    the idle timer (aiosmtpd's own, between commands), and the session's whole life and
    the rate of its DATA (mailhook.smtp_limits.SessionClocks).
    """

    def __init__(self, handler: IntakeHandler, admission: Admission, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._intake = handler
        self._admission = admission
        self._counted = False
        self._client: str | None = None
        self._clocks: SessionClocks | None = None
        # None until a trusted relay sends XFORWARD in the current transaction.
        self.xforward: dict[str, str] | None = None
        # The DATA of the current transaction, with its digest taken as it arrived.
        self.received: ReceivedData | None = None

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
        config = self._intake.config
        self._client = peer[0] if peer else None
        refusal = self._admission.admit(config, self._client)
        if refusal is None and self._admission.draining:
            self._admission.release(config, self._client)
            reply = replies.SHUTTING_DOWN
        elif refusal is not None:
            metrics.SMTP_LIMIT_HITS.labels(limit=refusal.limit).inc()
            reply = refusal.reply
        else:
            self._admission.sessions.add(self)
            self._counted = True
            self._clocks = SessionClocks(self.loop, config, self._close_with)
            super().connection_made(transport)
            return
        log.warning("refused connection from %s: %s", peer, reply)
        assert isinstance(transport, asyncio.WriteTransport)
        metrics.count_reply(reply)
        transport.write(reply.encode() + b"\r\n")
        transport.close()

    def admit_proxied(self, proxy_data: Any) -> bool:
        """Charge the session to the client a trusted proxy's header names (the proxy
        itself is exempt); False, after a 421, when that client has too many."""
        source = getattr(proxy_data, "src_addr", None)
        if source is None:
            return True
        refusal = self._admission.charge(self._intake.config, str(source))
        if refusal is not None:
            self._close_with(refusal.reply, refusal.limit)
            return False
        self._client = str(source)
        return True

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted:
            self._admission.release(self._intake.config, self._client)
            self._admission.sessions.discard(self)
            self._counted = False
        if self._clocks is not None:
            self._clocks.stop()
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
        self._close_with(replies.SHUTTING_DOWN)

    def _close_with(self, reply: str, limit: str | None = None) -> None:
        """Write ``reply`` (a 421) and close, without waiting for the session's task."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        assert isinstance(transport, asyncio.WriteTransport)
        if limit is not None:
            log.info("closing the session of %s: %s", self._client, reply)
            metrics.SMTP_LIMIT_HITS.labels(limit=limit).inc()
        metrics.count_reply(reply)
        transport.write(reply.encode() + b"\r\n")
        transport.close()

    def _timeout_cb(self) -> None:
        # aiosmtpd's idle timer (re-armed by every valid command), with a 421 before closing.
        self._close_with(replies.IDLE_TIMEOUT, "idle")

    async def _refuses_control_characters(self, arg: str | None, reply: str) -> bool:
        """Whether ``arg`` holds a control character; if so it is refused with ``reply``."""
        if arg and has_control_character(arg):
            await self.push(reply)
            return True
        return False

    @syntax("HELO hostname")
    async def smtp_HELO(self, hostname: str) -> None:
        if not await self._refuses_control_characters(hostname, replies.HELO_CONTROL_CHARACTER):
            await super().smtp_HELO(hostname)

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str) -> None:
        if not await self._refuses_control_characters(hostname, replies.HELO_CONTROL_CHARACTER):
            await super().smtp_EHLO(hostname)

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        if not await self._refuses_control_characters(arg, replies.SENDER_CONTROL_CHARACTER):
            await super().smtp_MAIL(arg)

    @syntax("RCPT TO: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_RCPT(self, arg: str | None) -> None:
        if not await self._refuses_control_characters(arg, replies.RECIPIENT_CONTROL_CHARACTER):
            await super().smtp_RCPT(arg)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        await self._data(arg)
        if self._clocks is not None and self._clocks.expired:
            self._close_with(replies.SESSION_TIMEOUT, "session_time")
        elif self._admission.draining:
            # The transaction has its answer; no new one starts on a server going away.
            self.close_for_shutdown()

    async def _data(self, arg: str) -> None:
        # aiosmtpd's smtp_DATA step by step, except that mailhook.smtp_data reads the data
        # into one buffer instead of a bytearray per line (see there why), and that DATA
        # has its own clock instead of the idle timer.
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
        data = await self._read_data()
        if isinstance(data, str):
            await self.push(data)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            self._reset_timeout()
            return
        # decode_data=False (mailhook.receiver): the content is the bytes as received.
        self.envelope.content = self.envelope.original_content = data.raw
        self.received = data
        # Checking is our time, not the client's: no idle timer until the answer is out,
        # and the session's time limit waits for it (SessionClocks).
        assert self._clocks is not None
        self._clocks.checking = True
        try:
            status = await self._call_handler_hook("DATA")
        finally:
            self._clocks.checking = False
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push(replies.DATA_DEFAULT_OK if status is MISSING else status)
        self._reset_timeout()

    async def _read_data(self) -> ReceivedData | str:
        """The DATA section, watched for its rate instead of by the idle timer."""
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
        assert self._clocks is not None
        progress = self._clocks.watch_data()
        try:
            return await read_data(
                self._reader, self.data_size_limit, self.line_length_limit, progress
            )
        except asyncio.CancelledError:
            log.info("connection lost during DATA")
            self._writer.close()
            raise
        finally:
            self._clocks.stop_data()

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
