"""A holder change confirmed by both holders (e-cesja): the new holder's stage.

The first stage is the verdict's confirmation (``verdict_id``, one per verdict); the
second names its verdict in ``new_holder_for`` (unique too), so neither constraint of
0009 changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("confirmations", sa.Column("new_holder_for", sa.String(length=36), nullable=True))
    # SQLite cannot add a UNIQUE column in place; a unique index is the same constraint.
    op.create_index(
        "ix_confirmations_new_holder_for", "confirmations", ["new_holder_for"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_confirmations_new_holder_for", table_name="confirmations")
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_column("new_holder_for")
