"""Webhook subscriptions of ticketing systems: URLs, sealed secrets, signed deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import idna
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import OutboxDelivery, WebhookSubscription
from app.db.types import iso_z, utcnow
from app.errors import IntakeguardError, InvalidInput, NotFound
from app.settings import ENV_PREFIX

# Events a subscription may ask for; "*" asks for all of them, present and future.
EVENTS: tuple[str, ...] = (
    "verdict.recorded",
    "verdict.reviewed",
    "verdict.action_recorded",
    # The registered owner answered a confirmation (app.records.confirmations): the
    # verdict's current decision is now accepted, or rejected ("this was not me").
    "verdict.confirmed",
    "verdict.denied",
    # The owner answered "this was not me" to the notice of a panel address change.
    "customer.panel_change_denied",
    # A signed chain head (app.records.checkpoints): kept outside the database, it makes
    # a rewrite or truncation of the audit chain after it detectable.
    "audit.checkpoint",
)
SECRET_PREFIX = "whsec_"  # noqa: S105 - a public prefix, not a secret
# Caller-chosen secrets: long enough to resist guessing, printable so they fit in config.
_SECRET = re.compile(r"^[\x21-\x7e]{24,200}$")
_NONCE_BYTES = 12
_PLAIN_PORT = re.compile(r"^[1-9][0-9]{0,4}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SecretBox:
    """Seals webhook secrets at rest with AES-GCM under a key derived from SECRET_KEY.

    The secret itself is needed to compute each delivery's HMAC, so it cannot be kept as
    a one-way hash; sealed, a copy of the database alone does not let anyone forge
    deliveries. The subscription id is the associated data: a sealed secret moved to
    another row does not open.
    """

    def __init__(self, secret_key: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"intakeguard webhook secrets"
        ).derive(secret_key)
        self._aead = AESGCM(key)

    def seal(self, secret: str, subscription_id: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), subscription_id.encode())
        return base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, subscription_id: str) -> str:
        """The secret in clear; InvalidInput when SECRET_KEY changed since it was sealed."""
        try:
            data = base64.b64decode(sealed)
            clear = self._aead.decrypt(
                data[:_NONCE_BYTES], data[_NONCE_BYTES:], subscription_id.encode()
            )
        except (InvalidTag, ValueError):
            raise InvalidInput(
                "the subscription's secret cannot be opened (was SECRET_KEY changed?); "
                "delete the subscription and create it again"
            ) from None
        return clear.decode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256 over "timestamp.body">``, the Intakeguard-Signature value."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def check_url(url: str, allowed_hosts: Iterable[str]) -> str:
    """``url`` if it is http(s) to an allowed host, else InvalidInput saying why.

    Refused as MalformedUrl when no allowed list could ever make it usable.
    """
    host, _ = _parse_url(url)
    allowed = {_comparable_host(h) for h in allowed_hosts}
    if host not in allowed:
        listed = ", ".join(sorted(allowed)) if allowed else "none are allowed yet"
        raise InvalidInput(
            f"url: the host {_shown(host)} is not in {ENV_PREFIX}WEBHOOK_ALLOWED_HOSTS "
            f"({listed}); an operator must allow it first"
        )
    return url


def _parse_url(url: str) -> tuple[str, int]:
    """The host (A-label, lower case) and port ``url`` leads to; MalformedUrl if unusable."""
    unusual = next((c for c in url if unicodedata.category(c)[0] in "CZ"), None)
    if unusual is not None:
        # urlsplit silently drops tab, CR and LF and keeps NUL, so what it checked would
        # not be what httpx requests (WHATWG URL: no whitespace or controls in a URL).
        raise MalformedUrl(
            f"url: a control character or whitespace ({_codepoint(unusual)}) is not allowed "
            "anywhere in a URL; percent-encode it in the path or query"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
    except ValueError as exc:
        raise MalformedUrl(f"url: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise MalformedUrl("url: only http:// and https:// URLs can receive webhooks")
    if not host:
        raise MalformedUrl("url: the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise MalformedUrl("url: credentials in the URL are refused; use the signing secret")
    if port == 0:
        raise MalformedUrl("url: port 0 is not a port")
    written_port = _written_port(parts.netloc)
    if written_port is not None and not _PLAIN_PORT.match(written_port):
        raise MalformedUrl(
            f"url: the port {written_port[:20]!r} is not a plain decimal number (1-65535, "
            "no leading zeros)"
        )
    effective = (_comparable_host(host), port or _DEFAULT_PORTS[parts.scheme])
    # The check above is worth only as much as its agreement with what httpx will request.
    try:
        request = httpx.URL(url)
        requested = (
            _comparable_host(request.raw_host.decode("ascii")),
            request.port or _DEFAULT_PORTS[request.scheme],
        )
    except (httpx.InvalidURL, UnicodeError, KeyError) as exc:
        raise MalformedUrl(f"url: not a valid URL ({str(exc)[:200]})") from None
    if requested != effective or request.scheme != parts.scheme:
        raise MalformedUrl(
            f"url: read two ways ({_shown(effective[0])} port {effective[1]}, or "
            f"{_shown(requested[0])} port {requested[1]}); write the host and port plainly"
        )
    return effective


def _written_port(netloc: str) -> str | None:
    """The port exactly as written after the host (an IPv6 literal's colons skipped)."""
    host_port = netloc.rpartition("@")[2]
    after_host = host_port.rpartition("]")[2] if host_port.startswith("[") else host_port
    if ":" not in after_host:
        return None
    return after_host.partition(":")[2]


def _comparable_host(host: str) -> str:
    """``host`` lower case, without a final dot, an IDN as its A-label (RFC 5890).

    An IP address in its canonical text, so ``[0:0::1]`` is the ``::1`` an operator allowed.
    """
    host = host.lower().rstrip(".")
    if host.isascii():
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            return host
    try:
        return idna.encode(host, uts46=True).decode("ascii").rstrip(".")
    except idna.IDNAError:
        return host  # matches no allowed host, and httpx refuses it anyway


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def _shown(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return repr(host[:253])


def check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e != "*" and e not in EVENTS]
    if unknown:
        raise InvalidInput(
            f"events: unknown event {unknown[0][:100]!r}; events are: *, " + ", ".join(EVENTS)
        )
    if not events:
        raise InvalidInput('events: name at least one event, or "*" for all')
    return sorted(set(events))


def check_secret(secret: str | None) -> str:
    """The caller's secret if acceptable, or a fresh random one."""
    if secret is None:
        return SECRET_PREFIX + secrets.token_urlsafe(32)
    if not _SECRET.match(secret):
        raise InvalidInput(
            "secret: must be 24 to 200 printable ASCII characters without spaces; "
            "leave it out to get a random one"
        )
    return secret


@dataclass(frozen=True, slots=True)
class NewSubscription:
    row: WebhookSubscription
    secret: str


def create_subscription(
    session: Session,
    box: SecretBox,
    allowed_hosts: Iterable[str],
    url: str,
    events: list[str],
    decisions: list[str] | None = None,
    secret: str | None = None,
) -> NewSubscription:
    """Store a subscription; the secret is returned this once and kept only sealed."""
    url = check_url(url, allowed_hosts)
    events = check_events(events)
    secret = check_secret(secret)
    subscription_id = str(uuid.uuid4())
    row = WebhookSubscription(
        id=subscription_id,
        url=url,
        events=events,
        decisions=sorted(set(decisions)) if decisions else None,
        secret_sealed=box.seal(secret, subscription_id),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return NewSubscription(row=row, secret=secret)


def get_subscription(session: Session, subscription_id: str) -> WebhookSubscription:
    row = session.scalar(
        select(WebhookSubscription).where(WebhookSubscription.id == _uuid(subscription_id))
    )
    if row is None:
        raise NotFound(f"no webhook subscription with id {subscription_id[:100]!r}")
    return row


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription).order_by(
                WebhookSubscription.created_at, WebhookSubscription.id
            )
        )
    )


def delete_subscription(session: Session, subscription_id: str) -> None:
    """Remove the subscription and its deliveries, pending ones included."""
    row = get_subscription(session, subscription_id)
    session.delete(row)
    session.flush()


def wants(row: WebhookSubscription, event: str, data: dict[str, Any]) -> bool:
    """Whether the subscription asked for this event (and this decision, if it filters)."""
    if "*" not in row.events and event not in row.events:
        return False
    if row.decisions and event.startswith("verdict."):
        return data.get("decision") in row.decisions
    return True


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise NotFound(f"no webhook subscription with id {value[:100]!r}") from None


def delivery_body(event_id: str, event: str, created_at: datetime, data: dict[str, Any]) -> bytes:
    """The JSON a delivery posts; the same bytes on every retry of it."""
    envelope = {
        "id": event_id,
        "event": event,
        "created_at": iso_z(created_at),
        "data": data,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookSender:
    """Posts one delivery: signed, no redirects followed, bounded by a timeout."""

    def __init__(self, box: SecretBox, allowed_hosts: Iterable[str], timeout: float) -> None:
        self.box = box
        self.allowed_hosts = tuple(allowed_hosts)
        # follow_redirects=False: a redirect could lead to a host nobody allowed.
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)

    def send(
        self,
        subscription: WebhookSubscription,
        delivery: OutboxDelivery,
        body: bytes,
        now: datetime,
    ) -> None:
        """Deliver, or raise DeliveryFailed with a sentence for the delivery's record."""
        try:
            # Checked again at send time: the operator may have narrowed the list since,
            # and a row written by an older release or by hand was never checked at all.
            check_url(subscription.url, self.allowed_hosts)
            secret = self.box.open(subscription.secret_sealed, subscription.id)
        except MalformedUrl as exc:
            raise DeliveryFailed(str(exc), permanent=True) from None
        except InvalidInput as exc:
            # The host may be allowed again, the old SECRET_KEY restored: worth retrying.
            raise DeliveryFailed(str(exc)) from None
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "intakeguard-webhooks/1",
            "Intakeguard-Event": delivery.event,
            "Intakeguard-Delivery": delivery.id,
            "Intakeguard-Timestamp": timestamp,
            "Intakeguard-Signature": sign(secret, timestamp, body),
        }
        try:
            response = self.client.post(subscription.url, content=body, headers=headers)
        except httpx.InvalidURL as exc:
            # Not an HTTPError: a URL httpx cannot request now never becomes requestable.
            raise DeliveryFailed(f"url: cannot be requested ({exc})", permanent=True) from None
        except httpx.TimeoutException:
            raise DeliveryFailed("the endpoint did not answer in time") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"cannot reach the endpoint: {type(exc).__name__}") from None
        if not response.is_success:
            raise DeliveryFailed(f"the endpoint answered HTTP {response.status_code}")

    def close(self) -> None:
        self.client.close()


class DeliveryFailed(IntakeguardError):
    """One attempt failed; the message is stored with the delivery (no secrets in it)."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class MalformedUrl(InvalidInput):
    """The URL cannot be requested as written, whatever hosts are allowed (422)."""
