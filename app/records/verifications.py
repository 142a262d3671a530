"""The desk's other channels: a caller on the phone or in a chat, verified and recorded.

Postal documents received for a verdict are app.records.documents.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import chain, hashing
from app.db.models import Customer, Verification
from app.db.types import iso_z
from app.errors import InvalidInput
from app.registry.codes import check_codes, code_key, consume
from app.registry.customers import owners_of, parse_service
from app.registry.identifiers import IdentifierKind, keyed_hash, normalise

log = logging.getLogger(__name__)

STAGES = ("none", "identified", "authorized")
_LABELS = {IdentifierKind.PESEL: "PESEL", IdentifierKind.NIP: "NIP", IdentifierKind.REGON: "REGON"}


@dataclass(frozen=True, slots=True)
class CallerClaims:
    """What a caller on the phone or in chat told the agent."""

    channel: Literal["phone", "chat"]
    service: str
    agent: str
    identifier_kind: IdentifierKind | None = None
    identifier: str | None = None
    login: str | None = None
    code: str | None = None  # normalised: the 8 digits


def record_verification(
    session: Session, claims: CallerClaims, secret_key: bytes, now: datetime
) -> dict[str, Any]:
    """verify_caller with the keys made from the service's secret key: what
    ``POST /v1/verifications`` and the console's /console/verify both record through."""
    return verify_caller(
        session, claims, identifier_key=secret_key, code_key=code_key(secret_key), now=now
    )


def verify_caller(
    session: Session,
    claims: CallerClaims,
    identifier_key: bytes,
    code_key: bytes,
    now: datetime,
) -> dict[str, Any]:
    """Which stage the caller passes, recorded; a valid code is used up by it.

    ``identifier_key`` is the key of the registry's identifier hashes (the secret key),
    ``code_key`` that of the one-time codes. The identifier is never stored or logged.
    """
    verification_id = str(uuid.uuid4())
    service = parse_service(claims.service)
    owner = owners_of(session, (service.ascii,)).get(service.ascii)
    reasons: list[str] = []
    stage = "none"
    if owner is None:
        reasons.append(
            f"The service {service.unicode} is not in the registry; ask the caller which "
            "service they mean and check its spelling."
        )
    else:
        identified = _identified(owner, claims, identifier_key, service.unicode, reasons)
        login_matches = _login_matches(owner, claims, service.unicode, reasons)
        authorized = False
        if claims.code is not None:
            if login_matches:
                checked = check_codes(
                    session, owner, (claims.code,), code_key, now, channel=claims.channel
                )
                reasons.append(checked.finding.reason)
                authorized = checked.code is not None and consume(
                    session, checked.code, now, verification_id=verification_id
                )
                if checked.code is not None and not authorized:
                    reasons[-1] = (
                        "The one-time code has just been used elsewhere; ask the caller for "
                        "a fresh code from the Customer Panel."
                    )
            else:
                reasons.append(
                    "The one-time code was not checked: it counts only with the login of the "
                    "customer who holds the service."
                )
        stage = "authorized" if authorized else "identified" if identified else "none"
        reasons.append(_conclusion(stage, owner, service.unicode))
    row = Verification(
        id=verification_id,
        recorded_at=now,
        channel=claims.channel,
        agent=claims.agent,
        service=service.unicode,
        identifier_kind=claims.identifier_kind.value if claims.identifier_kind else None,
        login=claims.login,
        code_offered=claims.code is not None,
        stage=stage,
        customer=owner.login if owner else None,
        reasons=reasons,
    )
    session.add(row)
    session.flush()
    log.info(
        "verification %s by %s via %s: %s for customer %s",
        verification_id,
        claims.agent,
        claims.channel,
        stage,
        row.customer,
    )
    result = verification_json(row)
    chain.append(
        session,
        "verification",
        verification_id,
        {
            "verification_id": verification_id,
            "channel": claims.channel,
            "agent": claims.agent,
            "service": service.ascii,
            "stage": stage,
            "customer": row.customer,
            "record_sha256": hashing.record_digest(result),
            "row_sha256": hashing.digest_of(row),
        },
    )
    return result


def _identified(
    owner: Customer, claims: CallerClaims, key: bytes, service: str, reasons: list[str]
) -> bool:
    kind = claims.identifier_kind
    if kind is None or claims.identifier is None:
        return False
    label = _LABELS[kind]
    try:
        digits = normalise(kind, claims.identifier)
    except InvalidInput:
        # The message of InvalidInput never holds the number; ours does not either.
        reasons.append(
            f"The {label} given is not a valid number (wrong length or checksum); ask the "
            "caller to read it again."
        )
        return False
    registered = getattr(owner, f"{kind.value}_hash")
    if registered is None:
        reasons.append(
            f"No {label} is registered for the customer who holds {service}; ask for the "
            "identifier they registered, or for the login and a one-time code."
        )
        return False
    if not hmac.compare_digest(registered, keyed_hash(key, kind, digits)):
        reasons.append(
            f"The {label} given does not match the one registered for the customer who "
            f"holds {service}; do not disclose or change anything."
        )
        return False
    reasons.append(
        f"The {label} given matches the one registered for customer {owner.login}, "
        f"who holds {service}."
    )
    return True


def _login_matches(owner: Customer, claims: CallerClaims, service: str, reasons: list[str]) -> bool:
    if claims.login is None:
        return False
    if claims.login != owner.login:
        reasons.append(
            f"The login {claims.login} does not hold {service}; do not disclose or change "
            "anything for this service."
        )
        return False
    return True


def _conclusion(stage: str, owner: Customer, service: str) -> str:
    if stage == "authorized":
        return (
            f"The caller is authorized for customer {owner.login}: login and one-time code "
            "are valid, and the agent may make the change asked for."
        )
    if stage == "identified":
        return (
            f"The caller is identified as customer {owner.login}: the agent may give "
            "information about the service, but any change needs the login and a one-time "
            "code from the Customer Panel."
        )
    return (
        f"The caller is not identified for {service}: ask for the PESEL (person) or NIP or "
        "REGON (company) registered for it, or the login and a one-time code."
    )


def recorded_verification(session: Session, verification_id: str) -> Verification | None:
    """The verification recorded under ``verification_id``, if any."""
    return session.scalar(select(Verification).where(Verification.id == verification_id))


def verification_json(row: Verification) -> dict[str, Any]:
    """A verification as the API returns it and its audit entry's digest covers."""
    return {
        "id": row.id,
        "stage": row.stage,
        "customer": row.customer,
        "reasons": row.reasons,
        "recorded_at": iso_z(row.recorded_at),
    }
