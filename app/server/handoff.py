"""The two hand-offs ``app`` wires into the mail doors: in process, or over HTTP."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import httpx

from app.errors import ConfigError, StoreUnavailable
from app.settings import ENV_PREFIX
from mailhook.errors import RefusedCredentials, TemporaryFailure, UnusableMessage
from mailhook.handoff import Handoff, Receipt
from mailhook.message import InboundMessage
from mailhook.tracing import request_id

if TYPE_CHECKING:
    from app.decision.service import DecisionService
    from app.settings import Settings

log = logging.getLogger(__name__)


class InProcessHandoff:
    """Calls the decision service directly, in a worker thread.

    Verification is CPU and DNS work done synchronously (pyspf, dkimpy); running it
    on the event loop would stall every other SMTP session while one is checked.
    """

    def __init__(self, service: DecisionService) -> None:
        self.service = service

    async def submit(self, message: InboundMessage) -> Receipt:
        try:
            verdict = await asyncio.to_thread(self.service.submit, message)
        except StoreUnavailable as exc:
            raise TemporaryFailure(f"The verdict store is unavailable ({exc}).") from exc
        return Receipt.of_verdict(verdict)


class HttpHandoff:
    """Posts the message to a remote decision API (``POST /v1/messages``)."""

    def __init__(self, api_url: str, token: str, timeout: float = 60.0) -> None:
        self.client = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    async def submit(self, message: InboundMessage) -> Receipt:
        envelope = message.envelope
        params: list[tuple[str, str | int | float | bool | None]] = [
            (name, value)
            for name, value in (
                ("client_ip", envelope.client_ip),
                ("helo", envelope.helo),
                ("mail_from", envelope.mail_from),
                ("channel", message.channel.value),
            )
            if value is not None
        ]
        params += [("rcpt", rcpt) for rcpt in envelope.rcpt]
        if envelope.trusted_hop:
            # Our relay (or the local MTA of a pipe) handed the message to this receiver:
            # the API may believe our servers' Authentication-Results. The API_TOKEN needs
            # the relay scope for it; without the hop the parameter is left out.
            params.append(("relay", "true"))
        try:
            response = await self.client.post(
                "/v1/messages",
                content=message.raw,
                params=params,
                headers=_headers(),
            )
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"The decision API is unreachable ({exc!r}).") from exc
        if response.status_code == 201:
            verdict = response.json()
            return Receipt.of_verdict(verdict)
        detail = _detail(response)
        if response.status_code in (401, 403):
            raise RefusedCredentials(f"the decision API refused the token: {detail}")
        if response.status_code in (413, 415, 422):
            raise UnusableMessage(detail)
        raise TemporaryFailure(f"The decision API answered {response.status_code}: {detail}")

    async def aclose(self) -> None:
        await self.client.aclose()


def _headers() -> dict[str, str]:
    headers = {"Content-Type": "message/rfc822"}
    session = request_id.get()
    if session is not None:
        # The API logs its verdict line under the SMTP session's (or pipe run's) id.
        headers["X-Request-ID"] = session
    return headers


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail)[:400] if detail is not None else response.text[:200]


def make_handoff(settings: Settings, service: DecisionService | None = None) -> Handoff:
    """Over HTTP when INTAKEGUARD_API_URL is set, else in process on the local store."""
    if settings.api_url:
        if settings.api_token is None:
            raise ConfigError(
                f"{ENV_PREFIX}API_TOKEN: missing; create one with "
                "`intakeguard token create --name smtp --scope intake relay` on the API side"
            )
        return HttpHandoff(settings.api_url, settings.api_token.get_secret_value())
    if service is None:
        # Imported here: the pipe over HTTP needs none of the decision side.
        from app.decision.service import DecisionService

        service = DecisionService.from_settings(settings, settings.require_secret_key())
    return InProcessHandoff(service)


def deliver(handoff: Handoff, message: InboundMessage) -> Receipt:
    """Hand one message over and wait for the receipt (the pipe's only step)."""

    async def run() -> Receipt:
        try:
            return await handoff.submit(message)
        finally:
            if isinstance(handoff, HttpHandoff):
                await handoff.aclose()

    return asyncio.run(run())
