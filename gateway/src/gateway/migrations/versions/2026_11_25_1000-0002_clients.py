"""The gateway's clients: roles, scopes, status and hashed credentials.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_client",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("api_key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("api_key_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("burst", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'disabled')", name=op.f("ck_gateway_client_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_client")),
        sa.UniqueConstraint("name", name=op.f("uq_gateway_client_name")),
    )
    with op.batch_alter_table("gateway_client", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_client_api_key_id"), ["api_key_id"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_client_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("gateway_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_client_updated_at"))
        batch_op.drop_index(batch_op.f("ix_gateway_client_api_key_id"))
    op.drop_table("gateway_client")
