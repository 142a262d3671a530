"""Alerts to the registered owner: a short notice that an instruction was refused.

Only ever to the panel address the registry holds, never to the sender (no
backscatter), and with nothing that helps an attacker: no copy of the message, no
sender address, no verdict reasons. At most one per customer per interval; the ones
held back are counted and mentioned in the next.
"""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import AlertThrottle, Customer
from app.delivery.webhooks import DeliveryFailed
from app.errors import ConfigError
from app.mailboxes import check_mailbox
from app.settings import ENV_PREFIX, Settings, split_listen
from mailhook.addresses import mask_address

log = logging.getLogger(__name__)

_SMTP_TIMEOUT = 30.0


def plain(text: str, limit: int = 120) -> str:
    """``text`` without control, format or line-separator characters, shortened."""
    kept = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return " ".join(kept.split())[:limit]


def plan_alert(
    session: Session,
    event: str,
    data: dict[str, Any],
    now: datetime,
    interval: timedelta,
) -> dict[str, Any] | None:
    """The alert an event calls for, if any; counts it as suppressed when one went lately.

    Called by the single dispatcher (app.delivery.outbox), so the throttle row needs no lock.
    """
    if event != "verdict.recorded" or data.get("decision") != "rejected":
        return None
    login = data.get("customer")
    if not login:
        return None
    customer = session.scalar(select(Customer).where(Customer.login == login))
    if customer is None:
        return None  # deleted since: nobody to tell
    throttle = session.get(AlertThrottle, login)
    if throttle is None:
        throttle = AlertThrottle(customer=login, suppressed=0, last_alert_at=None)
        session.add(throttle)
    last = throttle.last_alert_at
    if last is not None and now - last < interval:
        throttle.suppressed += 1
        return None
    named = set((data.get("instruction") or {}).get("services") or ())
    services = [s.name_unicode for s in customer.services if s.name_unicode in named]
    alert = {
        "to": customer.panel_email,
        "login": customer.login,
        "services": services,
        "refused_at": data.get("recorded_at"),
        "reference": data.get("id"),
        "suppressed": throttle.suppressed,
    }
    throttle.suppressed = 0
    throttle.last_alert_at = now
    return alert


def build_alert(alert: dict[str, Any], from_address: str, message_key: str) -> EmailMessage:
    """The notice as an email; ValueError if any field could reach a header unsafely."""
    to = check_mailbox(str(alert["to"]))
    services = [plain(str(s), 253) for s in alert.get("services") or ()]
    about = ", ".join(services) if services else f"your account {plain(str(alert['login']), 64)}"
    refused_at = _when(str(alert.get("refused_at") or ""))
    reference = plain(str(alert.get("reference") or ""), 64)
    message = EmailMessage(policy=SMTP)
    # email.policy.SMTP refuses CR or LF in a header value (ValueError): a second line
    # of defence behind plain() and check_mailbox().
    message["From"] = check_mailbox(from_address)
    message["To"] = to
    message["Subject"] = plain(f"Refused instruction about {about}", 200)
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = f"<{plain(message_key, 64)}@{from_address.rpartition('@')[2]}>"
    # RFC 3834 §5: an automatic notice, so auto-responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    lines = [
        "Hello,",
        "",
        f"An instruction about {about} that we could not verify as coming from the",
        f"address registered in your Customer Panel was refused at {refused_at}.",
        "Nothing was changed.",
    ]
    suppressed = int(alert.get("suppressed") or 0)
    if suppressed:
        lines.append(
            f"Since our previous notice, {suppressed} more such instruction(s) were refused."
        )
    lines += [
        "",
        f"Reference: {reference}",
        "",
        "If it was you: send the instruction again from your registered address, or",
        "contact support through the Customer Panel and quote the reference.",
        "If it was not you: no action is needed; keep your panel password safe.",
        "",
        "This is an automatic notice; replies are not read.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def _when(recorded_at: str) -> str:
    try:
        moment = datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))
    except ValueError:
        return "an unknown time"
    return moment.strftime("%Y-%m-%d %H:%M UTC")


class Relay:
    """Hands mail to the outbound SMTP relay (ALERT_SMTP_RELAY), from ALERT_FROM."""

    def __init__(
        self, host: str, port: int, from_address: str, timeout: float = _SMTP_TIMEOUT
    ) -> None:
        self.host = host
        self.port = port
        self.from_address = check_mailbox(from_address)
        self.timeout = timeout

    def deliver(self, message: EmailMessage) -> None:
        """Send ``message`` to its To, or raise DeliveryFailed (permanent when retrying
        cannot help)."""
        recipient = str(message["To"])
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as relay:
                self._require_smtputf8(relay, recipient)
                # With a non-ASCII address smtplib itself sends MAIL FROM with SMTPUTF8
                # (and BODY=8BITMIME) and writes the headers as UTF-8 (RFC 6531 §3.4).
                relay.send_message(message, self.from_address, [recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryFailed(
                f"the relay refused the recipient ({codes[0] if codes else '?'})",
                permanent=all(code >= 500 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"the relay answered {exc.smtp_code}", permanent=exc.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"cannot reach the relay: {type(exc).__name__}") from None

    def _require_smtputf8(self, relay: smtplib.SMTP, recipient: str) -> None:
        """DeliveryFailed (permanent) when an address needs SMTPUTF8 and the relay lacks it."""
        needing_utf8 = [a for a in (recipient, self.from_address) if not a.isascii()]
        if not needing_utf8:
            return
        relay.ehlo_or_helo_if_needed()
        if not relay.has_extn("smtputf8"):
            # No ASCII form exists for a UTF-8 local part (RFC 6530 §7.1): a downgrade
            # would deliver to someone else, or nowhere.
            raise DeliveryFailed(
                f"the address {mask_address(needing_utf8[0])} has a non-ASCII local part and the "
                f"relay {self.host}:{self.port} does not announce SMTPUTF8 (RFC 6531); "
                "such alerts need a relay with SMTPUTF8",
                permanent=True,
            )


class AlertSender(Relay):
    """Hands alerts to the outbound SMTP relay."""

    def send(self, alert: dict[str, Any], delivery_id: str) -> None:
        """Send one alert, or raise DeliveryFailed (permanent when retrying cannot help)."""
        try:
            message = build_alert(alert, self.from_address, delivery_id)
        except ValueError as exc:
            raise DeliveryFailed(f"alert not built: {exc}", permanent=True) from None
        self.deliver(message)


def alert_sender_from_settings(settings: Settings) -> AlertSender | None:
    """The sender for the configured relay, or None (alerts off, said in the log)."""
    if settings.alert_smtp_relay is None:
        log.warning(
            "alerts to registered owners are off: %sALERT_SMTP_RELAY is not set", ENV_PREFIX
        )
        return None
    if settings.alert_from is None:
        raise ConfigError(
            f"{ENV_PREFIX}ALERT_FROM: missing; alerts need a sender address such as "
            "security@hosting.example when ALERT_SMTP_RELAY is set"
        )
    host, port = split_listen(settings.alert_smtp_relay)
    log.info("alerts to registered owners go through the relay %s:%d", host, port)
    return AlertSender(host, port, settings.alert_from)
