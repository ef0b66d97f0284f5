"""Intelligence records (facets, relationships, versions), sharing groups, sightings,
proposals, the audit trail and idempotent requests.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 10:00:00+00:00
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
        "idempotent_request",
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "key", name=op.f("pk_idempotent_request")),
    )
    op.create_table(
        "intel_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("agency", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_audit")),
    )
    with op.batch_alter_table("intel_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intel_audit_at"), ["at"], unique=False)

    op.create_table(
        "sharing_group",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("owner_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("owner_agency", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_group")),
        sa.UniqueConstraint("name", name=op.f("uq_sharing_group_name")),
    )
    op.create_table(
        "intel_audit_record",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["intel_audit.id"],
            name=op.f("fk_intel_audit_record_audit_id_intel_audit"),
        ),
        sa.PrimaryKeyConstraint("audit_id", "record_id", name=op.f("pk_intel_audit_record")),
    )
    with op.batch_alter_table("intel_audit_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_audit_record_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "intel_record",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "originator_agency", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("originator_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("grading_scheme", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("grading_source", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column(
            "grading_information", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False
        ),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("handling_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("tlp", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("distribution", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "distribution_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True
        ),
        sa.Column("sharing_group_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("event_on", sa.Date(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(distribution = 'sharing_group') = (sharing_group_id IS NOT NULL)",
            name=op.f("ck_intel_record_sharing_group_iff_distribution"),
        ),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 100", name=op.f("ck_intel_record_confidence_range")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_intel_record_version_positive")),
        sa.ForeignKeyConstraint(
            ["sharing_group_id"],
            ["sharing_group.id"],
            name=op.f("fk_intel_record_sharing_group_id_sharing_group"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_record")),
    )
    with op.batch_alter_table("intel_record", schema=None) as batch_op:
        batch_op.create_index("ix_intel_record_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intel_record_event_on"), ["event_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_intel_record_originator_country"), ["originator_country"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_record_sharing_group_id"), ["sharing_group_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_intel_record_type"), ["type"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_intel_record_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "sharing_group_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("agency", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["sharing_group.id"],
            name=op.f("fk_sharing_group_member_group_id_sharing_group"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_group_member")),
    )
    with op.batch_alter_table("sharing_group_member", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sharing_group_member_group_country", ["group_id", "country"], unique=False
        )

    op.create_table(
        "intel_proposal",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "proposed_by_agency", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column(
            "proposed_by_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False
        ),
        sa.Column(
            "proposed_by_client", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["intel_record.id"],
            name=op.f("fk_intel_proposal_record_id_intel_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_proposal")),
    )
    with op.batch_alter_table("intel_proposal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_proposal_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "intel_record_facet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("facet", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["intel_record.id"],
            name=op.f("fk_intel_record_facet_record_id_intel_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_record_facet")),
    )
    with op.batch_alter_table("intel_record_facet", schema=None) as batch_op:
        batch_op.create_index("ix_intel_record_facet_facet_value", ["facet", "value"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_intel_record_facet_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "intel_record_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["intel_record.id"],
            name=op.f("fk_intel_record_version_record_id_intel_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_record_version")),
        sa.UniqueConstraint(
            "record_id", "version", name=op.f("uq_intel_record_version_record_id_version")
        ),
    )
    with op.batch_alter_table("intel_record_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_record_version_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "intel_relationship",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["intel_record.id"],
            name=op.f("fk_intel_relationship_source_id_intel_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_relationship")),
        sa.UniqueConstraint(
            "source_id",
            "kind",
            "target_id",
            name=op.f("uq_intel_relationship_source_id_kind_target_id"),
        ),
    )
    with op.batch_alter_table("intel_relationship", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_relationship_source_id"), ["source_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_relationship_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "intel_sighting",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("office", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("seen_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("agency", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("agency_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["intel_record.id"],
            name=op.f("fk_intel_sighting_record_id_intel_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_sighting")),
    )
    with op.batch_alter_table("intel_sighting", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_sighting_record_id"), ["record_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("intel_sighting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_sighting_record_id"))

    op.drop_table("intel_sighting")
    with op.batch_alter_table("intel_relationship", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_relationship_target_id"))
        batch_op.drop_index(batch_op.f("ix_intel_relationship_source_id"))

    op.drop_table("intel_relationship")
    with op.batch_alter_table("intel_record_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_record_version_record_id"))

    op.drop_table("intel_record_version")
    with op.batch_alter_table("intel_record_facet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_record_facet_record_id"))
        batch_op.drop_index("ix_intel_record_facet_facet_value")

    op.drop_table("intel_record_facet")
    with op.batch_alter_table("intel_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_proposal_record_id"))

    op.drop_table("intel_proposal")
    with op.batch_alter_table("sharing_group_member", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_group_member_group_country")

    op.drop_table("sharing_group_member")
    with op.batch_alter_table("intel_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_record_updated_at"))
        batch_op.drop_index(batch_op.f("ix_intel_record_type"))
        batch_op.drop_index(batch_op.f("ix_intel_record_sharing_group_id"))
        batch_op.drop_index(batch_op.f("ix_intel_record_originator_country"))
        batch_op.drop_index(batch_op.f("ix_intel_record_event_on"))
        batch_op.drop_index("ix_intel_record_created_at_id")

    op.drop_table("intel_record")
    with op.batch_alter_table("intel_audit_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_audit_record_record_id"))

    op.drop_table("intel_audit_record")
    op.drop_table("sharing_group")
    with op.batch_alter_table("intel_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_audit_at"))

    op.drop_table("intel_audit")
    op.drop_table("idempotent_request")
