"""The trade history (declaration lines with their outcomes, every outcome recorded, traders
first seen on permits) and the learned models with their training reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 10:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "trade_history_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", _text(64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("office", _text(32), nullable=False),
        sa.Column("direction", _text(16), nullable=False),
        sa.Column("exporter", _text(300), nullable=True),
        sa.Column("importer", _text(300), nullable=True),
        sa.Column("exporter_country", _text(2), nullable=True),
        sa.Column("importer_country", _text(2), nullable=True),
        sa.Column("origin_country", _text(2), nullable=True),
        sa.Column("export_country", _text(2), nullable=True),
        sa.Column("import_country", _text(2), nullable=True),
        sa.Column("transit", _text(80), nullable=False),
        sa.Column("species", _text(255), nullable=False),
        sa.Column("term", _text(3), nullable=False),
        sa.Column("unit", _text(3), nullable=True),
        sa.Column("quantity", _text(40), nullable=False),
        sa.Column("purpose", _text(3), nullable=False),
        sa.Column("source", _text(3), nullable=False),
        sa.Column("value_amount", _text(40), nullable=True),
        sa.Column("currency", _text(3), nullable=True),
        sa.Column("outcome", _text(16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_history_line")),
        sa.UniqueConstraint(
            "declaration_id", "line_no", name=op.f("uq_trade_history_line_declaration_id_line_no")
        ),
    )
    with op.batch_alter_table("trade_history_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trade_history_line_declaration_id"), ["declaration_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trade_history_line_declared_on"), ["declared_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trade_history_line_recorded_at"), ["recorded_at"], unique=False
        )
    op.create_table(
        "trade_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", _text(64), nullable=False),
        sa.Column("result", _text(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_outcome")),
    )
    with op.batch_alter_table("trade_outcome", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trade_outcome_recorded_at"), ["recorded_at"], unique=False
        )
    op.create_table(
        "trader_sighting",
        sa.Column("trader", _text(300), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("trader", name=op.f("pk_trader_sighting")),
    )
    with op.batch_alter_table("trader_sighting", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trader_sighting_recorded_at"), ["recorded_at"], unique=False
        )
    op.create_table(
        "learned_model",
        sa.Column("version", _text(32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("estimator", _text(32), nullable=False),
        sa.Column("feature_names", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", _text(64), nullable=False),
        sa.Column("promoted", sa.Boolean(), nullable=False),
        sa.Column("trained_by", _text(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_learned_model")),
        sa.UniqueConstraint("sequence", name=op.f("uq_learned_model_sequence")),
    )
    with op.batch_alter_table("learned_model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learned_model_promoted"), ["promoted"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("learned_model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learned_model_promoted"))
    op.drop_table("learned_model")
    with op.batch_alter_table("trader_sighting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trader_sighting_recorded_at"))
    op.drop_table("trader_sighting")
    with op.batch_alter_table("trade_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trade_outcome_recorded_at"))
    op.drop_table("trade_outcome")
    with op.batch_alter_table("trade_history_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trade_history_line_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_trade_history_line_declared_on"))
        batch_op.drop_index(batch_op.f("ix_trade_history_line_declaration_id"))
    op.drop_table("trade_history_line")
