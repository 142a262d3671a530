"""Skeletons of service domains (look-alike lookup) and message fingerprints (replay).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db.migrations.skeletons import recompute_skeletons

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add an indexed column in place; PostgreSQL alters.
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skeleton", sa.String(length=506), nullable=True))
        batch_op.create_index(batch_op.f("ix_services_skeleton"), ["skeleton"], unique=False)
    recompute_skeletons()

    op.create_table(
        "message_fingerprints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("message_sha256", sa.String(length=64), nullable=False),
        sa.Column("verdict_id", sa.String(length=36), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["verdict_id"], ["verdicts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_message_fingerprints_kind_value",
        "message_fingerprints",
        ["kind", "value", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_message_fingerprints_kind_value", table_name="message_fingerprints")
    op.drop_table("message_fingerprints")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_skeleton"))
        batch_op.drop_column("skeleton")
