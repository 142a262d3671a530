"""The registry's version: raised by triggers with every change of customers or services.

Processes keep what they read of the registry in memory (app.registry.index) and
compare this number, read in the transaction that uses it, with the one they read it
at. Triggers, not application code, raise it: no change can forget to, whatever makes
it (the API, an import, erasure, an operator's SQL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("customers", "services")
_BUMP = "UPDATE registry_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "registry_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO registry_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION intakeguard_registry_changed() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        for table in _TABLES:
            # Once per statement: a bulk import raises it once, not per row.
            op.execute(
                f"CREATE TRIGGER {table}_registry_version AFTER INSERT OR UPDATE OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION intakeguard_registry_changed()"
            )
        return
    # SQLite has row triggers only.
    for table in _TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_registry_version_{event.lower()} AFTER {event} "
                f"ON {table} BEGIN {_BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER {table}_registry_version ON {table}")
        op.execute("DROP FUNCTION intakeguard_registry_changed()")
    else:
        for table in _TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_registry_version_{event}")
    op.drop_table("registry_version")
