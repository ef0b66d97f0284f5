"""The version of a record whose expiry has been announced to the watchlists.

Revision ID: 0004
Revises: 0003_taxii
Create Date: 2026-12-06 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003_taxii"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("intel_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("watchlist_expired_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intel_record", schema=None) as batch_op:
        batch_op.drop_column("watchlist_expired_version")
