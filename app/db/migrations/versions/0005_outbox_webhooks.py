"""Outbox events and deliveries, webhook subscriptions, alert throttle.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # New tables only: plain CREATE TABLE works alike on SQLite and PostgreSQL.
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=True),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "outbox_events",
        sa.Column("seq", _BIG, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("dispatched_at", nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_outbox_events_dispatched_at", "outbox_events", ["dispatched_at"])
    op.create_table(
        "outbox_deliveries",
        sa.Column("seq", _BIG, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=True),
        sa.Column("event_seq", _BIG, nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at"),
        _when("claimed_until", nullable=True),
        _when("last_attempt_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _when("delivered_at", nullable=True),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["webhook_subscriptions.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["event_seq"], ["outbox_events.seq"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index(
        "ix_outbox_deliveries_status_due", "outbox_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_outbox_deliveries_subscription",
        "outbox_deliveries",
        ["subscription_id", "status", "seq"],
    )
    op.create_table(
        "alert_throttle",
        sa.Column("customer", sa.String(length=64), nullable=False),
        _when("last_alert_at", nullable=True),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer"),
    )


def downgrade() -> None:
    op.drop_table("alert_throttle")
    op.drop_index("ix_outbox_deliveries_subscription", table_name="outbox_deliveries")
    op.drop_index("ix_outbox_deliveries_status_due", table_name="outbox_deliveries")
    op.drop_table("outbox_deliveries")
    op.drop_index("ix_outbox_events_dispatched_at", table_name="outbox_events")
    op.drop_table("outbox_events")
    op.drop_table("webhook_subscriptions")
