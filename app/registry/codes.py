"""One-time codes: issued for the Customer Panel, kept hashed, single-use, locked on abuse."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db.models import Customer, FailedCodeAttempt, OneTimeCode
from app.registry.state import record_codes
from mailhook.findings import Finding

# The check's name: its findings come from here (pass, fail, locked) and from the mail
# check, which declares it with all its results (app/decision/checks/one_time_code.py).
NAME = "one-time-code"
CODE_DIGITS = 8
# 5 wrong codes per customer per hour lock code checking for that customer: with 10^8
# codes and at most a few valid at a time, guessing one then takes millions of years.
MAX_FAILED_ATTEMPTS = 5
LOCKOUT_WINDOW = timedelta(hours=1)


def code_key(secret_key: bytes) -> bytes:
    """The key codes are hashed under, derived from the secret key (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"intakeguard one-time codes"
    ).derive(secret_key)


def normalise_code(text: str) -> str | None:
    """The 8 digits of a code written "1234-5678", "1234 5678" or "12345678", else None."""
    digits = "".join(char for char in text if char not in " -")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def display_code(digits: str) -> str:
    """How a code is shown to the customer: two groups of four digits."""
    return f"{digits[:4]}-{digits[4:]}"


def hash_code(key: bytes, customer_id: int, digits: str) -> str:
    # Bound to the customer: the same digits issued to another customer hash differently.
    return hmac.new(key, f"{customer_id}:{digits}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime


def issue_code(
    session: Session, customer: Customer, key: bytes, ttl: timedelta, now: datetime
) -> IssuedCode:
    """A fresh code for ``customer``; the clear digits exist only in the return value."""
    digits = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(
        OneTimeCode(
            customer_id=customer.id,
            code_hash=hash_code(key, customer.id, digits),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    record_codes(session, customer.id, "issued")
    return IssuedCode(code=display_code(digits), expires_at=now + ttl)


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The outcome of checking codes for a customer, and the code that passed (if any)."""

    finding: Finding
    code: OneTimeCode | None = None


def check_codes(
    session: Session,
    customer: Customer,
    offered: tuple[str, ...],
    key: bytes,
    now: datetime,
    channel: str,
    record_failures: bool = True,
) -> CodeCheck:
    """Check ``offered`` codes (normalised digits) in order until one is valid.

    Each wrong, expired or used code is a failed attempt for the customer (when
    ``record_failures``); once MAX_FAILED_ATTEMPTS fall within LOCKOUT_WINDOW, codes are
    not checked at all. The valid code is returned, not consumed: see ``consume``.
    """
    failures = _failures_since(session, customer, now - LOCKOUT_WINDOW)
    problems: list[str] = []
    for digits in offered:
        if failures >= MAX_FAILED_ATTEMPTS:
            return CodeCheck(_locked(customer))
        row = session.scalars(
            select(OneTimeCode)
            .where(
                OneTimeCode.customer_id == customer.id,
                OneTimeCode.code_hash == hash_code(key, customer.id, digits),
            )
            .order_by(OneTimeCode.used_at.is_not(None), OneTimeCode.expires_at.desc())
            .limit(1)
        ).first()
        if row is not None and row.used_at is None and row.expires_at > now:
            return CodeCheck(
                Finding(
                    NAME,
                    "pass",
                    f"The one-time code is valid for customer {customer.login}, unused and "
                    "not expired; recording the verdict uses it up.",
                ),
                code=row,
            )
        if row is None:
            problems.append("is not a code issued to this customer")
        elif row.used_at is not None:
            problems.append("has already been used")
        else:
            problems.append("has expired")
        failures += 1
        if record_failures:
            session.add(
                FailedCodeAttempt(customer_id=customer.id, attempted_at=now, channel=channel)
            )
    if record_failures:
        session.flush()
    left = max(MAX_FAILED_ATTEMPTS - failures, 0)
    return CodeCheck(
        Finding(
            NAME,
            "fail",
            f"The one-time code given for customer {customer.login} {' and '.join(problems)}; "
            f"ask the customer for a fresh code from the Customer Panel ({left} more wrong "
            "codes within the hour lock code checking).",
        )
    )


def consume(
    session: Session,
    code: OneTimeCode,
    now: datetime,
    verdict_id: str | None = None,
    verification_id: str | None = None,
) -> bool:
    """Mark ``code`` used, in the caller's transaction; False if another use won the race."""
    result = session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == code.id, OneTimeCode.used_at.is_(None))
        .values(used_at=now, used_by_verdict=verdict_id, used_by_verification=verification_id)
        .execution_options(synchronize_session=False)
    )
    used = bool(getattr(result, "rowcount", 0) == 1)
    if used:
        record_codes(session, code.customer_id, "used")
    return used


def link_to_verdict(session: Session, code: OneTimeCode, verdict_id: str) -> None:
    """Record which verdict used ``code`` (consumed before the verdict had its id)."""
    session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == code.id)
        .values(used_by_verdict=verdict_id)
        .execution_options(synchronize_session=False)
    )
    record_codes(session, code.customer_id, "linked")


def _failures_since(session: Session, customer: Customer, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(FailedCodeAttempt)
            .where(
                FailedCodeAttempt.customer_id == customer.id, FailedCodeAttempt.attempted_at > since
            )
        )
        or 0
    )


def _locked(customer: Customer) -> Finding:
    return Finding(
        NAME,
        "locked",
        f"Code checking for customer {customer.login} is locked after {MAX_FAILED_ATTEMPTS} "
        "wrong codes within the hour, so the code was not checked; confirm with the "
        "customer through the Customer Panel, as someone may be guessing codes.",
    )
