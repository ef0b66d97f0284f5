"""permit.exchange_details: what an imported CITESEPermit (EPIX) message carried beyond the
JSON boxes, kept to export it back box for box (issue 5, the EPIX round trip).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 07:17:41.333512+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exchange_details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("permit", schema=None) as batch_op:
        batch_op.drop_column("exchange_details")
