"""Initial schema: customers, services, tokens, messages and verdicts.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "customers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("panel_email", sa.String(length=320), nullable=False),
        sa.Column("panel_email_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pesel_hash", sa.String(length=64), nullable=True),
        sa.Column("pesel_masked", sa.String(length=16), nullable=True),
        sa.Column("nip_hash", sa.String(length=64), nullable=True),
        sa.Column("nip_masked", sa.String(length=16), nullable=True),
        sa.Column("regon_hash", sa.String(length=64), nullable=True),
        sa.Column("regon_masked", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("login"),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_nip_hash"), ["nip_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_panel_email"), ["panel_email"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_pesel_hash"), ["pesel_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_regon_hash"), ["regon_hash"], unique=False)

    op.create_table(
        "messages",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "verdicts",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("message_sha256", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("assurance", sa.String(length=16), nullable=False),
        sa.Column("customer", sa.String(length=64), nullable=True),
        sa.Column("instruction", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(length=80), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.create_index("ix_verdicts_customer_seq", ["customer", "seq"], unique=False)
        batch_op.create_index("ix_verdicts_decision_seq", ["decision", "seq"], unique=False)
        batch_op.create_index("ix_verdicts_message_id_seq", ["message_id", "seq"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_verdicts_message_sha256"), ["message_sha256"], unique=False
        )

    op.create_table(
        "services",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_ascii", sa.String(length=253), nullable=False),
        sa.Column("name_unicode", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_ascii"),
    )
    op.create_index("ix_services_customer_id", "services", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_services_customer_id", table_name="services")
    op.drop_table("services")
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verdicts_message_sha256"))
        batch_op.drop_index("ix_verdicts_message_id_seq")
        batch_op.drop_index("ix_verdicts_decision_seq")
        batch_op.drop_index("ix_verdicts_customer_seq")

    op.drop_table("verdicts")
    op.drop_table("messages")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_regon_hash"))
        batch_op.drop_index(batch_op.f("ix_customers_pesel_hash"))
        batch_op.drop_index(batch_op.f("ix_customers_panel_email"))
        batch_op.drop_index(batch_op.f("ix_customers_nip_hash"))

    op.drop_table("customers")
    op.drop_table("api_tokens")
