"""One-time codes, failed code attempts, phone/chat verifications, document receipts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(name: str = "id") -> sa.Column[int]:
    return sa.Column(
        name,
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def _customer_id() -> sa.Column[int]:
    return sa.Column(
        "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
    )


def upgrade() -> None:
    # New tables only: plain CREATE TABLE works alike on SQLite and PostgreSQL.
    op.create_table(
        "one_time_codes",
        _key(),
        _customer_id(),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_verdict", sa.String(length=36), nullable=True),
        sa.Column("used_by_verification", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["used_by_verdict"], ["verdicts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_one_time_codes_customer_hash", "one_time_codes", ["customer_id", "code_hash"]
    )
    op.create_table(
        "failed_code_attempts",
        _key(),
        _customer_id(),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_failed_code_attempts_customer_at",
        "failed_code_attempts",
        ["customer_id", "attempted_at"],
    )
    op.create_table(
        "verifications",
        _key("seq"),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=False),
        sa.Column("service", sa.String(length=253), nullable=False),
        sa.Column("identifier_kind", sa.String(length=8), nullable=True),
        sa.Column("login", sa.String(length=64), nullable=True),
        sa.Column("code_offered", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_verifications_customer", "verifications", ["customer"])
    op.create_table(
        "document_receipts",
        _key("seq"),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("verdict_id", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=False),
        sa.Column("name_checked", sa.Boolean(), nullable=False),
        sa.Column("address_checked", sa.Boolean(), nullable=False),
        sa.Column("signature_or_stamp_checked", sa.Boolean(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("completes_verdict", sa.String(length=36), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["verdict_id"], ["verdicts.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("completes_verdict"),
    )
    op.create_index("ix_document_receipts_verdict_id", "document_receipts", ["verdict_id"])


def downgrade() -> None:
    op.drop_index("ix_document_receipts_verdict_id", table_name="document_receipts")
    op.drop_table("document_receipts")
    op.drop_index("ix_verifications_customer", table_name="verifications")
    op.drop_table("verifications")
    op.drop_index("ix_failed_code_attempts_customer_at", table_name="failed_code_attempts")
    op.drop_table("failed_code_attempts")
    op.drop_index("ix_one_time_codes_customer_hash", table_name="one_time_codes")
    op.drop_table("one_time_codes")
