"""/v1/webhooks: ticketing systems' subscriptions and their deliveries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, SettingsDep, require
from app.api.idempotency import IdempotencyDep, about_no_customer
from app.api.schemas import DeliveryOut, ErrorBody, WebhookCreated, WebhookIn, WebhookOut
from app.auth import Principal
from app.db.models import OutboxDelivery, WebhookSubscription
from app.db.types import utcnow
from app.delivery.outbox import list_deliveries, retry_delivery
from app.delivery.webhooks import (
    SecretBox,
    create_subscription,
    delete_subscription,
    get_subscription,
    list_subscriptions,
)
from app.settings import Settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Webhooks = Annotated[Principal, Depends(require("webhooks"))]


def _out(row: WebhookSubscription) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        url=row.url,
        events=row.events,
        decisions=row.decisions,
        created_at=row.created_at,
    )


def _delivery(row: OutboxDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        event=row.event,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses={422: {"model": ErrorBody}},
)
def create(
    body: WebhookIn,
    session: SessionDep,
    settings: SettingsDep,
    _: Webhooks,
    idempotency: IdempotencyDep,
) -> Any:
    """Subscribe; the response carries the signing secret, the only time it is shown."""
    return idempotency.run(
        session,
        lambda: _create(session, settings, body),
        WebhookCreated,
        201,
        about_no_customer,
    )


def _create(session: Session, settings: Settings, body: WebhookIn) -> WebhookCreated:
    created = create_subscription(
        session,
        SecretBox(settings.require_secret_key()),
        settings.webhook_allowed_hosts,
        body.url,
        body.events,
        list(body.decisions) if body.decisions else None,
        body.secret,
    )
    return WebhookCreated(**_out(created.row).model_dump(), secret=created.secret)


@router.get("", response_model=list[WebhookOut])
def read_all(session: SessionDep, _: Webhooks) -> list[WebhookOut]:
    return [_out(row) for row in list_subscriptions(session)]


@router.get("/{subscription_id}", response_model=WebhookOut, responses={404: {"model": ErrorBody}})
def read_one(subscription_id: str, session: SessionDep, _: Webhooks) -> WebhookOut:
    return _out(get_subscription(session, subscription_id))


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"model": ErrorBody}},
)
def delete(subscription_id: str, session: SessionDep, _: Webhooks) -> Response:
    """Unsubscribe; pending deliveries are dropped with it."""
    delete_subscription(session, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=list[DeliveryOut],
    responses={404: {"model": ErrorBody}},
)
def read_deliveries(
    subscription_id: str,
    session: SessionDep,
    _: Webhooks,
    status: Literal["pending", "delivered", "dead"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """Newest first; ``?status=dead`` lists the dead-lettered ones."""
    return [_delivery(row) for row in list_deliveries(session, subscription_id, status, limit)]


@router.post(
    "/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def retry(delivery_id: str, session: SessionDep, _: Webhooks, idempotency: IdempotencyDep) -> Any:
    """Put a dead delivery back in line; it keeps its id, so receivers can de-duplicate."""
    return idempotency.run(
        session,
        lambda: _delivery(retry_delivery(session, delivery_id, utcnow())),
        DeliveryOut,
        202,
        about_no_customer,
    )
