"""The stored skeleton of every domain service, recomputed: for migrations that change it."""

import sqlalchemy as sa
from alembic import op

from mailhook.confusables import skeleton

_BATCH = 1000


def recompute_skeletons() -> None:
    """Compute the skeleton of every stored domain service, a batch at a time."""
    services = sa.table(
        "services",
        sa.column("id", sa.BigInteger()),
        sa.column("kind", sa.String()),
        sa.column("name_ascii", sa.String()),
        sa.column("skeleton", sa.String()),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(services.c.id, services.c.name_ascii)
            .where(services.c.kind == "domain", services.c.id > last)
            .order_by(services.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            services.update()
            .where(services.c.id == sa.bindparam("row_id"))
            .values(skeleton=sa.bindparam("row_skeleton")),
            [{"row_id": row.id, "row_skeleton": skeleton(row.name_ascii)} for row in rows],
        )
        last = rows[-1].id
