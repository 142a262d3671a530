"""What the customers page shows: who holds a service, their panel address (masked for an
agent, whole for a lead), services, recent registry changes, and the history of verdicts,
verifications and actions that concern them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import AgentAction, AuditEntry, Customer, Verdict, Verification
from app.db.types import iso_z
from app.registry.customers import get_customer, owners_of, parse_service

# Each history is the newest this many: the page is for a call, not an archive.
RECENT: Final = 20
# Registry entries of the audit chain whose subject is the customer's login.
_CHANGES: Final = ("customer_put", "customer_delete", "codes", "erasure")


@dataclass(frozen=True, slots=True)
class CustomerPage:
    login: str
    name: str
    kind: str
    panel_address: str
    # Whether panel_address is shown whole (to a lead) or masked (to an agent).
    address_whole: bool
    panel_address_changed_at: str
    identifiers: list[tuple[str, str]]
    services: list[str]
    changes: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]
    verifications: list[dict[str, Any]]
    actions: list[dict[str, Any]]


def mask_panel_address(address: str) -> str:
    """``jan@example.pl`` → ``j***@e***.pl``: enough to recognise, not to write to."""
    local, _, domain = address.partition("@")
    labels = domain.split(".")
    if not local or len(labels) < 2 or not labels[0]:
        return "***"
    return f"{local[0]}***@{labels[0][0]}***.{labels[-1]}"


def holder_of(session: Session, service: str) -> str | None:
    """The login of the customer who holds ``service``; InvalidInput for a bad name."""
    name = parse_service(service).ascii
    owner = owners_of(session, (name,)).get(name)
    return owner.login if owner is not None else None


def customer_page(session: Session, login: str, whole_address: bool) -> CustomerPage:
    """The page of customer ``login``; NotFound when there is none."""
    row = get_customer(session, login)
    return CustomerPage(
        login=row.login,
        name=row.name,
        kind=row.kind,
        panel_address=row.panel_email if whole_address else mask_panel_address(row.panel_email),
        address_whole=whole_address,
        panel_address_changed_at=iso_z(row.panel_email_changed_at),
        identifiers=_identifiers(row),
        services=[service.name_unicode for service in row.services],
        changes=_changes(session, login),
        verdicts=_verdicts(session, login),
        verifications=_verifications(session, login),
        actions=_actions(session, login),
    )


def _identifiers(row: Customer) -> list[tuple[str, str]]:
    # Stored masked already (app.registry.identifiers): never the number itself.
    masked = (("PESEL", row.pesel_masked), ("NIP", row.nip_masked), ("REGON", row.regon_masked))
    return [(label, value) for label, value in masked if value]


def _changes(session: Session, login: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject == login, AuditEntry.kind.in_(_CHANGES))
        .order_by(AuditEntry.seq.desc())
        .limit(RECENT)
    )
    changes = []
    for row in rows:
        payload: dict[str, Any] = json.loads(row.payload)
        changes.append(
            {
                "recorded_at": row.recorded_at,
                "kind": row.kind,
                "created": payload.get("created"),
                # Stored as A-labels; people read U-labels (żółw.pl, not xn--…).
                "services": [parse_service(name).unicode for name in payload.get("services", [])],
                "change": payload.get("change"),
            }
        )
    return changes


def _verdicts(session: Session, login: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Verdict).where(Verdict.customer == login).order_by(Verdict.seq.desc()).limit(RECENT)
    )
    return [
        {
            "id": row.id,
            "recorded_at": iso_z(row.recorded_at),
            "decision": row.decision,
            "kinds": list(row.instruction.get("kinds", [])),
            "services": list(row.instruction.get("services", [])),
        }
        for row in rows
    ]


def _verifications(session: Session, login: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Verification)
        .where(Verification.customer == login)
        .order_by(Verification.seq.desc())
        .limit(RECENT)
    )
    return [
        {
            "id": row.id,
            "recorded_at": iso_z(row.recorded_at),
            "channel": row.channel,
            "agent": row.agent,
            "service": row.service,
            "stage": row.stage,
        }
        for row in rows
    ]


def _actions(session: Session, login: str) -> list[dict[str, Any]]:
    # An action is recorded only under a verdict about its customer (app.records.reviews):
    # found through the verdicts' customer index.
    rows = session.scalars(
        select(AgentAction)
        .join(Verdict, Verdict.id == AgentAction.verdict_id)
        .where(Verdict.customer == login)
        .order_by(AgentAction.seq.desc())
        .limit(RECENT)
    )
    return [
        {
            "recorded_at": iso_z(row.recorded_at),
            "verdict_id": row.verdict_id,
            "agent": row.agent,
            "action": row.action,
            "details": row.details,
            "code_ref": row.code_ref,
        }
        for row in rows
    ]
