"""Targeting profiles and their versions, assessments, outcomes, and the read models
(watchlists, species, read-model revisions) and the audit trail of risk-score.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 09:23:11.893391+00:00
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
        "assessment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("declaration_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("office", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("lane", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("random", sa.Boolean(), nullable=False),
        sa.Column("targeted", sa.Boolean(), nullable=False),
        sa.Column("controls", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("profile_versions", sa.JSON(), nullable=False),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("declaration", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assessment_declaration_id"), ["declaration_id"], unique=False
        )

    revisions = op.create_table(
        "read_model_revision",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_read_model_revision")),
    )
    # One row per in-memory read model: writers only ever update them.
    op.bulk_insert(
        revisions,
        [{"name": name, "revision": 0} for name in ("profiles", "watchlists", "species")],
    )
    op.create_table(
        "species_taxon",
        sa.Column("taxon_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("appendices", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("taxon_id", name=op.f("pk_species_taxon")),
    )
    with op.batch_alter_table("species_taxon", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_species_taxon_full_name"), ["full_name"], unique=False)

    op.create_table(
        "targeting_profile",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeting_profile")),
    )
    op.create_table(
        "watchlist_record",
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("record_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_watchlist_record")),
    )
    op.create_table(
        "outcome",
        sa.Column("assessment_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("inspected", sa.Boolean(), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("controls_applied", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"], name=op.f("fk_outcome_assessment_id_assessment")
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_outcome")),
    )
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outcome_recorded_at"), ["recorded_at"], unique=False)

    op.create_table(
        "targeting_profile_version",
        sa.Column("profile_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("forced_lane", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("controls", sa.JSON(), nullable=False),
        sa.Column("selection_percentage", sa.Float(), nullable=False),
        sa.Column("offices", sa.JSON(), nullable=False),
        sa.Column("directions", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["targeting_profile.id"],
            name=op.f("fk_targeting_profile_version_profile_id_targeting_profile"),
        ),
        sa.PrimaryKeyConstraint("profile_id", "version", name=op.f("pk_targeting_profile_version")),
    )
    op.create_table(
        "risk_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_audit")),
    )
    with op.batch_alter_table("risk_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_audit_object_id"), ["object_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_audit_object_id"))
    op.drop_table("risk_audit")
    op.drop_table("targeting_profile_version")
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_recorded_at"))

    op.drop_table("outcome")
    op.drop_table("watchlist_record")
    op.drop_table("targeting_profile")
    with op.batch_alter_table("species_taxon", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_species_taxon_full_name"))

    op.drop_table("species_taxon")
    op.drop_table("read_model_revision")
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_declaration_id"))
        batch_op.drop_index(batch_op.f("ix_assessment_created_at"))

    op.drop_table("assessment")
