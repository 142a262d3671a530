"""``customer_name_keys``: the keys a customer's name is found by in a message's text.

"Proszę o duplikat faktury dla Beta sp. z o.o." names another customer by name, not by
a service. Each customer's name is stored folded as keys (mailhook.names: a company's
name without its legal form, a person's first and last name in both orders); the keys
of every customer stored now are computed here. Changes of the table raise the
registry's version as changes of ``customers`` and ``services`` do (0010), so every
process's index (app.registry.index) forgets keys it read before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mailhook.names import customer_name_keys

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "customer_name_keys"
_BUMP = "UPDATE registry_version SET version = version + 1 WHERE id = 1"
_BATCH = 1000


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", "key"),
    )
    op.create_index(op.f("ix_customer_name_keys_key"), _TABLE, ["key"], unique=False)
    _compute_keys()
    if op.get_bind().dialect.name == "postgresql":
        # The function of 0010; once per statement, as there.
        op.execute(
            f"CREATE TRIGGER {_TABLE}_registry_version AFTER INSERT OR UPDATE OR DELETE "
            f"OR TRUNCATE ON {_TABLE} FOR EACH STATEMENT "
            "EXECUTE FUNCTION intakeguard_registry_changed()"
        )
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {_TABLE}_registry_version_{event.lower()} AFTER {event} "
                f"ON {_TABLE} BEGIN {_BUMP}; END"
            )
    # The keys are new to every process: what any index holds is read again.
    op.execute(_BUMP)


def _compute_keys() -> None:
    """The keys of every stored customer, a batch at a time."""
    customers = sa.table(
        "customers",
        sa.column("id", sa.BigInteger()),
        sa.column("kind", sa.String()),
        sa.column("name", sa.String()),
    )
    keys = sa.table(
        _TABLE, sa.column("customer_id", sa.BigInteger()), sa.column("key", sa.String())
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(customers.c.id, customers.c.kind, customers.c.name)
            .where(customers.c.id > last)
            .order_by(customers.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        values = [
            {"customer_id": row.id, "key": key}
            for row in rows
            for key in customer_name_keys(row.kind, row.name)
        ]
        if values:
            connection.execute(keys.insert(), values)
        last = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {_TABLE}_registry_version ON {_TABLE}")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {_TABLE}_registry_version_{event}")
    op.drop_index(op.f("ix_customer_name_keys_key"), table_name=_TABLE)
    op.drop_table(_TABLE)
