"""Domain skeletons recomputed: the confusable table is Unicode's confusables.txt in full.

Until now mailhook.confusables held a hand-picked subset of the table; it is now every
entry with a Latin prototype (mailhook/_confusables_data.py), and the name is cleaned
(NFKC, invisible characters, ideographic full stops) first. The skeleton of an ASCII
name is unchanged; that of an IDN may change, so every stored one is recomputed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from app.db.migrations.skeletons import recompute_skeletons

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    recompute_skeletons()


def downgrade() -> None:
    # The skeletons of the earlier table are not kept anywhere: the ones computed now
    # stay. They find more look-alikes, never fewer, of every ASCII name.
    pass
