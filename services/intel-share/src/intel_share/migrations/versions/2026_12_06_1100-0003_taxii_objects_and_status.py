"""The TAXII server's STIX objects and status resources; federation cursors.

Revision ID: 0003_taxii
Revises: 0002
Create Date: 2026-12-06 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_taxii"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "taxii_object",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("spec_version", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_added", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_object")),
        sa.UniqueConstraint(
            "object_id", "modified", name=op.f("uq_taxii_object_object_id_modified")
        ),
    )
    with op.batch_alter_table("taxii_object", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxii_object_object_id"), ["object_id"])
        batch_op.create_index(batch_op.f("ix_taxii_object_object_type"), ["object_type"])
        batch_op.create_index(batch_op.f("ix_taxii_object_record_id"), ["record_id"])
        batch_op.create_index("ix_taxii_object_date_added_id", ["date_added", "id"])
    op.create_table(
        "taxii_status",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("request_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )
    op.create_table(
        "federation_cursor",
        sa.Column("partner", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("collection_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("added_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "partner", "direction", "collection_id", name=op.f("pk_federation_cursor")
        ),
    )


def downgrade() -> None:
    op.drop_table("federation_cursor")
    op.drop_table("taxii_status")
    with op.batch_alter_table("taxii_object", schema=None) as batch_op:
        batch_op.drop_index("ix_taxii_object_date_added_id")
        batch_op.drop_index(batch_op.f("ix_taxii_object_record_id"))
        batch_op.drop_index(batch_op.f("ix_taxii_object_object_type"))
        batch_op.drop_index(batch_op.f("ix_taxii_object_object_id"))
    op.drop_table("taxii_object")
