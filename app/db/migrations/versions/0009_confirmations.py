"""Confirmation by the registered owner: requests, answers, and a wider decision column.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # "confirmation_required" does not fit VARCHAR(20). SQLite does not enforce a length
    # (and cannot alter a column in place), so only PostgreSQL's type is changed.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "verdicts",
            "decision",
            type_=sa.String(length=32),
            existing_type=sa.String(length=20),
            existing_nullable=False,
        )
    op.create_table(
        "confirmations",
        sa.Column("seq", _BIG, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("verdict_id", sa.String(length=36), nullable=True),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        _when("created_at"),
        _when("sent_at", nullable=True),
        _when("expires_at", nullable=True),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["verdict_id"], ["verdicts.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("verdict_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_confirmations_customer", "confirmations", ["customer"])
    op.create_index("ix_confirmations_status", "confirmations", ["status"])
    op.create_table(
        "confirmation_answers",
        sa.Column("seq", _BIG, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("confirmation_id", sa.String(length=36), nullable=False),
        sa.Column("verdict_id", sa.String(length=36), nullable=True),
        sa.Column("customer", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        _when("recorded_at"),
        sa.ForeignKeyConstraint(["confirmation_id"], ["confirmations.id"]),
        sa.ForeignKeyConstraint(["verdict_id"], ["verdicts.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("confirmation_id"),
    )
    op.create_index("ix_confirmation_answers_customer", "confirmation_answers", ["customer"])
    op.create_index("ix_confirmation_answers_verdict_id", "confirmation_answers", ["verdict_id"])


def downgrade() -> None:
    op.drop_index("ix_confirmation_answers_verdict_id", table_name="confirmation_answers")
    op.drop_index("ix_confirmation_answers_customer", table_name="confirmation_answers")
    op.drop_table("confirmation_answers")
    op.drop_index("ix_confirmations_status", table_name="confirmations")
    op.drop_index("ix_confirmations_customer", table_name="confirmations")
    op.drop_table("confirmations")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "verdicts",
            "decision",
            type_=sa.String(length=20),
            existing_type=sa.String(length=32),
            existing_nullable=False,
        )
