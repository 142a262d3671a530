"""``idempotency_keys.customer``: the customer a kept answer is about, for erasure.

A kept answer may name the customer (a review of their verdict, an action, a one-time
code, a verification); erasing the customer empties it (app.records.erasure). Which
customer an answer kept before this migration is about is not known without opening
it, and it is sealed: each is marked as about any customer ("*", app.records.erasure's
ANY_CUSTOMER), so the next erasure empties it too. Webhook subscriptions and delivery
retries name no customer. Keys live 24 hours, so the mark is gone a day later.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as table:
        table.add_column(sa.Column("customer", sa.String(length=64), nullable=True))
        table.create_index(op.f("ix_idempotency_keys_customer"), ["customer"], unique=False)
    op.execute("UPDATE idempotency_keys SET customer = '*' WHERE route NOT LIKE '/v1/webhooks%'")


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as table:
        table.drop_index(op.f("ix_idempotency_keys_customer"))
        table.drop_column("customer")
