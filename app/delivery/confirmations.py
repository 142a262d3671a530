"""Confirmation mail: a single-use link to the registered panel address, planned and sent.

Only ever to the address the registry holds (never the sender, a Reply-To or any
address in the message), and with nothing the sender wrote: the service and kind come
from the registry and the catalogue, the time and reference from the verdict. An open
confirmation form must not become a way to send attacker text to third parties.

The token is made when the mail is sent, never before: 256 random bits, kept only in
the mail; the store holds its HMAC under a key derived from the secret key, so a copy of
the database holds no working link. Each send makes a new token (a resend, a retry),
and the one before it stops working.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import write_transaction
from app.db.models import Confirmation, Customer, Verdict
from app.delivery.alerts import Relay, plain
from app.delivery.webhooks import DeliveryFailed
from app.mailboxes import check_mailbox

log = logging.getLogger(__name__)

CONFIRM_PATH = "/confirm/"
# secrets.token_urlsafe(32): 32 random bytes, 43 base64url characters, no padding.
TOKEN_FORM = re.compile(r"^[A-Za-z0-9_-]{43}$")
_TOKEN_BYTES = 32
_KEY_LABEL = b"intakeguard confirmation tokens v1"
# A request waits this long for its mail when confirmations are throttled or resent.
_RATE_WINDOW = timedelta(hours=1)
# A holder change (e-cesja): both holders confirm within this time of the request, so
# both stages' links work until then, whatever CONFIRM_TTL_MINUTES says.
HOLDER_CHANGE_WINDOW = timedelta(days=7)
# The two stages of a holder change, in order.
HOLDER_STAGES = ("holder", "new_holder")


def token_key(secret_key: bytes) -> bytes:
    """The key of the token hashes, derived from the secret key (never the key itself)."""
    return hmac.new(secret_key, _KEY_LABEL, hashlib.sha256).digest()


def token_hash(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def sent_lately(session: Session, customer: str, now: datetime) -> int:
    """How many confirmation mails ``customer`` was sent (or is about to be) this hour."""
    since = now - _RATE_WINDOW
    count = session.scalar(
        select(func.count())
        .select_from(Confirmation)
        .where(
            Confirmation.customer == customer,
            or_(Confirmation.created_at >= since, Confirmation.sent_at >= since),
        )
    )
    return int(count or 0)


def plan_confirmation(
    session: Session, event: str, data: Mapping[str, Any], now: datetime, per_hour: int
) -> str | None:
    """The confirmation whose mail an event asks for: its row's id, or None (no customer,
    or the customer's confirmation mails for this hour are used up)."""
    if event == "confirmation.requested":
        # Queued by a resend, which created or reset the row under its own checks.
        return str(data["confirmation_id"])
    if event == "customer.panel_email_changed":
        return _plan_notice(session, data, now, per_hour)
    if event != "verdict.recorded" or data.get("decision") != "confirmation_required":
        return None
    login = data.get("customer")
    customer = session.scalar(select(Customer).where(Customer.login == login)) if login else None
    if customer is None:
        return None  # deleted since: nobody to ask
    existing = select(Confirmation.id).where(Confirmation.verdict_id == data.get("id"))
    if session.scalar(existing) is not None:
        return None  # a resend got there first and queued its own mail
    purpose = "holder" if second_stage(session, str(data.get("id"))) is not None else "verdict"
    if sent_lately(session, customer.login, now) >= per_hour:
        log.warning(
            "confirmation for verdict %s not sent: customer %s had %d this hour; it stays "
            "confirmation_required (resend later, or review it)",
            data.get("id"),
            customer.login,
            per_hour,
        )
        return None
    return open_confirmation(session, purpose, customer, now, verdict_id=str(data.get("id")))


def second_stage(session: Session, verdict_id: str) -> Confirmation | None:
    """The new holder's stage of a holder change, if the verdict is one (e-cesja)."""
    return session.scalar(select(Confirmation).where(Confirmation.new_holder_for == verdict_id))


def new_holder_stage(
    verdict_id: str, new_holder: Customer, recorded_at: datetime
) -> dict[str, Any]:
    """The row of a holder change's second stage, recorded with its verdict: it waits
    for the current holder's "confirm" before its mail goes to the new holder's panel
    address, and expires with the whole change, HOLDER_CHANGE_WINDOW after the request."""
    return {
        "id": str(uuid.uuid4()),
        "purpose": "new_holder",
        "verdict_id": None,
        "new_holder_for": verdict_id,
        "customer": new_holder.login,
        "to_address": new_holder.panel_email,
        "token_hash": None,
        "created_at": recorded_at,
        "sent_at": None,
        "expires_at": recorded_at + HOLDER_CHANGE_WINDOW,
        "sends": 0,
        "status": "waiting",
    }


def _plan_notice(
    session: Session, data: Mapping[str, Any], now: datetime, per_hour: int
) -> str | None:
    """The notice of a panel address change, to the address it replaced."""
    customer = session.scalar(select(Customer).where(Customer.login == data.get("customer")))
    old = data.get("old_address")
    if customer is None or not isinstance(old, str) or old == customer.panel_email:
        return None
    if sent_lately(session, customer.login, now) >= per_hour:
        log.warning("panel change notice for %s not sent: too many this hour", customer.login)
        return None
    return open_confirmation(session, "panel_change", customer, now, to_address=old)


def open_confirmation(
    session: Session,
    purpose: str,
    customer: Customer,
    now: datetime,
    verdict_id: str | None = None,
    to_address: str | None = None,
) -> str:
    """A pending confirmation row (no token yet: the mail makes one); its id."""
    row = Confirmation(
        id=str(uuid.uuid4()),
        purpose=purpose,
        verdict_id=verdict_id,
        customer=customer.login,
        to_address=to_address or customer.panel_email,
        token_hash=None,
        created_at=now,
        sent_at=None,
        expires_at=None,
        sends=0,
        status="pending",
    )
    session.add(row)
    session.flush()
    return row.id


@dataclass(frozen=True, slots=True)
class MailFacts:
    """What a confirmation mail says: each from the registry, catalogue or verdict."""

    to: str
    purpose: str
    about: str
    kinds: tuple[str, ...]
    arrived_at: datetime
    reference: str
    link: str
    expires_at: datetime
    # A holder change: the new holder's login (as the registry writes it).
    new_holder: str | None = None


class ConfirmationMailer:
    """Sends confirmation mail through the relay, making the token as it sends."""

    def __init__(
        self,
        relay: Relay,
        key: bytes,
        public_url: str,
        ttl: timedelta,
        kind_titles: Mapping[str, str],
        per_hour: int = 3,
    ) -> None:
        self.relay = relay
        self.key = key
        self.public_url = public_url.rstrip("/")
        self.ttl = ttl
        self.kind_titles = dict(kind_titles)
        self.per_hour = per_hour

    def send(
        self, sessions: sessionmaker[Session], confirmation_id: str, delivery_id: str, now: datetime
    ) -> None:
        """Make a token, store its hash, send the mail; DeliveryFailed when the relay
        refuses. A confirmation answered or expired meanwhile is not sent."""
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        with write_transaction(sessions) as session:
            row = session.scalar(
                select(Confirmation).where(Confirmation.id == confirmation_id).with_for_update()
            )
            if row is None or row.status != "pending":
                return
            facts = self._facts(session, row, token, now)
            if facts.expires_at <= now:
                # A holder change past its window: nobody is asked any more.
                row.status = "expired"
                return
            row.token_hash = token_hash(self.key, token)
            row.sent_at = now
            row.expires_at = facts.expires_at
            row.sends += 1
        try:
            message = build_confirmation(facts, self.relay.from_address, delivery_id)
        except ValueError as exc:
            raise DeliveryFailed(f"confirmation not built: {exc}", permanent=True) from None
        self.relay.deliver(message)
        log.info("confirmation %s sent (link valid until %s)", confirmation_id, facts.expires_at)

    def _facts(self, session: Session, row: Confirmation, token: str, now: datetime) -> MailFacts:
        customer = session.scalar(select(Customer).where(Customer.login == row.customer))
        if customer is None:
            raise DeliveryFailed("the customer was deleted; nobody to ask", permanent=True)
        link = f"{self.public_url}{CONFIRM_PATH}{token}"
        expires_at = now + self.ttl
        if row.purpose == "panel_change":
            return MailFacts(
                to=row.to_address,
                purpose=row.purpose,
                about=f"{customer.login}",
                kinds=(),
                arrived_at=row.created_at,
                reference=row.id,
                link=link,
                expires_at=expires_at,
            )
        verdict = session.scalar(select(Verdict).where(Verdict.id == row.verdict_ref))
        if verdict is None:
            raise DeliveryFailed("the verdict is gone", permanent=True)
        new_holder = None
        holder: Customer | None = customer
        if row.purpose in HOLDER_STAGES:
            expires_at = aware(verdict.recorded_at) + HOLDER_CHANGE_WINDOW
            stage = second_stage(session, verdict.id)
            new_holder = stage.customer if stage is not None else None
            holder = session.scalar(select(Customer).where(Customer.login == verdict.customer))
        return MailFacts(
            # The address registered now: a confirmation goes nowhere else (the new
            # holder's stage: theirs).
            to=customer.panel_email,
            purpose=row.purpose,
            about=services_named(holder, verdict.instruction) if holder else customer.login,
            kinds=tuple(self.kind_titles.get(k, k) for k in verdict.instruction.get("kinds", [])),
            arrived_at=verdict.recorded_at,
            reference=verdict.id,
            link=link,
            expires_at=expires_at,
            new_holder=new_holder,
        )


def services_named(customer: Customer, instruction: Mapping[str, Any]) -> str:
    """The customer's registered services the verdict names, as the registry writes them;
    the login when it names none. Never a name as the sender wrote it."""
    named = set(instruction.get("services") or ())
    services = [s.name_unicode for s in customer.services if s.name_unicode in named]
    return ", ".join(services) if services else customer.login


def aware(moment: datetime) -> datetime:
    """``moment`` with its time zone (SQLite hands back naive datetimes; the store writes UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def build_confirmation(facts: MailFacts, from_address: str, message_key: str) -> EmailMessage:
    """The confirmation as an email in Polish and English; ValueError if a field could
    reach a header unsafely."""
    message = EmailMessage(policy=SMTP)
    message["From"] = check_mailbox(from_address)
    message["To"] = check_mailbox(facts.to)
    about = plain(facts.about, 200)
    if facts.purpose == "panel_change":
        message["Subject"] = plain(
            f"Zmiana adresu w Panelu Klienta / Panel address changed: {about}", 250
        )
    elif facts.purpose in HOLDER_STAGES:
        message["Subject"] = plain(
            f"Potwierdź zmianę abonenta / Confirm a change of holder: {about}", 250
        )
    else:
        message["Subject"] = plain(f"Potwierdź polecenie / Confirm an instruction: {about}", 250)
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = f"<{plain(message_key, 64)}@{from_address.rpartition('@')[2]}>"
    # RFC 3834 §5: an automatic message, so auto-responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    lines = _LINES.get(facts.purpose, _verdict_lines)(facts)
    message.set_content("\n".join(lines) + "\n")
    return message


def _verdict_lines(facts: MailFacts) -> list[str]:
    kinds = "; ".join(plain(k, 120) for k in facts.kinds)
    about, link = plain(facts.about, 300), facts.link
    arrived, until, reference = _utc(facts.arrived_at), _utc(facts.expires_at), facts.reference
    return [
        "Dzień dobry,",
        "",
        f"do naszego biura obsługi wpłynęło polecenie dotyczące: {about}",
        f"  rodzaj:   {kinds}",
        f"  wpłynęło: {arrived}",
        f"  numer:    {reference}",
        "",
        "Przyszło z adresu zapisanego w Panelu Klienta, ale domena nadawcy tego nie",
        "potwierdziła, więc zanim cokolwiek zrobimy, prosimy o potwierdzenie.",
        f"Otwórz link (jednorazowy, ważny do {until}) i wybierz Potwierdzam albo To nie ja:",
        "",
        f"  {link}",
        "",
        "Jeśli to nie Ty: wybierz To nie ja; nic nie zostanie zmienione.",
        "",
        "--- English ---",
        "",
        f"Our support desk received an instruction about: {about}",
        f"  kind:     {kinds}",
        f"  received: {arrived}",
        f"  reference: {reference}",
        "",
        "It came from the address registered in your Customer Panel, but the sender's",
        "domain did not prove it, so we ask you to confirm before anything is done.",
        f"Open the link (single use, valid until {until}) and choose Confirm or Not me:",
        "",
        f"  {link}",
        "",
        "If it was not you: choose Not me; nothing will be changed.",
        "",
        "To jest wiadomość automatyczna; odpowiedzi nie są czytane.",
        "This is an automatic message; replies are not read.",
    ]


def _panel_change_lines(facts: MailFacts) -> list[str]:
    account, link = plain(facts.about, 64), facts.link
    changed, until, reference = _utc(facts.arrived_at), _utc(facts.expires_at), facts.reference
    return [
        "Dzień dobry,",
        "",
        f"adres e-mail konta {account} w Panelu Klienta został zmieniony ({changed}).",
        "Ta wiadomość idzie na poprzedni adres. Jeśli to Ty, nic nie rób.",
        f"Jeśli to nie Ty, otwórz link (jednorazowy, ważny do {until}) i wybierz To nie ja:",
        "",
        f"  {link}",
        "",
        f"Numer: {reference}",
        "",
        "--- English ---",
        "",
        f"The e-mail address of account {account} in the Customer Panel was changed ({changed}).",
        "This message goes to the previous address. If it was you, do nothing.",
        f"If it was not you, open the link (single use, valid until {until}) and choose Not me:",
        "",
        f"  {link}",
        "",
        f"Reference: {reference}",
        "",
        "To jest wiadomość automatyczna; odpowiedzi nie są czytane.",
        "This is an automatic message; replies are not read.",
    ]


def _holder_lines(facts: MailFacts) -> list[str]:
    """A holder change: to the current holder (first) or the new holder (second)."""
    about, link, reference = plain(facts.about, 300), facts.link, facts.reference
    arrived, until = _utc(facts.arrived_at), _utc(facts.expires_at)
    account = plain(facts.new_holder or "-", 64)
    kinds = "; ".join(plain(k, 120) for k in facts.kinds)
    if facts.purpose == "holder":
        what_pl = [
            f"wpłynęło polecenie zmiany abonenta usługi: {about}",
            f"  nowy abonent (login): {account}",
        ]
        what_en = [
            f"we received an instruction to change the holder of: {about}",
            f"  new holder (login): {account}",
        ]
        next_pl = "Po Twoim potwierdzeniu poprosimy o potwierdzenie nowego abonenta."
        next_en = "Once you confirm, we ask the new holder to confirm too."
    else:
        what_pl = [
            f"obecny abonent usługi {about} zlecił jej przeniesienie",
            f"  na Twoje konto (login): {account}",
        ]
        what_en = [
            f"the current holder of {about} asked to assign it",
            f"  to your account (login): {account}",
        ]
        next_pl = "Obecny abonent już to potwierdził; zmiana wymaga jeszcze Twojej zgody."
        next_en = "The current holder has confirmed; the change needs your consent too."
    return [
        "Dzień dobry,",
        "",
        *what_pl,
        f"  rodzaj:   {kinds}",
        f"  wpłynęło: {arrived}",
        f"  numer:    {reference}",
        "",
        next_pl,
        f"Otwórz link (jednorazowy, ważny do {until}) i wybierz Potwierdzam albo To nie ja:",
        "",
        f"  {link}",
        "",
        "Jeśli nie zgadzasz się na zmianę: wybierz To nie ja; nic nie zostanie zmienione.",
        "Zmianę można też przeprowadzić na podstawie podpisanych dokumentów wysłanych pocztą.",
        "",
        "--- English ---",
        "",
        "Hello,",
        "",
        *what_en,
        f"  kind:     {kinds}",
        f"  received: {arrived}",
        f"  reference: {reference}",
        "",
        next_en,
        f"Open the link (single use, valid until {until}) and choose Confirm or Not me:",
        "",
        f"  {link}",
        "",
        "If you do not agree to the change: choose Not me; nothing will be changed.",
        "The change can also be made on signed documents sent by post.",
        "",
        "To jest wiadomość automatyczna; odpowiedzi nie są czytane.",
        "This is an automatic message; replies are not read.",
    ]


# The text of each purpose's mail; an instruction's is the default.
_LINES = {
    "panel_change": _panel_change_lines,
    "holder": _holder_lines,
    "new_holder": _holder_lines,
}
