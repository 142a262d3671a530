"""POST /v1/messages: the REST door for a raw RFC 5322 message."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServiceDep, SettingsDep, require
from app.api.idempotency import KeyHeader
from app.api.problems import (
    Forbidden,
    PayloadTooLarge,
    UnprocessableMessage,
    UnsupportedMediaType,
)
from app.api.schemas import ErrorBody, VerdictOut
from app.auth import Principal
from app.errors import InvalidInput
from app.verdict_types import Verdict
from mailhook.errors import UnusableMessage
from mailhook.message import Channel, Envelope, parse_message

router = APIRouter(prefix="/v1/messages", tags=["intake"])

RELAY_SCOPE = "relay"
ACCEPTED_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VerdictOut,
    responses={
        403: {"model": ErrorBody, "description": "relay=true without the relay scope"},
        413: {"model": ErrorBody},
        415: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody, "description": "Temporary failure; retry after Retry-After"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def submit_message(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require("intake"))],
    # Accepted for the callers that send one on every POST: the same message bytes are
    # already recorded once (the fingerprint), whatever the key.
    idempotency_key: KeyHeader = None,
    client_ip: Annotated[str | None, Query(max_length=45)] = None,
    helo: Annotated[str | None, Query(max_length=255)] = None,
    mail_from: Annotated[str | None, Query(max_length=320)] = None,
    rcpt: Annotated[list[str] | None, Query(max_length=1000)] = None,
    channel: Annotated[
        Channel,
        Query(
            description="The door the message came through, when a remote SMTP receiver "
            "or pipe hands it over; recorded, never used to decide"
        ),
    ] = Channel.API,
    relay: Annotated[
        bool,
        Query(
            description="The caller is a mail server of ours handing the message over "
            "(needs the relay scope): Authentication-Results of TRUSTED_AUTHSERV_IDS in it "
            "may be believed. Without it every such header is the sender's own text."
        ),
    ] = False,
) -> Verdict:
    """Verify a message, record its verdict and return it (201)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(
            f"send the raw message as message/rfc822, not {content_type or 'no content type'}"
        )
    if relay and RELAY_SCOPE not in principal.scopes:
        raise Forbidden(
            f"relay=true needs the scope {RELAY_SCOPE!r}: only a mail server of ours may say "
            "the message came through our relays; leave relay out for mail from anyone else"
        )
    envelope = _envelope(client_ip, helo, mail_from, tuple(rcpt or ()), trusted_hop=relay)
    raw = await _read_capped(request, settings.max_message_bytes)
    try:
        message = parse_message(raw, envelope, channel)
    except UnusableMessage as exc:
        raise UnprocessableMessage(str(exc)) from None
    return await run_in_threadpool(service.submit, message)


def _envelope(
    client_ip: str | None,
    helo: str | None,
    mail_from: str | None,
    rcpt: tuple[str, ...],
    *,
    trusted_hop: bool,
) -> Envelope:
    """The envelope the query parameters give; InvalidInput names a parameter that is wrong."""
    if client_ip is not None:
        try:
            client_ip = str(ipaddress.ip_address(client_ip))
        except ValueError:
            raise InvalidInput(f"client_ip: {client_ip!r} is not an IP address") from None
    for name, values in (("helo", (helo,)), ("mail_from", (mail_from,)), ("rcpt", rcpt)):
        # No SMTP command can carry a control character (RFC 5321 §4.1.2).
        if any(value and _CONTROL.search(value) for value in values):
            raise InvalidInput(f"{name}: must not contain control characters")
    return Envelope(
        client_ip=client_ip, helo=helo, mail_from=mail_from, rcpt=rcpt, trusted_hop=trusted_hop
    )


async def _read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the message is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the message is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
