"""The milter door: a Sendmail/Postfix mail filter that records the verdict and stamps it.

The MTA (Postfix's ``smtpd_milters``) tells us the client, HELO, MAIL FROM and RCPT as
the SMTP session goes, then the headers and body; at the end of the message the
message goes through the hand-off like any other door's, and the answer to the MTA is
its verdict: the stamp (``mailhook.milter_stamp``) and continue, a reject or a
quarantine as MILTER_REJECTED says, or a temporary failure (the MTA answers its client
451) when the verdict cannot be recorded now. A connection that does not speak the
protocol is closed; the MTA then does what its ``milter_default_action`` says, which
for us must be ``tempfail``: nothing passes unchecked.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
from dataclasses import dataclass, field
from enum import StrEnum

from mailhook import milter_protocol as wire
from mailhook import replies
from mailhook.accepting import Seat, SharedAcceptor
from mailhook.budget import ByteBudget
from mailhook.errors import RefusedCredentials, TemporaryFailure, UnusableMessage
from mailhook.handoff import Handoff, Receipt
from mailhook.message import Channel, Envelope, parse_message
from mailhook.milter_stamp import headers_to_remove, stamp
from mailhook.smtp_config import is_recipient
from mailhook.tracing import new_request_id, request_id

log = logging.getLogger(__name__)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# A bare LF or CR in a header value read back as the CRLF of the message's own lines.
_LINE_END = re.compile(rb"\r\n|\r|\n")
_REPLY_TEXT = re.compile(r"[^\x20-\x7e]|%")


class RejectedMail(StrEnum):
    """What the milter does with mail whose verdict is ``rejected`` (MILTER_REJECTED)."""

    TAG = "tag"
    """Stamped and passed on like any other: the desk sees the attempt."""
    QUARANTINE = "quarantine"
    """Stamped and held by the MTA (Postfix's hold queue) for a person to look at."""
    REJECT = "reject"
    """Refused with a 550 naming the verdict; the verdict is recorded all the same."""


@dataclass(frozen=True, slots=True)
class MilterConfig:
    """How the milter stamps, what it does with rejected mail, and whom it trusts."""

    authserv_id: str
    rejected: RejectedMail = RejectedMail.TAG
    trusted_relays: tuple[IpNetwork, ...] = ()
    """Clients of the MTA whose Authentication-Results our TRUSTED_AUTHSERV_IDS may be in."""
    max_message_bytes: int = 25 * 1024 * 1024
    idle_timeout: float = 900.0
    """Seconds between two packets of the MTA before the connection is closed. An SMTP
    session may idle between its commands (Postfix's smtpd_timeout is 300 s)."""
    max_checking_bytes: int = 32 * 1024 * 1024
    """As the SMTP door's (mailhook.smtp_config): bytes of messages checked at once."""
    recipients: tuple[str, ...] = ()
    """MILTER_RECIPIENTS: the desk's addresses and @domains. A message to none of them
    goes on unchecked, without a verdict, and with our stamp removed if it brings one;
    empty: every message is checked."""

    def trusts(self, ip: str | None) -> bool:
        if ip is None:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_relays)

    def checks(self, rcpt: list[str]) -> bool:
        """Whether a message to ``rcpt`` is the desk's: one recipient of ours is enough."""
        return not self.recipients or any(is_recipient(r, self.recipients) for r in rcpt)


@dataclass
class _Transaction:
    """One message: its envelope from the MTA's callbacks, its headers and its body."""

    mail_from: str
    rcpt: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    size: int = 0
    too_big: bool = False

    def raw(self, leading_space: bool) -> bytes:
        """The message as the client sent it: each header as ``name:value`` and the body."""
        lines = []
        for name, value in self.headers:
            text = value if leading_space else " " + value
            encoded = text.encode("utf-8", "surrogateescape")
            lines.append(name.encode("utf-8", "surrogateescape") + b":")
            lines.append(_LINE_END.sub(b"\r\n", encoded) + b"\r\n")
        return b"".join(lines) + b"\r\n" + bytes(self.body)


class MilterSession:
    """One connection from the MTA: its negotiation, and the messages of its SMTP sessions.

    Postfix opens a connection per SMTP session and sends each of its transactions on
    it; SMFIC_ABORT ends a transaction early, SMFIC_QUIT_NC starts another session.
    """

    def __init__(self, handoff: Handoff, config: MilterConfig, checking: ByteBudget) -> None:
        self.handoff = handoff
        self.config = config
        self.checking = checking
        self.steps = 0
        self.negotiated = False
        self.client_ip: str | None = None
        self.helo: str | None = None
        self.transaction: _Transaction | None = None
        # True while a message's verdict is being recorded (an orderly shutdown waits).
        self.checking_now = False

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer packets until the MTA quits or breaks the protocol, then close."""
        request_id.set(new_request_id("milter"))
        try:
            while True:
                prefix = await asyncio.wait_for(reader.readexactly(4), self.config.idle_timeout)
                length = wire.packet_length(prefix)
                payload = await asyncio.wait_for(
                    reader.readexactly(length), self.config.idle_timeout
                )
                command, data = payload[:1], payload[1:]
                if command == wire.QUIT:
                    return
                answer = await self.handle(command, data)
                if answer:
                    writer.write(b"".join(answer))
                    await writer.drain()
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                log.warning("the MTA closed the milter connection within a packet")
        except TimeoutError:
            log.info("milter connection idle for %.0f s; closing", self.config.idle_timeout)
        except wire.ProtocolError as exc:
            log.warning("not the milter protocol (%s); closing the connection", exc)
        except ConnectionError as exc:
            log.info("milter connection lost: %s", exc)
        except Exception:
            # A bug of ours: this connection ends (the MTA applies milter_default_action,
            # tempfail), the milter serves the others.
            log.exception("milter connection failed; closing it")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 5)

    async def handle(self, command: bytes, data: bytes) -> list[bytes]:
        """The packets that answer one command (none for those that take no answer)."""
        if command == wire.NEGOTIATE:
            return [self._negotiate(data)]
        if not self.negotiated:
            raise wire.ProtocolError(f"command {command!r} before the negotiation")
        if command == wire.END_OF_MESSAGE:
            return await self._end_of_message(data)
        if command == wire.MACRO:
            wire.decode_macros(data)  # checked, not used: the callbacks carry the envelope
            return []
        if command == wire.ABORT:
            self.transaction = None
            return []
        if command == wire.QUIT_NEW_CONNECTION:
            self.client_ip = self.helo = None
            self.transaction = None
            return []
        step = _STEPS.get(command)
        if step is None:
            raise wire.ProtocolError(f"unknown command {command!r}")
        step(self, data)
        if self.steps & wire.NO_REPLY_STEPS.get(command, 0):
            return []
        return [wire.packet(wire.CONTINUE)]

    def _negotiate(self, data: bytes) -> bytes:
        offer = wire.decode_negotiation(data)
        if offer.version < wire.VERSION:
            raise wire.ProtocolError(
                f"the MTA speaks milter protocol version {offer.version}; we need "
                f"{wire.VERSION} (Postfix 2.6 or later, Sendmail 8.14 or later)"
            )
        missing = wire.ACTIONS_WANTED & ~offer.actions
        if missing:
            raise wire.ProtocolError(f"the MTA does not allow the actions {missing:#x}")
        self.steps = offer.steps & wire.STEPS_WANTED
        self.negotiated = True
        return wire.encode_negotiation(offer)

    def _connect(self, data: bytes) -> None:
        connect = wire.decode_connect(data)
        self.client_ip = connect.address
        self.transaction = None

    def _helo(self, data: bytes) -> None:
        (self.helo,) = wire.strings(data, 1)

    def _mail(self, data: bytes) -> None:
        self.transaction = _Transaction(mail_from=_path(wire.first_argument(data)))

    def _rcpt(self, data: bytes) -> None:
        self._open().rcpt.append(_path(wire.first_argument(data)))

    def _header(self, data: bytes) -> None:
        header = wire.decode_header(data)
        transaction = self._open()
        if self._count(transaction, len(header.name) + len(header.value) + 3):
            transaction.headers.append((header.name, header.value))

    def _body(self, data: bytes) -> None:
        transaction = self._open()
        if self._count(transaction, len(data)):
            transaction.body += data

    def _nothing(self, data: bytes) -> None:
        """DATA, end of headers, an unknown SMTP command: nothing to keep."""

    def _open(self) -> _Transaction:
        if self.transaction is None:
            raise wire.ProtocolError("message data outside a transaction (no MAIL)")
        return self.transaction

    def _count(self, transaction: _Transaction, size: int) -> bool:
        """Whether the message is still within MAX_MESSAGE_BYTES with ``size`` more."""
        transaction.size += size
        if transaction.size > self.config.max_message_bytes and not transaction.too_big:
            transaction.too_big = True
            transaction.headers.clear()
            transaction.body = bytearray()
        return not transaction.too_big

    async def _end_of_message(self, data: bytes) -> list[bytes]:
        transaction = self._open()
        if data:
            self._body(data)
        self.transaction = None
        if not self.config.checks(transaction.rcpt):
            return self._passed_on(transaction)
        if transaction.too_big:
            too_big = replies.MILTER_TOO_BIG.format(limit=self.config.max_message_bytes)
            return [wire.reply_code(too_big)]
        self.checking_now = True
        try:
            receipt_or_reply = await self._record(transaction)
        finally:
            self.checking_now = False
        if isinstance(receipt_or_reply, str):
            return [wire.reply_code(receipt_or_reply)]
        return self._stamped(receipt_or_reply, transaction.headers)

    async def _record(self, transaction: _Transaction) -> Receipt | str:
        """The receipt of the message's recorded verdict, or the reply that refuses it."""
        raw = transaction.raw(bool(self.steps & wire.HEADER_LEADING_SPACE))
        envelope = Envelope(
            client_ip=self.client_ip,
            helo=self.helo,
            mail_from=transaction.mail_from,
            rcpt=tuple(transaction.rcpt),
            # The MTA's client handed the message over: only a relay of ours in front of
            # the MTA can have written our servers' Authentication-Results.
            trusted_hop=self.config.trusts(self.client_ip),
        )
        try:
            async with self.checking.share(len(raw)):
                message = parse_message(raw, envelope, Channel.MILTER)
                return await self.handoff.submit(message)
        except UnusableMessage as exc:
            return replies.UNUSABLE_MESSAGE.format(reason=_reply_text(str(exc)))
        except TemporaryFailure as exc:
            log.info("deferred (451), the sender retries: %s", _reply_text(str(exc)))
            return replies.TEMPORARY_FAILURE.format(reason=_reply_text(str(exc)))
        except RefusedCredentials:
            log.error("the decision API refused our token; check INTAKEGUARD_API_TOKEN")
            return replies.TEMPORARY_FAILURE.format(reason="The service is misconfigured.")
        except Exception:
            # Whatever went wrong, the message is not recorded: the sender must keep it.
            log.exception("intake failed for a message from %s", self.client_ip)
            return replies.TEMPORARY_FAILURE.format(reason="An internal error occurred.")

    def _passed_on(self, transaction: _Transaction) -> list[bytes]:
        """Mail for none of MILTER_RECIPIENTS: no verdict, and no stamp of ours it brought.

        A forged stamp must not reach the desk by a way round (an alias, a forward); mail
        over MAX_MESSAGE_BYTES was not kept, so it has nothing to remove: not the desk's
        mail, it is not the desk's limit either.
        """
        log.debug("not for the desk (%d recipients): passed on unchecked", len(transaction.rcpt))
        return [*self._unstamped(transaction.headers), wire.packet(wire.CONTINUE)]

    def _unstamped(self, headers: list[tuple[str, str]]) -> list[bytes]:
        """The header changes that remove what a sender may not bring: our stamp."""
        return [
            wire.header_action(wire.CHANGE_HEADER, index, name, "")
            for name, index in headers_to_remove(headers, self.config.authserv_id)
        ]

    def _stamped(self, receipt: Receipt, headers: list[tuple[str, str]]) -> list[bytes]:
        """Remove what the sender may not bring, add our stamp, and let the mail go on."""
        rejected = receipt.decision == "rejected"
        if rejected and self.config.rejected is RejectedMail.REJECT:
            return [wire.reply_code(replies.MILTER_REJECTED.format(verdict_id=receipt.verdict_id))]
        space = " " if self.steps & wire.HEADER_LEADING_SPACE else ""
        actions = self._unstamped(headers)
        # Inserted at the top one by one, from the last: they read in stamp()'s order.
        for name, value in reversed(stamp(receipt, self.config.authserv_id)):
            actions.append(wire.header_action(wire.INSERT_HEADER, 0, name, space + value))
        if rejected and self.config.rejected is RejectedMail.QUARANTINE:
            reason = f"intakeguard verdict {receipt.verdict_id}: rejected"
            actions.append(wire.packet(wire.QUARANTINE, reason.encode() + b"\0"))
        actions.append(wire.packet(wire.CONTINUE))
        return actions


_STEPS = {
    wire.CONNECT: MilterSession._connect,
    wire.HELO: MilterSession._helo,
    wire.MAIL: MilterSession._mail,
    wire.RCPT: MilterSession._rcpt,
    wire.HEADER: MilterSession._header,
    wire.BODY: MilterSession._body,
    wire.END_OF_HEADERS: MilterSession._nothing,
    wire.DATA: MilterSession._nothing,
    wire.UNKNOWN: MilterSession._nothing,
}


def _path(argument: str) -> str:
    """``<jan@acme.pl>`` as ``jan@acme.pl``; ``<>`` (a bounce) as the empty sender."""
    text = argument.strip()
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    return text


def _reply_text(text: str) -> str:
    """One line of printable ASCII for an SMTP reply (and no ``%``, which libmilter and
    Sendmail read as a format character)."""
    return " ".join(_REPLY_TEXT.sub(" ", text).split())[:400]


@dataclass
class MilterServer:
    """The listening milter and its connections, for an orderly shutdown."""

    server: asyncio.Server | SharedAcceptor
    sessions: dict[MilterSession, asyncio.Task[None]]

    async def shutdown(self, grace: float) -> None:
        """Stop listening; let messages being checked finish within ``grace`` s; close all.

        A connection closed mid-message makes the MTA apply milter_default_action
        (tempfail): the client retries, and a verdict recorded meanwhile is its answer.
        """
        self.server.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while any(session.checking_now for session in self.sessions) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        tasks = list(self.sessions.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.server.wait_closed()


async def start_milter(
    handoff: Handoff,
    config: MilterConfig,
    host: str,
    port: int,
    sock: socket.socket | None = None,
    seat: Seat | None = None,
) -> MilterServer:
    """Listen on ``host:port`` (or on ``sock``); each MTA connection gets a MilterSession."""
    checking = ByteBudget(config.max_checking_bytes)
    sessions: dict[MilterSession, asyncio.Task[None]] = {}

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = MilterSession(handoff, config, checking)
        task = asyncio.current_task()
        assert task is not None
        sessions[session] = task
        try:
            await session.serve(reader, writer)
        finally:
            del sessions[session]

    server: asyncio.Server | SharedAcceptor
    if sock is not None:
        # Shared with sibling workers: each of the MTA's connections goes to the least busy.
        def protocol() -> asyncio.StreamReaderProtocol:
            return asyncio.StreamReaderProtocol(asyncio.StreamReader(), connection)

        server = SharedAcceptor(sock, protocol, lambda: len(sessions), seat)
    else:
        server = await asyncio.start_server(connection, host=host, port=port)
    log.info("milter listening on %s:%d", host, port)
    return MilterServer(server, sessions)
